"""Avg@k: the headline score averaged over k sampled completions per prompt, with its standard error,
so that a change of a few points can be told from sampling noise.

A record with k completions in ``samples`` (:mod:`vrft.eval.records`) gives k per-sample values: the
benchmark's headline ``score`` computed on that one completion alone. For every headline that is a
mean over samples (accuracy, acc@0.5, relaxed accuracy, click / action accuracy, temporal mIoU, the
synthetic tasks' mean score) the mean of these values over the k x N completions is exactly the
headline over all of them; for COCO mAP it is the mean per-image mAP. The standard error is that of
a mean over N independent prompts: the sample standard deviation (ddof 1) of the N per-prompt means,
divided by sqrt(N) (the k draws of one prompt are not independent of each other, so they are
averaged first); NaN with a single prompt.

    scores = score_records(bench, records)   # bench.metric(records) + {"avg@4": ..., "avg@4_se": ...}
"""

from __future__ import annotations

import math
from typing import Any

from vrft.eval.benchmarks import Benchmark

Record = dict[str, Any]


def draw_records(record: Record) -> list[Record]:
    """One record per completion in ``record["samples"]``, as if it were the only one."""
    base = {k: v for k, v in record.items() if k != "samples"}
    return [{**base, **s} for s in record.get("samples") or []]


def avg_at_k(bench: Benchmark, records: list[Record]) -> dict[str, float]:
    """``{"avg@k": mean, "avg@k_se": standard error}`` over records that each hold k >= 2 samples
    (k: the fewest any record holds; only the first k of each are used); empty otherwise."""
    counts = [len(r.get("samples") or []) for r in records]
    if not records or min(counts) < 2:
        return {}
    k = min(counts)
    prompt_means = [sum(bench.metric([d])["score"] for d in draw_records(r)[:k]) / k for r in records]
    n = len(prompt_means)
    mean = sum(prompt_means) / n
    if n < 2:
        se = math.nan
    else:
        se = math.sqrt(sum((m - mean) ** 2 for m in prompt_means) / (n - 1) / n)
    return {f"avg@{k}": mean, f"avg@{k}_se": se}


def score_records(bench: Benchmark, records: list[Record]) -> dict[str, float]:
    """The benchmark's metrics of ``records`` (headline from each record's top-level completion),
    plus Avg@k when the records hold k sampled completions each."""
    return {**bench.metric(records), **avg_at_k(bench, records)}
