"""Mixture strategies in a simulated setting: per-dataset learning signals, no model."""

from __future__ import annotations

import numpy as np
import pytest

from vrft.data.mixture_learning import (
    DatasetStepStats, build_strategy, get_strategy, parse_strategy_params,
)

NAMES = ["solved", "learning", "hard"]


def simulate_stats(rng, success: dict[str, float], group: int = 8, prompts: int = 4) -> dict[str, DatasetStepStats]:
    """GRPO-like stats: binary rewards per group; advantages are group-normalised rewards."""
    out = {}
    for name, p in success.items():
        r = (rng.random((prompts, group)) < p).astype(float)
        std = r.std(axis=1, keepdims=True)
        adv = np.where(std > 0, (r - r.mean(axis=1, keepdims=True)) / (std + 1e-6), 0.0)
        out[name] = DatasetStepStats(mean_abs_advantage=float(np.abs(adv).mean()), reward_mean=float(r.mean()),
                                     reward_var=float(r.var(axis=1).mean()), n=r.size)
    return out


@pytest.mark.parametrize("strategy", ["bandit", "exp_grad"])
def test_weight_moves_to_dataset_with_signal(strategy):
    rng = np.random.default_rng(0)
    s = build_strategy(strategy, NAMES, [1, 1, 1], floor=0.05)
    for _ in range(60):
        w = s.update(simulate_stats(rng, {"solved": 1.0, "learning": 0.5, "hard": 0.0}))
    assert w["learning"] > 0.6
    assert w["solved"] < 1 / 3 and w["hard"] < 1 / 3
    assert min(w.values()) >= 0.05 - 1e-12  # the floor keeps every dataset alive
    assert sum(w.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("strategy", ["bandit", "exp_grad"])
def test_follows_non_stationary_signal(strategy):
    rng = np.random.default_rng(1)
    s = build_strategy(strategy, ["a", "b"], [1, 1], floor=0.05)
    for _ in range(40):
        w1 = s.update(simulate_stats(rng, {"a": 0.5, "b": 1.0}))
    for _ in range(80):  # a is learned, b regresses and has signal again
        w2 = s.update(simulate_stats(rng, {"a": 1.0, "b": 0.5}))
    assert w1["a"] > 0.5 and w2["b"] > 0.5


def test_fixed_never_moves_and_partial_stats_keep_values():
    s = build_strategy("fixed", NAMES, [2, 1, 1])
    assert s.update(simulate_stats(np.random.default_rng(0), {"learning": 0.5})) == {
        "solved": 0.5, "learning": 0.25, "hard": 0.25}
    b = build_strategy("bandit", NAMES, [1, 1, 1])
    b.update({"learning": DatasetStepStats(1.0, 0.5, 0.25, 8)})
    before = b.values.copy()
    b.update({"solved": DatasetStepStats(0.0, 1.0, 0.0, 0)})  # n == 0: ignored
    assert (b.values == before).all()
    with pytest.raises(ValueError, match="unknown dataset"):
        b.update({"nope": DatasetStepStats(0, 0, 0, 1)})


@pytest.mark.parametrize("strategy", ["fixed", "bandit", "exp_grad"])
def test_state_dict_resumes_exactly(strategy):
    rng = np.random.default_rng(2)
    steps = [simulate_stats(rng, {"solved": 0.9, "learning": 0.5, "hard": 0.1}) for _ in range(20)]
    full = build_strategy(strategy, NAMES, [1, 2, 1], floor=0.02)
    for st in steps:
        full.update(st)
    part = build_strategy(strategy, NAMES, [1, 2, 1], floor=0.02)
    for st in steps[:7]:
        part.update(st)
    resumed = build_strategy(strategy, NAMES, [1, 2, 1], floor=0.02)
    resumed.load_state_dict(part.state_dict())
    for st in steps[7:]:
        resumed.update(st)
    assert resumed.weights == pytest.approx(full.weights)


def test_registry_and_params_errors():
    with pytest.raises(ValueError, match="valid strategies: \\['bandit', 'exp_grad', 'fixed'\\]"):
        get_strategy("doremi")
    with pytest.raises(ValueError, match="mixture.params.temperature: must be > 0"):
        parse_strategy_params("bandit", {"temperature": 0.0})
    with pytest.raises(ValueError, match="signal: must be one of"):
        parse_strategy_params("exp_grad", {"signal": "loss"})
    with pytest.raises(ValueError, match="floor"):
        build_strategy("bandit", NAMES, [1, 1, 1], floor=0.4)
