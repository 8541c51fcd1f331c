"""Answer tasks: a value, phrase or option letter checked against the solution's ``answer``.

| task  | answer format                   | judge reward (mode)       | benchmark                         |
|-------|---------------------------------|---------------------------|-----------------------------------|
| chart | a number, word or short phrase  | ``chart_answer`` (5% rel) | chartqa (relaxed accuracy)        |
| vqa   | a number, word or short phrase  | ``answer_match``          | vqa (accuracy); chartqa when the  |
|       |                                 |                           | dataset is rewarded by chart_answer |
| mcq   | the option letter               | ``answer_match`` (choice) | mcq (accuracy)                    |

Solution ``{"answer": "12.5"}`` (numbers are stored as text, lists as JSON lists). Correct when the
reward gives 1.
"""

from __future__ import annotations

from typing import Any, Callable

from rewards.context import RewardContext
from rewards.frames import ImageFrame
from rewards.parse_text import parse_choice
from vrft.data.sample import Sample
from vrft.tasks.base import Judgement, SolutionError, Task, parsed, register_task, reward, unparseable
from vrft.tasks.checks import answer_text
from vrft.tasks.metrics import Record, accuracy_metrics, base_metrics, grouped, mean, meta_value, record_score

SHORT_ANSWER = "Answer with a single number, word or short phrase (for example 12.5)."


def chart_metrics(records: list[Record]) -> dict[str, float]:
    """ChartQA relaxed accuracy (5% on numbers), overall and by ``meta.split`` (human / augmented)."""
    out = base_metrics(records)
    acc = mean(record_score(r) for r in records)
    out.update({"relaxed_acc": acc, "score": acc})
    out.update(grouped(records, meta_value("split"), record_score, "relaxed_acc"))
    return out


class AnswerTask(Task):
    """A task whose solution is ``{"answer": text}``, judged by the reward ``reward`` (with
    ``reward_args``) after parsing the <answer> text with ``parse``."""

    reward: str = "answer_match"
    reward_args: dict[str, Any] = {}
    format_text: str = SHORT_ANSWER
    headline = "accuracy"

    @staticmethod
    def parse(text: str) -> Any:
        return text

    def check_solution(self, solution: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        if "answer" not in solution:
            raise SolutionError(f"{self.name} solution needs 'answer', got keys {sorted(solution)}")
        solution["answer"] = answer_text(solution["answer"])
        return solution

    def answer_format(self, sample: Sample, frame: str) -> str:
        return self.format_text

    def render_answer(self, sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
        return str(sample.solution["answer"])

    def judge(self, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        text, err = parsed(self.parse, completion, require_answer_tag)
        if err:
            return unparseable(err)
        result = reward(self.reward, completion, ctx, require_answer_tag, **self.reward_args)
        return Judgement(answer=text, score=result.score, correct=result.score >= 1.0, reason=result.reason)

    def metrics(self, records: list[Record]) -> dict[str, float]:
        return accuracy_metrics(records)


@register_task("chart")
class Chart(AnswerTask):
    reward = "chart_answer"
    benchmark = "chartqa"
    headline = "relaxed_acc"

    def metrics(self, records: list[Record]) -> dict[str, float]:
        return chart_metrics(records)


@register_task("vqa")
class VQA(AnswerTask):
    benchmark = "vqa"

    def benchmark_for(self, reward_names: list[str], solutions: list[dict]) -> str | None:
        return "chartqa" if "chart_answer" in reward_names else self.benchmark  # its judge is the chart one


@register_task("mcq")
class MultipleChoice(AnswerTask):
    reward_args = {"mode": "choice"}
    format_text = "Answer with the letter of the correct option only (for example B)."
    benchmark = "mcq"
    parse: Callable[[str], Any] = staticmethod(parse_choice)
