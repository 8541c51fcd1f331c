"""``gui_click``: whether a click lands inside the target element's box."""

from __future__ import annotations

import math

from rewards.builtin._helpers import (bad_solution, box_to_image, fail, image_frame, point_to_image,
                                      solution_numbers, solution_value)
from rewards.context import RewardContext, RewardResult
from rewards.geometry import box_center, point_box_distance, point_in_box, sort_box, xywh_to_xyxy
from rewards.parse_gui import GuiAction, parse_gui_action
from rewards.parsing import ParseError, extract_answer
from rewards.registry import register_reward

VARIANTS = ("binary", "distance")


def target_box(ctx: RewardContext) -> list[float]:
    """The solution's target box in original pixels, sorted: ``bbox`` is (x1, y1, x2, y2), or
    (x, y, w, h) when ``bbox_format: "xywh"`` is set in the solution or in ``ctx.meta``."""
    raw = solution_numbers(ctx, solution_value(ctx, "bbox"), 4, "solution bbox")
    fmt = ctx.solution.get("bbox_format", ctx.meta.get("bbox_format", "xyxy"))
    if fmt not in ("xyxy", "xywh"):
        raise bad_solution(ctx, f"bbox_format must be 'xyxy' or 'xywh', got {fmt!r}")
    return sort_box(xywh_to_xyxy(raw) if fmt == "xywh" else raw)


def click_score(action: GuiAction, ctx: RewardContext, *, variant: str = "binary", radius: float = 0.1,
                image_index: int = 0) -> RewardResult:
    """Score a parsed click against the solution's target box (see :func:`gui_click_reward`)."""
    if variant not in VARIANTS:
        raise ValueError(f"gui_click: unknown variant {variant!r}; expected one of {VARIANTS}")
    target = target_box(ctx)
    if action.action != "click":
        return fail(f"action {action.action!r}, expected click")
    frame = image_frame(ctx, image_index)
    if action.point is not None:
        point = point_to_image(list(action.point), frame)
    else:
        point = box_center(box_to_image(list(action.box), frame, clip=False))
    if point_in_box(point, target):
        return RewardResult(score=1.0, components={"distance": 0.0})
    dist = point_box_distance(point, target)
    if variant == "binary":
        return RewardResult(score=0.0, components={"distance": dist})
    if frame is not None:
        w, h = frame.original_size
    else:
        w, h = target[2], target[3]
    reach = radius * math.hypot(w, h)
    shaped = 0.5 * max(0.0, 1.0 - dist / reach) if reach > 0 else 0.0
    return RewardResult(score=shaped, components={"distance": dist})


@register_reward("gui_click", score_range=(0.0, 1.0))
def gui_click_reward(completion: str, ctx: RewardContext, *, variant: str = "binary", radius: float = 0.1,
                     answer_tag: str = "answer", require_answer_tag: bool = True,
                     image_index: int = 0) -> RewardResult:
    """1 when the click lands in the target box (borders included), else 0; range [0, 1].

    The click is ``{"action": "click", "point_2d": [x, y]}``, a bare ``[x, y]``, or a box whose
    centre is used, in the output frame of ``ctx.images[image_index]``, mapped to original pixels.
    Solution ``{"action": "click", "bbox": [...]}`` in original pixels (``bbox_format: "xywh"`` for
    x, y, w, h sources). ``variant="distance"`` shapes misses: 0.5 * max(0, 1 - d / R) with d the
    distance (original pixels) from the click to the box and R = ``radius`` x the image diagonal
    (without an image frame: the distance of the box's far corner from the origin), so a hit (1.0) always beats a near miss (< 0.5). Another action type scores 0.
    """
    try:
        action = parse_gui_action(extract_answer(completion, answer_tag, required=require_answer_tag))
    except ParseError as e:
        target_box(ctx)  # a bad solution is still reported as a data error
        return fail(str(e))
    return click_score(action, ctx, variant=variant, radius=radius, image_index=image_index)
