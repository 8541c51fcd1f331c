"""Benchmark evaluation: a registry of benchmarks, judges, pure metric functions, a resumable
data-parallel runner (``vrft eval``) and the API the GRPO engine calls for held-out evaluation.

    from vrft.eval import evaluate_samples, evaluate_mixture_heldout, get_benchmark

Modules: :mod:`~vrft.eval.benchmarks` (registry; metrics live with their task in :mod:`vrft.tasks`),
:mod:`~vrft.eval.judges` (completion -> answer in the original frame, score: the task's judge),
:mod:`~vrft.eval.records` (predictions.jsonl), :mod:`~vrft.eval.api` (Sample lists),
:mod:`~vrft.eval.run` (a benchmark run), :mod:`~vrft.eval.report` (markdown tables).
Names are imported lazily, so ``vrft eval --compare`` does not import torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "EvalResult": "api", "EvalSettings": "api", "evaluate_samples": "api", "evaluate_mixture_heldout": "api",
    "ToolLoopUnavailable": "api",
    "Benchmark": "benchmarks", "register_benchmark": "benchmarks", "get_benchmark": "benchmarks",
    "list_benchmarks": "benchmarks", "benchmark_for_dataset": "benchmarks",
    "Judgement": "judges", "judge": "judges",
    "EvalRun": "run", "run_eval": "run",
    "before_after_table": "report", "stages_table": "report", "compare_table": "report", "metrics_table": "report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"vrft.eval.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'vrft.eval' has no attribute {name!r}")
