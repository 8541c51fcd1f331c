"""One step's rollouts: encode P prompts, draw G completions each, inject ground truth, score.

The order is prompt-major throughout: row i belongs to prompt `i // G`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from rewards.context import RewardContext
from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.data.templates import render_prompt, render_solution_completion
from vrft.policy.media import settings_from
from vrft.policy.policy import Policy
from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.sampling import SamplingParams


@dataclass
class RolloutBatch:
    samples: list[Sample]  # P
    prompts: list[PromptInputs]  # P
    seq_prompt: list[int]  # B
    completions: list[torch.Tensor]  # B token ids
    sampler_logprobs: list[torch.Tensor | None]  # B (None for injected ground truth)
    texts: list[str]  # B
    finish_reasons: list[str]  # B
    injected: list[bool]  # B
    contexts: list[RewardContext] = field(default_factory=list)  # B
    rewards: torch.Tensor | None = None  # (B,)
    valid: torch.Tensor | None = None  # (B,) bool: False when the reward errored and is excluded
    components: dict[str, torch.Tensor] = field(default_factory=dict)  # name -> (B,)

    @property
    def group_ids(self) -> torch.Tensor:
        return torch.tensor(self.seq_prompt, dtype=torch.long)


def encode_sample(policy: Policy, sample: Sample, cfg: DatasetConfig, *, think: bool = True) -> PromptInputs:
    text = render_prompt(sample, cfg.prompt_template, policy.output_frame, think=think)
    return policy.encode(text, images=sample.images, video=sample.video, settings=settings_from(cfg.vision),
                         sample_id=sample.id, system=cfg.tools.system_prompt if cfg.tools.enabled else None)


def rollout_media(policy: Policy, sample: Sample, cfg: DatasetConfig) -> dict:
    """The resized images / sampled frames of a sample (media-cache hits after encoding)."""
    settings = settings_from(cfg.vision)
    video = policy.load_video(sample.video, settings, sample.id).frames if sample.video is not None else None
    return {"image": [policy.load_image(im, settings, sample.id).image for im in sample.images], "video": video}


def reward_context(sample: Sample, prompt: PromptInputs) -> RewardContext:
    return RewardContext(solution=sample.solution, task=sample.task, dataset=sample.dataset, sample_id=sample.id,
                         images=list(prompt.image_frames), video=prompt.video_info, meta=dict(sample.meta))


def ground_truth_tokens(policy: Policy, sample: Sample, prompt: PromptInputs, cfg: DatasetConfig) -> tuple[torch.Tensor, str]:
    """The solution rendered as a completion in the model's frame, ending with the end-of-turn token."""
    clip = prompt.video_info.clip_start if prompt.video_info else 0.0
    text = render_solution_completion(sample, prompt.image_frames or None, clip, think=cfg.gt_template == "think")
    ids = policy.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"][0]
    eos = torch.tensor([policy.tokenizer.convert_tokens_to_ids("<|im_end|>")])
    return torch.cat([ids, eos]), text


def collect_rollouts(policy: Policy, items: list[tuple[Sample, DatasetConfig]], n: int, params: SamplingParams,
                     *, generator: torch.Generator | None = None, inject_per_group: int = 0,
                     all_finished=None, engine=None) -> RolloutBatch:
    """Generate `n` completions per prompt; the last `inject_per_group` of each group are replaced by
    the ground-truth completion (ground-truth injection, as in TempSamp-R1 / ViSurf)."""
    samples = [s for s, _ in items]
    prompts = [encode_sample(policy, s, cfg) for s, cfg in items]
    if engine is None:
        comps = policy.generate(prompts, n, params, generator=generator, all_finished=all_finished)
    else:  # an external rollout engine (vLLM) gets the same resized media the trainer scores
        comps = engine.generate(prompts, n, params, media=[rollout_media(policy, s, cfg) for s, cfg in items])
    batch = RolloutBatch(
        samples=samples, prompts=prompts, seq_prompt=[c.prompt_index for c in comps],
        completions=[c.token_ids for c in comps], sampler_logprobs=[c.logprobs for c in comps],
        texts=[c.text for c in comps], finish_reasons=[c.finish_reason for c in comps],
        injected=[False] * len(comps),
    )
    if inject_per_group:
        for p, (sample, cfg) in enumerate(items):
            ids, text = ground_truth_tokens(policy, sample, prompts[p], cfg)
            for j in range(n - min(inject_per_group, n), n):
                i = p * n + j
                batch.completions[i], batch.texts[i] = ids, text
                batch.sampler_logprobs[i], batch.finish_reasons[i], batch.injected[i] = None, "eos", True
    batch.contexts = [reward_context(samples[p], prompts[p]) for p in batch.seq_prompt]
    return batch


