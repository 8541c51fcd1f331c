"""COCO detection metrics: the model's boxes become a COCO results file scored by pycocotools.

Each record is one image of the evaluation set (a fresh image id per record, so two samples of the
same picture, as in few-shot per-category sampling, never share ground truth). Categories are the
ground-truth labels, matched to predicted labels by name, case-insensitively; a prediction whose
label names no ground-truth category is left out (pycocotools would ignore it too) and counted in
``unknown_label``. A prediction's score is its ``confidence``, 1.0 when the model gave none.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from vrft.eval.metrics import Record, base_metrics

DEFAULT_CONFIDENCE = 1.0


def _xywh(box) -> list[float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def coco_inputs(records: list[Record]) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """(ground-truth dataset dict, results list, predictions with an unknown label) of the records."""
    names = sorted({str(o.get("label", "")).strip().lower() for r in records
                    for o in (r.get("solution") or {}).get("objects", [])})
    cat_id = {n: i + 1 for i, n in enumerate(names)}
    images, anns, results, unknown = [], [], [], 0
    for k, r in enumerate(records, 1):
        w, h = r.get("image_size") or (0, 0)
        images.append({"id": k, "width": int(w), "height": int(h)})
        for o in (r.get("solution") or {}).get("objects", []):
            box, label = _xywh(o["bbox"]), str(o.get("label", "")).strip().lower()
            anns.append({"id": len(anns) + 1, "image_id": k, "category_id": cat_id[label], "bbox": box,
                         "area": box[2] * box[3], "iscrowd": 0})
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
    if not gt["annotations"]:
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
                "n_predictions": len(results), "n_gt": len(gt["annotations"]), "unknown_label": unknown})
    out["score"] = out["mAP"]
    return out
