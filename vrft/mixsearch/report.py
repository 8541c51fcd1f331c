"""``report.json`` and ``report.md`` of a mixture search: trials, fit quality, the predicted best mixture."""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from vrft.mixsearch.surrogate import feature_names


def _num(x: float) -> float | None:
    """JSON has no NaN: None instead."""
    return float(x) if x is not None and math.isfinite(float(x)) else None


def report_dict(result, settings, source: str, original: dict[str, float]) -> dict[str, Any]:
    names, fit = result.names, result.fit
    scored = [t for t in result.trials if math.isfinite(t.score)]
    loo = dict(zip([t.index for t in scored], fit.loo_pred_K if fit.loo_pred_K is not None else []))
    trials = []
    for t in result.trials:
        pred = float(fit.predict(np.array([[t.weights[n] for n in names]]))[0])
        trials.append({"trial": t.index, "weights": t.weights, "observed": _num(t.score), "predicted": _num(pred),
                       "loo_predicted": _num(loo[t.index]) if t.index in loo else None,
                       "per_dataset": {k: _num(m.get("score", math.nan)) for k, m in t.per_dataset.items()},
                       "final_train_reward": _num(t.final_reward), "train_s": t.train_s, "eval_s": t.eval_s,
                       "baseline": settings.baseline and t.index == 0})
    best_obs = max(scored, key=lambda t: t.score)
    return {
        "source": source,
        "datasets": names,
        "settings": {k: v for k, v in settings.__dict__.items()},
        "original_weights": original,
        "trials": trials,
        "fit": {"model": "scheffe_quadratic", "n_trials": len(scored), "n_coefficients": len(fit.coef_F),
                "ridge": fit.ridge, "r2": _num(fit.r2), "rmse": _num(fit.rmse), "loo_rmse": _num(fit.loo_rmse),
                "loo_r2": _num(fit.loo_r2),
                "coefficients": dict(zip(feature_names(names), map(float, fit.coef_F)))},
        "best": {"weights": result.best_weights, "predicted_score": _num(result.best_predicted),
                 "yaml": result.best_yaml},
        "best_observed": {"trial": best_obs.index, "weights": best_obs.weights, "score": best_obs.score},
    }


def _f(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def report_markdown(rep: dict[str, Any]) -> str:
    names = rep["datasets"]
    fit = rep["fit"]
    lines = [f"# Mixture search: `{rep['source']}`", "",
             f"{len(rep['trials'])} trials x {rep['settings']['steps']} GRPO steps; score = "
             + ("mean" if rep["settings"]["score_weights"] is None else "weighted mean")
             + " of held-out headline scores.", "",
             "## Trials", "",
             "| trial | " + " | ".join(names) + " | observed | predicted | LOO predicted |",
             "|---:|" + "---:|" * len(names) + "---:|---:|---:|"]
    for t in rep["trials"]:
        tag = f"{t['trial']}" + (" (config)" if t["baseline"] else "")
        lines.append(f"| {tag} | " + " | ".join(f"{t['weights'][n]:.3f}" for n in names)
                     + f" | {_f(t['observed'])} | {_f(t['predicted'])} | {_f(t['loo_predicted'])} |")
    under = fit["n_trials"] < fit["n_coefficients"]
    lines += ["", "## Fit", "",
              f"Scheffé quadratic, {fit['n_coefficients']} coefficients from {fit['n_trials']} trials "
              f"(ridge {fit['ridge']:g}).", "",
              f"- R^2 (in-sample): {_f(fit['r2'], 3)}",
              f"- RMSE (in-sample): {_f(fit['rmse'])}",
              f"- leave-one-out RMSE: {_f(fit['loo_rmse'])}",
              f"- leave-one-out R^2: {_f(fit['loo_r2'], 3)}"]
    if under:
        lines.append(f"- fewer trials than coefficients: the surface is mostly the ridge prior; "
                     f"run at least {fit['n_coefficients']} trials")
    if fit["r2"] is None:
        lines.append("- every trial scored the same: the surrogate is flat and the best mixture arbitrary "
                     "(more steps, more eval samples, or a larger model)")
    best, obs = rep["best"], rep["best_observed"]
    lines += ["", "## Predicted best mixture", "",
              "| | " + " | ".join(names) + " | score |", "|---|" + "---:|" * len(names) + "---:|",
              "| predicted best | " + " | ".join(f"{best['weights'][n]:.3f}" for n in names)
              + f" | {_f(best['predicted_score'])} (predicted) |",
              f"| best trial ({obs['trial']}) | " + " | ".join(f"{obs['weights'][n]:.3f}" for n in names)
              + f" | {_f(obs['score'])} (observed) |",
              "| config | " + " | ".join(f"{rep['original_weights'][n]:.3f}" for n in names) + " | |",
              "", f"Mixture YAML: `{best['yaml']}` (the original config with these weights).", ""]
    return "\n".join(lines)


def write_report(result, settings, source: str, original: dict[str, float]) -> dict[str, Any]:
    rep = report_dict(result, settings, source, original)
    with open(os.path.join(result.out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(rep, f, indent=1)
    with open(os.path.join(result.out_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write(report_markdown(rep))
    return rep
