"""``temporal_iou``: temporal grounding, one predicted segment against the ground-truth segment."""

from __future__ import annotations

import math

from rewards.builtin._helpers import bad_solution, fail, solution_numbers, solution_value
from rewards.context import RewardContext, RewardResult
from rewards.frames import segment_to_original
from rewards.geometry import clip_segment, segment_iou
from rewards.parse_temporal import parse_segment
from rewards.parsing import ParseError, extract_answer
from rewards.registry import register_reward

VARIANTS = ("iou", "boundary_weighted", "soft")


def video_duration(ctx: RewardContext) -> float:
    """Duration in seconds from ``ctx.video.duration``, else ``ctx.meta["duration"]``."""
    d = ctx.video.duration if ctx.video is not None and ctx.video.duration else ctx.meta.get("duration")
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) or d <= 0:
        raise bad_solution(ctx, f"temporal reward needs a positive duration (ctx.video or meta), got {d!r}")
    return float(d)


@register_reward("temporal_iou", score_range=(0.0, 1.0))
def temporal_iou_reward(completion: str, ctx: RewardContext, *, variant: str = "iou",
                        soft_weight: float = 0.2, answer_tag: str = "answer",
                        require_answer_tag: bool = True) -> RewardResult:
    """Temporal IoU in seconds of the original video; range [0, 1].

    The answer (``12.50 to 20.10``, ``12.5 - 20.1``, JSON ``[s, e]``) is in seconds of the clip the
    model saw and is shifted by ``ctx.video.clip_start``. A start after the end scores 0; both
    segments are clipped to [0, duration]; an empty union scores 0. Solution
    ``{"segment": [s, e]}``. Variants (with ds, de the start / end errors divided by the duration):

    - ``iou`` (default): IoU;
    - ``boundary_weighted``: IoU x (1 - |ds|) x (1 - |de|);
    - ``soft``: (1 - soft_weight) x IoU + soft_weight x (1 - (|ds| + |de|) / 2), which still
      rewards nearby boundaries when the segments do not overlap (``soft_weight`` 0.2).
    """
    if variant not in VARIANTS:
        raise ValueError(f"temporal_iou: unknown variant {variant!r}; expected one of {VARIANTS}")
    if not 0.0 <= soft_weight <= 1.0:
        raise ValueError("temporal_iou: soft_weight must be in [0, 1]")
    duration = video_duration(ctx)
    gt = solution_numbers(ctx, solution_value(ctx, "segment"), 2, "solution segment")
    if gt[0] > gt[1]:
        raise bad_solution(ctx, f"solution segment starts after it ends: {gt}")
    try:
        seg = parse_segment(extract_answer(completion, answer_tag, required=require_answer_tag))
    except ParseError as e:
        return fail(str(e))
    if seg[0] > seg[1]:
        return fail("the segment starts after it ends")
    clip_start = ctx.video.clip_start if ctx.video is not None else 0.0
    pred = clip_segment(segment_to_original(seg, clip_start), 0.0, duration)
    gt = clip_segment(gt, 0.0, duration)
    iou = segment_iou(pred, gt)
    ds, de = abs(pred[0] - gt[0]) / duration, abs(pred[1] - gt[1]) / duration
    if variant == "iou":
        score = iou
    elif variant == "boundary_weighted":
        score = iou * (1.0 - ds) * (1.0 - de)
    else:
        score = (1.0 - soft_weight) * iou + soft_weight * (1.0 - (ds + de) / 2.0)
    return RewardResult(score=min(1.0, max(0.0, score)), components={"iou": iou})
