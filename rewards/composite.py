"""Composite rewards: the weighted sum a dataset asks for, each component reported under its name.

A dataset config lists its rewards::

    rewards:
      - {name: iou, weight: 1.0, kwargs: {threshold: 0.5}}
      - {name: format, weight: 0.5}

``CompositeReward.from_config(that_list)`` checks every name (plugins included), weight and
kwargs up front; calling it on a completion returns ``RewardResult(score=sum(w_i * s_i),
components={name_i: s_i})``. The same reward twice needs a distinct ``key`` per entry.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from rewards.context import RewardContext, RewardResult
from rewards.registry import RewardSpec, as_result, get_reward

_ENTRY_KEYS = {"name", "weight", "kwargs", "key"}


class RewardComputationError(RuntimeError):
    """A reward raised (a bug or bad data): carries the reward's key and the sample id."""

    def __init__(self, key: str, sample_id: str, cause: BaseException):
        super().__init__(f"reward {key!r} failed on sample {sample_id!r}: {type(cause).__name__}: {cause}")
        self.key, self.sample_id, self.cause = key, sample_id, cause


@dataclass(frozen=True)
class RewardTerm:
    """One weighted entry of a composite: which reward, its kwargs, and the component name."""

    spec: RewardSpec
    weight: float = 1.0
    kwargs: dict[str, Any] = field(default_factory=dict)
    key: str = ""

    def call_kwargs(self, earlier: dict[str, float]) -> dict[str, Any]:
        """The kwargs of one call: the configured ones, plus the earlier components when the
        reward asked for them (``uses_components``)."""
        if self.spec.uses_components:
            return {**self.kwargs, "components": dict(earlier)}
        return self.kwargs

    def to_config(self) -> dict[str, Any]:
        return {"name": self.spec.name, "weight": self.weight, "kwargs": dict(self.kwargs), "key": self.key}


def parse_term(entry: Any, where: str = "rewards") -> RewardTerm:
    """One config entry (``{"name", "weight", "kwargs", "key"}`` or a bare name) -> RewardTerm."""
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected {{name, weight, kwargs}} or a reward name, got {entry!r}")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: 'name' must be a reward name, got {name!r}")
    weight = entry.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
        raise ValueError(f"{where}: weight of {name!r} must be a finite number, got {weight!r}")
    kwargs = entry.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"{where}: kwargs of {name!r} must be a mapping, got {kwargs!r}")
    key = entry.get("key") or name
    spec = get_reward(name)
    _check_kwargs(spec, kwargs, where)
    return RewardTerm(spec=spec, weight=float(weight), kwargs=dict(kwargs), key=str(key))


def _check_kwargs(spec: RewardSpec, kwargs: dict[str, Any], where: str) -> None:
    """Reject kwargs the reward function does not accept (a typo in a YAML file fails at load)."""
    try:
        params = inspect.signature(spec.fn).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in list(params.items())[2:]
                if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if spec.uses_components and "components" in kwargs:
        raise ValueError(f"{where}: 'components' of {spec.name!r} is filled in by the composite; remove it")
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"{where}: reward {spec.name!r} does not take {unknown}; it accepts {accepted}")


class CompositeReward:
    """A weighted sum of registered rewards (the per-dataset reward)."""

    def __init__(self, terms: Sequence[RewardTerm]):
        if not terms:
            raise ValueError("a composite reward needs at least one reward")
        keys = [t.key for t in terms]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"rewards listed twice: {dup}; give each entry a distinct 'key'")
        self.terms = list(terms)

    @classmethod
    def from_config(cls, config: Sequence[Any] | str, where: str = "rewards") -> "CompositeReward":
        """Build from a datasets_cfg ``rewards:`` list (or a single reward name)."""
        if isinstance(config, str):
            config = [config]
        if not isinstance(config, (list, tuple)):
            raise ValueError(f"{where}: expected a list of rewards, got {type(config).__name__}")
        return cls([parse_term(e, f"{where}[{i}]") for i, e in enumerate(config)])

    def to_config(self) -> list[dict[str, Any]]:
        return [t.to_config() for t in self.terms]

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.terms]

    @property
    def score_range(self) -> tuple[float, float]:
        """Range of the weighted sum implied by each reward's documented range."""
        lo = sum(min(t.weight * t.spec.score_range[0], t.weight * t.spec.score_range[1]) for t in self.terms)
        hi = sum(max(t.weight * t.spec.score_range[0], t.weight * t.spec.score_range[1]) for t in self.terms)
        return lo, hi

    def combine(self, components: dict[str, float]) -> float:
        """The weighted sum of component scores keyed like :attr:`keys`."""
        return sum(t.weight * components[t.key] for t in self.terms)

    def __call__(self, completion: str, ctx: RewardContext) -> RewardResult:
        """Score one completion; a reward that raises becomes a :class:`RewardComputationError`."""
        components: dict[str, float] = {}
        reasons = []
        for t in self.terms:
            try:
                r = as_result(t.spec(completion, ctx, **t.call_kwargs(components)), t.key)
            except Exception as e:
                raise RewardComputationError(t.key, ctx.sample_id, e) from e
            components[t.key] = r.score
            if r.reason:
                reasons.append(f"{t.key}: {r.reason}")
        return RewardResult(score=self.combine(components), components=components,
                            reason="; ".join(reasons) or None)

    def __repr__(self) -> str:
        return "CompositeReward(" + ", ".join(f"{t.key}*{t.weight:g}" for t in self.terms) + ")"
