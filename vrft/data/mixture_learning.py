"""Online mixture-weight strategies: after each step, new dataset weights from per-dataset signals.

Interface: ``strategy.update({dataset: DatasetStepStats(...)}) -> {dataset: weight}``; weights always
sum to 1 and, with ``floor`` f over K datasets, every weight is at least f (``w = (1 - K f) p + f``), so
no dataset is ever starved. Datasets missing from a step's stats keep their learned values.
Strategies are chosen by name (``get_strategy``) and resume exactly from ``state_dict()``.

- ``fixed``: the initial weights, always.
- ``bandit`` (SEC, Chen et al. 2025, "Self-Evolving Curriculum", arXiv 2505.14970): a non-stationary
  bandit whose value of a dataset is a TD(0) / exponential moving average of its learning progress,
  the mean absolute advantage of its prompts; weights are a softmax of values / temperature.
  Departure from SEC: the initial weights enter as a prior, ``p ~ w0 * exp(Q / T)``, so configured
  weights still matter and values start at 0.
- ``exp_grad`` (DoReMi, Xie et al. 2023, arXiv 2305.10429): exponentiated-gradient ascent
  ``w <- normalize(w * exp(lr * s))`` on a learnability signal ``s`` (a smoothed per-dataset reward
  variance by default: it is largest where the policy solves about half the group), then smoothing
  toward uniform. Departure from DoReMi: no reference model; the signal replaces the excess loss.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vrft.config.typed import ConfigError, build
from vrft.registry import Registry


@dataclass
class DatasetStepStats:
    """What one step measured for one dataset (over its prompts' rollout groups)."""

    mean_abs_advantage: float
    """Mean |advantage| over the dataset's completions: how much the policy can still learn from it."""
    reward_mean: float
    """Mean total reward."""
    reward_var: float
    """Mean within-group reward variance (0 when every group is all-solved or all-failed)."""
    n: int
    """Number of completions behind these numbers; stats with n == 0 are ignored."""


@dataclass
class FixedParams:
    """``fixed`` has no parameters."""


@dataclass
class BanditParams:
    temperature: float = 0.2
    """Softmax temperature over values; lower concentrates weight on the best dataset."""
    alpha: float = 0.3
    """TD(0) step size / EMA rate of the values (higher forgets faster)."""
    signal: str = "mean_abs_advantage"
    """Which DatasetStepStats field is the reward of the bandit."""


@dataclass
class ExpGradParams:
    lr: float = 1.0
    """Step size of the exponentiated-gradient update."""
    smoothing: float = 0.1
    """Mix toward uniform after each update (DoReMi's c)."""
    ema: float = 0.5
    """EMA rate of the signal estimate per dataset (1 = use only the latest step)."""
    signal: str = "reward_var"
    """Which DatasetStepStats field measures learnability."""


SIGNALS = ("mean_abs_advantage", "reward_mean", "reward_var")


def apply_floor(p: np.ndarray, floor: float) -> np.ndarray:
    p = np.clip(p, 0.0, None)
    p = p / p.sum()
    return (1.0 - floor * len(p)) * p + floor


class MixtureStrategy:
    """Base class: holds dataset names, initial weights, the floor and the current weights."""

    name = ""
    params_cls: type = FixedParams

    def __init__(self, names: list[str], initial_weights: list[float], floor: float = 0.0,
                 params: Any = None):
        if len(names) != len(initial_weights) or not names:
            raise ValueError("mixture strategy: need one initial weight per dataset")
        w = np.asarray(initial_weights, dtype=np.float64)
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"mixture weights must be >= 0 with a positive sum, got {list(initial_weights)}")
        if not 0.0 <= floor * len(names) < 1.0:
            raise ValueError(f"mixture floor {floor} x {len(names)} datasets must be in [0, 1)")
        self.names = list(names)
        self.floor = float(floor)
        self.params = params if params is not None else self.params_cls()
        self.initial = w / w.sum()
        self.weights_arr = apply_floor(self.initial, self.floor)
        self.steps = 0

    @property
    def weights(self) -> dict[str, float]:
        return dict(zip(self.names, self.weights_arr.tolist()))

    def update(self, stats: dict[str, DatasetStepStats]) -> dict[str, float]:
        unknown = sorted(set(stats) - set(self.names))
        if unknown:
            raise ValueError(f"mixture update: unknown dataset(s) {unknown}; known: {self.names}")
        seen = {k: s for k, s in stats.items() if s.n > 0 and _finite(s)}
        self.steps += 1
        if seen:
            self.weights_arr = apply_floor(self._update(seen), self.floor)
        return self.weights

    def _update(self, stats: dict[str, DatasetStepStats]) -> np.ndarray:
        return self.weights_arr

    def state_dict(self) -> dict[str, Any]:
        return {"strategy": self.name, "names": self.names, "weights": self.weights_arr.tolist(),
                "steps": self.steps, **self._extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("strategy") != self.name or state.get("names") != self.names:
            raise ValueError(f"mixture state is for {state.get('strategy')!r} over {state.get('names')}, "
                             f"not {self.name!r} over {self.names}")
        self.weights_arr = np.asarray(state["weights"], dtype=np.float64)
        self.steps = int(state["steps"])
        self._load_extra(state)

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, state: dict[str, Any]) -> None:
        pass


