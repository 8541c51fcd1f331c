"""`temporal_iou` reward: seconds of the original video, clip offsets, clipping, variants."""

from __future__ import annotations

import pytest
from tests.rewards.helpers import answer

from rewards import get_reward
from rewards.builtin._helpers import SolutionError
from rewards.context import RewardContext, VideoInfo

tiou = get_reward("temporal_iou")


def ctx(segment=(10.0, 20.0), duration=100.0, clip_start=0.0, meta=False):
    if meta:
        return RewardContext(solution={"segment": list(segment)}, meta={"duration": duration}, sample_id="v")
    return RewardContext(solution={"segment": list(segment)}, video=VideoInfo(duration=duration, clip_start=clip_start),
                         sample_id="v")


def s(body, c=None, **kw):
    return tiou(answer(body), c or ctx(), **kw).score


def test_iou_by_hand_and_formats():
    assert s("10 to 20") == 1.0
    assert s("15.00 to 25.00") == pytest.approx(5 / 15)
    assert s("15 - 25") == pytest.approx(5 / 15)
    assert s("from 15s to 25s") == pytest.approx(5 / 15)
    assert s("[15, 25]") == pytest.approx(5 / 15)
    assert s("30 to 40") == 0.0


def test_clip_start_shifts_into_original_seconds():
    assert s("5 to 15", ctx(clip_start=5.0)) == 1.0
    assert s("10 to 20", ctx(clip_start=5.0)) == pytest.approx(5 / 15)


def test_duration_from_meta_and_clipping():
    assert s("90 to 120", ctx((80, 100), meta=True)) == pytest.approx(0.5)  # pred clipped to [90, 100]
    assert s("150 to 200", ctx((80, 100))) == 0.0  # clipped to [100, 100]: zero length
    assert s("100 to 100", ctx((100, 100))) == 0.0  # zero union


def test_meta_duration_when_video_has_none():
    c = RewardContext(solution={"segment": [80, 100]}, video=VideoInfo(duration=0.0), meta={"duration": 100.0})
    assert tiou(answer("90 to 120"), c).score == pytest.approx(0.5)


def test_start_after_end_scores_zero():
    r = tiou(answer("20 to 10"), ctx())
    assert r.score == 0.0 and "starts after" in r.reason


def test_boundary_weighted_and_soft_by_hand():
    iou = 8 / 12  # pred [12, 22] vs gt [10, 20]
    assert s("12 to 22", variant="boundary_weighted") == pytest.approx(iou * 0.98 * 0.98)
    assert s("12 to 22", variant="soft") == pytest.approx(0.8 * iou + 0.2 * 0.98)
    assert s("30 to 40", variant="soft") == pytest.approx(0.2 * (1 - 0.2))
    assert s("30 to 40", variant="soft", soft_weight=0.5) == pytest.approx(0.5 * 0.8)


@pytest.mark.parametrize("body", ["", "soon", "1 to 2 and 3 to 4", "[1, NaN]", "1e400 to 2", "[1e300, 1e301]"])
def test_hacks_score_zero(body):
    assert s(body) == 0.0


def test_missing_duration_is_a_data_error():
    with pytest.raises(SolutionError, match="duration"):
        tiou(answer("1 to 2"), RewardContext(solution={"segment": [1, 2]}))
