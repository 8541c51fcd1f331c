"""``iou``: referring-expression grounding, one predicted box against the ground truth."""

from __future__ import annotations

from rewards.builtin._helpers import (bad_solution, box_to_image, fail, image_frame, solution_numbers,
                                      solution_value)
from rewards.context import RewardContext, RewardResult
from rewards.geometry import box_iou, sort_box
from rewards.parse_spatial import parse_box
from rewards.parsing import ParseError, extract_answer
from rewards.registry import register_reward


def gt_boxes(ctx: RewardContext) -> list[list[float]]:
    """Ground-truth boxes (original pixels) from ``{"boxes": [[x1, y1, x2, y2], ...]}`` (or one
    ``"bbox"``), corners sorted."""
    raw = solution_value(ctx, "boxes", "bbox")
    if raw and isinstance(raw, (list, tuple)) and not isinstance(raw[0], (list, tuple)):
        raw = [raw]
    if not raw or not isinstance(raw, (list, tuple)):
        raise bad_solution(ctx, "solution boxes must be a non-empty list of [x1, y1, x2, y2]")
    return [sort_box(solution_numbers(ctx, b, 4, "solution box")) for b in raw]


@register_reward("iou", score_range=(0.0, 1.0))
def iou_reward(completion: str, ctx: RewardContext, *, threshold: float | None = None,
               gt: str = "best", answer_tag: str = "answer", require_answer_tag: bool = True,
               image_index: int = 0) -> RewardResult:
    """IoU between the answer's box and the ground-truth box, in original pixels; range [0, 1].

    The prediction is the first (or only) box of the single ``<answer>`` block (``{"bbox_2d": [...]}``,
    a bare ``[x1, y1, x2, y2]`` or Qwen's ```json list of objects), in the model's output frame
    (``ctx.images[image_index]``); it is mapped to original pixels, corners sorted and clipped to the
    image. Solution ``{"boxes": [...]}``: with ``gt="best"`` (default) the score is the best IoU over
    the ground-truth boxes (any of several acceptable referents counts), with ``gt="first"`` the
    first box only. ``threshold`` turns the score into 0/1 (IoU >= threshold); the continuous IoU
    is then reported as the ``iou`` component. Unparseable output scores 0 with a reason.
    """
    if gt not in ("best", "first"):
        raise ValueError(f"iou: gt must be 'best' or 'first', got {gt!r}")
    gts = gt_boxes(ctx)
    try:
        answer = extract_answer(completion, answer_tag, required=require_answer_tag)
        pred = parse_box(answer)
    except ParseError as e:
        return fail(str(e))
    box = box_to_image(pred, image_frame(ctx, image_index))
    value = box_iou(box, gts[0]) if gt == "first" or len(gts) == 1 else max(box_iou(box, g) for g in gts)
    if threshold is None:
        return RewardResult(score=value)
    return RewardResult(score=1.0 if value >= threshold else 0.0, components={"iou": value})
