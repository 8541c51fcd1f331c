"""A quadratic surrogate of score over mixture weights, and its maximiser on the simplex (pure numpy).

The model is Scheffé's quadratic mixture polynomial (as in MoDoMoDo, arXiv 2505.24871, which fits
score against the mixture of its proxy runs): with weights ``w`` on the simplex (``sum w = 1``),

    f(w) = sum_i b_i w_i + sum_{i<j} c_ij w_i w_j

There is no intercept and no ``w_i^2`` term: on the simplex both are linear combinations of the
terms above (``1 = sum w_i`` and ``w_i^2 = w_i - sum_{j!=i} w_i w_j``), so this is every quadratic.
It is fitted by ridge least squares on standardised features, shrinking towards the mean score
(the constant prediction), not towards zero. Fit quality is the in-sample R^2 and an exact
leave-one-out error (one refit per trial; the trials are few).

    W_KN = dirichlet_mixtures(30, 3, seed=0)               # (K, N) trial mixtures
    fit = fit_quadratic(W_KN, y_K, ridge=1e-3)
    w_N, value = maximize_on_simplex(fit, min_weight=0.0)   # the predicted best mixture
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

EXACT_MAX_DIMS = 12
"""Up to this many datasets the maximiser enumerates every face of the simplex (exact); above it,
dense Dirichlet sampling plus projected gradient ascent."""


def dirichlet_mixtures(k: int, n: int, alpha: float = 1.0, seed: int = 0) -> np.ndarray:
    """``k`` mixtures of ``n`` datasets drawn from a symmetric Dirichlet(alpha): (K, N), rows sum to 1.
    alpha = 1 is uniform over the simplex; smaller alpha favours sparse mixtures."""
    if n < 1 or k < 0:
        raise ValueError(f"need n >= 1 datasets and k >= 0 draws, got n={n}, k={k}")
    if alpha <= 0:
        raise ValueError(f"Dirichlet alpha must be > 0, got {alpha}")
    return np.random.default_rng(seed).dirichlet(np.full(n, float(alpha)), size=k)


def pair_indices(n: int) -> list[tuple[int, int]]:
    """The (i, j), i < j, of the pairwise terms, in feature order."""
    return list(itertools.combinations(range(n), 2))


def scheffe_features(W_KN: np.ndarray) -> np.ndarray:
    """``[w_1 .. w_N, w_i w_j for i < j]``: (K, N + N(N-1)/2)."""
    W_KN = np.atleast_2d(np.asarray(W_KN, dtype=np.float64))
    pairs = pair_indices(W_KN.shape[1])
    prods = [W_KN[:, i] * W_KN[:, j] for i, j in pairs]
    return np.column_stack([W_KN] + prods) if prods else W_KN.copy()


def feature_names(names: list[str]) -> list[str]:
    return list(names) + [f"{names[i]}*{names[j]}" for i, j in pair_indices(len(names))]


@dataclass
class QuadraticSurrogate:
    """A fitted Scheffé quadratic ``f(w) = b . w + 0.5 w^T C w`` (C symmetric, zero diagonal)."""

    coef_F: np.ndarray
    """Coefficients in :func:`scheffe_features` order: N linear, then N(N-1)/2 pairwise."""
    n: int
    """Number of datasets (simplex dimension + 1)."""
    ridge: float
    """The ridge strength it was fitted with."""
    r2: float = float("nan")
    """In-sample coefficient of determination (NaN when all observed scores are equal)."""
    rmse: float = float("nan")
    """In-sample root mean squared error."""
    loo_rmse: float = float("nan")
    """Leave-one-out root mean squared error (each trial predicted by a fit without it)."""
    loo_r2: float = float("nan")
    """1 - LOO SSE / SS_tot (Q^2); NaN when all observed scores are equal."""
    loo_pred_K: np.ndarray | None = None
    """Each trial's leave-one-out prediction."""

    @property
    def linear_N(self) -> np.ndarray:
        return self.coef_F[:self.n]

    @property
    def quad_NN(self) -> np.ndarray:
        """C: symmetric, zero diagonal, so that ``sum_{i<j} c_ij w_i w_j = 0.5 w^T C w``."""
        C = np.zeros((self.n, self.n))
        for (i, j), c in zip(pair_indices(self.n), self.coef_F[self.n:]):
            C[i, j] = C[j, i] = c
        return C

    def predict(self, W_KN: np.ndarray) -> np.ndarray:
        return scheffe_features(W_KN) @ self.coef_F

    def gradient(self, w_N: np.ndarray) -> np.ndarray:
        return self.linear_N + self.quad_NN @ np.asarray(w_N, dtype=np.float64)


