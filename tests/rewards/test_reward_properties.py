"""Property tests: for any string, every built-in returns a finite score in its documented range."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.rewards.helpers import NORM_FRAME, QWEN25_FRAME

from rewards import RewardResult, get_reward
from rewards.context import RewardContext, ToolCall, VideoInfo

CONTEXTS = {
    "format": RewardContext(solution={}),
    "iou": RewardContext(solution={"boxes": [[100, 100, 300, 200]]}, images=[QWEN25_FRAME]),
    "detection": RewardContext(solution={"objects": [{"bbox": [0, 0, 10, 10], "label": "cat"},
                                                     {"bbox": [20, 20, 90, 90], "label": "dog"}]},
                               images=[NORM_FRAME]),
    "chart_answer": RewardContext(solution={"answer": "45%"}),
    "gui_click": RewardContext(solution={"action": "click", "bbox": [100, 100, 200, 200]}, images=[NORM_FRAME]),
    "gui_action": RewardContext(solution={"action": "type", "text": "hello world"}, images=[QWEN25_FRAME]),
    "temporal_iou": RewardContext(solution={"segment": [10, 20]}, video=VideoInfo(duration=60, clip_start=2)),
    "answer_match": RewardContext(solution={"answer": "B"}),
    "tool_use": RewardContext(solution={"answer": "B"}, tool_calls=[ToolCall("zoom_in", {}, True),
                                                                    ToolCall("zoom_in", {}, False, "bad")]),
}
KWARGS = {"tool_use": {"accuracy": "answer_match"}}
VARIANTS = [("detection", {"variant": v}) for v in ("visual_rft", "confidence", "vlm_r1")] + [
    ("temporal_iou", {"variant": v}) for v in ("boundary_weighted", "soft")] + [
    ("chart_answer", {"dense": True}), ("gui_click", {"variant": "distance"}), ("iou", {"threshold": 0.5}),
    ("chart_answer", {}), ("gui_action", {}),
]
CASES = [(name, KWARGS.get(name, {})) for name in CONTEXTS] + VARIANTS

_number = st.one_of(st.integers(-2000, 3000), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(["NaN", "Infinity", "1e400", "-0", "1e308", "99999999999999999999"]))
_json_like = st.builds(lambda nums, key: '{"%s": [%s]}' % (key, ", ".join(str(n) for n in nums)),
                       st.lists(_number, max_size=5),
                       st.sampled_from(["bbox_2d", "point_2d", "segment", "action", "text"]))
_fragment = st.one_of(st.text(max_size=40), _json_like, st.sampled_from(
    ["<think>", "</think>", "<answer>", "</answer>", "```json\n", "```", "[", "]", "{", "}", ",", " to ", "%",
     '"label": "cat"', '"confidence": 0.5', '"action": "click"', '"action": "type"', "B", "(A)", " or ", "twelve"]))
_completion = st.one_of(
    st.text(max_size=200),
    st.lists(_fragment, max_size=12).map("".join),
    st.builds(lambda t, a: f"<think>{t}</think><answer>{a}</answer>", st.text(max_size=30),
              st.lists(_fragment, max_size=8).map("".join)),
)


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{'-'.join(map(str, k.values())) or 'default'}"
                                                     for n, k in CASES])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(completion=_completion)
def test_any_string_gives_a_finite_score_in_range(name, kwargs, completion):
    spec = get_reward(name)
    result = spec(completion, CONTEXTS[name], **kwargs)
    score = result.score if isinstance(result, RewardResult) else result
    assert isinstance(score, float) and math.isfinite(score)
    lo, hi = spec.score_range
    assert lo - 1e-9 <= score <= hi + 1e-9
    if isinstance(result, RewardResult):
        assert all(math.isfinite(v) for v in result.components.values())


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_100kb_garbage_scores_without_raising(name, garbage):
    spec = get_reward(name)
    for text in (garbage, "<answer>" + garbage + "</answer>", "<think>x</think><answer>" + "[1, 2, 3, 4]" * 9000 + "</answer>"):
        result = spec(text, CONTEXTS[name], **KWARGS.get(name, {}))
        assert math.isfinite(result.score)
