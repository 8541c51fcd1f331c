"""Benchmark metrics against hand-computed values (pure functions over prediction records)."""

from __future__ import annotations

import pytest

from vrft.eval.benchmarks import get_benchmark
from vrft.tasks.metrics import pass_at_k, pass_at_k_estimate


def rec(score=0.0, correct=False, unparseable=False, iou=None, meta=None, **kw):
    extras = {} if iou is None else {"iou": iou}
    return {"score": score, "correct": correct, "unparseable": unparseable, "extras": extras,
            "meta": meta or {}, **kw}


def test_refcoco_accuracy_is_strictly_above_half_and_miou_counts_failures_as_zero():
    records = [rec(0.8, True, iou=0.8), rec(0.5, False, iou=0.5), rec(0.3, iou=0.3),
               rec(unparseable=True, reason="no <answer> block")]
    m = get_benchmark("refcoco").metric(records)
    assert m["acc@0.5"] == pytest.approx(0.25)
    assert m["miou"] == pytest.approx((0.8 + 0.5 + 0.3) / 4)
    assert m["unparseable"] == 1 and m["unparseable_rate"] == pytest.approx(0.25)
    assert m["n"] == 4 and m["score"] == m["acc@0.5"]
    assert get_benchmark("refcocog").metric(records) == m


def test_chartqa_relaxed_accuracy_by_split():
    records = [rec(1.0, True, meta={"split": "human"}), rec(1.0, True, meta={"split": "human"}),
               rec(0.0, meta={"split": "augmented"}), rec(unparseable=True, meta={"split": "augmented"}),
               rec(0.5)]  # a list answer half right; no split
    m = get_benchmark("chartqa").metric(records)
    assert m["relaxed_acc"] == pytest.approx(2.5 / 5)
    assert m["relaxed_acc/human"] == 1.0 and m["relaxed_acc/augmented"] == 0.0
    assert m["unparseable"] == 1 and m["score"] == m["relaxed_acc"]


def test_screenspot_click_accuracy_by_type_data_source_and_group():
    records = [
        rec(1, True, meta={"data_type": "text", "data_source": "ios", "group": "mobile"}),
        rec(0, False, meta={"data_type": "icon", "data_source": "ios", "group": "mobile"}),
        rec(1, True, meta={"data_type": "icon", "data_source": "windows", "group": "desktop"}),
        rec(unparseable=True, meta={"data_type": "text", "data_source": "windows", "group": "desktop"}),
    ]
    m = get_benchmark("screenspot").metric(records)
    assert m["click_acc"] == 0.5
    assert m["click_acc/text"] == 0.5 and m["click_acc/icon"] == 0.5
    assert m["click_acc/data_source/ios"] == 0.5 and m["click_acc/data_source/windows"] == 0.5
    assert not any(k.startswith("click_acc/platform/") for k in m)  # ScreenSpot has no platform field
    assert m["click_acc/group/mobile"] == 0.5 and m["click_acc/group/desktop"] == 0.5


def test_screenspot_pro_uses_ui_type_and_application():
    records = [rec(1, True, meta={"ui_type": "text", "group": "Dev", "platform": "macos", "application": "pycharm"}),
               rec(0, False, meta={"ui_type": "icon", "group": "Dev", "platform": "macos", "application": "vscode"}),
               rec(0, False, meta={"ui_type": "icon", "group": "CAD", "platform": "windows", "application": "autocad"})]
    m = get_benchmark("screenspot_pro").metric(records)
    assert m["click_acc"] == pytest.approx(1 / 3)
    assert m["click_acc/text"] == 1.0 and m["click_acc/icon"] == 0.0
    assert m["click_acc/group/Dev"] == 0.5 and m["click_acc/group/CAD"] == 0.0
    assert m["click_acc/application/pycharm"] == 1.0


def test_temporal_recall_at_thresholds_and_miou():
    records = [rec(iou=0.75), rec(iou=0.5), rec(iou=0.3), rec(iou=0.1), rec(unparseable=True)]
    for name in ("charades_sta", "activitynet"):
        m = get_benchmark(name).metric(records)
        assert m["R1@0.3"] == pytest.approx(3 / 5)   # IoU >= m counts
        assert m["R1@0.5"] == pytest.approx(2 / 5)
        assert m["R1@0.7"] == pytest.approx(1 / 5)
        assert m["miou"] == pytest.approx(1.65 / 5) and m["score"] == m["miou"]


def test_mcq_and_vqa_accuracy():
    records = [rec(1, True), rec(0, False), rec(unparseable=True), rec(1, True)]
    for name in ("mcq", "vqa"):
        m = get_benchmark(name).metric(records)
        assert m["accuracy"] == 0.5 and m["unparseable"] == 1


def test_synthetic_scores_by_task_and_gui_action_by_action():
    records = [rec(1, True, task="vqa"), rec(0.4, False, task="grounding"), rec(0.6, True, task="grounding")]
    m = get_benchmark("synthetic").metric(records)
    assert m["score"] == pytest.approx(2.0 / 3) and m["accuracy"] == pytest.approx(2 / 3)
    assert m["score/grounding"] == pytest.approx(0.5) and m["score/vqa"] == 1.0
    gui = [rec(1, True, solution={"action": "type"}), rec(0, False, solution={"action": "click"}),
           rec(1, True, solution={"action": "click"})]
    m = get_benchmark("gui_action").metric(gui)
    assert m["action_acc"] == pytest.approx(2 / 3)
    assert m["action_acc/type"] == 1.0 and m["action_acc/click"] == 0.5


def test_pass_at_k_unbiased_estimator():
    assert pass_at_k_estimate(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k_estimate(4, 1, 2) == pytest.approx(1 - 3 / 6)
    assert pass_at_k_estimate(4, 0, 4) == 0.0 and pass_at_k_estimate(4, 3, 2) == 1.0
    records = [{"samples": [{"correct": c} for c in (True, False, False, False)]},
               {"samples": [{"correct": False}] * 4}]
    assert pass_at_k(records) == pytest.approx({"pass@1": 0.125, "pass@2": 0.25, "pass@4": 0.5})
    assert pass_at_k([{"score": 1.0}]) == {}


def test_empty_records_give_zeros_not_errors():
    for name in ("refcoco", "chartqa", "screenspot", "charades_sta", "mcq", "synthetic", "coco_det"):
        m = get_benchmark(name).metric([])
        assert m["n"] == 0 and m["score"] == 0.0
