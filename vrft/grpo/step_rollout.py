"""The rollout of one GRPO step: this rank's prompts drawn from the mixture, G rollouts each through
the rollout layer (HF on the training model, or a colocated vLLM engine), ground truth injected and
scored; samples with undecodable media handled by `data.on_bad_media`."""

from __future__ import annotations

import torch

from vrft.grpo.model_setup import resolve_model_path
from vrft.policy.vllm_generator import VLLMGenerator  # vllm itself is imported only when an engine starts
from vrft.rollout import DEFAULT_MAX_IMAGES, DEFAULT_MAX_TOTAL_TOKENS, RolloutBatch, RolloutCollector


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
                                 generator=t.generator, inject_per_group=self.inject_count(),
                                 on_bad_media=lambda s, e: t.bad_media.record(s, e, step=t.step + 1))
