"""Geometry and matching helpers, checked by hand-computed values."""

from __future__ import annotations

import pytest

from rewards.geometry import (box_area, box_center, box_iou, clip_box, clip_segment, point_box_distance,
                              point_in_box, segment_iou, sort_box, xywh_to_xyxy)
from rewards.matching import match_boxes


def test_boxes():
    assert sort_box([3, 4, 1, 2]) == [1, 2, 3, 4]
    assert xywh_to_xyxy([1, 2, 3, 4]) == [1, 2, 4, 6]
    assert clip_box([-5, -5, 20, 5], 10, 10) == [0, 0, 10, 5]
    assert box_area([0, 0, 2, 3]) == 6
    assert box_iou([0, 0, 2, 2], [1, 1, 3, 3]) == pytest.approx(1 / 7)
    assert box_iou([0, 0, 1, 1], [2, 2, 3, 3]) == 0.0
    assert box_iou([1, 1, 1, 1], [1, 1, 1, 1]) == 0.0
    assert box_center([0, 0, 4, 2]) == [2, 1]


def test_points_and_segments():
    assert point_in_box([0, 0], [0, 0, 1, 1]) and point_in_box([1, 1], [0, 0, 1, 1])
    assert not point_in_box([1.01, 1], [0, 0, 1, 1])
    assert point_box_distance([4, 5], [0, 0, 1, 1]) == pytest.approx(5.0)
    assert segment_iou([0, 10], [5, 15]) == pytest.approx(5 / 15)
    assert segment_iou([3, 3], [3, 3]) == 0.0
    assert clip_segment([-1, 50], 0, 30) == [0, 30]


def test_match_boxes_is_one_to_one_and_label_aware():
    gt = [[0, 0, 10, 10], [0, 0, 10, 9]]
    preds = [[0, 0, 10, 9.5], [0, 0, 10, 10]]
    pairs = match_boxes(preds, gt, ["a", "a"], ["a", "a"])
    assert sorted((i, j) for i, j, _ in pairs) == [(0, 1), (1, 0)]
    assert match_boxes(preds, gt, ["a", "b"], ["c", "d"]) == []
    assert match_boxes([[0, 0, 10, 10]], gt, ["A"], ["a", "a"]) == [(0, 0, 1.0)]
    assert match_boxes([[0, 0, 10, 4]], [[0, 0, 10, 10]], iou_threshold=0.5) == []
    assert match_boxes([], gt) == []