def reward_spec(cfg: DatasetConfig) -> list[dict]:
    return [{"name": r.name, "weight": r.weight, "kwargs": r.kwargs} for r in cfg.rewards]


def score_rollouts(batch: RolloutBatch, runner, configs: dict[str, DatasetConfig]) -> None:
    """Fill `batch.rewards`, `.valid` and `.components`, scoring each dataset's rows with its own
    composite reward. Components are NaN on rows of datasets that do not use them."""
    b = len(batch.texts)
    rewards = torch.full((b,), float("nan"))
    valid = torch.ones(b, dtype=torch.bool)
    components: dict[str, torch.Tensor] = {}
    by_dataset: dict[str, list[int]] = {}
    for i, p in enumerate(batch.seq_prompt):
        by_dataset.setdefault(batch.samples[p].dataset, []).append(i)
    for name, rows in by_dataset.items():
        scores = runner.score([batch.texts[i] for i in rows], [batch.contexts[i] for i in rows],
                              rewards=reward_spec(configs[name]))
        rewards[rows] = torch.tensor(scores.scores, dtype=torch.float32)
        valid[rows] = ~torch.tensor(scores.errored, dtype=torch.bool)
        for key, values in scores.components.items():
            components.setdefault(key, torch.full((b,), float("nan")))[rows] = torch.tensor(values, dtype=torch.float32)
    batch.rewards, batch.valid, batch.components = rewards, valid, components


def group_has_signal(batch: RolloutBatch, p: int) -> bool:
    """A group teaches something only if its (valid) rewards differ."""
    rows = [i for i, q in enumerate(batch.seq_prompt) if q == p and bool(batch.valid[i])]
    r = batch.rewards[rows]
    return r.numel() > 1 and float(r.max() - r.min()) > 1e-9


def select_groups(batch: RolloutBatch, groups: list[int]) -> RolloutBatch:
    """A new batch holding only prompts `groups` (renumbered in that order)."""
    rows = [i for p in groups for i, q in enumerate(batch.seq_prompt) if q == p]
    remap = {p: k for k, p in enumerate(groups)}
    pick = lambda xs: [xs[i] for i in rows]  # noqa: E731
    return RolloutBatch(
        samples=[batch.samples[p] for p in groups], prompts=[batch.prompts[p] for p in groups],
        seq_prompt=[remap[batch.seq_prompt[i]] for i in rows], completions=pick(batch.completions),
        sampler_logprobs=pick(batch.sampler_logprobs), texts=pick(batch.texts),
        finish_reasons=pick(batch.finish_reasons), injected=pick(batch.injected), contexts=pick(batch.contexts),
        rewards=batch.rewards[rows], valid=batch.valid[rows],
        components={k: v[rows] for k, v in batch.components.items()},
    )


def concat_batches(a: RolloutBatch, b: RolloutBatch) -> RolloutBatch:
    off = len(a.samples)
    return RolloutBatch(
        samples=a.samples + b.samples, prompts=a.prompts + b.prompts,
        seq_prompt=a.seq_prompt + [p + off for p in b.seq_prompt], completions=a.completions + b.completions,
        sampler_logprobs=a.sampler_logprobs + b.sampler_logprobs, texts=a.texts + b.texts,
        finish_reasons=a.finish_reasons + b.finish_reasons, injected=a.injected + b.injected,
        contexts=a.contexts + b.contexts,
        rewards=None if a.rewards is None or b.rewards is None else torch.cat([a.rewards, b.rewards]),
        valid=None if a.valid is None or b.valid is None else torch.cat([a.valid, b.valid]),
        components={k: torch.cat([a.components.get(k, torch.full((len(a.texts),), float("nan"))),
                                  b.components.get(k, torch.full((len(b.texts),), float("nan")))])
                    for k in set(a.components) | set(b.components)},
    )
