"""Held-out evaluation during training: metrics for the log, and one eval.jsonl record per evaluation."""

from __future__ import annotations

import json
import os
import time

from vrft.eval.api import evaluate_mixture_heldout


def evaluate_heldout(trainer, tag: str, step: int) -> dict[str, float]:
    """Greedy (or sampled) evaluation on the held-out splits of the mixture, plus Avg@k with its
    standard error when ``eval.samples_per_prompt`` > 1: metrics `eval/<dataset>/<metric>` (e.g.
    `eval/color/score`, `eval/color/avg@8`, `eval/color/avg@8_se`) and `eval/mean_score`; rank 0
    appends `{"tag", "step", "results"}` to `eval.jsonl` in the run dir (tag: start / warmup-K /
    after-warmup / step-N / end; warm-up steps are <= 0). Rank 0 shows a bar of the samples done."""
    cfg, info = trainer.cfg, trainer.info
    t0 = time.time()
    total = sum(min(len(ds.heldout), cfg.eval.max_samples) for ds in trainer.data.datasets.values())
    with trainer.backend.autocast(), trainer.backend.gathered_for_rollout(), \
            trainer.console.counter(f"eval {tag}", total) as advance:
        results = evaluate_mixture_heldout(
            trainer.policy, trainer.data.datasets, max_samples=cfg.eval.max_samples,
            max_new_tokens=cfg.rollout.max_new_tokens, greedy=cfg.eval.greedy,
            batch_size=max(1, cfg.rollout.prompts_per_step), info=info if info.enabled else None,
            lockstep=trainer.backend.sharded, samples_per_prompt=cfg.eval.samples_per_prompt,
            sample_temperature=cfg.eval.temperature, seed=cfg.train.seed,
            on_records=lambda records: advance(len(records)))
    flat = {f"eval/{ds}/{k}": float(v) for ds, m in results.items() for k, v in m.items()}
    if results:
        flat["eval/mean_score"] = sum(m["score"] for m in results.values()) / len(results)
    flat["perf/eval_s"] = time.time() - t0
    if info.is_main:
        with open(os.path.join(trainer.run_dir, "eval.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps({"tag": tag, "step": step, "results": results}) + "\n")
    return flat
