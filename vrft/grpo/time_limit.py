"""A wall-clock budget for one launch (`train.time_limit_s`).

Why: a job scheduler kills a run at its time limit, losing everything since the last checkpoint,
and comparing recipes fairly means the same wall time, not the same number of steps (a recipe with a
second forward per step buys its progress with time). When the budget is spent the trainer stops
after the step in progress, saves a checkpoint and runs the end-of-run evaluation; a later launch
resumes from that checkpoint with a fresh budget.

Ranks must stop at the same step (a rank that stopped alone would leave the others waiting in a
collective forever), so the decision is one all-reduce of a flag per check: each rank's clock runs
on its own, and the first rank over the budget stops them all.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

from vrft.parallel.dist import DistInfo, any_rank


class TimeLimit:
    def __init__(self, seconds: Optional[float], info: DistInfo, clock: Optional[Callable[[], float]] = None):
        if seconds is not None and seconds < 0:
            raise ValueError(f"train.time_limit_s must be >= 0 or null, got {seconds}")
        self.seconds, self.info = seconds, info
        self.clock = clock or time.monotonic
        self.start = self.clock()
        self.reached = False

    def elapsed(self) -> float:
        return self.clock() - self.start

    def check(self) -> bool:
        """True once any rank has spent the budget (the same answer on every rank; once true, stays
        true without another collective). No budget: always False, no collective."""
        if self.seconds is None or self.reached:
            return self.reached
        self.reached = any_rank(self.elapsed() >= self.seconds, self.info)
        return self.reached
