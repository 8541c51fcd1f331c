"""A new task kind is one file: registering it makes it usable by the loaders (solution checks),
the prompt templates, ground-truth completions and held-out evaluation (benchmark, judge, metrics).
The task below is that file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rewards.context import RewardContext
from rewards.parsing import ParseError
from vrft.data.load import load_dataset
from vrft.data.mixture_config import parse_mixture_config
from vrft.data.problems import DataValidationError
from vrft.data.templates import render_prompt, render_solution_completion
from vrft.eval.benchmarks import benchmark_for_dataset
from vrft.eval.judges import judge
from vrft.tasks import Judgement, SolutionError, Task, register_task
from vrft.tasks.base import parsed, unparseable
from vrft.tasks.metrics import accuracy_metrics


def parse_count(text: str) -> int:
    if not text.strip().isdigit():
        raise ParseError(f"expected a whole number, got {text[:40]!r}")
    return int(text)


@register_task("count_objects")
class CountObjects(Task):
    """How many objects: solution {"count": 3}, answer a whole number."""

    def check_solution(self, solution: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        n = solution.get("count")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise SolutionError(f"count_objects solution needs 'count': a whole number >= 0, got {n!r}")
        return solution

    def question(self, text: str) -> str:
        return f"How many {text} are there?"

    def answer_format(self, sample, frame: str) -> str:
        return "Answer with a single whole number."

    def render_answer(self, sample, frames, clip_start: float = 0.0) -> str:
        return str(sample.solution["count"])

    def judge(self, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        n, err = parsed(parse_count, completion, require_answer_tag)
        if err:
            return unparseable(err)
        ok = n == ctx.solution["count"]
        return Judgement(answer=n, score=float(ok), correct=ok)

    def metrics(self, records):
        return accuracy_metrics(records)


def dataset_config(tmp_path, rows):
    with open(tmp_path / "count.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    cfg = {"datasets": [{"name": "cnt", "format": "jsonl", "files": "count.jsonl",
                         "rewards": [{"name": "answer_match"}]}]}
    return parse_mixture_config(cfg, str(tmp_path)).datasets[0]


def row(i, count, task="count_objects"):
    return {"id": f"r{i}", "task": task, "prompt": "red squares", "solution": {"count": count}}


def test_new_task_loads_prompts_renders_and_evaluates(tmp_path):
    ds = load_dataset(dataset_config(tmp_path, [row(0, 3), row(1, 0)]))
    s = ds.samples[0]
    assert s.task == "count_objects" and s.solution == {"count": 3}

    prompt = render_prompt(s, "default", "norm_1000")
    assert prompt.startswith("How many red squares are there?") and "single whole number" in prompt
    completion = render_solution_completion(s, None, think=True)
    assert completion.endswith("<answer>3</answer>")

    bench = benchmark_for_dataset("count_objects", ["answer_match"], [s.solution])
    assert bench.name == "count_objects" and bench.judge_for(s.task) == "count_objects"
    ctx = RewardContext(solution=s.solution, task=s.task, dataset=s.dataset, sample_id=s.id)
    j = judge(bench.judge_for(s.task), completion, ctx)
    assert j.correct and j.score == 1.0
    assert judge("count_objects", "<answer>many</answer>", ctx).unparseable
    records = [{"score": j.score, "correct": j.correct, "unparseable": False}]
    assert bench.metric(records)["score"] == 1.0


def test_new_task_bad_solution_and_misspelt_task_are_row_problems(tmp_path):
    rows = [row(0, 3), row(1, -2), row(2, 1, task="count_object")]
    with pytest.raises(DataValidationError) as e:
        load_dataset(dataset_config(tmp_path, rows))
    msg = str(e.value)
    assert msg.startswith("dataset 'cnt': 2 invalid row(s) out of 3")
    assert "'count': a whole number >= 0, got -2" in msg
    assert "unknown task 'count_object' (did you mean 'count_objects'?)" in msg
