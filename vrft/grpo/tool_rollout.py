"""Rollouts of tool-using datasets: multi-turn trajectories (vrft.tools) as a RolloutBatch.

The completion of a row is everything after the prompt (assistant turns and observation turns,
with the crops / clips the tools returned); only generated tokens carry loss (its `loss_mask`).
The reward scores the last assistant turn and sees the tool-call trace.
"""

from __future__ import annotations

import torch

from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.grpo.rollout import RolloutBatch, ground_truth_tokens, reward_context
from vrft.policy.policy import Policy
from vrft.policy.sampling import SamplingParams

TRUNCATED = {"length", "max_turns", "max_images", "max_total_tokens"}


def tool_backend(policy: Policy, engine=None, generator: torch.Generator | None = None):
    """The tool loop's generation backend: the colocated vLLM engine's, or HF on the policy."""
    if engine is not None:
        from vrft.tools.vllm_backend import VLLMBackend

        return VLLMBackend(engine)
    from vrft.tools.backend import HFBackend

    return HFBackend(policy, generator)


def collect_tool_batch(policy: Policy, items: list[tuple[Sample, DatasetConfig]], n: int, params: SamplingParams,
                       *, generator: torch.Generator | None = None, inject_per_group: int = 0,
                       all_finished=None, engine=None) -> RolloutBatch:
    """engine: the colocated vLLM engine, or None to generate with the policy (HF)."""
    from vrft.tools.loop import collect_tool_rollouts, trajectory_inputs, trajectory_reward_context

    trajs = collect_tool_rollouts(policy, items, n, params, generator=generator, all_finished=all_finished,
                                  backend=tool_backend(policy, engine, generator))
    prompts, seq_prompt, completions = trajectory_inputs(trajs)
    assert seq_prompt == [t.prompt_index for t in trajs], "trajectories must be prompt-major"
    samples = [s for s, _ in items]
    batch = RolloutBatch(
        samples=samples, prompts=prompts, seq_prompt=seq_prompt, completions=list(completions),
        sampler_logprobs=[t.sampler_logprobs for t in trajs], texts=[t.final_text for t in trajs],
        finish_reasons=[t.finish_reason for t in trajs], injected=[False] * len(trajs),
        contexts=[trajectory_reward_context(samples[t.prompt_index], t) for t in trajs],
    )
    if inject_per_group:
        for p, (sample, cfg) in enumerate(items):
            ids, text = ground_truth_tokens(policy, sample, prompts[p], cfg)
            for j in range(n - min(inject_per_group, n), n):
                i = p * n + j
                batch.completions[i], batch.texts[i] = ids, text
                batch.sampler_logprobs[i], batch.finish_reasons[i], batch.injected[i] = None, "eos", True
                batch.contexts[i] = reward_context(sample, prompts[p])
    return batch
