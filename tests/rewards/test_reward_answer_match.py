"""`answer_match` reward: strict multiple choice and normalised short answers."""

from __future__ import annotations

import pytest
from tests.rewards.helpers import answer, make_ctx

from rewards import get_reward

match = get_reward("answer_match")


def s(body, gt, **kw):
    return match(answer(body), make_ctx({"answer": gt}, None), **kw).score


@pytest.mark.parametrize("body", ["B", "(B)", "B.", "B) a red car", "Answer: B", "The answer is B.", "b", "(b)"])
def test_choice_accepted_forms(body):
    assert s(body, "B") == 1.0


@pytest.mark.parametrize("body", ["A, B", "A or B", "B or C", "A and B", "B/C", "B) car (C) bus", "C", "I think B",
                                  "A B", "ABCD"])
def test_choice_wrong_or_several_options_score_zero(body):
    assert s(body, "B") == 0.0


def test_empty_and_outside_tags():
    assert match("<answer></answer>", make_ctx({"answer": "B"}, None)).score == 0.0
    assert match("The answer is B", make_ctx({"answer": "B"}, None)).score == 0.0
    assert match("<answer>B</answer><answer>B</answer>", make_ctx({"answer": "B"}, None)).score == 0.0
    assert match("The answer is B", make_ctx({"answer": "B"}, None), require_answer_tag=False).score == 1.0


def test_short_answers():
    assert s("Paris.", "paris") == 1.0
    assert s("  New-York ", "new york") == 1.0
    assert s("Paris, France", "Paris") == 0.0
    assert s("blue", ["Blue", "navy"]) == 1.0
    assert s("!!!", "paris") == 0.0
    assert s("b", "b", mode="text") == 1.0


def test_modes_and_bad_solutions():
    assert s("B", "(B)") == 1.0
    with pytest.raises(ValueError):
        s("B", "two words", mode="choice")
    with pytest.raises(ValueError):
        s("B", None)
