"""Rank 0's console during a run: a tqdm bar per phase (warm-up, RL, evaluation) with the key figures
in its postfix, or one fixed-format line per step when ``log.progress_bar`` is off or the output is
not a terminal (a log file, a batch job: a bar there is a wall of carriage returns). metrics.jsonl,
TensorBoard and wandb get the same records either way (:mod:`vrft.grpo.run_log`).

    console = Console(enabled=info.is_main, bars=cfg.log.progress_bar)
    with console.phase("RL", total=steps, origin=0, done=step):
        console.step(step, metrics, steps, t0)           # advances the bar, or prints a line
    with console.counter("eval end", total=64) as advance:
        advance(8)                                       # samples finished (a nested bar, or nothing)
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from tqdm import tqdm

LINE_KEYS = [("sft/loss", "sft_loss"), ("eval/mean_score", "eval"), ("reward/mean", "reward"),
             ("loss/policy", "loss"), ("loss/kl", "kl"), ("policy/clip_frac", "clip"), ("policy/entropy", "ent"),
             ("train/grad_norm", "gnorm"), ("tools/call_rate", "tool"), ("rollout/completion_len", "len"),
             ("perf/tokens_per_s", "tok/s"), ("perf/rollout_s", "roll_s"), ("perf/train_s", "train_s"),
             ("perf/rss_gb", "rss")]
"""(metric, label) of the line printed per step, in order."""

POSTFIX_KEYS = [("sft/loss", "sft_loss"), ("sft/lr", "lr"), ("reward/mean", "reward"), ("loss/policy", "loss"),
                ("train/lr", "lr"), ("tools/call_rate", "tool"), ("perf/tokens_per_s", "tok/s"),
                ("eval/mean_score", "eval")]
"""(metric, label) shown in a phase bar's postfix; a figure stays until a newer value comes (the
last evaluation's score stays visible between evaluations)."""


def step_line(step: int, metrics: dict[str, float], total_steps: int | None = None, t0: float | None = None) -> str:
    """``step    3/10 | reward 0.5 | loss 0.01 | ... | eta 12s``."""
    parts = [f"step {step:>5d}" + (f"/{total_steps}" if total_steps else "")]
    parts += [f"{short} {metrics[key]:.4g}" for key, short in LINE_KEYS if key in metrics]
    if t0 is not None and total_steps:
        elapsed = time.time() - t0
        parts.append(f"eta {elapsed / max(step, 1) * (total_steps - step):.0f}s")
    return " | ".join(parts)


class Console:
    """What rank 0 shows while training. ``bars``: the ``log.progress_bar`` setting, honoured when
    the stream (sys.stdout at construction) is a terminal."""

    def __init__(self, enabled: bool = True, bars: bool = False, stream=None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.bars = enabled and bool(bars) and callable(isatty) and bool(isatty())
        self._bar: tqdm | None = None
        self._origin = 0
        self._figures: dict[str, str] = {}

    @contextmanager
    def phase(self, name: str, total: int, origin: int = 0, done: int = 0) -> Iterator[None]:
        """A bar of ``total`` steps while the block runs; step ``s`` is position ``s - origin``
        (the warm-up's steps are -N+1..0: origin -N); ``done`` steps are already behind (a resumed
        run). Without bars, nothing."""
        if not self.bars:
            yield
            return
        outer = (self._bar, self._origin, self._figures)
        self._bar = tqdm(total=total, initial=done, desc=name, unit="step", file=self.stream,
                         dynamic_ncols=True, leave=True)
        self._origin, self._figures = origin, {}
        try:
            yield
        finally:
            self._bar.close()
            self._bar, self._origin, self._figures = outer

    def step(self, step: int, metrics: dict[str, float], total_steps: int | None = None,
             t0: float | None = None) -> None:
        """Show one logged step: the open phase bar moves to it with the key figures in its postfix;
        with no bar open, the step's line is printed."""
        if not self.enabled:
            return
        if self._bar is None:
            print(step_line(step, metrics, total_steps, t0), file=self.stream, flush=True)
            return
        self._figures.update({short: f"{metrics[key]:.4g}" for key, short in POSTFIX_KEYS if key in metrics})
        self._bar.set_postfix(self._figures, refresh=False)
        self._bar.update(step - self._origin - self._bar.n)

    @contextmanager
    def counter(self, name: str, total: int) -> Iterator[Callable[[int], None]]:
        """``advance(n)`` for work inside a phase (an evaluation's samples): a nested bar that
        disappears when done; without bars a no-op."""
        if not self.bars:
            yield lambda n: None
            return
        bar = tqdm(total=total, desc=name, unit="sample", file=self.stream, dynamic_ncols=True, leave=False)
        try:
            yield bar.update
        finally:
            bar.close()
