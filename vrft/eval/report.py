"""Markdown tables: one run's metrics, two runs side by side, and a per-dataset before/after."""

from __future__ import annotations

import json
import os
from typing import Any

METRICS_JSON = "metrics.json"
METRICS_MD = "metrics.md"
COUNT_KEYS = ("n", "unparseable", "n_predictions", "n_gt", "unknown_label")


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or key in COUNT_KEYS or (isinstance(value, int)):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _ordered_keys(*metric_dicts: dict[str, Any]) -> list[str]:
    """``score`` first, then the headline metrics in first-seen order, breakdowns (``a/b``) and
    counts last."""
    keys: list[str] = []
    for m in metric_dicts:
        keys += [k for k in m if k not in keys]
    head = [k for k in keys if k == "score"]
    main = [k for k in keys if k != "score" and "/" not in k and k not in COUNT_KEYS
            and k not in ("unparseable_rate", "mean_score")]
    split = [k for k in keys if "/" in k]
    tail = [k for k in ("mean_score", "unparseable_rate", *COUNT_KEYS) if k in keys]
    return head + main + split + tail


def metrics_table(metrics: dict[str, Any], title: str = "value") -> str:
    """A two-column markdown table of one metrics dict."""
    lines = [f"| metric | {title} |", "|---|---:|"]
    lines += [f"| {k} | {fmt(k, metrics[k])} |" for k in _ordered_keys(metrics)]
    return "\n".join(lines)


def run_markdown(summary: dict[str, Any]) -> str:
    """``metrics.md``: a header naming the model, benchmark and data, then the metrics table."""
    head = [f"# {summary.get('benchmark')} - {summary.get('model')}", "",
            f"data: `{summary.get('data')}`  samples: {summary.get('n_samples')}  "
            f"headline: `{summary.get('headline')}`", ""]
    return "\n".join(head) + metrics_table(summary["metrics"]) + "\n"


def read_run(run: str) -> dict[str, Any]:
    """A run's ``metrics.json`` (``run`` is the output folder or the file itself)."""
    path = os.path.join(run, METRICS_JSON) if os.path.isdir(run) else run
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {METRICS_JSON} in {run}; run `vrft eval ... --out {run}` first")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _label(run: str, summary: dict[str, Any]) -> str:
    name = os.path.basename(os.path.normpath(run))
    return name or str(summary.get("model"))


def compare_table(run_a: str, run_b: str) -> str:
    """Side-by-side markdown of two runs' metrics (e.g. base model vs trained) with B - A."""
    a, b = read_run(run_a), read_run(run_b)
    la, lb = _label(run_a, a), _label(run_b, b)
    if la == lb:
        la, lb = f"A: {la}", f"B: {lb}"
    ma, mb = a.get("metrics", {}), b.get("metrics", {})
    lines = []
    if a.get("benchmark") != b.get("benchmark"):
        lines += [f"note: different benchmarks ({a.get('benchmark')} vs {b.get('benchmark')})", ""]
    lines += [f"| metric | {la} | {lb} | delta |", "|---|---:|---:|---:|"]
    for k in _ordered_keys(ma, mb):
        va, vb = ma.get(k), mb.get(k)
        delta = fmt(k, vb - va) if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else "-"
        if delta not in ("-",) and not delta.startswith("-"):
            delta = "+" + delta
        lines.append(f"| {k} | {fmt(k, va)} | {fmt(k, vb)} | {delta} |")
    models = f"A = {a.get('model')} ({run_a}), B = {b.get('model')} ({run_b})"
    return "\n".join(lines) + "\n\n" + models


def before_after_table(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]],
                       key: str = "score") -> str:
    """Per-dataset headline before and after training (inputs: :func:`evaluate_mixture_heldout`)."""
    return stages_table([("before", before), ("after", after)], key)


def stages_table(stages: list[tuple[str, dict[str, dict[str, float]] | None]], key: str = "score",
                 gains: list[tuple[str, int, int]] | None = None) -> str:
    """Per-dataset headline at each named stage of a run (e.g. before, after warm-up, after RL; a
    stage that did not happen is None and shows "-"), then each gain `(title, i, j)`: stage j minus
    stage i (default: the last stage minus the first, titled "delta")."""
    gains = gains if gains is not None else [("delta", 0, len(stages) - 1)]
    names: list[str] = []
    for _, results in stages:
        names += [n for n in (results or {}) if n not in names]
    lines = ["| dataset | " + " | ".join(title for title, _ in stages) + "".join(f" | {t}" for t, _, _ in gains)
             + " |", "|---|" + "---:|" * (len(stages) + len(gains))]
    for name in names:
        values = [(results or {}).get(name, {}).get(key) for _, results in stages]
        cells = [fmt(key, v) for v in values]
        for _, i, j in gains:
            cells.append(f"{values[j] - values[i]:+.4f}" if values[i] is not None and values[j] is not None else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
