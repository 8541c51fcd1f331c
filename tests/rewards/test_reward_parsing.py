"""Shared parsers: answer extraction, fences, JSON, boxes, points, detections, segments, GUI, choices."""

from __future__ import annotations

import time

import pytest

from rewards.numbers import parse_number, try_parse_number
from rewards.parse_gui import GuiAction, parse_gui_action
from rewards.parse_spatial import Detection, parse_box, parse_detections, parse_point
from rewards.parse_temporal import parse_segment
from rewards.parse_text import normalize_text, parse_choice
from rewards.parsing import ParseError, extract_answer, load_json, strip_code_fence


# ---- the single <answer> block -------------------------------------------------------------
def test_extract_answer_ok():
    assert extract_answer("<think>x</think>\n<answer> B </answer>\n") == "B"
    assert extract_answer("<sol>7</sol>", tag="sol") == "7"
    assert extract_answer("just text", required=False) == "just text"


@pytest.mark.parametrize("text, reason", [
    ("The answer is B", "no <answer>"),
    ("<answer>A</answer><answer>B</answer>", "several or nested"),
    ("<answer><answer>B</answer></answer>", "several or nested"),
    ("<answer>   </answer>", "empty"),
    ("<answer>B", "unbalanced"),
    ("</answer>B<answer>", "before"),
    ("<answer></answer> B", "empty"),
])
def test_extract_answer_failures(text, reason):
    with pytest.raises(ParseError, match=reason):
        extract_answer(text)


def test_extract_answer_not_text():
    with pytest.raises(ParseError):
        extract_answer(None)  # type: ignore[arg-type]


def test_code_fence_and_json():
    assert strip_code_fence('```json\n[{"a": 1}]\n```') == '[{"a": 1}]'
    assert strip_code_fence('Here:\n```json\n[1]\n``` done') == "[1]"
    assert strip_code_fence("```json\n[1, 2") == "[1, 2"
    assert load_json("[1, 2.5]") == [1, 2.5]
    for bad in ("[NaN]", "[Infinity]", "[-Infinity]", "[1,", "[" * 5000, "1" * 5000):
        with pytest.raises(ParseError):
            load_json(bad)


# ---- boxes and points -----------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    '{"bbox_2d": [10, 20, 30, 40]}',
    '[10, 20, 30, 40]',
    '```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "dog"}]\n```',
    '[{"bbox_2d": [10, 20, 30, 40]}, {"bbox_2d": [0, 0, 1, 1]}]',
    'the box is [10, 20, 30, 40].',
    '{"bbox_2d": [30, 40, 10, 20]}',
    '{"bbox": [10.0, 20.0, 30.0, 40.0]}',
])
def test_parse_box_forms(text):
    assert parse_box(text) == [10, 20, 30, 40]


def test_parse_box_floats_kept():
    assert parse_box("[10.5, 20.25, 30, 40]") == [10.5, 20.25, 30, 40]


@pytest.mark.parametrize("text", [
    '{"bbox_2d": [1, 2, 3]}', '{"bbox_2d": ["1", "2", "3", "4"]}', '{"bbox_2d": [1, 2, 3, NaN]}',
    '{"bbox_2d": [1, 2, 3, 1e400]}', '[1, 2, 3, 1e12]', '{"bbox_2d": [true, 2, 3, 4]}', '{"label": "x"}',
    'no box here', '[]', '{"bbox_2d": [1, 2, 3, 4]',
])
def test_parse_box_rejects(text):
    with pytest.raises(ParseError):
        parse_box(text)


def test_parse_point():
    assert parse_point('{"point_2d": [5, 6]}') == [5, 6]
    assert parse_point("[5, 6]") == [5, 6]
    assert parse_point("click at (5, 6)") == [5, 6]
    with pytest.raises(ParseError, match="2 points"):
        parse_point("(1, 2) or (3, 4)")
    with pytest.raises(ParseError):
        parse_point('{"point_2d": [5, "x"]}')


def test_parse_detections():
    dets = parse_detections('[{"bbox_2d": [3, 4, 1, 2], "label": " Cat ", "confidence": 0.5}, '
                            '{"bbox_2d": [0, 0, 1, 1]}]')
    assert dets == [Detection((1, 2, 3, 4), "Cat", 0.5), Detection((0, 0, 1, 1), "", None)]
    assert parse_detections("[]") == []
    assert parse_detections('{"bbox_2d": [0, 0, 1, 1], "label": "a"}') == [Detection((0, 0, 1, 1), "a")]
    assert parse_detections("[0, 0, 1, 1]") == [Detection((0, 0, 1, 1))]
    for bad in ('[{"bbox_2d": [0, 0, 1, 1], "confidence": 1.5}]', '[{"bbox_2d": [0, 0, 1, 1], "label": 3}]',
                '[{"label": "cat"}]', "cat at 0 0 1 1", '[1, 2]'):
        with pytest.raises(ParseError):
            parse_detections(bad)
    with pytest.raises(ParseError, match="cap"):
        parse_detections("[" + ", ".join(['{"bbox_2d": [0, 0, 1, 1]}'] * 101) + "]")


