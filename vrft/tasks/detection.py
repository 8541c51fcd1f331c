"""Detection: every object of the asked categories, with boxes and labels (COCO-style).

Solution ``{"objects": [{"bbox": [x1, y1, x2, y2], "label": "cat"}, ...]}`` (original pixels; may be
empty); the model answers ``[{"bbox_2d": [...], "label": "cat", "confidence": 0.9}, ...]``. Judged by
the ``detection`` reward; correct when every ground-truth object is matched and nothing else is
predicted. Held-out splits are scored by pycocotools' COCOeval (:func:`detection_metrics`).

COCO metrics: each record is one image of the evaluation set (a fresh image id per record, so two
samples of the same picture, as in few-shot per-category sampling, never share ground truth).
The solution's crowd regions (``ignore``, from COCO's ``iscrowd: 1``) are passed as crowd annotations
and each object's ``area`` (COCO's, when the loader kept it) as its area, so on a COCO instances file
loaded image by image the numbers are those of pycocotools' official evaluation of that file.
Categories are the ground-truth labels, matched to predicted labels by name, case-insensitively; a
prediction whose label names no ground-truth category is left out (pycocotools would ignore it too)
and counted in ``unknown_label``. A prediction's score is its ``confidence``, 1.0 when it has none.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rewards.builtin._helpers import box_to_image, image_frame
from rewards.context import RewardContext
from rewards.frames import ImageFrame, box_from_original
from rewards.parse_spatial import parse_detections
from vrft.data.sample import Sample
from vrft.tasks.base import Judgement, SolutionError, Task, parsed, register_task, reward, unparseable
from vrft.tasks.checks import check_box
from vrft.tasks.metrics import Record, base_metrics
from vrft.tasks.render import dumps, frame_ints, sample_frame

DEFAULT_CONFIDENCE = 1.0


def _xywh(box) -> list[float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def coco_inputs(records: list[Record]) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """(ground-truth dataset dict, results list, predictions with an unknown label) of the records."""
    def gt_of(r: Record) -> list[tuple[dict[str, Any], int]]:
        sol = r.get("solution") or {}
        return [(o, 0) for o in sol.get("objects", [])] + [(o, 1) for o in sol.get("ignore", [])]

    names = sorted({str(o.get("label", "")).strip().lower() for r in records for o, _ in gt_of(r)})
    cat_id = {n: i + 1 for i, n in enumerate(names)}
    images, anns, results, unknown = [], [], [], 0
    for k, r in enumerate(records, 1):
        w, h = r.get("image_size") or (0, 0)
        images.append({"id": k, "width": int(w), "height": int(h)})
        for o, crowd in gt_of(r):
            box, label = _xywh(o["bbox"]), str(o.get("label", "")).strip().lower()
            area = float(o["area"]) if isinstance(o.get("area"), (int, float)) else box[2] * box[3]
            anns.append({"id": len(anns) + 1, "image_id": k, "category_id": cat_id[label], "bbox": box,
                         "area": area, "iscrowd": crowd})
        if r.get("unparseable") or not isinstance(r.get("answer"), list):
            continue
        for d in r["answer"]:
            label = str(d.get("label", "")).strip().lower()
            if label not in cat_id:
                unknown += 1
                continue
            conf = d.get("confidence")
            results.append({"image_id": k, "category_id": cat_id[label], "bbox": _xywh(d["bbox"]),
                            "score": DEFAULT_CONFIDENCE if conf is None else float(conf)})
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": i, "name": n} for n, i in cat_id.items()]}
    return gt, results, unknown


def coco_eval_stats(gt: dict[str, Any], results: list[dict[str, Any]]) -> list[float]:
    """COCOeval's 12 bbox summary numbers (AP@[.5:.95], AP50, AP75, ...); -1 where undefined.
    With no predictions at all every AP is 0 (pycocotools cannot load an empty results list)."""
    if not any(not a["iscrowd"] for a in gt["annotations"]):
        return [-1.0] * 12
    if not results:
        return [0.0] * 12
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress and the summary
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(v) for v in ev.stats]


def detection_metrics(records: list[Record]) -> dict[str, float]:
    """COCO ``mAP`` (AP@[.5:.95]), ``AP50`` and ``AP75`` from pycocotools; headline ``mAP``.
    Also the mean per-sample ``detection`` reward (``mean_score``). Undefined APs (no ground truth)
    are reported as 0."""
    out = base_metrics(records)
    gt, results, unknown = coco_inputs(records)
    stats = coco_eval_stats(gt, results)
    out.update({"mAP": max(stats[0], 0.0), "AP50": max(stats[1], 0.0), "AP75": max(stats[2], 0.0),
                "n_predictions": len(results), "n_gt": sum(1 for a in gt["annotations"] if not a["iscrowd"]),
                "unknown_label": unknown})
    out["score"] = out["mAP"]
    return out


@register_task("detection")
class Detection(Task):
    benchmark = "coco_det"
    headline = "mAP"

    def check_solution(self, solution: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        """``objects`` (required) and the optional crowd regions ``ignore``: lists of {bbox, label}."""
        for key in ("objects", "ignore"):
            objs = solution.get(key, [] if key == "ignore" else None)
            if not isinstance(objs, list):
                raise SolutionError(f"detection solution needs {key!r}: a list of {{bbox, label}}")
            out = []
            for o in objs:
                if not isinstance(o, dict) or not isinstance(o.get("label"), str):
                    raise SolutionError(f"detection object needs 'bbox' and a string 'label', got {o!r}")
                out.append({**o, "bbox": check_box(o.get("bbox"), "object bbox")})
            if key in solution:
                solution[key] = out
        return solution

    def answer_format(self, sample: Sample, frame: str) -> str:
        return ('Answer with a JSON list of every such object, [{"bbox_2d": [x1, y1, x2, y2], '
                f'"label": "cat"}}, ...], in {frame}; answer [] when there is none.')

    def render_answer(self, sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
        frame = sample_frame(sample, frames)
        return dumps([{"bbox_2d": frame_ints(box_from_original(o["bbox"], frame), frame), "label": o["label"]}
                      for o in sample.solution["objects"]])

    def judge(self, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        dets, err = parsed(parse_detections, completion, require_answer_tag)
        if err:
            return unparseable(err)
        frame = image_frame(ctx)
        answer = [{"bbox": box_to_image(list(d.box), frame), "label": d.label, "confidence": d.confidence}
                  for d in dets]
        result = reward("detection", completion, ctx, require_answer_tag)
        c = result.components
        correct = c.get("precision", 0.0) == 1.0 and c.get("recall", 0.0) == 1.0
        return Judgement(answer=answer, score=result.score, correct=correct, reason=result.reason,
                         extras={k: float(v) for k, v in c.items()})

    def metrics(self, records: list[Record]) -> dict[str, float]:
        return detection_metrics(records)
