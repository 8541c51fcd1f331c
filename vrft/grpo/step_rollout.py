"""The rollout of one GRPO step: this rank's prompts drawn from the mixture, G rollouts each through
the rollout layer (HF on the training model, or vrft's vLLM server), ground truth injected and
scored; samples with undecodable media handled by `data.on_bad_media`."""

from __future__ import annotations

import copy
import os

import torch

from vrft.grpo.offpolicy.prefix_rft import prefix_plan
from vrft.policy.unwrap import strip_parallel, unwrap
from vrft.rollout import RolloutBatch, RolloutCollector
from vrft.rollout.vllm_client import VLLMClient


def hf_weights(model, full: dict[str, torch.Tensor] | None) -> list[tuple[str, torch.Tensor]]:
    """(Hugging Face name, full tensor) of every weight the server loads: ``full`` when the backend
    gathered it (FSDP2 / ZeRO-3), else the unwrapped model's; LoRA adapters merged into a copy
    (the live model keeps them). vLLM maps the names itself (its Qwen-VL ``hf_to_vllm_mapper``)."""
    peft = strip_parallel(model)
    if hasattr(peft, "peft_config"):
        if full is not None:
            raise ValueError("rollout.backend=vllm with LoRA on a sharded backend is not supported yet; "
                             "use train.backend=single or ddp with LoRA")
        return list(copy.deepcopy(peft).merge_and_unload().state_dict().items())
    return list((full if full is not None else unwrap(model).state_dict()).items())


class StepDraw:
    """One step's scored rollouts of this rank's prompts, with ground-truth injection, on HF or the
    vLLM server (rank 0 sends it the new weights after every optimizer step).

    Only rank 0 talks weights to the server; every rank waits for it (one all-reduce) before rolling
    out again, so no rank samples from old weights. With ``rollout.vllm.sleep_mode`` rank 0 puts the
    server to sleep once every rank's rollouts are done (another all-reduce) and, after the update,
    wakes its weights, syncs them, then wakes the rest: wake -> sync -> rollout, so a level-2 sleep
    (weights dropped) never samples from freed memory."""

    def __init__(self, trainer) -> None:
        self.t = trainer
        self._client: VLLMClient | None = None

    @property
    def external(self) -> bool:
        return self.t.cfg.rollout.backend == "vllm"

    def engine(self) -> VLLMClient | None:
        if not self.external:
            return None
        if self._client is None:
            v = self.t.cfg.rollout.vllm
            self._client = VLLMClient(v.server_url, timeout_s=v.timeout_s)
            health = self._client.health()  # a wrong URL fails here, naming it
            if v.sleep_mode and not health.get("sleep_mode"):
                raise ValueError(f"rollout.vllm.sleep_mode=true but the vLLM server at {v.server_url} was started "
                                 "without --sleep-mode (vLLM's sleep mode needs a CUDA / ROCm GPU): restart it "
                                 "with `vrft vllm-serve ... --sleep-mode` or set rollout.vllm.sleep_mode=false")
            # The server may hold other weights (started from the base model while this run resumed,
            # or left by an earlier run): it gets this trainer's before the first rollout.
            self.sync_weights()
            self.t.backend.any_rank(False)  # every rank calls this first; none rolls out before the sync
        return self._client

    @property
    def sleeps(self) -> bool:
        return self.external and self.t.cfg.rollout.vllm.sleep_mode and self.t.info.is_main

    def before_update(self) -> None:
        if self.external and self.t.cfg.rollout.vllm.sleep_mode:
            self.t.backend.any_rank(False)  # every rank's rollouts are done before the server sleeps
            if self.sleeps:
                self.engine().sleep(self.t.cfg.rollout.vllm.sleep_level)

    def after_update(self) -> None:
        if not self.external:
            return
        if self.sleeps:
            self.engine().wake_up(["weights"])  # the weights only: the KV cache stays freed during the sync
        self.sync_weights()
        if self.sleeps:
            self.engine().wake_up()
        self.t.backend.any_rank(False)  # no rank rolls out before the server holds the new weights, awake

    def sync_weights(self) -> None:
        """Full weights (gathered from shards / partitions by every rank; LoRA merged) to the server
        from rank 0, by broadcast or through one shared safetensors file (``rollout.vllm.weight_sync``)."""
        t = self.t
        full = t.backend.full_state_dict()  # a collective on sharded backends: every rank calls it
        if not t.info.is_main:
            return
        named = hf_weights(t.policy.model, full)
        v = t.cfg.rollout.vllm
        if v.weight_sync == "file":
            folder = v.sync_dir or t.run_dir
            os.makedirs(folder, exist_ok=True)
            self.engine().push_weights_file(named, os.path.join(folder, "vllm_sync.safetensors"))
        else:
            self.engine().push_weights(named)

    @staticmethod
    def gap_metrics(old: list[torch.Tensor] | None, batch: RolloutBatch) -> dict[str, float]:
        """``rollout/logprob_gap``: mean |sampler - trainer| log-prob over the sampled tokens (injected
        ground truth and observation tokens excluded); ``rollout/logprob_gap_max`` the largest."""
        if old is None:
            return {}
        gaps = []
        for o, s, c in zip(old, batch.sampler_logprobs, batch.completions):
            if s is None:
                continue
            n = min(len(o), len(s))
            mask = getattr(c, "loss_mask", None)
            keep = mask[:n].bool() if mask is not None else torch.ones(n, dtype=torch.bool)
            gaps.append((o[:n].float().cpu() - s[:n].float().cpu()).abs()[keep])
        if not gaps:
            return {}
        g = torch.cat(gaps)
        return {"rollout/logprob_gap": float(g.mean()) if g.numel() else 0.0,
                "rollout/logprob_gap_max": float(g.max()) if g.numel() else 0.0}

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
        collector = RolloutCollector(t.policy, t.data.configs, t.rewards,
                                     backend=t.cfg.rollout.backend, vllm_engine=self.engine(),
                                     lockstep=t.backend.lockstep)
        return collector.collect(samples, t.cfg.rollout.num_generations, t.sampling_params(),
                                 generator=t.generator, inject_per_group=self.inject_count(),
                                 prefix=prefix_plan(t.cfg.algo.prefix_sampling, t.step, t.cfg.train.steps),
                                 on_bad_media=lambda s, e: t.bad_media.record(s, e, step=t.step + 1))
