"""Rank-0 run logging: one fixed-format line per step, metrics.jsonl, TensorBoard, optional wandb."""

from __future__ import annotations

import json
import math
import os
import time


class RunLogger:
    LINE_KEYS = [("sft/loss", "sft_loss"), ("eval/mean_score", "eval"), ("reward/mean", "reward"), ("loss/policy", "loss"), ("loss/kl", "kl"),
                 ("policy/clip_frac", "clip"), ("policy/entropy", "ent"), ("train/grad_norm", "gnorm"),
                 ("rollout/completion_len", "len"), ("perf/tokens_per_s", "tok/s"),
                 ("perf/rollout_s", "roll_s"), ("perf/train_s", "train_s"), ("perf/rss_gb", "rss")]

    def __init__(self, run_dir: str, enabled: bool = True, tensorboard: bool = True, wandb_project: str | None = None,
                 config: dict | None = None, fresh: bool = False):
        """fresh: a new run in a used run dir replaces its metrics.jsonl (a resumed run appends)."""
        self.enabled = enabled
        self.run_dir = run_dir
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

                self._wandb = wandb.init(project=wandb_project, dir=run_dir, config=config or {})
            except ImportError:
                print("[vrft] wandb requested but not installed (pip install 'vrft[wandb]')")

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
            self._wandb.log(metrics, step=step)
        parts = [f"step {step:>5d}" + (f"/{total_steps}" if total_steps else "")]
        for key, short in self.LINE_KEYS:
            if key in metrics:
                parts.append(f"{short} {metrics[key]:.4g}")
        if t0 is not None and total_steps:
            elapsed = time.time() - t0
            eta = elapsed / max(step, 1) * (total_steps - step)
            parts.append(f"eta {eta:.0f}s")
        print(" | ".join(parts), flush=True)

    def close(self) -> None:
        if not self.enabled:
            return
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
