"""Rank-0 run logging: metrics.jsonl (every logged step), TensorBoard, optional wandb, and the
console (a progress bar per phase or a line per step: :mod:`vrft.grpo.progress`).

wandb: the run carries the resolved config, and its id is kept in ``run_dir/wandb_id``: a run
resumed from a checkpoint of that run dir logs into the same wandb run (``resume="allow"``); a
fresh run in the same dir starts a new one.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid

from vrft.grpo.progress import Console

WANDB_ID_FILE = "wandb_id"


def wandb_run_id(run_dir: str, fresh: bool) -> str:
    """The wandb run id of this run dir: the stored one when resuming, else a new one (stored)."""
    path = os.path.join(run_dir, WANDB_ID_FILE)
    if not fresh and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            run_id = f.read().strip()
        if run_id:
            return run_id
    run_id = uuid.uuid4().hex[:16]  # wandb ids: letters and digits
    with open(path, "w", encoding="utf-8") as f:
        f.write(run_id + "\n")
    return run_id


class RunLogger:
    def __init__(self, run_dir: str, enabled: bool = True, tensorboard: bool = True, wandb_project: str | None = None,
                 config: dict | None = None, fresh: bool = False, console: Console | None = None):
        """fresh: a new run in a used run dir replaces its metrics.jsonl (a resumed run appends) and
        starts a new wandb run (a resumed one continues the stored run id). ``config``: the
        resolved run config, given to wandb."""
        self.enabled = enabled
        self.run_dir = run_dir
        self.console = console or Console(enabled=enabled)
        self._tb = None
        self._wandb = None
        if not enabled:
            return
        os.makedirs(run_dir, exist_ok=True)
        self._jsonl = open(os.path.join(run_dir, "metrics.jsonl"), "w" if fresh else "a", encoding="utf-8")
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(os.path.join(run_dir, "tensorboard"))
            except Exception as exc:  # tensorboard missing: keep the jsonl
                print(f"[vrft] TensorBoard disabled: {exc}")
        if wandb_project:
            try:
                import wandb
            except ImportError:
                print("[vrft] wandb requested but not installed (pip install 'vrft[wandb]')")
            else:
                self._wandb = wandb.init(project=wandb_project, dir=run_dir, config=config or {},
                                         id=wandb_run_id(run_dir, fresh), resume="allow")
                # vrft's step is the x axis: warm-up steps are <= 0 and a resumed run logs again the
                # steps after its checkpoint, which wandb's own step (increasing only) would drop.
                self._wandb.define_metric("step")
                self._wandb.define_metric("*", step_metric="step")

    def log(self, step: int, metrics: dict[str, float], total_steps: int | None = None, t0: float | None = None) -> None:
        if not self.enabled:
            return
        row = {"step": step, "time": time.time(), **{k: float(v) for k, v in metrics.items()}}
        self._jsonl.write(json.dumps(row) + "\n")
        self._jsonl.flush()
        if self._tb is not None:
            for k, v in metrics.items():
                if math.isfinite(float(v)):
                    self._tb.add_scalar(k, float(v), step)
        if self._wandb is not None:
            self._wandb.log({**metrics, "step": step})
        self.console.step(step, metrics, total_steps, t0)

    def close(self) -> None:
        if not self.enabled:
            return
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