def _ridge_solve(X_KF: np.ndarray, y_K: np.ndarray, ridge: float, n: int) -> np.ndarray:
    """Ridge on RMS-scaled columns, shrinking towards the constant prediction mean(y); the first
    ``n`` columns are the linear terms."""
    k, f = X_KF.shape
    scale_F = np.sqrt((X_KF ** 2).mean(0))
    scale_F[scale_F == 0] = 1.0
    Xs = X_KF / scale_F
    y_mean = float(y_K.mean())
    A = Xs.T @ Xs / k + ridge * np.eye(f)
    beta = np.linalg.lstsq(A, Xs.T @ (y_K - y_mean) / k, rcond=None)[0] / scale_F
    beta[:n] += y_mean  # on the simplex, mean(y) = mean(y) * sum(w)
    return beta


def fit_quadratic(W_KN: np.ndarray, y_K: np.ndarray, ridge: float = 1e-3) -> QuadraticSurrogate:
    """Fit :class:`QuadraticSurrogate` to mixtures ``W_KN`` (rows on the simplex) and scores ``y_K``.

    ``ridge`` is the penalty on standardised coefficients relative to the mean squared error; it
    keeps the fit defined with fewer trials than the N(N+1)/2 coefficients (a warning-worthy regime:
    then the fit mostly reflects the prior of a flat surface)."""
    W_KN = np.atleast_2d(np.asarray(W_KN, dtype=np.float64))
    y_K = np.asarray(y_K, dtype=np.float64).reshape(-1)
    k, n = W_KN.shape
    if k != y_K.shape[0]:
        raise ValueError(f"{k} mixtures but {y_K.shape[0]} scores")
    if k < 1:
        raise ValueError("no trials to fit")
    if not np.isfinite(W_KN).all() or not np.isfinite(y_K).all():
        raise ValueError("mixtures and scores must be finite")
    if (W_KN < -1e-9).any() or not np.allclose(W_KN.sum(1), 1.0, atol=1e-6):
        raise ValueError("each mixture must be non-negative and sum to 1")
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    X_KF = scheffe_features(W_KN)
    coef = _ridge_solve(X_KF, y_K, ridge, n)
    fit = QuadraticSurrogate(coef_F=coef, n=n, ridge=ridge)
    resid = y_K - X_KF @ coef
    ss_tot = float(((y_K - y_K.mean()) ** 2).sum())
    fit.rmse = float(np.sqrt((resid ** 2).mean()))
    fit.r2 = 1.0 - float((resid ** 2).sum()) / ss_tot if ss_tot > 1e-15 else float("nan")
    if k >= 2:
        loo = np.empty(k)
        for i in range(k):
            keep = np.arange(k) != i
            loo[i] = X_KF[i] @ _ridge_solve(X_KF[keep], y_K[keep], ridge, n)
        fit.loo_pred_K = loo
        fit.loo_rmse = float(np.sqrt(((y_K - loo) ** 2).mean()))
        fit.loo_r2 = 1.0 - float(((y_K - loo) ** 2).sum()) / ss_tot if ss_tot > 1e-15 else float("nan")
    return fit


# ---- maximisation on the simplex -------------------------------------------------------------

