"""`tool_use` reward: bonus for valid calls on right answers, penalty per failed call."""

from __future__ import annotations

import pytest
from tests.rewards.helpers import answer

from rewards import CompositeReward, RewardComputationError, get_reward
from rewards.context import RewardContext, ToolCall

tool = get_reward("tool_use")
OK = ToolCall("zoom_in", {"bbox_2d": [0, 0, 10, 10]}, valid=True)
BAD = ToolCall("zoom_in", {"bbox_2d": "x"}, valid=False, error="bbox_2d must be 4 numbers")


def ctx(calls, **meta):
    return RewardContext(solution={"answer": "B"}, tool_calls=list(calls), meta=meta, sample_id="t")


def test_bonus_needs_a_right_answer_and_a_valid_call():
    assert tool(answer("B"), ctx([OK]), accuracy="answer_match").score == 1.0
    assert tool(answer("C"), ctx([OK]), accuracy="answer_match").score == 0.0
    assert tool(answer("B"), ctx([]), accuracy="answer_match").score == 0.0


def test_penalty_per_failed_call_capped():
    assert tool(answer("B"), ctx([OK, BAD]), accuracy="answer_match").score == pytest.approx(0.75)
    assert tool(answer("C"), ctx([BAD] * 2), accuracy="answer_match").score == pytest.approx(-0.5)
    r = tool(answer("C"), ctx([BAD] * 9), accuracy="answer_match")
    assert r.score == pytest.approx(-1.0) and r.components["failed_calls"] == 9


def test_accuracy_from_meta_and_dict_form():
    assert tool(answer("x"), ctx([OK], accuracy=0.7)).score == 1.0
    assert tool(answer("x"), ctx([OK], accuracy=0.3)).score == 0.0
    assert tool(answer("B"), ctx([OK]), accuracy={"name": "answer_match", "kwargs": {"mode": "choice"}}).score == 1.0
    with pytest.raises(ValueError):
        tool(answer("x"), ctx([OK]))
    with pytest.raises(ValueError):
        tool(answer("x"), ctx([OK]), accuracy="tool_use")


def test_composes_with_its_accuracy_reward():
    comp = CompositeReward.from_config([{"name": "answer_match", "weight": 1.0},
                                        {"name": "tool_use", "weight": 0.5, "kwargs": {"accuracy": "answer_match"}}])
    r = comp(answer("B"), ctx([OK, BAD]))
    assert r.components == {"answer_match": 1.0, "tool_use": 0.75}
    assert r.score == pytest.approx(1.0 + 0.5 * 0.75)


def test_inside_a_composite_it_reads_the_task_reward_listed_before_it():
    """The demo config form: format, the task reward, then tool_use with no kwargs."""
    spec = [{"name": "format", "weight": 0.2}, {"name": "answer_match", "weight": 1.0},
            {"name": "tool_use", "weight": 0.2}]
    comp = CompositeReward.from_config(spec)
    assert comp(answer("B"), ctx([OK])).components == {"format": 1.0, "answer_match": 1.0, "tool_use": 1.0}
    assert comp(answer("C"), ctx([OK, BAD])).components["tool_use"] == pytest.approx(-0.25)
    from rewards import RewardRunner

    out = RewardRunner(spec).score([answer("B"), answer("C")], [ctx([OK]), ctx([OK])])
    assert out.components["tool_use"] == [1.0, 0.0] and out.scores == pytest.approx([1.4, 0.2])
    with pytest.raises(ValueError, match="filled in by the composite"):
        CompositeReward.from_config([{"name": "tool_use", "kwargs": {"components": {}}}])
    with pytest.raises(RewardComputationError, match="list the accuracy reward before"):
        CompositeReward.from_config(["format", "tool_use"])(answer("B"), ctx([OK]))
