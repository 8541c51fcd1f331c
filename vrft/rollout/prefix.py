"""Prefix sampling (Prefix-RFT, "Blending Supervised and Reinforcement Fine-Tuning with Prefix
Sampling", arXiv 2507.01679): some rows of a group start from a prefix of the expert answer and the
policy writes the rest.

The expert answer is the ground truth rendered as a completion in the model's frame (the tokens
ground-truth injection uses, :func:`vrft.rollout.ground_truth.ground_truth_tokens`). A row given a
prefix of ``L`` of its ``n`` answer tokens (the end-of-turn token not counted)::

    L = clamp(floor(ratio * n), 1, n)
    completion = expert[:L] + continuation,   continuation ~ pi(. | prompt, expert[:L])

The row stays a ``policy`` row (it is scored and enters its group's statistics like any sample,
on its full text) and ``batch.expert_tokens[i]`` marks its first ``L`` tokens: the update trains
those as expert tokens (behaviour probability 1, no ratio, no clip) and the continuation with the
clipped loss (:mod:`vrft.grpo.offpolicy.prefix_rft`). The sampler log-probs of the prefix are 0
(log 1: the expert wrote them). The continuation gets the whole ``max_new_tokens`` budget.

Plain prompts only (a tool episode's turns and observations do not fit a single prefix), and the
continuation is generated from the exact prefix token ids, so the backend must take token inputs:
the HF backend does; the vLLM server re-tokenizes text and is refused by the config check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import torch

from vrft.data.mixture_config import DatasetConfig
from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.sampling import SamplingParams
from vrft.rollout.backends import GenerationBackend, Lockstep, TurnRequest
from vrft.rollout.batch import RolloutBatch
from vrft.rollout.episode import Episode
from vrft.rollout.ground_truth import ground_truth_tokens


@dataclass(frozen=True)
class PrefixPlan:
    """This step's prefix sampling: ``per_group`` rows of each group get a prefix of ``ratio`` of
    the expert answer's tokens."""

    per_group: int
    ratio: float


def prefix_length(n_answer: int, ratio: float) -> int:
    """Expert tokens given as prefix out of ``n_answer``: ``floor(ratio * n)``, at least 1, at most n."""
    return min(max(int(ratio * n_answer), 1), n_answer)


def prefixed_prompt(prompt: PromptInputs, prefix_ids: torch.Tensor, prefix_text: str) -> PromptInputs:
    """``prompt`` followed by the prefix tokens (text tokens: no media), to continue from."""
    ids = prefix_ids.to(prompt.input_ids.dtype)
    return replace(prompt, input_ids=torch.cat([prompt.input_ids, ids]),
                   mm_token_type_ids=torch.cat([prompt.mm_token_type_ids,
                                                torch.zeros_like(ids, dtype=prompt.mm_token_type_ids.dtype)]),
                   text=prompt.text + prefix_text)


def prefix_rows(batch: RolloutBatch, p: int, per_group: int, skip_last: int) -> list[int]:
    """The rows of prompt ``p`` that get a prefix: the ``per_group`` before the last ``skip_last``
    (those are replaced by the whole ground truth when injection is on)."""
    rows = batch.rows_of(p)
    end = max(len(rows) - skip_last, 0)
    return rows[max(end - per_group, 0):end]


def sample_with_prefixes(batch: RolloutBatch, episodes: Sequence[Episode], policy, backend: GenerationBackend,
                         configs: dict[str, DatasetConfig], plan: PrefixPlan, params: SamplingParams, *,
                         generator: torch.Generator | None = None, lockstep: Lockstep | None = None,
                         skip_last: int = 0) -> None:
    """Replace the chosen rows of every group (in place) with expert prefix + the policy's
    continuation. One batched generate call per rank (every rank holds at least one prompt, so
    sharded backends stay collective)."""
    if plan.per_group <= 0:
        return
    if not getattr(backend, "exact_tokens", True):
        raise ValueError(f"algo.prefix_sampling continues the exact prefix token ids, which the "
                         f"{type(backend).__name__} backend cannot (it re-tokenizes text); use rollout.backend=hf")
    requests, made = [], []
    for p, (sample, ep) in enumerate(zip(batch.samples, episodes)):
        if ep.uses_tools:
            raise ValueError(f"sample {sample.id!r}: algo.prefix_sampling supports plain prompts only; its dataset "
                             f"{sample.dataset!r} enables tools")
        ids, _ = ground_truth_tokens(policy, sample, ep.prompt, configs[sample.dataset])
        n = prefix_length(int(ids.shape[0]) - 1, plan.ratio)  # the end-of-turn token is never a prefix
        prefix_ids = ids[:n]
        text = policy.tokenizer.decode(prefix_ids)
        inputs = prefixed_prompt(ep.prompt, prefix_ids, text)
        for i in prefix_rows(batch, p, plan.per_group, skip_last):
            requests.append(TurnRequest(inputs, [im.image for im in ep.images], [ep.video] if ep.video else [], 0,
                                        [i]))
            made.append((i, prefix_ids, text))
    comps = backend.generate(requests, 1, params, generator=generator, lockstep=lockstep) if requests else []
    for (i, prefix_ids, text), comp in zip(made, comps):
        cont = comp.token_ids
        n, m = int(prefix_ids.shape[0]), int(cont.shape[0])
        batch.completions[i] = torch.cat([prefix_ids.to(cont.device, cont.dtype), cont])
        batch.sampler_logprobs[i] = torch.cat([torch.zeros(n, dtype=comp.logprobs.dtype, device=comp.logprobs.device),
                                               comp.logprobs])
        batch.texts[i] = batch.traces[i] = text + comp.text
        batch.finish_reasons[i] = comp.finish_reason
        batch.expert_tokens[i] = torch.cat([torch.ones(n, dtype=torch.bool), torch.zeros(m, dtype=torch.bool)])
