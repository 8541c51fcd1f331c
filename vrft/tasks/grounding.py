"""Grounding: find the region a referring expression describes (RefCOCO-style).

Solution ``{"boxes": [[x1, y1, x2, y2], ...]}`` (original pixels; any box counts); the model answers
``{"bbox_2d": [x1, y1, x2, y2]}`` in its output frame. Judged by the ``iou`` reward (best box);
correct when IoU > 0.5. Held-out splits are scored like RefCOCO (``acc@0.5``, ``miou``).
"""

from __future__ import annotations

from typing import Any

from rewards.builtin._helpers import box_to_image, image_frame
from rewards.context import RewardContext
from rewards.frames import ImageFrame, box_from_original
from rewards.parse_spatial import parse_box
from vrft.data.sample import Sample
from vrft.tasks.base import Judgement, SolutionError, Task, parsed, register_task, reward, unparseable
from vrft.tasks.checks import check_box
from vrft.tasks.metrics import Record, base_metrics, mean, record_iou
from vrft.tasks.render import dumps, frame_ints, sample_frame


def grounding_metrics(records: list[Record]) -> dict[str, float]:
    """RefCOCO: ``acc@0.5`` (IoU > 0.5 in original pixels) and ``miou``; headline ``acc@0.5``."""
    out = base_metrics(records)
    acc = mean(float(record_iou(r) > 0.5) for r in records)
    out.update({"acc@0.5": acc, "miou": mean(record_iou(r) for r in records), "score": acc})
    return out


@register_task("grounding")
class Grounding(Task):
    benchmark = "refcoco"
    headline = "acc@0.5"

    def check_solution(self, solution: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        boxes = solution.get("boxes")
        if not isinstance(boxes, list) or not boxes:
            raise SolutionError("grounding solution needs 'boxes': a non-empty list of [x1, y1, x2, y2]")
        solution["boxes"] = [check_box(b, "solution box") for b in boxes]
        return solution

    def question(self, text: str) -> str:
        return f'Find the region of the image described by: "{text}".'

    def answer_format(self, sample: Sample, frame: str) -> str:
        return f'Answer with its bounding box as {{"bbox_2d": [x1, y1, x2, y2]}} in {frame}.'

    def render_answer(self, sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
        frame = sample_frame(sample, frames)
        boxes = [{"bbox_2d": frame_ints(box_from_original(b, frame), frame)} for b in sample.solution["boxes"]]
        return dumps(boxes[0] if len(boxes) == 1 else boxes)

    def judge(self, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        box, err = parsed(parse_box, completion, require_answer_tag)
        if err:
            return unparseable(err)
        iou = reward("iou", completion, ctx, require_answer_tag).score
        return Judgement(answer=box_to_image(box, image_frame(ctx)), score=iou, correct=iou > 0.5,
                         extras={"iou": iou})

    def metrics(self, records: list[Record]) -> dict[str, float]:
        return grounding_metrics(records)
