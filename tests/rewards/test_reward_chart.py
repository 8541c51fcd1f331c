"""`chart_answer` reward: ChartQA relaxed accuracy by hand."""

from __future__ import annotations

import pytest
from tests.rewards.helpers import answer, make_ctx

from rewards import get_reward

chart = get_reward("chart_answer")


def score(pred, gt, **kw):
    return chart(answer(pred), make_ctx({"answer": gt}, None), **kw)


@pytest.mark.parametrize("gt, pred, expected", [
    ("12.5", "12.5", 1.0), ("100", "105", 1.0), ("100", "105.1", 0.0), ("100", "95", 1.0), ("100", "94.9", 0.0),
    ("1,234", "1234", 1.0), ("1234", "1,234", 1.0), ("1234", "$1,234", 1.0), ("€50", "50", 1.0),
    ("45%", "45", 1.0), ("45%", "0.45", 1.0), ("45%", "45%", 1.0), ("45", "45%", 1.0), ("0.45", "45%", 1.0),
    ("45%", "0.45%", 0.0), ("45", "0.45", 0.0),
    ("12", "twelve", 1.0), ("twelve", "12", 1.0), ("21", "twenty-one", 1.0),
    ("0", "0", 1.0), ("0", "0.0", 1.0), ("0", "0.001", 0.0), ("-3", "\u22123", 1.0), ("-3", "3", 0.0),
    ("Yes", "yes", 1.0), ("Yes", "Yes.", 1.0), ("New York", "new  york", 1.0), ("Yes", "No", 0.0),
    ("12", "12 apples", 0.0), (12, "12.0", 1.0), (0.5, "50%", 1.0),
])
def test_relaxed_accuracy(gt, pred, expected):
    assert score(pred, gt).score == expected


def test_lists_element_wise():
    assert score('["a", 3]', ["a", 3]).score == 1.0
    assert score('["a", 4]', ["a", 3]).score == 0.5
    assert score('[1, 2]', "[1, 2]").score == 1.0
    assert score('[2, 1]', "[1, 2]").score == 0.0
    r = score('[1]', "[1, 2]")
    assert r.score == 0.0 and "expected 2" in r.reason
    assert score("1, 2", "[1, 2]").score == 0.0
    assert score("[]", []).score == 1.0
    assert score("[" + "9" * 400 + ", 2]", [1, 2]).score == 0.5
    assert score("[NaN, 2]", [1, 2]).score == 0.0


def test_dense_variant():
    assert score("110", "100", dense=True).score == pytest.approx(1 / 1.1)
    assert score("100", "100", dense=True).score == 1.0
    assert score("1", "0", dense=True).score == 0.0
    assert score("0.5", "45%", dense=True).score == pytest.approx(1 / (1 + 0.05 / 0.45))
    assert score("cat", "dog", dense=True).score == 0.0


def test_tolerance_option():
    assert score("110", "100", tolerance=0.1).score == 1.0


@pytest.mark.parametrize("completion, reason", [
    ("<answer></answer>", "empty"), ("12", "no <answer>"), ("<answer>1</answer><answer>12</answer>", "several"),
    ("<answer>NaN</answer>", "not a number"), ("<answer>inf</answer>", "not a number"),
    ("<answer>1e400</answer>", "not a number"), ("<answer>" + "9" * 5000 + "</answer>", "not a number"),
])
def test_hacks_score_zero_with_reason(completion, reason):
    r = chart(completion, make_ctx({"answer": "12"}, None))
    assert r.score == 0.0 and reason in r.reason


def test_garbage(garbage):
    assert chart(garbage, make_ctx({"answer": "12"}, None)).score == 0.0
