"""What a registered reward is (:class:`RewardSpec`) and where it is kept (``REWARDS``, filled by
``@register_reward``).

The lookup that also loads entry-point plugins (``get_reward``, ``list_rewards``) is in
:mod:`rewards.registry`, above :mod:`rewards.plugins`; this module is below both, so plugins can
register rewards without importing the lookup (no import cycle).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from rewards.context import RewardContext, RewardResult
from rewards.name_registry import Registry

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


class UnknownRewardError(KeyError):
    """A reward name that is neither registered nor provided by an installed plugin."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class RewardSpec:
    """A registered reward: the function plus the metadata the registry keeps about it."""

    name: str
    fn: Callable[..., Any]
    batched: bool = False
    score_range: tuple[float, float] = (0.0, 1.0)
    module: str = ""
    doc: str = ""
    uses_components: bool = False

    def __call__(self, completion: str, ctx: RewardContext, **kwargs: Any) -> float | RewardResult:
        """Score one completion with the reward's own return type (a float or a RewardResult)."""
        if self.batched:
            return self.fn([completion], [ctx], **kwargs)[0]
        return self.fn(completion, ctx, **kwargs)

    def score(self, completion: str, ctx: RewardContext, **kwargs: Any) -> RewardResult:
        """Score one completion and return a :class:`RewardResult` whatever the function returned."""
        return as_result(self(completion, ctx, **kwargs), self.name)

    def score_batch(self, completions: Sequence[str], ctxs: Sequence[RewardContext],
                    **kwargs: Any) -> list[RewardResult]:
        """Score a batch (one call for a batched reward, a loop otherwise)."""
        if len(completions) != len(ctxs):
            raise ValueError(f"reward {self.name!r}: {len(completions)} completions but {len(ctxs)} contexts")
        if self.batched:
            out = list(self.fn(list(completions), list(ctxs), **kwargs))
            if len(out) != len(completions):
                raise ValueError(f"batched reward {self.name!r} returned {len(out)} scores for "
                                 f"{len(completions)} completions")
            return [as_result(v, self.name) for v in out]
        return [as_result(self.fn(c, x, **kwargs), self.name) for c, x in zip(completions, ctxs)]


def as_result(value: Any, name: str = "reward") -> RewardResult:
    """Normalise what a reward returned (float, int, numpy scalar or RewardResult) to a RewardResult."""
    if isinstance(value, RewardResult):
        return value
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        raise TypeError(f"reward {name!r} returned {type(value).__name__}; expected a float or RewardResult")
    return RewardResult(score=float(value))


REWARDS: Registry[RewardSpec] = Registry("reward", plural="rewards", error=UnknownRewardError)
"""The registered rewards (built-ins and loaded plugins); look names up with
:func:`rewards.registry.get_reward`, which also loads the plugin that provides a missing one."""


def _first_line(doc: str | None) -> str:
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def register_reward(name: str, *, batched: bool = False, score_range: tuple[float, float] = (0.0, 1.0),
                    description: str | None = None,
                    uses_components: bool = False) -> Callable[[Callable], Callable]:
    """Decorator that registers ``fn`` under ``name``; the function itself is returned unchanged.

    ``score_range`` is the documented (low, high) range of the score with default kwargs.
    ``description`` defaults to the first line of the docstring. ``uses_components=True`` asks a
    composite to pass ``components={key: score}`` of the rewards listed before it (for shaping
    terms such as ``tool_use`` that depend on the task reward; not with ``batched``). A name
    already registered (by a built-in or another plugin) raises ``ValueError``.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(f"invalid reward name {name!r}: use letters, digits, '_', '.', '-'")
    lo, hi = (float(v) for v in score_range)
    if batched and uses_components:
        raise ValueError(f"reward {name!r}: uses_components is not supported for batched rewards")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"reward {name!r}: score_range must be finite (low, high) with low <= high, "
                         f"got {score_range!r}")

    def decorator(fn: Callable) -> Callable:
        if not callable(fn):
            raise TypeError(f"reward {name!r}: {fn!r} is not callable")
        existing = REWARDS.find(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"reward {name!r} is already registered by {existing.module}; "
                             f"pick another name for the one in {getattr(fn, '__module__', '?')}")
        spec = RewardSpec(name=name, fn=fn, batched=batched, score_range=(lo, hi),
                          module=getattr(fn, "__module__", "") or "",
                          doc=description or _first_line(fn.__doc__), uses_components=uses_components)
        REWARDS.register(name, spec, override=True)  # a re-registration of the same function
        try:
            fn.reward_spec = spec  # lets a plugin entry point that names the function find it
        except (AttributeError, TypeError):
            pass
        return fn

    return decorator


def unregister_reward(name: str) -> None:
    """Remove a reward (for tests and notebooks); unknown names are ignored."""
    REWARDS.unregister(name)


def is_registered(name: str) -> bool:
    """Whether ``name`` is registered now (no plugin is loaded by this check)."""
    return name in REWARDS


def registered_spec(name: str) -> RewardSpec | None:
    """The spec registered under ``name`` now, or None (no plugin is loaded by this lookup)."""
    return REWARDS.find(name)
