"""vrft's COCO detection metric equals pycocotools' official evaluation of the annotation file itself,
on a COCO instances fixture with a crowd region and an image without annotations."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tests.data.official import materialize_official
from tests.data.oracle import oracle_record
from vrft.data.loaders import get_loader
from vrft.eval.benchmarks import get_benchmark


@pytest.fixture(scope="module")
def coco_val(tmp_path_factory):
    root = materialize_official(tmp_path_factory.mktemp("coco") / "data")
    ann = root / "coco" / "annotations" / "instances_val2017.json"
    res = get_loader("coco")(str(ann), str(root / "coco" / "val2017"), "coco_val")
    assert not res.problems
    return ann, res.samples


def official_stats(ann_file, records, samples) -> list[float]:
    """COCOeval on the original file, with the detections vrft parsed put back in its image and
    category ids."""
    cat_id = {c["name"]: c["id"] for c in json.loads(ann_file.read_text())["categories"]}
    results = [{"image_id": s.meta["image_id"], "category_id": cat_id[d["label"]],
                "bbox": [d["bbox"][0], d["bbox"][1], d["bbox"][2] - d["bbox"][0], d["bbox"][3] - d["bbox"][1]],
                "score": 1.0 if d.get("confidence") is None else d["confidence"]}
               for r, s in zip(records, samples) for d in r["answer"]]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        ev = COCOeval(gt, gt.loadRes(results), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(v) for v in ev.stats]


def completion(dets: list[dict]) -> str:
    return "<answer>" + json.dumps(dets) + "</answer>"


def test_loader_keeps_crowd_as_ignore_and_empty_images(coco_val):
    _, samples = coco_val
    by_image = {s.meta["image_id"]: s for s in samples}
    assert sorted(by_image) == [7386, 98304, 250282, 289343]
    assert by_image[7386].solution == {"objects": []}
    crowd = by_image[250282].solution
    assert [o["label"] for o in crowd["objects"]] == ["person"]
    assert crowd["ignore"][0]["bbox"] == [0.0, 34.0, 639.0, 422.0]


def scenario(samples, name: str) -> list[dict]:
    """Detections for each sample: the ground truth, plus what a scenario adds."""
    records = []
    for s in samples:
        dets = [{"bbox_2d": o["bbox"], "label": o["label"], "confidence": 0.9} for o in s.solution["objects"]]
        image = s.meta["image_id"]
        if name in ("crowd", "mixed") and image == 250282:  # a detection on the crowd region: ignored
            dets.append({"bbox_2d": [300.0, 100.0, 400.0, 300.0], "label": "person", "confidence": 0.95})
        if name == "mixed" and image == 7386:  # a false positive on the empty image
            dets.append({"bbox_2d": [10.0, 10.0, 100.0, 100.0], "label": "dog", "confidence": 0.99})
        if name == "mixed" and image == 98304:  # a loose box, below IoU 0.75
            dets[0]["bbox_2d"] = [o + d for o, d in zip(dets[0]["bbox_2d"], (3.0, 2.0, 3.0, 2.0))]
            dets[0]["confidence"] = 0.5
        records.append(oracle_record(s, completion(dets)))
    return records


@pytest.mark.parametrize("name", ["oracle", "crowd", "mixed"])
def test_metric_equals_pycocotools_on_the_file(coco_val, name):
    ann, samples = coco_val
    records = scenario(samples, name)
    m = get_benchmark("coco_det").metric(records)
    stats = official_stats(ann, records, samples)
    assert m["mAP"] == pytest.approx(max(stats[0], 0.0), abs=1e-12)
    assert m["AP50"] == pytest.approx(max(stats[1], 0.0), abs=1e-12)
    assert m["AP75"] == pytest.approx(max(stats[2], 0.0), abs=1e-12)
    if name in ("oracle", "crowd"):  # the crowd detection costs nothing, as in the official evaluation
        assert m["mAP"] == pytest.approx(1.0)
    else:
        assert m["mAP"] < 1.0


def test_all_twelve_stats_match(coco_val):
    from vrft.tasks.detection import coco_eval_stats, coco_inputs

    ann, samples = coco_val
    records = scenario(samples, "mixed")
    gt, results, unknown = coco_inputs(records)
    assert unknown == 0
    assert coco_eval_stats(gt, results) == pytest.approx(official_stats(ann, records, samples), abs=1e-12)
