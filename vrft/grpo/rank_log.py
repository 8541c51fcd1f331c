"""Each rank's own record of a step (`log.per_rank`): the global draw it saw, its prompts, rewards
and local update metrics, in `ranks/rank{r}.jsonl`. The run log (rank 0) holds reduced values only;
this file is how one checks that ranks agree and that a resumed run repeats an uninterrupted one."""

from __future__ import annotations

import json
import os


class RankLog:
    def __init__(self, run_dir: str, rank: int, enabled: bool, fresh: bool) -> None:
        self.path = os.path.join(run_dir, "ranks", f"rank{rank}.jsonl") if enabled else None
        if self.path:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            if fresh and os.path.exists(self.path):
                os.remove(self.path)

    def write(self, step: int, record: dict) -> None:
        if self.path:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, **record}) + "\n")
