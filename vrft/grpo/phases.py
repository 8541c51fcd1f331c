"""The parts of a run around the GRPO steps: what happens before the first step (the start
evaluation and the supervised warm-up with its evaluations) and after the last (replica check,
plots); plots are also redrawn after every evaluation."""

from __future__ import annotations

import os

from vrft.grpo.plots import plot_run
from vrft.grpo.replicas import check_replicas
from vrft.grpo.sft_warmup import sft_warmup


def run_warmup(trainer, logger) -> None:
    """Start evaluation ("before" means before any training, warm-up included), then the supervised
    warm-up (steps -N+1..0) with its evaluations. Only for a fresh run."""
    cfg = trainer.cfg
    eval_log = os.path.join(trainer.run_dir, "eval.jsonl")
    if trainer.info.is_main and os.path.exists(eval_log):
        os.remove(eval_log)  # a new run's before/after, not an old one's
    n = cfg.train.warmup_sft_steps
    if cfg.eval.at_start:
        logger.log(-n, trainer.evaluate("start", -n))
        refresh_plots(trainer)
    if not n:
        return
    with trainer.console.phase("warm-up", n, origin=-n):
        for k, m in enumerate(sft_warmup(trainer), 1):
            evaluated = bool(cfg.eval.warmup_every and k % cfg.eval.warmup_every == 0 and k < n)
            if evaluated:
                m.update(trainer.evaluate(f"warmup-{k}", -n + k))
            logger.log(-n + k, m)
            if evaluated:
                refresh_plots(trainer)
            if trainer.time_limit.check():  # this step is done and logged; the rest is not run
                break
        if cfg.eval.after_warmup:
            logger.log(0, trainer.evaluate("after-warmup"))
            refresh_plots(trainer)


def stop_at_time_limit(trainer, logger, t0: float) -> dict[str, float]:
    """`train.time_limit_s` ran out before `train.steps`: say so, and run the end evaluation that
    the last step would have run (the caller saves the checkpoint)."""
    cfg = trainer.cfg
    if trainer.info.is_main:
        print(f"[vrft] train.time_limit_s={cfg.train.time_limit_s:g} spent ({trainer.time_limit.elapsed():.0f} s) "
              f"at step {trainer.step}/{cfg.train.steps}; launch again to resume", flush=True)
    if not cfg.eval.at_end:
        return {}
    metrics = trainer.evaluate("end")
    logger.log(trainer.step, metrics, cfg.train.steps, t0)
    refresh_plots(trainer)
    return metrics


def refresh_plots(trainer) -> None:
    """Redraw the run's plots from metrics.jsonl (rank 0, with log.plots): called after every
    logged evaluation, so the PNGs follow a run while it trains, not only at its end."""
    if trainer.info.is_main and trainer.cfg.log.plots:
        plot_run(trainer.run_dir)


def plots_and_replicas(trainer) -> None:
    if trainer.info.enabled:
        check_replicas(trainer.policy.model, trainer.backend, trainer.run_dir)
    refresh_plots(trainer)
