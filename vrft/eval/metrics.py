"""Benchmark metrics: pure functions over prediction records (no model, no torch).

A record is one line of ``predictions.jsonl`` (see :func:`vrft.eval.records.make_record`); the
metrics read ``score``, ``correct``, ``unparseable``, ``extras``, ``meta`` and, with several samples
per prompt, ``samples`` (one judgement per completion). Primary metrics use each record's first
completion. Every metric dict has ``n``, ``unparseable`` (count), ``unparseable_rate`` and ``score``
(the benchmark's headline metric, in [0, 1]); unparseable outputs count as wrong everywhere.
"""

from __future__ import annotations

from math import comb
from typing import Any, Callable, Iterable

Record = dict[str, Any]


def mean(values: Iterable[float]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


def _iou(r: Record) -> float:
    return 0.0 if r.get("unparseable") else float((r.get("extras") or {}).get("iou", 0.0))


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


def _meta(name: str) -> Callable[[Record], Any]:
    return lambda r: (r.get("meta") or {}).get(name)


def _correct(r: Record) -> float:
    return float(bool(r.get("correct")) and not r.get("unparseable"))


def _score(r: Record) -> float:
    return 0.0 if r.get("unparseable") else float(r.get("score", 0.0))


def grounding_metrics(records: list[Record]) -> dict[str, float]:
    """RefCOCO: ``acc@0.5`` (IoU > 0.5 in original pixels) and ``miou``; headline ``acc@0.5``."""
    out = base_metrics(records)
    acc = mean(float(_iou(r) > 0.5) for r in records)
    out.update({"acc@0.5": acc, "miou": mean(_iou(r) for r in records), "score": acc})
    return out


def chart_metrics(records: list[Record]) -> dict[str, float]:
    """ChartQA relaxed accuracy (5% on numbers), overall and by ``meta.split`` (human / augmented)."""
    out = base_metrics(records)
    acc = mean(_score(r) for r in records)
    out.update({"relaxed_acc": acc, "score": acc})
    out.update(grouped(records, _meta("split"), _score, "relaxed_acc"))
    return out


def gui_click_metrics(records: list[Record]) -> dict[str, float]:
    """ScreenSpot / ScreenSpot-Pro click accuracy, overall, by element type (``data_type`` or
    ``ui_type``: text / icon), by ``platform``, by ``group`` and by ``application``."""
    out = base_metrics(records)
    acc = mean(_correct(r) for r in records)
    out.update({"click_acc": acc, "score": acc})
    kind = lambda r: (r.get("meta") or {}).get("data_type") or (r.get("meta") or {}).get("ui_type")  # noqa: E731
    out.update(grouped(records, kind, _correct, "click_acc"))
    for name in ("platform", "group", "application"):
        out.update(grouped(records, _meta(name), _correct, f"click_acc/{name}"))
    return out


def gui_action_metrics(records: list[Record]) -> dict[str, float]:
    """GUI actions (click, type, scroll): accuracy overall and by the solution's action."""
    out = base_metrics(records)
    acc = mean(_correct(r) for r in records)
    out.update({"action_acc": acc, "score": acc})
    out.update(grouped(records, lambda r: (r.get("solution") or {}).get("action"), _correct, "action_acc"))
    return out


TEMPORAL_THRESHOLDS = (0.3, 0.5, 0.7)


def temporal_metrics(records: list[Record]) -> dict[str, float]:
    """Charades-STA / ActivityNet: ``R1@m`` (top-1 IoU >= m) for m in 0.3, 0.5, 0.7 and ``miou``;
    headline ``miou`` (smoother than R1@0.5 for small evaluations)."""
    out = base_metrics(records)
    for m in TEMPORAL_THRESHOLDS:
        out[f"R1@{m}"] = mean(float(_iou(r) >= m) for r in records)
    out["miou"] = mean(_iou(r) for r in records)
    out["score"] = out["miou"]
    return out


def accuracy_metrics(records: list[Record]) -> dict[str, float]:
    """Multiple choice and short-answer VQA: ``accuracy`` (exact after normalisation)."""
    out = base_metrics(records)
    acc = mean(_correct(r) for r in records)
    out.update({"accuracy": acc, "score": acc})
    return out


def mixed_metrics(records: list[Record]) -> dict[str, float]:
    """Rows of several tasks (synthetic jsonl): mean score and accuracy overall and by task."""
    out = base_metrics(records)
    out.update({"accuracy": mean(_correct(r) for r in records), "score": mean(_score(r) for r in records)})
    out.update(grouped(records, lambda r: r.get("task"), _score, "score"))
    return out
