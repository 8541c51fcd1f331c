"""COCO detection metrics: hand-computed cases and agreement with pycocotools' COCOeval run directly."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from vrft.eval.benchmarks import get_benchmark

coco_det = get_benchmark("coco_det").metric


def det_record(gt_objects, preds, size=(100, 100), unparseable=False):
    return {"solution": {"objects": gt_objects}, "image_size": list(size), "unparseable": unparseable,
            "answer": None if unparseable else preds, "score": 0.0, "correct": False, "extras": {}, "meta": {}}


def test_perfect_detection_scores_one():
    gt = [{"bbox": [10, 10, 50, 50], "label": "cat"}, {"bbox": [60, 60, 90, 95], "label": "dog"}]
    preds = [{"bbox": [10, 10, 50, 50], "label": "Cat", "confidence": None},
             {"bbox": [60, 60, 90, 95], "label": "dog", "confidence": 0.8}]
    m = coco_det([det_record(gt, preds)])
    assert m["mAP"] == pytest.approx(1.0) and m["AP50"] == pytest.approx(1.0) and m["score"] == m["mAP"]


def test_single_box_at_iou_0_6_counts_for_three_of_ten_thresholds():
    # gt 0..100 x 0..10 (area 1000); prediction 0..60 x 0..10 -> IoU 600 / 1000 = 0.6: a hit at
    # thresholds 0.50, 0.55, 0.60 and a miss at 0.65..0.95, so mAP = 3 / 10 and AP50 = 1.
    rec = det_record([{"bbox": [0, 0, 100, 10], "label": "bar"}], [{"bbox": [0, 0, 60, 10], "label": "bar"}],
                     size=(200, 50))
    m = coco_det([rec])
    assert m["AP50"] == pytest.approx(1.0)
    assert m["mAP"] == pytest.approx(0.3)


def test_unparseable_and_unknown_labels_are_misses():
    gt = [{"bbox": [10, 10, 50, 50], "label": "cat"}]
    records = [det_record(gt, None, unparseable=True),
               det_record(gt, [{"bbox": [10, 10, 50, 50], "label": "zebra"}])]
    m = coco_det(records)
    assert m["mAP"] == 0.0 and m["unparseable"] == 1 and m["unknown_label"] == 1 and m["n_predictions"] == 0


def _random_case(seed: int):
    rng = np.random.default_rng(seed)
    labels = ["cat", "dog", "bird"]
    records, gt_images, gt_anns, results = [], [], [], []
    for img in range(1, 7):
        w, h = 320, 240
        objs = []
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(0, 200), rng.uniform(0, 150)
            bw, bh = rng.uniform(8, 110), rng.uniform(8, 80)
            objs.append({"bbox": [x, y, min(x + bw, w), min(y + bh, h)], "label": labels[int(rng.integers(3))]})
        preds = []
        for o in objs:  # jittered copies (some good, some poor), plus false alarms
            if rng.random() < 0.8:
                j = rng.normal(0, 8, 4)
                b = np.clip(np.array(o["bbox"]) + j, 0, [w, h, w, h])
                b = [min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])]
                preds.append({"bbox": [float(v) for v in b], "label": o["label"],
                              "confidence": float(rng.uniform(0.05, 1.0))})
        for _ in range(int(rng.integers(0, 3))):
            x, y = rng.uniform(0, 250), rng.uniform(0, 180)
            preds.append({"bbox": [x, y, x + 30, y + 30], "label": labels[int(rng.integers(3))],
                          "confidence": float(rng.uniform(0.05, 1.0)) if rng.random() < 0.7 else None})
        records.append(det_record(objs, preds, size=(w, h)))
        # The same predictions written directly as a COCO gt file and results file.
        gt_images.append({"id": img, "width": w, "height": h, "file_name": f"{img}.png"})
        for o in objs:
            x1, y1, x2, y2 = o["bbox"]
            gt_anns.append({"id": len(gt_anns) + 1, "image_id": img, "category_id": labels.index(o["label"]) + 10,
                            "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
        for p in preds:
            x1, y1, x2, y2 = p["bbox"]
            results.append({"image_id": img, "category_id": labels.index(p["label"]) + 10,
                            "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "score": 1.0 if p["confidence"] is None else p["confidence"]})
    used = {a["category_id"] for a in gt_anns}
    cats = [{"id": labels.index(n) + 10, "name": n} for n in labels if labels.index(n) + 10 in used]
    results = [r for r in results if r["category_id"] in used]
    return records, {"images": gt_images, "annotations": gt_anns, "categories": cats}, results


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pycocotools_cocoeval_on_the_same_predictions(tmp_path, seed):
    records, gt, results = _random_case(seed)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "res.json").write_text(json.dumps(results))
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(tmp_path / "gt.json"))
        ev = COCOeval(coco_gt, coco_gt.loadRes(str(tmp_path / "res.json")), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    m = coco_det(records)
    assert 0.0 < ev.stats[0] < 1.0  # a non-trivial case
    assert m["mAP"] == pytest.approx(ev.stats[0], abs=1e-12)
    assert m["AP50"] == pytest.approx(ev.stats[1], abs=1e-12)
    assert m["AP75"] == pytest.approx(ev.stats[2], abs=1e-12)
