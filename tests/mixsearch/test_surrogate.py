"""The Scheffé quadratic surrogate and its simplex maximiser, on hand-built score functions."""

from __future__ import annotations

import numpy as np
import pytest

from vrft.mixsearch.surrogate import (dirichlet_mixtures, feature_names, fit_quadratic, maximize_on_simplex,
                                      project_simplex, scheffe_features)


@pytest.mark.parametrize("n,seed", [(3, 0), (3, 1), (4, 2), (4, 3)])
def test_recovers_known_optimum_of_noisy_quadratic(n, seed):
    """score(w) = -||w - w*||^2 + noise, 30 Dirichlet draws: the fitted argmax is within 0.05 of w*."""
    rng = np.random.default_rng(seed)
    w_star = rng.dirichlet(np.full(n, 3.0))
    W = dirichlet_mixtures(30, n, alpha=1.0, seed=seed)
    y = -((W - w_star) ** 2).sum(1) + rng.normal(0, 0.005, len(W))
    fit = fit_quadratic(W, y, ridge=1e-3)
    w_best, value = maximize_on_simplex(fit)
    assert np.abs(w_best - w_star).max() < 0.05, (w_best, w_star)
    assert abs(value) < 0.02  # the true maximum is 0
    assert fit.r2 > 0.95 and fit.loo_rmse < 0.02
    w_sampled, _ = maximize_on_simplex(fit, exact=False, seed=seed)  # the sampling optimiser agrees
    assert np.abs(w_sampled - w_best).max() < 1e-3


def test_noiseless_quadratic_is_fitted_exactly():
    n = 3
    W = dirichlet_mixtures(20, n, seed=5)
    b, c = np.array([0.2, 0.5, 0.1]), np.array([1.0, -2.0, 0.5])  # pairs (0,1), (0,2), (1,2)
    y = scheffe_features(W) @ np.concatenate([b, c])
    fit = fit_quadratic(W, y, ridge=0.0)
    np.testing.assert_allclose(fit.coef_F, np.concatenate([b, c]), atol=1e-8)
    assert fit.r2 == pytest.approx(1.0) and fit.loo_rmse < 1e-8
    assert feature_names(["a", "b", "c"]) == ["a", "b", "c", "a*b", "a*c", "b*c"]


def test_intercept_and_squares_are_representable():
    """1 + w_0^2 on the simplex is a Scheffé quadratic (no intercept or square terms needed)."""
    W = dirichlet_mixtures(25, 3, seed=1)
    fit = fit_quadratic(W, 1 + W[:, 0] ** 2, ridge=0.0)
    assert fit.rmse < 1e-9
    w, v = maximize_on_simplex(fit)
    np.testing.assert_allclose(w, [1, 0, 0], atol=1e-9)
    assert v == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(6))
def test_exact_and_sampled_maximisers_agree_on_nonconcave_surfaces(seed):
    rng = np.random.default_rng(seed)
    n = 4
    W = dirichlet_mixtures(30, n, seed=seed)
    fit = fit_quadratic(W, scheffe_features(W) @ rng.normal(0, 1, n * (n + 1) // 2), ridge=0.0)
    grid = np.vstack([rng.dirichlet(np.ones(n), 50000), np.eye(n)])
    w_exact, v_exact = maximize_on_simplex(fit)
    _, v_sampled = maximize_on_simplex(fit, exact=False, seed=seed)
    assert v_exact >= fit.predict(grid).max() - 1e-9
    assert v_sampled == pytest.approx(v_exact, abs=1e-6)
    assert w_exact.min() >= -1e-12 and w_exact.sum() == pytest.approx(1.0)


def test_min_weight_bounds_the_maximiser():
    W = dirichlet_mixtures(20, 3, seed=0)
    fit = fit_quadratic(W, W[:, 0], ridge=0.0)  # linear: the best is the vertex of dataset 0
    w, _ = maximize_on_simplex(fit, min_weight=0.1)
    np.testing.assert_allclose(w, [0.8, 0.1, 0.1], atol=1e-9)
    with pytest.raises(ValueError, match="min_weight"):
        maximize_on_simplex(fit, min_weight=0.4)


def test_project_simplex():
    rng = np.random.default_rng(0)
    for _ in range(100):
        v = rng.normal(0, 2, 5)
        w = project_simplex(v, 0.05)
        assert w.sum() == pytest.approx(1.0) and w.min() >= 0.05 - 1e-12
        # The projection is the closest point: no feasible sample is closer.
        others = 0.05 + 0.75 * rng.dirichlet(np.ones(5), 2000)
        assert np.linalg.norm(v - w) <= np.linalg.norm(v - others, axis=1).min() + 1e-9
    np.testing.assert_allclose(project_simplex(np.array([0.2, 0.3, 0.5])), [0.2, 0.3, 0.5])


def test_flat_scores_give_nan_r2_and_bad_input_is_named():
    W = dirichlet_mixtures(5, 2, seed=0)
    fit = fit_quadratic(W, np.zeros(5))
    assert np.isnan(fit.r2) and fit.rmse == 0.0
    with pytest.raises(ValueError, match="sum to 1"):
        fit_quadratic(np.array([[0.5, 0.6]]), [1.0])
    with pytest.raises(ValueError, match="2 mixtures but 3 scores"):
        fit_quadratic(W[:2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="alpha"):
        dirichlet_mixtures(3, 2, alpha=0)
