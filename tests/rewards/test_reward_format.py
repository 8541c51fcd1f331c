"""`format` reward: the think / answer structure and its hacks."""

from __future__ import annotations

import pytest

from rewards import get_reward
from rewards.context import RewardContext

fmt = get_reward("format")
CTX = RewardContext(solution={})


@pytest.mark.parametrize("text", ["<think>a</think><answer>b</answer>", "\n <think>a\nb</think>\n\n<answer> c </answer>\n"])
def test_good_structure(text):
    assert fmt(text, CTX).score == 1.0


@pytest.mark.parametrize("text, reason", [
    ("<answer>b</answer>", "no <think>"),
    ("<think>a</think>", "0 <answer>"),
    ("<think>a</think><answer>b</answer><answer>c</answer>", "2 <answer>"),
    ("<think>a</think><answer><answer>b</answer></answer>", "nested"),
    ("<think>a<answer>b</answer></think><answer>b</answer>", "nested"),
    ("<think>a</think><answer></answer>", "empty"),
    ("<think> </think><answer>b</answer>", "empty"),
    ("<think>a</think><answer>b</answer> and C", "text after"),
    ("B <think>a</think><answer>b</answer>", "outside"),
    ("<think>a</think> so <answer>b</answer>", "outside"),
    ("<answer>b</answer><think>a</think>", "after"),
    ("<think>a</think><think>a</think><answer>b</answer>", "2 <think>"),
    ("<think>a</think><answer>b", "never closed"),
    ("<think>a</think></answer>", "without a matching"),
    ("", "0 <answer>"),
])
def test_bad_structure(text, reason):
    r = fmt(text, CTX)
    assert r.score == 0.0 and reason in r.reason


def test_configurable_tags_and_answer_only():
    assert fmt("<reasoning>a</reasoning><sol>b</sol>", CTX, think_tag="reasoning", answer_tag="sol").score == 1.0
    assert fmt("<answer>b</answer>", CTX, think_tag=None).score == 1.0
    assert fmt("<think>a</think><answer>b</answer>", CTX, think_tag=None).score == 0.0


def test_tool_call_traces():
    trace = ('<think>zoom</think><tool_call>{"name": "zoom_in", "arguments": {}}</tool_call>\n'
             "observation\n<think>now</think><answer>B</answer>")
    assert fmt(trace, CTX).score == 0.0
    assert fmt(trace, CTX, allow_tool_calls=True).score == 1.0
    assert fmt('<tool_call>{}</tool_call><answer>B</answer>', CTX, allow_tool_calls=True).score == 0.0


def test_garbage(garbage):
    assert fmt(garbage, CTX).score == 0.0
    assert fmt("<think>" * 1000, CTX).score == 0.0
