"""Offline mixture search: short proxy trainings at sampled mixtures, a quadratic surrogate, its argmax.

    vrft mix-search run.yaml --trials 16 --steps 20 --out runs/mix-search

The loop, top to bottom (:func:`run_search`):

    K mixtures (trial 0: the config's own weights, then Dirichlet(alpha) draws)
    -> per trial: mixture YAML (weights replaced, strategy fixed) -> a fresh model trained for N
       GRPO steps in OUT/trial-XXX -> held-out evaluation -> score
    -> Scheffé quadratic fit of score over the simplex -> its maximiser -> best_mixture.yaml + report

Departures from MoDoMoDo (arXiv 2505.24871): every trial trains from the same initial weights with
the same seed (common random numbers: score differences come from the mixture, not the seed); the
score is the mean (or a weighted mean) of the held-out headline scores of the datasets that have a
held-out split. A trial whose ``result.json`` records the same run config, mixture and evaluation
settings is reused, so an interrupted search resumes where it stopped.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from vrft.config import config_from_dict, to_dict, to_yaml
from vrft.eval.api import evaluate_mixture_heldout
from vrft.grpo.trainer import GRPOTrainer
from vrft.mixsearch.mixture_yaml import RawMixture, mixture_yaml, read_raw_mixture, write_mixture
from vrft.mixsearch.report import write_report
from vrft.mixsearch.surrogate import QuadraticSurrogate, dirichlet_mixtures, fit_quadratic, maximize_on_simplex


@dataclass
class SearchSettings:
    """What the search tries and how each trial is judged."""

    trials: int = 16
    """K: proxy trainings (including the baseline trial); about N(N+1)/2 or more for N datasets."""
    steps: int = 20
    """GRPO steps of each proxy training."""
    seed: int = 0
    """Seed of the Dirichlet draws (the trainings use the run config's train.seed)."""
    alpha: float = 1.0
    """Dirichlet concentration of the sampled mixtures (1: uniform on the simplex)."""
    baseline: bool = True
    """Trial 0 uses the config's own weights (then K-1 sampled mixtures)."""
    eval_max_samples: int | None = None
    """Held-out samples per dataset per trial; None: the run config's eval.max_samples."""
    eval_max_new_tokens: int | None = None
    """Generation budget of the evaluation; None: rollout.max_new_tokens."""
    eval_batch_size: int = 8
    """Prompts per evaluation generate call."""
    score_weights: dict[str, float] | None = None
    """Weights of the datasets' held-out scores in a trial's score; None: the plain mean."""
    ridge: float = 1e-3
    """Ridge strength of the surrogate fit (on standardised features)."""
    min_weight: float = 0.0
    """Least weight of any dataset in the predicted best mixture."""
    resume: bool = True
    """Reuse finished trials found in the output folder."""

    def check(self, names: list[str]) -> None:
        if self.trials < 2:
            raise ValueError(f"--trials must be >= 2 to fit anything, got {self.trials}")
        if self.steps < 1:
            raise ValueError(f"--steps must be >= 1, got {self.steps}")
        if self.alpha <= 0:
            raise ValueError(f"--alpha must be > 0, got {self.alpha}")
        if not 0 <= self.min_weight * len(names) < 1:
            raise ValueError(f"--min-weight {self.min_weight} x {len(names)} datasets must be in [0, 1)")
        if self.score_weights is not None:
            unknown = set(self.score_weights) - set(names)
            if unknown:
                raise ValueError(f"--score-weights names unknown dataset(s) {sorted(unknown)}; datasets: {names}")
            if any(v < 0 for v in self.score_weights.values()) or sum(self.score_weights.values()) <= 0:
                raise ValueError("--score-weights must be >= 0 with a positive sum")


@dataclass
class TrialResult:
    index: int
    weights: dict[str, float]
    score: float
    per_dataset: dict[str, dict[str, float]]
    train_s: float = 0.0
    eval_s: float = 0.0
    final_reward: float = float("nan")
    reused: bool = False


@dataclass
class SearchResult:
    names: list[str]
    trials: list[TrialResult]
    fit: QuadraticSurrogate
    best_weights: dict[str, float]
    best_predicted: float
    out_dir: str
    best_yaml: str
    extras: dict[str, Any] = field(default_factory=dict)


def trial_mixtures(names: list[str], original: dict[str, float], s: SearchSettings) -> np.ndarray:
    """(K, N): the original weights first (with ``baseline``), then Dirichlet draws."""
    n_draw = s.trials - 1 if s.baseline else s.trials
    W = dirichlet_mixtures(n_draw, len(names), s.alpha, s.seed)
    if s.baseline:
        W = np.vstack([[original[n] for n in names], W])
    return W


def trial_score(per_dataset: dict[str, dict[str, float]], score_weights: dict[str, float] | None) -> float:
    """Mean (or ``score_weights``-weighted mean) of the datasets' headline ``score``."""
    if not per_dataset:
        return float("nan")
    if score_weights is None:
        return float(np.mean([m["score"] for m in per_dataset.values()]))
    w = {k: score_weights.get(k, 0.0) for k in per_dataset}
    total = sum(w.values())
    if total <= 0:
        raise ValueError(f"--score-weights give zero weight to every evaluated dataset {sorted(per_dataset)}")
    return float(sum(w[k] * m["score"] for k, m in per_dataset.items()) / total)


def _trial_config(cfg, mixture_path: str, run_dir: str, steps: int):
    overrides = {
        "data.config": mixture_path, "log.run_dir": run_dir, "train.steps": steps, "checkpoint.every": 0,
        "checkpoint.save_final": "false", "checkpoint.resume": "none", "log.plots": "false",
        "log.tensorboard": "false", "log.wandb": "false", "log.progress_bar": "false", "eval.every": 0,
        "eval.at_start": "false", "eval.at_end": "false",
    }
    return config_from_dict(to_dict(cfg), [f"{k}={v}" for k, v in overrides.items()], world_size=1)


def _fingerprint(tcfg, mixture_text: str, s: SearchSettings) -> str:
    """What a trial's result depends on: its run config, its mixture and the evaluation settings."""
    evaluation = [s.eval_max_samples, s.eval_max_new_tokens, s.eval_batch_size, s.score_weights]
    return hashlib.sha1("\n".join([to_yaml(tcfg), mixture_text, json.dumps(evaluation, sort_keys=True)])
                        .encode()).hexdigest()


def _load_reusable(path: str, fingerprint: str) -> TrialResult | None:
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None
    if saved.pop("fingerprint", None) != fingerprint:
        return None
    return TrialResult(**{**saved, "reused": True})


def run_trial(cfg, raw: RawMixture, index: int, weights: dict[str, float], out_dir: str,
              s: SearchSettings) -> TrialResult:
    """Train a fresh model for ``s.steps`` steps on ``weights`` (fixed) and score it on held-out data."""
    trial_dir = os.path.join(out_dir, f"trial-{index:03d}")
    mixture_path = os.path.join(trial_dir, "mixture.yaml")
    result_path = os.path.join(trial_dir, "result.json")
    mixture_text = mixture_yaml(raw, weights, strategy="fixed",
                                header=f"mix-search trial {index}: {raw.source} with fixed weights")
    tcfg = _trial_config(cfg, mixture_path, trial_dir, s.steps)
    fingerprint = _fingerprint(tcfg, mixture_text, s)
    if s.resume:
        reused = _load_reusable(result_path, fingerprint)
        if reused is not None:
            return reused
    if os.path.exists(mixture_path):  # an unfinished or outdated trial: start clean
        shutil.rmtree(trial_dir)
    os.makedirs(trial_dir)
    with open(mixture_path, "w", encoding="utf-8") as f:
        f.write(mixture_text)
    t0 = time.time()
    trainer = GRPOTrainer(tcfg)
    last = trainer.train()
    t1 = time.time()
    per_dataset = evaluate_mixture_heldout(
        trainer.policy, trainer.data.datasets,
        max_samples=s.eval_max_samples if s.eval_max_samples is not None else tcfg.eval.max_samples,
        max_new_tokens=s.eval_max_new_tokens or tcfg.rollout.max_new_tokens, greedy=tcfg.eval.greedy,
        batch_size=s.eval_batch_size)
    t2 = time.time()
    del trainer
    gc.collect()
    result = TrialResult(index=index, weights=dict(weights), score=trial_score(per_dataset, s.score_weights),
                         per_dataset={k: {m: float(v) for m, v in d.items()} for k, d in per_dataset.items()},
                         train_s=t1 - t0, eval_s=t2 - t1, final_reward=float(last.get("reward/mean", math.nan)))
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump({**result.__dict__, "fingerprint": fingerprint}, f, indent=1)
    return result


def _check_heldout(raw: RawMixture) -> None:
    if not any(d.heldout.files or d.heldout.fraction for d in raw.config.datasets):
        raise ValueError(f"{raw.source}: no dataset has a held-out split to score trials on; give at least one "
                         "dataset `heldout: {files: [test.json]}` or `heldout: {fraction: 0.1}`")


def run_search(cfg, settings: SearchSettings, out_dir: str,
               log: Callable[[str], None] = lambda m: print(m, flush=True)) -> SearchResult:
    """Run every trial, fit the surrogate, write ``best_mixture.yaml``, ``report.json``, ``report.md``."""
    raw = read_raw_mixture(cfg.data.config)
    names = raw.names
    settings.check(names)
    _check_heldout(raw)
    original = raw.config.weights
    W = trial_mixtures(names, original, settings)
    os.makedirs(out_dir, exist_ok=True)
    n_coef = len(names) * (len(names) + 1) // 2
    log(f"[mix-search] {len(names)} datasets ({', '.join(names)}), {len(W)} trials x {settings.steps} steps "
        f"-> {out_dir}" + (f"; note: {len(W)} trials < {n_coef} surrogate coefficients, the fit leans on "
                          "its ridge prior" if len(W) < n_coef else ""))
    trials: list[TrialResult] = []
    for k, w in enumerate(W):
        weights = {n: float(x) for n, x in zip(names, w)}
        r = run_trial(cfg, raw, k, weights, out_dir, settings)
        trials.append(r)
        mix = " ".join(f"{n}={x:.3f}" for n, x in weights.items())
        log(f"[mix-search] trial {k + 1}/{len(W)} {mix} | score {r.score:.4f}"
            + (" (reused)" if r.reused else f" | train {r.train_s:.1f}s eval {r.eval_s:.1f}s"))
    scored = [t for t in trials if math.isfinite(t.score)]
    if len(scored) < 2:
        raise RuntimeError(f"only {len(scored)} trial(s) produced a finite score; see {out_dir}/trial-*/")
    W_fit = np.array([[t.weights[n] for n in names] for t in scored])
    fit = fit_quadratic(W_fit, np.array([t.score for t in scored]), ridge=settings.ridge)
    w_best, predicted = maximize_on_simplex(fit, min_weight=settings.min_weight, seed=settings.seed)
    best = {n: float(x) for n, x in zip(names, w_best)}
    best_yaml = write_mixture(os.path.join(out_dir, "best_mixture.yaml"), raw, best,
                              header=(f"vrft mix-search: predicted best mixture of {raw.source}\n"
                                      f"predicted score {predicted:.4f} from {len(scored)} trials x "
                                      f"{settings.steps} steps (surrogate R^2 {fit.r2:.3f}, "
                                      f"LOO RMSE {fit.loo_rmse:.4f}); only the weights changed"), digits=4)
    result = SearchResult(names=names, trials=trials, fit=fit, best_weights=best, best_predicted=predicted,
                          out_dir=out_dir, best_yaml=best_yaml)
    write_report(result, settings, source=raw.source, original=original)
    log(f"[mix-search] surrogate R^2 {fit.r2:.3f}, LOO RMSE {fit.loo_rmse:.4f}; predicted best "
        + " ".join(f"{n}={x:.3f}" for n, x in best.items()) + f" (score {predicted:.4f})")
    log(f"[mix-search] wrote {best_yaml}, {os.path.join(out_dir, 'report.md')}")
    return result
