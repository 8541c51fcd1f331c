"""Engine-side reward scoring: a batch of (completion, context) -> scores, components, error flags.

No torch and no model import. A reward that raises (or times out) never stops training: the
sample is flagged, logged with its id and the reward's name, and counted; with
``on_error="exclude"`` its score is NaN so the engine leaves it out of group statistics, with
``"zero"`` it scores 0. When the cumulative share of errored samples passes ``max_error_rate``
(after ``min_samples``), :class:`RewardErrorRateExceeded` stops the run: something is broken.

Example::

    runner = RewardRunner([{"name": "iou", "weight": 1.0}, {"name": "format", "weight": 0.5}])
    out = runner.score(completions, ctxs)        # out.scores, out.components["iou"], out.errored
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from rewards.composite import CompositeReward
from rewards.context import RewardContext
from rewards.scoring import Outcome, alarm_supported, score_terms, worker_score

log = logging.getLogger(__name__)
ON_ERROR = ("exclude", "zero")


class RewardErrorRateExceeded(RuntimeError):
    """Too many samples had a reward error; ``counts`` holds the errors per reward."""

    def __init__(self, message: str, n_errored: int, n_scored: int, counts: dict[str, int]):
        super().__init__(message)
        self.n_errored, self.n_scored, self.counts = n_errored, n_scored, counts


@dataclass
class RunnerConfig:
    """How the runner treats failing and slow rewards."""

    on_error: str = "exclude"
    """'exclude': an errored sample scores NaN (left out of group statistics); 'zero': it scores 0."""
    max_error_rate: float = 0.1
    """Raise RewardErrorRateExceeded when errored samples / scored samples exceeds this."""
    min_samples: int = 50
    """The error rate is only checked once this many samples were scored."""
    timeout_s: float | None = None
    """Per reward call; a timeout counts as an error. Enforced in workers, or in the main thread."""
    num_workers: int = 0
    """0 scores in this process; N > 0 uses a pool of N processes (for slow rewards)."""
    mp_context: str = "spawn"
    """Start method of the pool; 'spawn' is safe next to CUDA and threads ('fork' is faster)."""

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {self.on_error!r}")
        if not 0.0 <= self.max_error_rate <= 1.0:
            raise ValueError(f"max_error_rate must be in [0, 1], got {self.max_error_rate}")
        if self.min_samples < 0 or self.num_workers < 0:
            raise ValueError("min_samples and num_workers must be >= 0")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive or None, got {self.timeout_s}")
        if self.mp_context not in multiprocessing.get_all_start_methods():
            raise ValueError(f"mp_context {self.mp_context!r} is not one of "
                             f"{multiprocessing.get_all_start_methods()}")


@dataclass
class BatchScores:
    """Per-sample results of one batch, in input order."""

    scores: list[float]
    """Weighted sum; NaN (on_error='exclude') or 0 (on_error='zero') for errored samples."""
    components: dict[str, list[float]]
    """Per reward key: its score per sample (a failed reward: NaN or 0 as above)."""
    errored: list[bool]
    reasons: list[str | None]
    """Why an output could not be parsed ("iou: no <answer> block"), per sample."""
    errors: list[str | None] = field(default_factory=list)
    """What raised, per errored sample ("iou: ValueError: ...")."""

    def __len__(self) -> int:
        return len(self.scores)


class RewardRunner:
    """Scores batches with a composite reward and keeps the error accounting across batches."""

    def __init__(self, rewards: CompositeReward | Sequence[Any] | None = None,
                 config: RunnerConfig | None = None, **overrides: Any):
        self.config = config or RunnerConfig()
        if overrides:
            self.config = RunnerConfig(**{**self.config.__dict__, **overrides})
        self._cache: dict[str, CompositeReward] = {}
        self.default: CompositeReward | None = None
        if rewards is not None:
            self.default = self._composite(rewards)
        self._pool = None
        self.n_scored = 0
        self.n_errored = 0
        self.error_counts: Counter[str] = Counter()
        if self.config.timeout_s and not self.config.num_workers and not alarm_supported():
            log.warning("reward timeout_s=%s is not enforced outside the main thread without workers",
                        self.config.timeout_s)

    def _composite(self, rewards: CompositeReward | Sequence[Any] | None) -> CompositeReward:
        if rewards is None:
            if self.default is None:
                raise ValueError("no rewards given: pass a composite spec to RewardRunner or score()")
            return self.default
        if isinstance(rewards, CompositeReward):
            return rewards
        key = repr(rewards)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = CompositeReward.from_config(rewards)
        return cached

    @property
    def error_rate(self) -> float:
        return self.n_errored / self.n_scored if self.n_scored else 0.0

    def score(self, completions: Sequence[str], ctxs: Sequence[RewardContext],
              rewards: CompositeReward | Sequence[Any] | None = None) -> BatchScores:
        """Score a batch (``rewards`` overrides the runner's default composite for this call)."""
        if len(completions) != len(ctxs):
            raise ValueError(f"{len(completions)} completions but {len(ctxs)} contexts")
        composite = self._composite(rewards)
        completions, ctxs = list(completions), list(ctxs)
        if self.config.num_workers and len(completions) > 1:
            outcomes = self._score_in_pool(composite, completions, ctxs)
        else:
            outcomes = score_terms(composite, completions, ctxs, self.config.timeout_s)
        result = self._assemble(composite, outcomes, ctxs)
        self._check_rate()
        return result

    def _assemble(self, composite: CompositeReward, outcomes: list[Outcome],
                  ctxs: list[RewardContext]) -> BatchScores:
        fill = math.nan if self.config.on_error == "exclude" else 0.0
        out = BatchScores(scores=[], components={k: [] for k in composite.keys}, errored=[], reasons=[],
                          errors=[])
        for o, ctx in zip(outcomes, ctxs):
            errored = bool(o.errors)
            for key, message in o.errors:
                self.error_counts[key] += 1
                log.warning("reward %r failed on sample %r (dataset %r): %s", key, ctx.sample_id,
                            ctx.dataset, message)
            for key in composite.keys:
                out.components[key].append(o.components.get(key, fill))
            out.scores.append(fill if errored else composite.combine(o.components))
            out.errored.append(errored)
            out.reasons.append("; ".join(o.reasons) or None)
            out.errors.append("; ".join(f"{k}: {m}" for k, m in o.errors) or None)
        self.n_scored += len(outcomes)
        self.n_errored += sum(out.errored)
        return out

    def _check_rate(self) -> None:
        c = self.config
        if self.n_scored >= max(1, c.min_samples) and self.error_rate > c.max_error_rate:
            worst = ", ".join(f"{k}: {n}" for k, n in self.error_counts.most_common(5))
            raise RewardErrorRateExceeded(
                f"{self.n_errored} of {self.n_scored} samples ({self.error_rate:.1%}) had reward errors, "
                f"above max_error_rate={c.max_error_rate:g} (errors per reward: {worst}). The log has "
                f"each sample id and error; fix the reward or the data, or raise max_error_rate.",
                self.n_errored, self.n_scored, dict(self.error_counts))

    def _score_in_pool(self, composite: CompositeReward, completions: list[str],
                       ctxs: list[RewardContext]) -> list[Outcome]:
        c = self.config
        if self._pool is None:
            self._pool = multiprocessing.get_context(c.mp_context).Pool(c.num_workers)
        n = len(completions)
        size = max(1, math.ceil(n / (c.num_workers * 4)))
        config = composite.to_config()
        jobs = [(i, self._pool.apply_async(worker_score, (config, completions[i:i + size],
                                                          ctxs[i:i + size], c.timeout_s)))
                for i in range(0, n, size)]
        deadline = None
        if c.timeout_s:  # safety net for calls the in-worker alarm cannot interrupt
            calls_per_worker = math.ceil(n / c.num_workers) * len(composite.terms)
            deadline = time.monotonic() + c.timeout_s * calls_per_worker + 10.0
        outcomes: list[Outcome | None] = [None] * n
        broken = False
        for start, job in jobs:
            stop = min(start + size, n)
            try:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                outcomes[start:stop] = job.get(timeout=wait)
            except multiprocessing.TimeoutError:
                broken = True
                message = f"timed out after {c.timeout_s:g} s (worker did not answer)"
                outcomes[start:stop] = [Outcome(errors=[(k, message) for k in composite.keys])
                                        for _ in range(start, stop)]
            except Exception as e:  # the worker could not import or unpickle something
                message = f"worker failed: {type(e).__name__}: {str(e)[:300]}"
                outcomes[start:stop] = [Outcome(errors=[(k, message) for k in composite.keys])
                                        for _ in range(start, stop)]
        if broken:  # stuck workers: kill the pool, a fresh one starts on the next batch
            self._pool.terminate()
            self._pool = None
        return outcomes  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the worker pool, if any."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> "RewardRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def score_batch(completions: Sequence[str], ctxs: Sequence[RewardContext],
                rewards: CompositeReward | Sequence[Any], **config: Any) -> BatchScores:
    """One-shot scoring (evaluation, scripts): a fresh :class:`RewardRunner` with ``config``."""
    with RewardRunner(rewards, RunnerConfig(**config)) as runner:
        return runner.score(completions, ctxs)
