"""Score a batch with every term of a composite, isolating each failure to one (sample, reward).

This is the part of :mod:`rewards.runner` that also runs inside worker processes: no logging, no
counters, just per-sample outcomes. A per-call timeout uses ``SIGALRM`` (``setitimer``), so it is
only enforced in a process's main thread on Unix.
"""

from __future__ import annotations

import math
import signal
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from rewards.composite import CompositeReward, RewardTerm
from rewards.context import RewardContext, RewardResult
from rewards.registry import as_result


class RewardTimeout(Exception):
    """A reward call ran past the runner's per-call timeout."""


@dataclass
class Outcome:
    """What happened to one sample: component scores of the rewards that worked, their reasons,
    and ``(key, message)`` for each reward that raised or timed out."""

    components: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def _on_alarm(signum: int, frame: Any) -> None:
    raise RewardTimeout()


def alarm_supported() -> bool:
    """Whether :func:`call_with_timeout` can enforce its timeout in the calling thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def call_with_timeout(fn: Callable[[], Any], timeout_s: float | None) -> Any:
    """``fn()``, interrupted by :class:`RewardTimeout` after ``timeout_s`` seconds where supported."""
    if not timeout_s or not alarm_supported():
        return fn()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _describe(e: BaseException, timeout_s: float | None) -> str:
    if isinstance(e, RewardTimeout):
        return f"timed out after {timeout_s:g} s"
    return f"{type(e).__name__}: {str(e)[:300]}"


def _record(out: Outcome, term: RewardTerm, result: RewardResult) -> None:
    if not isinstance(result.score, (int, float)) or not math.isfinite(result.score):
        out.errors.append((term.key, f"non-finite score {result.score!r}"))
        return
    out.components[term.key] = float(result.score)
    if result.reason:
        out.reasons.append(f"{term.key}: {result.reason}")


def _one(term: RewardTerm, completion: str, ctx: RewardContext, timeout_s: float | None,
         earlier: dict[str, float]) -> RewardResult:
    kwargs = term.call_kwargs(earlier)
    return as_result(call_with_timeout(lambda: term.spec(completion, ctx, **kwargs), timeout_s), term.key)


def score_terms(composite: CompositeReward, completions: Sequence[str], ctxs: Sequence[RewardContext],
                timeout_s: float | None = None) -> list[Outcome]:
    """One :class:`Outcome` per sample; nothing a reward does escapes as an exception."""
    outs = [Outcome() for _ in completions]
    for term in composite.terms:
        if term.spec.batched:
            try:
                results = call_with_timeout(
                    lambda: term.spec.score_batch(completions, ctxs, **term.kwargs), timeout_s)
            except Exception:  # isolate the failing samples by scoring them one by one
                results = None
            if results is not None:
                for out, r in zip(outs, results):
                    _record(out, term, r)
                continue
        for out, completion, ctx in zip(outs, completions, ctxs):
            try:
                _record(out, term, _one(term, completion, ctx, timeout_s, out.components))
            except Exception as e:  # a reward bug, bad data or a timeout: counted by the runner
                out.errors.append((term.key, _describe(e, timeout_s)))
    return outs


_WORKER_CACHE: dict[str, CompositeReward] = {}


def worker_score(config: list[dict[str, Any]], completions: list[str], ctxs: list[RewardContext],
                 timeout_s: float | None) -> list[Outcome]:
    """Entry point of a pool worker: rebuild the composite by name (cached) and score a chunk."""
    key = repr(config)
    composite = _WORKER_CACHE.get(key)
    if composite is None:
        composite = _WORKER_CACHE[key] = CompositeReward.from_config(config)
    return score_terms(composite, completions, ctxs, timeout_s)
