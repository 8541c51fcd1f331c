"""``detection``: a list of labelled boxes against the ground-truth objects."""

from __future__ import annotations

from rewards.builtin._helpers import (bad_solution, box_to_image, fail, image_frame, solution_numbers,
                                      solution_value)
from rewards.context import RewardContext, RewardResult
from rewards.geometry import sort_box
from rewards.matching import match_boxes
from rewards.parse_spatial import MAX_DETECTIONS, parse_detections
from rewards.parsing import ParseError, extract_answer
from rewards.registry import register_reward

VARIANTS = ("visual_rft", "confidence", "vlm_r1")


def gt_objects(ctx: RewardContext) -> tuple[list[list[float]], list[str]]:
    """Boxes (original pixels, sorted) and labels of ``{"objects": [{"bbox": [...], "label": "cat"}]}``."""
    objects = solution_value(ctx, "objects")
    if not isinstance(objects, list):
        raise bad_solution(ctx, "solution objects must be a list")
    boxes, labels = [], []
    for o in objects:
        if not isinstance(o, dict) or "bbox" not in o:
            raise bad_solution(ctx, f"each object needs a bbox, got {str(o)[:120]}")
        boxes.append(sort_box(solution_numbers(ctx, o["bbox"], 4, "object bbox")))
        labels.append(str(o.get("label", "")))
    return boxes, labels


@register_reward("detection", score_range=(0.0, 1.0))
def detection_reward(completion: str, ctx: RewardContext, *, variant: str = "visual_rft",
                     iou_threshold: float = 0.5, max_predictions: int = MAX_DETECTIONS,
                     default_confidence: float = 1.0, w_miss: float = 0.5, w_false_alarm: float = 0.5,
                     answer_tag: str = "answer", require_answer_tag: bool = True,
                     image_index: int = 0) -> RewardResult:
    """Detection score of the answer's object list; range [0, 1].

    Predictions (``[{"bbox_2d": [...], "label": "cat", "confidence": 0.9}, ...]``, output frame of
    ``ctx.images[image_index]``) are mapped to original pixels and clipped, then matched one-to-one
    to the ground truth (Hungarian on IoU; a pair needs the same label, case-insensitive, and
    IoU >= ``iou_threshold``). With M matches, P predictions and G ground-truth objects:

    - ``visual_rft``: sum of matched IoU / max(P, G);
    - ``confidence``: mean over predictions of (confidence if matched else 1 - confidence); a
      prediction without confidence uses ``default_confidence`` (1.0: a confident prediction);
    - ``vlm_r1``: 1 - (w_miss * (G - M) / G + w_false_alarm * (P - M) / P), weights >= 0 summing
      to at most 1 (defaults 0.5 / 0.5).

    Every variant scores 1 when both lists are empty and 0 when exactly one is. More than
    ``max_predictions`` objects (default 100) scores 0 (no truncation: listing many boxes must
    not pay). Components: ``matched``, ``precision``, ``recall``, ``mean_iou``.
    """
    if variant not in VARIANTS:
        raise ValueError(f"detection: unknown variant {variant!r}; expected one of {VARIANTS}")
    if min(w_miss, w_false_alarm) < 0 or w_miss + w_false_alarm > 1:
        raise ValueError("detection: w_miss and w_false_alarm must be >= 0 and sum to at most 1")
    if not 0.0 <= default_confidence <= 1.0:
        raise ValueError("detection: default_confidence must be in [0, 1]")
    gt_b, gt_l = gt_objects(ctx)
    try:
        preds = parse_detections(extract_answer(completion, answer_tag, required=require_answer_tag),
                                 max_items=max_predictions)
    except ParseError as e:
        return fail(str(e))
    n_pred, n_gt = len(preds), len(gt_b)
    if n_pred == 0 or n_gt == 0:
        score = 1.0 if n_pred == n_gt else 0.0
        return RewardResult(score=score, components={"matched": 0.0, "precision": score, "recall": score,
                                                     "mean_iou": 0.0})
    frame = image_frame(ctx, image_index)
    boxes = [box_to_image(list(p.box), frame) for p in preds]
    pairs = match_boxes(boxes, gt_b, [p.label for p in preds], gt_l, iou_threshold)
    m = len(pairs)
    if variant == "visual_rft":
        score = sum(v for _, _, v in pairs) / max(n_pred, n_gt)
    elif variant == "confidence":
        matched = {i for i, _, _ in pairs}
        confs = [default_confidence if p.confidence is None else p.confidence for p in preds]
        score = sum(c if i in matched else 1.0 - c for i, c in enumerate(confs)) / n_pred
    else:
        score = 1.0 - (w_miss * (n_gt - m) / n_gt + w_false_alarm * (n_pred - m) / n_pred)
    comps = {"matched": float(m), "precision": m / n_pred, "recall": m / n_gt,
             "mean_iou": sum(v for _, _, v in pairs) / m if m else 0.0}
    return RewardResult(score=min(1.0, max(0.0, score)), components=comps)
