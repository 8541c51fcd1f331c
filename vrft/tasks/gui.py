"""GUI: one action on a screenshot (ScreenSpot-style clicks, typed text).

Solution ``{"action": "click", "bbox": [x1, y1, x2, y2]}`` (the target element, original pixels) or
``{"action": "type", "text": "..."}``; the model answers ``{"action": "click", "point_2d": [x, y]}``
(the ground truth clicks the element's centre), ``{"action": "type", "text": ...}`` or a scroll.
Judged by the ``gui_action`` reward; correct when it gives 1. Held-out splits are scored like
ScreenSpot (click accuracy), or by action accuracy when some solution is not a click or the dataset
is rewarded by ``gui_action``.
"""

from __future__ import annotations

from typing import Any

from rewards.builtin._helpers import box_to_image, image_frame, point_to_image
from rewards.context import RewardContext
from rewards.frames import ImageFrame, point_from_original
from rewards.geometry import box_center
from rewards.parse_gui import parse_gui_action
from vrft.data.sample import Sample
from vrft.tasks.base import Judgement, SolutionError, Task, parsed, register_task, reward, unparseable
from vrft.tasks.checks import check_box
from vrft.tasks.metrics import Record, base_metrics, grouped, mean, meta_value, record_correct
from vrft.tasks.render import dumps, frame_ints, sample_frame

GUI_ACTIONS = ("click", "type")
"""Actions a solution can hold (the model may also answer with a scroll)."""


def gui_click_metrics(records: list[Record]) -> dict[str, float]:
    """ScreenSpot / ScreenSpot-Pro click accuracy, overall, by element type (``data_type`` or
    ``ui_type``: text / icon), by ScreenSpot's ``data_source`` (ios, android, windows, macos, shop,
    ...), by ScreenSpot-Pro's ``platform``, by ``group`` and by ``application``."""
    out = base_metrics(records)
    acc = mean(record_correct(r) for r in records)
    out.update({"click_acc": acc, "score": acc})
    kind = lambda r: (r.get("meta") or {}).get("data_type") or (r.get("meta") or {}).get("ui_type")  # noqa: E731
    out.update(grouped(records, kind, record_correct, "click_acc"))
    for name in ("data_source", "platform", "group", "application"):
        out.update(grouped(records, meta_value(name), record_correct, f"click_acc/{name}"))
    return out


def gui_action_metrics(records: list[Record]) -> dict[str, float]:
    """GUI actions (click, type, scroll): accuracy overall and by the solution's action."""
    out = base_metrics(records)
    acc = mean(record_correct(r) for r in records)
    out.update({"action_acc": acc, "score": acc})
    out.update(grouped(records, lambda r: (r.get("solution") or {}).get("action"), record_correct, "action_acc"))
    return out


@register_task("gui")
class GUI(Task):
    benchmark = "screenspot"
    headline = "click_acc"

    def check_solution(self, solution: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        action = solution.get("action")
        if action == "click":
            solution["bbox"] = check_box(solution.get("bbox"), "click bbox")
        elif action == "type":
            if not isinstance(solution.get("text"), str):
                raise SolutionError("gui type solution needs a string 'text'")
        else:
            raise SolutionError(f"gui solution 'action' must be one of {list(GUI_ACTIONS)}, got {action!r}")
        return solution

    def question(self, text: str) -> str:
        return f'On this screenshot, carry out the instruction: "{text}".'

    def answer_format(self, sample: Sample, frame: str) -> str:
        return ('Answer with one action as JSON: {"action": "click", "point_2d": [x, y]} to click a '
                f'point given in {frame}, or {{"action": "type", "text": "..."}} to type text.')

    def render_answer(self, sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
        sol = sample.solution
        if sol["action"] == "type":
            return dumps({"action": "type", "text": sol["text"]})
        frame = sample_frame(sample, frames)
        x1, y1, x2, y2 = sol["bbox"]
        point = point_from_original([(x1 + x2) / 2, (y1 + y2) / 2], frame)
        return dumps({"action": "click", "point_2d": frame_ints(point, frame)})

    def judge(self, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        action, err = parsed(parse_gui_action, completion, require_answer_tag)
        if err:
            return unparseable(err)
        answer: dict[str, Any] = {"action": action.action}
        if action.action == "click":
            frame = image_frame(ctx)
            answer["point"] = (point_to_image(list(action.point), frame) if action.point is not None
                               else box_center(box_to_image(list(action.box), frame, clip=False)))
        elif action.action == "type":
            answer["text"] = action.text
        elif action.action == "scroll":
            answer["direction"] = action.direction
        result = reward("gui_action", completion, ctx, require_answer_tag)
        return Judgement(answer=answer, score=result.score, correct=result.score >= 1.0, reason=result.reason,
                         extras={k: float(v) for k, v in result.components.items()})

    def metrics(self, records: list[Record]) -> dict[str, float]:
        return gui_click_metrics(records)

    def benchmark_for(self, reward_names: list[str], solutions: list[dict]) -> str | None:
        if "gui_action" in reward_names or any((s or {}).get("action", "click") != "click" for s in solutions):
            return "gui_action"
        return self.benchmark
