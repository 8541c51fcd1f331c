"""DAPO dynamic sampling: keep only groups whose rewards differ, drawing more prompts to refill.

A group whose completions all scored the same has zero advantage and teaches nothing; DAPO
(arXiv 2503.14476) drops it and samples more. Every rank draws the same number of times (a draw is
a collective step of the sampler and, on sharded backends, of the model), so a rank that already
has enough keeps drawing while another rank still needs groups. The result has exactly as many
groups as the first draw on every rank: when `max_attempts` refills are not enough it is topped up
with groups without signal (zero advantage, no gradient), so the backends' collectives stay in step.
Every group drawn and not trained is returned too: it still says how hard its prompt is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from vrft.rollout import RolloutBatch, group_has_signal


@dataclass
class DynamicSample:
    batch: RolloutBatch  # the groups to train on
    dropped: list[RolloutBatch]  # drawn, scored and not trained
    n_signal: int  # groups with signal in `batch`
    drawn: int  # groups drawn in all
    refills: int  # extra draws


def _split(batch: RolloutBatch) -> tuple[list[int], list[int]]:
    has = [group_has_signal(batch, p) for p in range(len(batch.samples))]
    return [p for p, h in enumerate(has) if h], [p for p, h in enumerate(has) if not h]


def draw_with_signal(draw: Callable[[], RolloutBatch], max_attempts: int,
                     any_rank: Callable[[bool], bool]) -> DynamicSample:
    """`draw()` returns one scored batch of this rank's prompts; `any_rank(flag)` is True when
    `flag` holds on some rank."""
    first = draw()
    want = len(first.samples)
    signal, flat = _split(first)
    kept, dropped, drawn, refills = first.select(signal), [], want, 0
    for _ in range(max_attempts):
        if not any_rank(len(kept.samples) < want):
            break
        more = draw()
        refills += 1
        drawn += len(more.samples)
        more_signal, more_flat = _split(more)
        kept = RolloutBatch.concat([kept, more.select(more_signal)])
        if more_flat:
            dropped.append(more.select(more_flat))
    n_signal = min(want, len(kept.samples))
    if len(kept.samples) > n_signal:
        dropped.append(kept.select(list(range(n_signal, len(kept.samples)))))
    kept = kept.select(list(range(n_signal)))
    top_up = flat[:want - n_signal]
    if top_up:
        kept = RolloutBatch.concat([kept, first.select(top_up)])
    if flat[len(top_up):]:
        dropped.append(first.select(flat[len(top_up):]))
    return DynamicSample(kept, dropped, n_signal, drawn, refills)
