"""Ground-truth injection (TempSamp-R1 / ViSurf): the last rows of a group become the solution
rendered as a completion in the model's output frame. Written once for plain and tool prompts: an
injected row is a single answer turn (no tool calls), scored like any other row, and marked
``behaviour = "expert"`` so the update trains it as an off-policy row (vrft.grpo.offpolicy)."""

from __future__ import annotations

import torch

from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.data.templates import render_solution_completion
from vrft.policy.prompt_inputs import PromptInputs
from vrft.rollout.batch import EXPERT, RolloutBatch
from vrft.rollout.episode import encode_sample
from vrft.rollout.scoring import reward_context


def ground_truth_tokens(policy, sample: Sample, prompt: PromptInputs, cfg: DatasetConfig) -> tuple[torch.Tensor, str]:
    """The solution rendered as a completion in the model's frame, ending with the end-of-turn token."""
    clip = prompt.video_info.clip_start if prompt.video_info else 0.0
    # An expert row is trained as written by the expert: a <think> block only with the sample's own
    # reasoning (meta.reasoning), never a placeholder the model would be taught as its own thought.
    think = cfg.gt_template == "think" and bool(sample.meta.get("reasoning"))
    text = render_solution_completion(sample, prompt.image_frames or None, clip, think=think)
    ids = policy.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"][0]
    eos = torch.tensor([policy.tokenizer.convert_tokens_to_ids("<|im_end|>")])
    return torch.cat([ids, eos]), text


def supervised_pairs(policy, samples, configs: dict[str, DatasetConfig]
                     ) -> tuple[list[PromptInputs], list[torch.Tensor]]:
    """Each sample's encoded prompt and its ground-truth completion tokens: the inputs of a
    supervised step (warm-up, ReLIFT); ``configs`` maps dataset name to its config."""
    prompts, targets = [], []
    for s in samples:
        cfg = configs[s.dataset]
        prompt = encode_sample(policy, s, cfg)
        prompts.append(prompt)
        targets.append(ground_truth_tokens(policy, s, prompt, cfg)[0])
    return prompts, targets


def inject_ground_truth(batch: RolloutBatch, policy, configs: dict[str, DatasetConfig], per_group: int) -> None:
    """Replace the last ``per_group`` rows of every group (in place) with the ground truth."""
    if per_group <= 0:
        return
    for p, (sample, prompt) in enumerate(zip(batch.samples, batch.prompts)):
        rows = batch.rows_of(p)
        ids, text = ground_truth_tokens(policy, sample, prompt, configs[sample.dataset])
        for i in rows[len(rows) - min(per_group, len(rows)):]:
            batch.completions[i], batch.texts[i], batch.traces[i] = ids, text, text
            batch.sampler_logprobs[i], batch.finish_reasons[i], batch.behaviour[i] = None, "eos", EXPERT
            batch.contexts[i] = reward_context(sample, prompt)
