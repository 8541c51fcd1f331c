"""Per-dataset statistics of one step: what the mixture learner and the logs consume."""

from __future__ import annotations

import math

import torch

from vrft.data.mixture_learning import DatasetStepStats
from vrft.grpo.distributed import DistInfo, all_gather_object
from vrft.rollout import RolloutBatch


def _per_dataset_rows(batch: RolloutBatch) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for i, p in enumerate(batch.seq_prompt):
        if batch.valid[i]:
            rows.setdefault(batch.samples[p].dataset, []).append(i)
    return rows


def dataset_step_stats(batch: RolloutBatch, adv_B: torch.Tensor, info: DistInfo) -> dict[str, DatasetStepStats]:
    """Mean |advantage|, reward mean and mean within-group variance per dataset, over all ranks.
    Injected ground-truth rows are left out: they say nothing about what the policy can do."""
    local: dict[str, list[float]] = {}  # name -> [sum |adv|, sum r, sum group var, n rows, n groups]
    for name, rows in _per_dataset_rows(batch).items():
        rows = [i for i in rows if not batch.injected[i]]
        if not rows:
            continue
        acc = local.setdefault(name, [0.0, 0.0, 0.0, 0, 0])
        acc[0] += float(adv_B[rows].abs().sum())
        acc[1] += float(batch.rewards[rows].nan_to_num(0.0).sum())
        acc[3] += len(rows)
        for p in {batch.seq_prompt[i] for i in rows}:
            r = batch.rewards[[i for i in rows if batch.seq_prompt[i] == p]]
            acc[2] += float(r.var(unbiased=False)) if r.numel() > 1 else 0.0
            acc[4] += 1
    merged: dict[str, list[float]] = {}
    for part in all_gather_object(local, info):
        for name, acc in part.items():
            m = merged.setdefault(name, [0.0, 0.0, 0.0, 0, 0])
            for k in range(5):
                m[k] += acc[k]
    return {n: DatasetStepStats(mean_abs_advantage=m[0] / m[3], reward_mean=m[1] / m[3],
                                reward_var=m[2] / max(m[4], 1), n=int(m[3])) for n, m in merged.items() if m[3]}


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