def _finite(s: DatasetStepStats) -> bool:
    return all(math.isfinite(v) for v in (s.mean_abs_advantage, s.reward_mean, s.reward_var))


STRATEGIES: Registry[type[MixtureStrategy]] = Registry("mixture strategy", plural="strategies")
"""The mixture strategies by name (``fixed``, ``bandit``, ``exp_grad``)."""


def register_strategy(name: str):
    """Class decorator registering a :class:`MixtureStrategy` under ``name`` (also set as ``cls.name``)."""

    def deco(cls: type[MixtureStrategy]) -> type[MixtureStrategy]:
        cls.name = name
        return STRATEGIES.register(name, cls)

    return deco


def get_strategy(name: str) -> type[MixtureStrategy]:
    """The strategy class registered under ``name``; the error lists the valid names."""
    return STRATEGIES.get(name)


def parse_strategy_params(name: str, params: dict[str, Any] | None, path: str = "mixture.params") -> Any:
    """Typed params of strategy ``name``; unknown keys / wrong types raise ValueError naming the key."""
    cls = get_strategy(name)
    parsed = build(cls.params_cls, params or {}, path)
    signal = getattr(parsed, "signal", None)
    if signal is not None and signal not in SIGNALS:
        raise ConfigError(f"{path}.signal", f"must be one of {list(SIGNALS)}, got {signal!r}")
    for key, value in asdict(parsed).items():
        if isinstance(value, float) and not (value >= 0 and math.isfinite(value)):
            raise ConfigError(f"{path}.{key}", f"must be a finite number >= 0, got {value}")
    if isinstance(parsed, BanditParams) and parsed.temperature <= 0:
        raise ConfigError(f"{path}.temperature", f"must be > 0, got {parsed.temperature}")
    for key in ("alpha", "ema", "smoothing"):
        if not 0 <= getattr(parsed, key, 0.5) <= 1:
            raise ConfigError(f"{path}.{key}", f"must be in [0, 1], got {getattr(parsed, key)}")
    return parsed


def build_strategy(name: str, names: list[str], initial_weights: list[float], floor: float = 0.0,
                   params: dict[str, Any] | Any = None) -> MixtureStrategy:
    if params is None or isinstance(params, dict):
        params = parse_strategy_params(name, params)
    return get_strategy(name)(names, initial_weights, floor, params)


@register_strategy("fixed")
class FixedStrategy(MixtureStrategy):
    """The configured weights, unchanged (no floor: a weight of 0 switches a dataset off)."""

    params_cls = FixedParams

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weights_arr = self.initial.copy()

    def update(self, stats):
        self.steps += 1
        return self.weights


@register_strategy("bandit")
class BanditStrategy(MixtureStrategy):
    params_cls = BanditParams

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.values = np.zeros(len(self.names))

    def _update(self, stats):
        a = self.params.alpha
        for k, s in stats.items():
            i = self.names.index(k)
            self.values[i] += a * (getattr(s, self.params.signal) - self.values[i])
        logits = np.log(np.maximum(self.initial, 1e-12)) + self.values / self.params.temperature
        p = np.exp(logits - logits.max())
        return p / p.sum()

    def _extra_state(self):
        return {"values": self.values.tolist()}

    def _load_extra(self, state):
        self.values = np.asarray(state["values"], dtype=np.float64)


@register_strategy("exp_grad")
class ExpGradStrategy(MixtureStrategy):
    params_cls = ExpGradParams

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log_w = np.log(np.maximum(self.initial, 1e-12))
        self.signal = np.full(len(self.names), np.nan)

    def _update(self, stats):
        p = self.params
        for k, s in stats.items():
            i = self.names.index(k)
            x = getattr(s, p.signal)
            self.signal[i] = x if np.isnan(self.signal[i]) else self.signal[i] + p.ema * (x - self.signal[i])
        known = ~np.isnan(self.signal)
        grad = np.where(known, self.signal, np.nanmean(self.signal))  # unseen: no push either way
        self.log_w = self.log_w + p.lr * grad
        self.log_w -= self.log_w.max()
        w = np.exp(self.log_w)
        w /= w.sum()
        w = (1.0 - p.smoothing) * w + p.smoothing / len(w)
        self.log_w = np.log(w)  # keep the smoothed weights as the next step's starting point
        return w

    def _extra_state(self):
        return {"log_w": self.log_w.tolist(), "signal": [None if np.isnan(x) else x for x in self.signal]}

    def _load_extra(self, state):
        self.log_w = np.asarray(state["log_w"], dtype=np.float64)
        self.signal = np.asarray([np.nan if x is None else x for x in state["signal"]], dtype=np.float64)
