"""Metric building blocks: pure functions over prediction records (no model, no torch).

A record is one line of ``predictions.jsonl`` (see :func:`vrft.eval.records.make_record`); the
metrics read ``score``, ``correct``, ``unparseable``, ``extras``, ``meta`` and, with several samples
per prompt, ``samples`` (one judgement per completion). Primary metrics use each record's first
completion. Every metric dict has ``n``, ``unparseable`` (count), ``unparseable_rate`` and ``score``
(the benchmark's headline metric, in [0, 1]); unparseable outputs count as wrong everywhere.
Each task's own metrics live in its file (``grounding_metrics`` in :mod:`vrft.tasks.grounding`, ...).
"""

from __future__ import annotations

from math import comb
from typing import Any, Callable, Iterable

Record = dict[str, Any]


def mean(values: Iterable[float]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


def record_iou(r: Record) -> float:
    return 0.0 if r.get("unparseable") else float((r.get("extras") or {}).get("iou", 0.0))


def record_correct(r: Record) -> float:
    return float(bool(r.get("correct")) and not r.get("unparseable"))


def record_score(r: Record) -> float:
    return 0.0 if r.get("unparseable") else float(r.get("score", 0.0))


def meta_value(name: str) -> Callable[[Record], Any]:
    return lambda r: (r.get("meta") or {}).get(name)


def base_metrics(records: list[Record]) -> dict[str, float]:
    """``n``, ``unparseable``, ``unparseable_rate``, ``mean_score`` and pass@k when there are samples."""
    n = len(records)
    bad = sum(1 for r in records if r.get("unparseable"))
    out: dict[str, float] = {"n": n, "unparseable": bad, "unparseable_rate": bad / n if n else 0.0,
                             "mean_score": mean(r.get("score", 0.0) for r in records)}
    out.update(pass_at_k(records))
    return out


def pass_at_k_estimate(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct (Chen et al. 2021): 1 - C(n-c, k) / C(n, k)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    return 1.0 - comb(n - c, k) / comb(n, k) if n - c >= k else 1.0


def pass_at_k(records: list[Record]) -> dict[str, float]:
    """pass@k for k = 1, 2, 4, ... and n when records hold ``samples`` (n completions each)."""
    counts = [len(r["samples"]) for r in records if r.get("samples")]
    if not counts or len(counts) != len(records) or min(counts) < 2:
        return {}
    n = min(counts)
    ks = sorted({k for k in (2 ** i for i in range(n.bit_length())) if k <= n} | {n})
    counts_correct = [(len(r["samples"]), sum(bool(s.get("correct")) for s in r["samples"])) for r in records]
    return {f"pass@{k}": mean(pass_at_k_estimate(n_r, c, k) for n_r, c in counts_correct) for k in ks}


def grouped(records: list[Record], key: Callable[[Record], Any], value: Callable[[Record], float],
            prefix: str) -> dict[str, float]:
    """``{prefix/<group>: mean value}`` over the groups ``key`` gives (records with None are left out)."""
    groups: dict[str, list[float]] = {}
    for r in records:
        k = key(r)
        if k is not None and k != "":
            groups.setdefault(str(k), []).append(value(r))
    return {f"{prefix}/{k}": mean(v) for k, v in sorted(groups.items())}


def accuracy_metrics(records: list[Record]) -> dict[str, float]:
    """Multiple choice and short-answer VQA: ``accuracy`` (exact after normalisation)."""
    out = base_metrics(records)
    acc = mean(record_correct(r) for r in records)
    out.update({"accuracy": acc, "score": acc})
    return out


def mixed_metrics(records: list[Record]) -> dict[str, float]:
    """Rows of several tasks (synthetic jsonl): mean score and accuracy overall and by task."""
    out = base_metrics(records)
    out.update({"accuracy": mean(record_correct(r) for r in records),
                "score": mean(record_score(r) for r in records)})
    out.update(grouped(records, lambda r: r.get("task"), record_score, "score"))
    return out
