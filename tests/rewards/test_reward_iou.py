"""`iou` reward: hand-computed values in the three frames and the known hacks."""

from __future__ import annotations

import time

import pytest
from tests.rewards.helpers import NORM_FRAME, ORIG_FRAME, QWEN25_FRAME, answer, make_ctx

from rewards import get_reward
from rewards.builtin._helpers import SolutionError

GT = {"boxes": [[100, 100, 300, 200]]}
iou = get_reward("iou")


def score(body, frame=ORIG_FRAME, solution=GT, **kw):
    return iou(answer(body), make_ctx(solution, frame), **kw)


def test_exact_box_in_qwen25_resized_pixels():
    # 1000x500 -> 448x224: x scale 0.448, y scale 0.448
    assert score('{"bbox_2d": [44.8, 44.8, 134.4, 89.6]}', QWEN25_FRAME).score == pytest.approx(1.0)
    r = score('```json\n[{"bbox_2d": [44.8, 44.8, 134.4, 89.6], "label": "dog"}]\n```', QWEN25_FRAME)
    assert r.score == pytest.approx(1.0) and r.reason is None


def test_partial_overlap_one_third_in_each_frame():
    # original [200, 100, 400, 200] vs gt [100, 100, 300, 200]: 10000 / 30000
    assert score("[200, 100, 400, 200]").score == pytest.approx(1 / 3)
    assert score("[89.6, 44.8, 179.2, 89.6]", QWEN25_FRAME).score == pytest.approx(1 / 3)
    assert score("[200, 200, 400, 400]", NORM_FRAME).score == pytest.approx(1 / 3)


def test_floats_and_swapped_corners():
    assert score("[200.0, 100.0, 400.0, 200.0]").score == pytest.approx(1 / 3)
    assert score("[400, 200, 200, 100]").score == pytest.approx(1 / 3)
    assert score('{"bbox_2d": [300.5, 200, 100, 100]}').score == pytest.approx(20000 / 20050)


def test_boxes_outside_the_image_are_clipped():
    # [-100, 100, 300, 200] clipped to [0, 100, 300, 200]: 20000 / 30000 (0.5 without clipping)
    assert score("[-100, 100, 300, 200]").score == pytest.approx(2 / 3)
    assert score("[1100, 600, 1200, 700]").score == 0.0
    # the same in NORM_1000 and in Qwen2.5-VL resized pixels (clipping happens in original pixels)
    assert score("[-100, 200, 300, 400]", NORM_FRAME).score == pytest.approx(2 / 3)
    assert score("[-44.8, 44.8, 134.4, 89.6]", QWEN25_FRAME).score == pytest.approx(2 / 3)
    # NORM [100, 200, 300, 1400] -> [100, 100, 300, 700] -> clipped [100, 100, 300, 500]: 20000 / 80000
    assert score("[100, 200, 300, 1400]", NORM_FRAME).score == pytest.approx(0.25)


def test_threshold_gives_0_or_1_and_keeps_iou_component():
    r = score("[200, 100, 400, 200]", threshold=0.3)
    assert r.score == 1.0 and r.components["iou"] == pytest.approx(1 / 3)
    assert score("[200, 100, 400, 200]", threshold=0.5).score == 0.0


def test_best_or_first_ground_truth_and_first_prediction():
    sol = {"boxes": [[0, 0, 10, 10], [100, 100, 300, 200]]}
    assert score("[100, 100, 300, 200]", solution=sol).score == 1.0
    assert score("[100, 100, 300, 200]", solution=sol, gt="first").score == 0.0
    two = '[{"bbox_2d": [0, 0, 5, 5]}, {"bbox_2d": [100, 100, 300, 200]}]'
    assert score(two).score == 0.0  # only the first predicted box counts
    assert score("[100, 100, 300, 200]", solution={"bbox": [100, 100, 300, 200]}).score == 1.0


def test_without_image_frame_coordinates_are_original():
    assert iou(answer("[200, 100, 400, 200]"), make_ctx(GT, None)).score == pytest.approx(1 / 3)


@pytest.mark.parametrize("completion, reason", [
    ("<answer></answer>", "empty"),
    ("[100, 100, 300, 200]", "no <answer>"),
    ("<answer>[0,0,1,1]</answer><answer>[100, 100, 300, 200]</answer>", "several"),
    ("<answer><answer>[100, 100, 300, 200]</answer></answer>", "several"),
    ("<answer>[NaN, 100, 300, 200]</answer>", "NaN"),
    ("<answer>[Infinity, 100, 300, 200]</answer>", "Infinity"),
    ("<answer>[100, 100, 1e309, 200]</answer>", "not finite"),
    ("<answer>[1e308, 100, 300, 200]</answer>", "absurdly large"),
    ("<answer>[100, 100, 300, 9999999999]</answer>", "absurdly large"),
    ("<answer>[100, 100, 300]</answer>", "3 values"),
    ('<answer>{"bbox_2d": ["100", "100", "300", "200"]}</answer>', "not a number"),
    ("<answer>the dog</answer>", "no box"),
])
def test_hacks_and_garbage_score_zero_with_reason(completion, reason):
    r = iou(completion, make_ctx(GT))
    assert r.score == 0.0 and reason in r.reason


def test_100kb_garbage_is_fast(garbage):
    start = time.perf_counter()
    r = iou(garbage, make_ctx(GT))
    assert r.score == 0.0 and r.reason
    assert time.perf_counter() - start < 0.05


def test_bad_solution_is_a_data_error_naming_the_sample():
    with pytest.raises(SolutionError, match="s0"):
        iou(answer("[1, 2, 3, 4]"), make_ctx({"boxes": []}))
    with pytest.raises(SolutionError):
        iou(answer("[1, 2, 3, 4]"), make_ctx({"boxes": [[1, 2, float("nan"), 4]]}))