def project_simplex(v_N: np.ndarray, min_weight: float = 0.0) -> np.ndarray:
    """Euclidean projection onto ``{w : sum w = 1, w_i >= min_weight}`` (sort-based, Duchi et al. 2008)."""
    v = np.asarray(v_N, dtype=np.float64)
    n = v.shape[0]
    mass = 1.0 - n * min_weight
    if mass < -1e-12:
        raise ValueError(f"min_weight {min_weight} x {n} datasets exceeds 1")
    u = v - min_weight
    s = np.sort(u)[::-1]
    css = np.cumsum(s) - mass
    rho = np.nonzero(s - css / np.arange(1, n + 1) > 0)[0][-1]
    theta = css[rho] / (rho + 1)
    return np.maximum(u - theta, 0.0) + min_weight


def _face_candidates(b: np.ndarray, C: np.ndarray, mass: float, lo: float) -> list[np.ndarray]:
    """Stationary points of f restricted to every face of {w >= lo, sum w = 1} (the vertices included):
    the maximum of a quadratic over a polytope is one of them."""
    n = b.shape[0]
    out = []
    for size in range(1, n + 1):
        for S in itertools.combinations(range(n), size):
            S = list(S)
            w = np.full(n, lo)
            if size == 1:
                w[S[0]] += mass
                out.append(w)
                continue
            # f on the face: w_S = lo + u, sum u = mass, u > 0. grad_S = b_S + C_S: w = lambda 1.
            rhs_b = b[S] + C[np.ix_(S, range(n))] @ np.full(n, lo)
            K = np.zeros((size + 1, size + 1))
            K[:size, :size] = C[np.ix_(S, S)]
            K[:size, size] = -1.0
            K[size, :size] = 1.0
            rhs = np.concatenate([-rhs_b, [mass]])
            try:
                if np.linalg.cond(K) > 1e12:
                    continue  # f is linear along the face somewhere: its max lies on the face's boundary
                sol = np.linalg.solve(K, rhs)
            except np.linalg.LinAlgError:
                continue
            u = sol[:size]
            if (u > 1e-12).all():
                w[S] += u
                out.append(w)
    return out


def maximize_on_simplex(fit: QuadraticSurrogate, *, min_weight: float = 0.0, n_samples: int = 20000,
                        n_starts: int = 16, steps: int = 300, seed: int = 0,
                        exact: bool | None = None) -> tuple[np.ndarray, float]:
    """The mixture maximising ``fit`` over ``{w : sum w = 1, w_i >= min_weight}``, and its value.

    ``exact`` (default: N <= EXACT_MAX_DIMS) enumerates the stationary points of every face of the
    simplex, which contain the global maximum of a quadratic. Otherwise (or in addition, as a
    check) ``n_samples`` Dirichlet(1) points are scored and the best ``n_starts`` refined by
    projected gradient ascent with step 1/L (L the curvature bound ||C||_2)."""
    n = fit.n
    mass = 1.0 - n * min_weight
    if min_weight < 0 or mass < 0:
        raise ValueError(f"min_weight must be in [0, 1/{n}], got {min_weight}")
    b, C = fit.linear_N, fit.quad_NN
    cands = [np.full(n, 1.0 / n)]
    if exact if exact is not None else n <= EXACT_MAX_DIMS:
        cands += _face_candidates(b, C, mass, min_weight)
    else:
        U = np.random.default_rng(seed).dirichlet(np.ones(n), size=n_samples)
        W = min_weight + mass * np.vstack([U, np.eye(n)])
        top = np.argsort(fit.predict(W))[::-1][:n_starts]
        lipschitz = max(float(np.linalg.norm(C, 2)), 1e-8)
        for w in W[top]:
            for _ in range(steps):
                w_new = project_simplex(w + fit.gradient(w) / lipschitz, min_weight)
                if np.abs(w_new - w).max() < 1e-10:
                    break
                w = w_new
            cands.append(w)
    W = np.vstack(cands)
    values = fit.predict(W)
    best = int(np.argmax(values))
    return W[best], float(values[best])
