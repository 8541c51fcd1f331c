"""What one step's rollouts tell: group outcomes for the data side, and the step's reward metrics."""

from __future__ import annotations

import math

import torch

from vrft.data.mixture import GroupOutcome
from vrft.parallel.dist import DistInfo, all_gather_object
from vrft.policy.prompt_inputs import MultiTurnCompletion
from vrft.rollout import RolloutBatch


def group_outcomes(batch: RolloutBatch, adv_B: torch.Tensor | None, trained: bool = True) -> list[GroupOutcome]:
    """One GroupOutcome per prompt of `batch`. Injected ground-truth rows are left out: they say
    nothing about what the policy can do. Errored rewards count as 0 for difficulty and are left
    out of the mixture statistics."""
    out = []
    rewards = batch.rewards.nan_to_num(0.0)
    for p, sample in enumerate(batch.samples):
        rows = [i for i, q in enumerate(batch.seq_prompt) if q == p and not batch.injected[i]]
        scored = [i for i in rows if batch.valid[i]]
        out.append(GroupOutcome(
            dataset=sample.dataset, sample_id=sample.id, rewards=tuple(float(rewards[i]) for i in rows),
            scored_rewards=tuple(float(rewards[i]) for i in scored),
            advantages=tuple(float(adv_B[i]) for i in scored) if adv_B is not None else (0.0,) * len(scored),
            trained=trained))
    return out


def rollout_metrics(batch: RolloutBatch, weights: dict[str, float], info: DistInfo) -> dict[str, float]:
    """Reward overall, per dataset and per component (sampled rows only), lengths, mixture weights."""
    sampled = [i for i in range(len(batch.texts)) if not batch.injected[i] and batch.valid[i]]
    local = {"n": len(sampled), "r": float(batch.rewards[sampled].sum()) if sampled else 0.0,
             "len": float(sum(batch.completions[i].shape[0] for i in sampled)),
             "trunc": float(sum(batch.finish_reasons[i] == "length" for i in sampled)),
             "ds": {}}
    for i in sampled:
        name = batch.samples[batch.seq_prompt[i]].dataset
        d = local["ds"].setdefault(name, {"n": 0, "mean": 0.0})
        d["n"] += 1
        d["mean"] += float(batch.rewards[i])
        for comp, values in batch.components.items():
            v = float(values[i])
            if math.isfinite(v):
                d[comp] = d.get(comp, 0.0) + v
    n, tot = 0, {"r": 0.0, "len": 0.0, "trunc": 0.0}
    per_ds: dict[str, dict[str, float]] = {}
    for part in all_gather_object(local, info):
        n += part["n"]
        for k in tot:
            tot[k] += part[k]
        for name, d in part["ds"].items():
            acc = per_ds.setdefault(name, {})
            for k, v in d.items():
                acc[k] = acc.get(k, 0.0) + v
    out = {}
    if n:
        out.update({"reward/mean": tot["r"] / n, "rollout/completion_len": tot["len"] / n,
                    "rollout/truncated_frac": tot["trunc"] / n})
    for name, d in per_ds.items():
        for k, v in d.items():
            if k != "n":
                out[f"reward/{name}/{k}"] = v / d["n"]
    for name, w in weights.items():
        out[f"mixture/weight/{name}"] = w
    return out


def assistant_turns(completion: torch.Tensor | MultiTurnCompletion) -> int:
    """Assistant turns of one row: the runs of generated tokens (loss mask 1) between observation
    turns (loss mask 0); a plain row's token ids are one turn."""
    if not isinstance(completion, MultiTurnCompletion):
        return 1
    mask_T = completion.loss_mask.bool()
    if mask_T.numel() == 0:
        return 0
    return int(mask_T[0]) + int((mask_T[1:] & ~mask_T[:-1]).sum())


def tool_metrics(batch: RolloutBatch, info: DistInfo) -> dict[str, float]:
    """Tool use of the sampled rows of tool-enabled prompts, over every rank (tool use collapsing to
    zero is the most reported failure of zoom-in RL, so it is logged every step):
    ``tools/call_rate`` the fraction of episodes with at least one tool call, ``tools/valid_call_rate``
    valid calls over all calls (absent without calls), ``tools/turns_per_episode`` the mean number of
    assistant turns. Nothing when no prompt of the step enables tools."""
    rows = [i for i, p in enumerate(batch.seq_prompt)
            if batch.multi_turn and batch.multi_turn[p] and not batch.injected[i]]
    calls = [batch.contexts[i].tool_calls for i in rows]
    local = (len(rows), sum(bool(c) for c in calls), sum(len(c) for c in calls),
             sum(call.valid for c in calls for call in c), sum(assistant_turns(batch.completions[i]) for i in rows))
    episodes, with_call, n_calls, n_valid, turns = (sum(col) for col in zip(*all_gather_object(local, info)))
    if not episodes:
        return {}
    out = {"tools/call_rate": with_call / episodes, "tools/turns_per_episode": turns / episodes}
    if n_calls:
        out["tools/valid_call_rate"] = n_valid / n_calls
    return out


def work_metrics(batch: RolloutBatch, mu: int, device: torch.device) -> dict[str, float]:
    """The work of this rank's step, for throughput and MFU figures: generated tokens, tokens
    through the model in the update (prompt + completion per row, times mu), vision patches
    encoded in the update (once per prompt per epoch: shared by its rows), and peak GPU memory."""
    generated = sum(int(c.shape[0]) for c, inj in zip(batch.completions, batch.injected) if not inj)
    tokens = sum(batch.prompts[p].length + int(c.shape[0]) for p, c in zip(batch.seq_prompt, batch.completions))
    patches = sum(int(t.shape[0]) for p in batch.prompts for t in (p.pixel_values, p.pixel_values_videos)
                  if t is not None)
    out = {"perf/rollout_tokens": float(generated), "perf/update_tokens": float(mu * tokens),
           "perf/vision_patches": float(mu * patches)}
    if device.type == "cuda":
        out["perf/peak_gpu_gb"] = torch.cuda.max_memory_allocated(device) / 2**30
    return out
