"""Trial scoring and settings checks (no model), and `vrft mix-search` end to end on a tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from vrft.mixsearch.search import SearchSettings, trial_mixtures, trial_score


def test_trial_score_mean_and_weighted():
    per = {"a": {"score": 0.2, "acc": 1.0}, "b": {"score": 0.6}}
    assert trial_score(per, None) == pytest.approx(0.4)
    assert trial_score(per, {"a": 3, "b": 1}) == pytest.approx(0.3)
    assert trial_score(per, {"b": 1}) == pytest.approx(0.6)  # datasets without a weight count 0
    assert np.isnan(trial_score({}, None))


def test_trial_mixtures_start_with_the_config():
    s = SearchSettings(trials=5, seed=3)
    W = trial_mixtures(["a", "b", "c"], {"a": 0.5, "b": 0.25, "c": 0.25}, s)
    assert W.shape == (5, 3) and np.allclose(W.sum(1), 1)
    np.testing.assert_allclose(W[0], [0.5, 0.25, 0.25])
    assert trial_mixtures(["a", "b"], {"a": 0.5, "b": 0.5}, SearchSettings(trials=4, baseline=False)).shape == (4, 2)


@pytest.mark.parametrize("kw,match", [({"trials": 1}, "trials"), ({"steps": 0}, "steps"),
                                      ({"min_weight": 0.5}, "min-weight"),
                                      ({"score_weights": {"x": 1.0}}, "unknown dataset")])
def test_settings_errors_name_the_option(kw, match):
    with pytest.raises(ValueError, match=match):
        SearchSettings(**kw).check(["a", "b"])


def _mix_search(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "vrft", "mix-search", *args], env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_mix_search_end_to_end(search_mixture, tmp_path, tmp_path_factory):
    from vrft.data.mixture_config import load_mixture_config

    out = tmp_path / "search"
    cache = tmp_path_factory.getbasetemp() / "vrft-cache"
    args = [f"data.config={search_mixture}", "--trials", "3", "--steps", "2", "--out", str(out),
            "--eval-samples", "2", f"data.cache_dir={cache}", "rollout.max_new_tokens=6",
            "rollout.prompts_per_step=2", "rollout.num_generations=2", "--seed", "1"]
    run = _mix_search(args)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.count("[mix-search] trial ") == 3
    best = load_mixture_config(str(out / "best_mixture.yaml"))
    assert [d.name for d in best.datasets] == ["color", "grounding"]
    assert best.mixture.strategy == "bandit"  # only the weights change
    assert sum(best.weights.values()) == pytest.approx(1.0)
    rep = json.loads((out / "report.json").read_text())
    assert len(rep["trials"]) == 3 and rep["trials"][0]["baseline"]
    assert rep["trials"][0]["weights"] == pytest.approx({"color": 0.75, "grounding": 0.25})
    for t in rep["trials"]:
        assert set(t["per_dataset"]) == {"color", "grounding"} and t["observed"] is not None
        assert os.path.exists(out / f"trial-{t['trial']:03d}" / "metrics.jsonl")
        trial_cfg = load_mixture_config(str(out / f"trial-{t['trial']:03d}" / "mixture.yaml"))
        assert trial_cfg.mixture.strategy == "fixed"
        assert trial_cfg.weights == pytest.approx(t["weights"])
    assert set(rep["fit"]) >= {"r2", "loo_rmse", "coefficients"}
    assert set(rep["best"]["weights"]) == {"color", "grounding"}
    md = (out / "report.md").read_text()
    assert "## Trials" in md and "## Predicted best mixture" in md and "leave-one-out" in md
    assert not list(out.glob("trial-*/checkpoints")) and not list(out.glob("trial-*/plots"))
    # A second run reuses every finished trial; a changed setting reruns them.
    again = _mix_search(args)
    assert again.returncode == 0 and again.stdout.count("(reused)") == 3, again.stdout[-2000:]
    changed = _mix_search(args + ["rollout.max_new_tokens=5"])
    assert changed.returncode == 0 and "(reused)" not in changed.stdout, changed.stdout[-2000:]
    assert len(list(out.glob("trial-000/metrics.jsonl"))) == 1
    assert len((out / "trial-000" / "metrics.jsonl").read_text().splitlines()) == 2  # not appended to


def test_cli_reports_config_errors(tmp_path):
    run = _mix_search(["train.lr=abc", "--trials", "3", "--out", str(tmp_path)])
    assert run.returncode == 2 and "config error" in run.stdout