# ---- segments --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, seg", [
    ("12.50 to 20.10", [12.5, 20.1]), ("12.5 - 20.1", [12.5, 20.1]), ("from 12.5s to 20.1s.", [12.5, 20.1]),
    ("12.5 seconds to 20 seconds", [12.5, 20.0]), ("[3, 4]", [3.0, 4.0]), ('{"segment": [3, 4]}', [3.0, 4.0]),
    ("20 to 10", [20.0, 10.0]),
])
def test_parse_segment(text, seg):
    assert parse_segment(text) == seg


@pytest.mark.parametrize("text", ["1 to 2 and 3 to 4", "around twelve", "[1, NaN]", "[-1, 2]", "[1e400, 2]"])
def test_parse_segment_rejects(text):
    with pytest.raises(ParseError):
        parse_segment(text)


# ---- GUI actions -----------------------------------------------------------------------------
def test_parse_gui_action():
    assert parse_gui_action('{"action": "click", "point_2d": [1, 2]}') == GuiAction("click", point=(1, 2))
    assert parse_gui_action("[1, 2]") == GuiAction("click", point=(1, 2))
    assert parse_gui_action('{"action": "Click", "bbox_2d": [4, 4, 2, 2]}') == GuiAction("click", box=(2, 2, 4, 4))
    assert parse_gui_action('{"action": "type", "text": "hi"}') == GuiAction("type", text="hi")
    assert parse_gui_action('{"action": "scroll", "direction": "Down"}') == GuiAction("scroll", direction="down")
    assert parse_gui_action('{"action": "long_press"}') == GuiAction("long_press")
    for bad in ('{"action": "click"}', '{"action": "type"}', '[{"point_2d": [1, 2]}, {"point_2d": [3, 4]}]',
                '{"action": 3}', "nothing"):
        with pytest.raises(ParseError):
            parse_gui_action(bad)


# ---- choices, text and numbers ---------------------------------------------------------------
@pytest.mark.parametrize("text", ["B", "(B)", "B.", "B)", "B) a cat", "(B) a cat", "B: a cat", "Answer: B",
                                  "The answer is (B).", "b", "Option B", "B) Vitamin C."])
def test_parse_choice_accepts(text):
    assert parse_choice(text) == "B"


@pytest.mark.parametrize("text", ["A, B", "A or C", "A and B", "A/B", "B) cat (C) dog", "A B", "", "I think B",
                                  "B because", "Because"])
def test_parse_choice_rejects(text):
    with pytest.raises(ParseError):
        parse_choice(text)


def test_normalize_text():
    assert normalize_text("  New-York's  BEST!! ") == "new yorks best"


@pytest.mark.parametrize("text, value, percent", [
    ("12.5", 12.5, False), ("1,234", 1234, False), ("$1,234.50", 1234.5, False), ("45%", 45, True),
    ("45 percent", 45, True), ("twelve", 12, False), ("twenty-one", 21, False),
    ("one hundred and five", 105, False), ("\u22123", -3, False), ("-$5", -5, False), ("3 000", 3000, False),
    ("7.", 7, False), ("+2", 2, False), ("1e3", 1000, False),
])
def test_parse_number(text, value, percent):
    n = parse_number(text)
    assert n.value == pytest.approx(value) and n.percent is percent


@pytest.mark.parametrize("text", ["", "abc", "1,23", "nan", "inf", "1e400", "12 apples", "1" * 80, "and"])
def test_parse_number_rejects(text):
    assert try_parse_number(text) is None


# ---- hostile input is cheap -------------------------------------------------------------------
def test_parsers_are_fast_on_100kb_garbage(garbage):
    parsers = [extract_answer, parse_box, parse_point, parse_detections, parse_segment, parse_gui_action,
               parse_choice, lambda s: parse_number(s), normalize_text]
    for parse in parsers:
        start = time.perf_counter()
        for _ in range(5):
            try:
                parse(garbage)
            except (ParseError, ValueError):
                pass
        assert time.perf_counter() - start < 0.5, parse
