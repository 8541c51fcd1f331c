"""`gui_click` and `gui_action` rewards: frames, borders, xywh sources, shaping, action types."""

from __future__ import annotations

import math

import pytest
from tests.rewards.helpers import NORM_FRAME, ORIG_FRAME, QWEN25_FRAME, answer, make_ctx

from rewards import get_reward
from rewards.builtin._helpers import SolutionError
from rewards.builtin.gui_action import token_f1

click = get_reward("gui_click")
action = get_reward("gui_action")
TARGET = {"action": "click", "bbox": [100, 100, 200, 200]}


def c(body, frame=ORIG_FRAME, solution=TARGET, **kw):
    return click(answer(body), make_ctx(solution, frame, **kw.pop("ctx", {})), **kw).score


def test_click_inside_and_border_inclusive():
    assert c('{"action": "click", "point_2d": [150, 150]}') == 1.0
    assert c("[100, 200]") == 1.0
    assert c("[200.0, 100.0]") == 1.0
    assert c("[200.01, 150]") == 0.0
    assert c("[99, 150]") == 0.0


def test_click_in_qwen25_and_norm_frames():
    # original (150, 150) is resized (67.2, 67.2) and normalised (150, 300)
    assert c("[67.2, 67.2]", QWEN25_FRAME) == 1.0
    assert c('{"point_2d": [150, 300]}', NORM_FRAME) == 1.0
    assert c("[150, 150]", NORM_FRAME) == 0.0  # (150, 75) in original pixels: above the target
    assert c("[44.8, 44.8]", QWEN25_FRAME) == 1.0  # exactly the corner (100, 100)


def test_box_prediction_uses_its_centre():
    assert c('{"bbox_2d": [0, 0, 300, 300]}') == 1.0
    assert c("[0, 0, 100, 100]") == 0.0  # centre (50, 50)
    assert c('{"bbox_2d": [100, 200, 200, 400]}', NORM_FRAME) == 1.0  # original [100,100,200,200]


def test_xywh_sources():
    xywh = {"action": "click", "bbox": [100, 100, 50, 50], "bbox_format": "xywh"}
    assert c("[140, 140]", solution=xywh) == 1.0
    assert c("[160, 140]", solution=xywh) == 0.0
    plain = {"action": "click", "bbox": [100, 100, 50, 50]}
    assert c("[140, 140]", solution=plain, ctx={"meta": {"bbox_format": "xywh"}}) == 1.0
    with pytest.raises(SolutionError):
        c("[1, 1]", solution={**xywh, "bbox_format": "cxcywh"})


def test_distance_variant_by_hand():
    # image 1000x500: diagonal 1118.03, R = 111.803; click 50 px right of the box
    expected = 0.5 * (1 - 50 / (0.1 * math.hypot(1000, 500)))
    assert c("[250, 150]", variant="distance") == pytest.approx(expected)
    assert c("[150, 150]", variant="distance") == 1.0
    assert c("[900, 450]", variant="distance") == 0.0
    assert c("[250, 150]") == 0.0


def test_click_other_action_and_hacks():
    assert c('{"action": "type", "text": "hi"}') == 0.0
    for bad in ["[NaN, 1]", "[1e400, 1]", "[150, 150] or [160, 160]", "somewhere", ""]:
        assert c(bad) == 0.0
    r = click("<answer>[150, 150]</answer><answer>[150, 150]</answer>", make_ctx(TARGET))
    assert r.score == 0.0 and "several" in r.reason
    assert click("[150, 150]", make_ctx(TARGET)).score == 0.0


def a(body, solution, frame=ORIG_FRAME, **kw):
    return action(answer(body), make_ctx(solution, frame), **kw)


def test_gui_action_click():
    assert a('{"action": "click", "point_2d": [150, 150]}', TARGET).score == 1.0
    assert a("[150, 150]", TARGET).score == 1.0
    assert a('{"action": "click", "point_2d": [67.2, 67.2]}', TARGET, QWEN25_FRAME).score == 1.0
    assert a('{"action": "click", "point_2d": [150, 300]}', TARGET, NORM_FRAME).score == 1.0
    assert a('{"action": "click", "point_2d": [250, 150]}', TARGET, click_variant="distance").score > 0


def test_gui_action_type_token_f1():
    sol = {"action": "type", "text": "hello world"}
    assert token_f1("hello there", "hello world") == pytest.approx(0.5)
    assert a('{"action": "type", "text": "Hello, there"}', sol).score == 1.0
    r = a('{"action": "type", "text": "hello big wide world"}', sol)
    assert r.score == 1.0 and r.components["f1"] == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert a('{"action": "type", "text": "goodbye"}', sol).score == 0.0
    assert a('{"action": "type", "text": ""}', sol).score == 0.0
    assert a('{"action": "type", "text": "hello there"}', sol, f1_threshold=0.6).score == 0.0


def test_gui_action_scroll_and_mismatches():
    sol = {"action": "scroll", "direction": "down"}
    assert a('{"action": "scroll", "direction": "DOWN"}', sol).score == 1.0
    assert a('{"action": "scroll", "direction": "up"}', sol).score == 0.0
    assert a("[150, 150]", sol).score == 0.0
    r = a('{"action": "long_press", "point_2d": [1, 1]}', TARGET)
    assert r.score == 0.0 and "unknown action" in r.reason
    assert a('{"action": "type", "text": "x"}', TARGET).score == 0.0


def test_gui_action_bad_solution_is_a_data_error():
    with pytest.raises(SolutionError):
        a("[1, 1]", {"action": "swipe"})
