"""Composite rewards: weighted sums from a datasets_cfg-style list, components by name, config errors."""

from __future__ import annotations

import pytest
from tests.rewards.helpers import ORIG_FRAME, answer, make_ctx

from rewards import CompositeReward, RewardComputationError, register_reward, unregister_reward
from rewards.registry import UnknownRewardError

GT = {"boxes": [[100, 100, 300, 200]]}


def test_weighted_sum_and_components():
    comp = CompositeReward.from_config([{"name": "iou", "weight": 1.0, "kwargs": {"threshold": 0.5}},
                                        {"name": "format", "weight": 0.5}])
    r = comp(answer("[200, 100, 400, 200]"), make_ctx(GT, ORIG_FRAME))
    assert r.components == {"iou": 0.0, "format": 1.0} and r.score == 0.5
    r = comp("<answer>[100, 100, 300, 200]</answer>", make_ctx(GT, ORIG_FRAME))
    assert r.components == {"iou": 1.0, "format": 0.0} and r.score == 1.0
    assert "format: no <think>" in r.reason
    assert comp.score_range == (0.0, 1.5)


def test_shorthands_and_keys():
    comp = CompositeReward.from_config(["format"])
    assert comp.keys == ["format"] and comp.terms[0].weight == 1.0
    comp = CompositeReward.from_config([{"name": "iou", "key": "iou_soft"},
                                        {"name": "iou", "key": "iou_hard", "kwargs": {"threshold": 0.5}}])
    r = comp(answer("[200, 100, 400, 200]"), make_ctx(GT, ORIG_FRAME))
    assert r.components == pytest.approx({"iou_soft": 1 / 3, "iou_hard": 0.0})
    assert CompositeReward.from_config(comp.to_config()).keys == ["iou_soft", "iou_hard"]


@pytest.mark.parametrize("config, match", [
    ([], "at least one"),
    ([{"name": "iou"}, {"name": "iou"}], "listed twice"),
    ([{"name": "iou", "weight": "1"}], "weight"),
    ([{"name": "iou", "weight": float("nan")}], "weight"),
    ([{"name": "iou", "kwargs": [1]}], "kwargs"),
    ([{"name": "iou", "kwargs": {"treshold": 0.5}}], "does not take"),
    ([{"name": "iou", "wieght": 1}], "unknown keys"),
    ([{"weight": 1}], "name"),
    ([3], "expected"),
    ({"name": "iou"}, "list"),
])
def test_config_errors(config, match):
    with pytest.raises(ValueError, match=match):
        CompositeReward.from_config(config)


def test_unknown_reward_name():
    with pytest.raises(UnknownRewardError, match="valid rewards"):
        CompositeReward.from_config([{"name": "ioou"}])


def test_a_raising_reward_names_itself_and_the_sample():
    @register_reward("t_comp_raises")
    def boom(completion, ctx):
        """Always raises."""
        raise RuntimeError("boom")

    try:
        comp = CompositeReward.from_config(["format", "t_comp_raises"])
        with pytest.raises(RewardComputationError, match="t_comp_raises.*s0.*boom"):
            comp("x", make_ctx({}, None))
    finally:
        unregister_reward("t_comp_raises")
