"""Per-prompt difficulty: Beta posterior updates, skip logic, exploration, counters, resume."""

from __future__ import annotations

import pytest

from vrft.data.difficulty import DifficultyConfig, DifficultyTracker


def tracker(**kw):
    return DifficultyTracker(DifficultyConfig(enabled=True, **kw))


def test_posterior_update_with_decay():
    t = tracker(decay=0.5, prior_alpha=1, prior_beta=1)
    t.update("p", [1, 1, 0, 0.7])  # threshold 0.5: 3 successes of 4
    assert t.posteriors["p"][:2] == [4.0, 2.0]
    t.update("p", [0, 0])
    # alpha = 0.5*4 + 0.5*1 + 0 = 2.5; beta = 0.5*2 + 0.5*1 + 2 = 3.5
    assert t.posteriors["p"][:2] == [2.5, 3.5]
    assert t.predicted_success("p") == pytest.approx(2.5 / 6)
    assert t.predicted_success("never") is None


def test_fractional_successes():
    t = tracker(fractional=True, decay=1.0)
    t.update("p", [0.25, 0.75, 1.5, -1])
    assert t.posteriors["p"][:2] == [1 + 2.0, 1 + 2.0]


def test_skips_solved_and_failed_only_with_evidence():
    t = tracker(explore_prob=0.0, min_evidence=8, decay=1.0)
    t.update("solved", [1] * 8)
    t.update("failed", [0] * 8)
    t.update("mixed", [1, 0] * 4)
    t.update("little", [1, 1])
    assert not t.should_skip("solved") and not t.should_skip("failed")  # 9/10 and 1/10: inside [lo, hi]
    for _ in range(2):
        t.update("solved", [1] * 8)
        t.update("failed", [0] * 8)
    assert t.should_skip("solved") and t.should_skip("failed")  # 25/26 > 0.95, 1/26 < 0.05
    assert not t.should_skip("mixed") and not t.should_skip("little") and not t.should_skip("unseen")
    assert t.metrics()["difficulty/skipped"] == 2 and t.metrics()["difficulty/rollouts_saved"] == 16


def test_exploration_keeps_some_skipped_prompts():
    t = tracker(explore_prob=0.3, decay=1.0, seed=0)
    t.update("solved", [1] * 64)
    decisions = [t.should_skip("solved") for _ in range(1000)]
    kept = decisions.count(False) / len(decisions)
    assert 0.25 < kept < 0.35 and t.explored == decisions.count(False)


def test_disabled_never_skips():
    t = DifficultyTracker(DifficultyConfig(enabled=False))
    t.update("p", [1] * 100)
    assert not t.should_skip("p")


def test_state_dict_resumes_decisions():
    a = tracker(explore_prob=0.5, decay=1.0, seed=3)
    for k in range(5):
        a.update(f"p{k}", [1] * 32)
    b = tracker(explore_prob=0.5, decay=1.0, seed=99)
    b.load_state_dict(a.state_dict())
    assert [a.should_skip(f"p{k % 5}") for k in range(50)] == [b.should_skip(f"p{k % 5}") for k in range(50)]
    assert a.metrics() == b.metrics()


def test_config_checks():
    with pytest.raises(ValueError, match="lo < hi"):
        DifficultyConfig(lo=0.5, hi=0.5)
    with pytest.raises(ValueError, match="explore_prob"):
        DifficultyConfig(explore_prob=2)
