"""The parts of a run around the GRPO steps: what happens before the first step (the start
evaluation and the supervised warm-up with its evaluations) and after the last (replica check,
plots), and the draw of one step's scored rollouts."""

from __future__ import annotations

import os

import torch

from vrft.grpo.model_setup import resolve_model_path
from vrft.grpo.plots import plot_run
from vrft.grpo.replicas import check_replicas
from vrft.grpo.sft_warmup import sft_warmup
from vrft.policy.vllm_generator import VLLMGenerator  # vllm itself is imported only when an engine starts
from vrft.rollout import DEFAULT_MAX_IMAGES, DEFAULT_MAX_TOTAL_TOKENS, RolloutBatch, RolloutCollector


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
    if not n:
        return
    for k, m in enumerate(sft_warmup(trainer), 1):
        if cfg.eval.warmup_every and k % cfg.eval.warmup_every == 0 and k < n:
            m.update(trainer.evaluate(f"warmup-{k}", -n + k))
        logger.log(-n + k, m)
    if cfg.eval.after_warmup:
        logger.log(0, trainer.evaluate("after-warmup"))


def plots_and_replicas(trainer) -> None:
    if trainer.info.enabled:
        check_replicas(trainer.policy.model, trainer.backend, trainer.run_dir)
    if trainer.info.is_main and trainer.cfg.log.plots:
        plot_run(trainer.run_dir)


class StepDraw:
    """One step's scored rollouts of this rank's prompts, with ground-truth injection, on HF or the
    vLLM engine (created on first use; put to sleep for the update and given the new weights after)."""

    def __init__(self, trainer) -> None:
        self.t = trainer
        self._engine = None

    @property
    def external(self) -> bool:
        return self.t.cfg.rollout.backend == "vllm"

    def engine(self):
        if not self.external:
            return None
        if self._engine is None:
            t = self.t
            v, r = t.cfg.rollout.vllm, t.cfg.rollout
            tools = any(d.config.tools.enabled for d in t.data.datasets.values())
            # A tool loop's sequence grows by observations (crops, clips) up to the loop's limits.
            added = DEFAULT_MAX_IMAGES if tools else 0
            self._engine = VLLMGenerator(
                resolve_model_path(t.cfg, t.info), tokenizer=t.policy.tokenizer, suppress_ids=t.policy.suppress_ids,
                gpu_memory_utilization=v.gpu_memory_utilization,
                max_model_len=v.max_model_len or r.max_prompt_tokens + (
                    DEFAULT_MAX_TOTAL_TOKENS if tools else r.max_new_tokens),
                max_images=8 + added, max_videos=1 + added, tensor_parallel_size=v.tensor_parallel_size,
                enforce_eager=v.enforce_eager, sleep_mode=v.sleep_mode, sleep_level=v.sleep_level,
                seed=t.cfg.train.seed + t.info.rank)
            if t.step:  # resumed: the engine starts from the configured weights
                self._engine.sync_weights(t.policy.model)
        return self._engine

    def before_update(self) -> None:
        if self.external:
            self.engine().sleep()

    def after_update(self) -> None:
        if self.external:
            self.engine().sync_weights(self.t.policy.model)

    def inject_count(self) -> int:
        gt, t = self.t.cfg.algo.gt_injection, self.t
        if not gt.enabled or (gt.until_step and t.step >= gt.until_step):
            return 0
        if gt.prob < 1.0 and float(torch.rand((), generator=t.generator, device=t.generator.device)) >= gt.prob:
            return 0  # this step samples every completion
        return gt.per_group

    def draw(self) -> RolloutBatch:
        """P prompts, G rollouts each, through the one turn loop (a plain prompt is one turn), scored.
        Sharded backends pass their lockstep: a rank done early decodes dummies in step."""
        t = self.t
        samples = t.data.next_batch()
        collector = RolloutCollector(t.policy, {n: d.config for n, d in t.data.datasets.items()}, t.rewards,
                                     backend=t.cfg.rollout.backend, vllm_engine=self.engine(),
                                     lockstep=t.backend.lockstep)
        return collector.collect(samples, t.cfg.rollout.num_generations, t.sampling_params(),
                                 generator=t.generator, inject_per_group=self.inject_count())
