"""The engine-side runner: error policies, counting and logging, the error-rate stop, timeouts, pools."""

from __future__ import annotations

import logging
import math
import time

import pytest
from tests.rewards.helpers import ORIG_FRAME, answer, make_ctx

from rewards import (RewardErrorRateExceeded, RewardRunner, RunnerConfig, register_reward, score_batch,
                     unregister_reward)

GT = {"boxes": [[100, 100, 300, 200]]}
SPEC = [{"name": "iou", "weight": 1.0}, {"name": "format", "weight": 0.5}]
GOOD = answer("[100, 100, 300, 200]")


@pytest.fixture
def flaky():
    """`t_flaky`: raises when the completion contains 'boom', sleeps when it contains 'slow'."""

    @register_reward("t_flaky")
    def flaky_reward(completion, ctx):
        """Test reward that fails on demand."""
        if "boom" in completion:
            raise RuntimeError("boom")
        if "slow" in completion:
            time.sleep(5)
        if "nan" in completion:
            return float("nan")
        return 1.0

    yield "t_flaky"
    unregister_reward("t_flaky")


def ctxs(n, solution=GT):
    return [make_ctx(solution, ORIG_FRAME, sample_id=f"s{i}", dataset="refcoco") for i in range(n)]


def test_scores_components_and_reasons():
    out = RewardRunner(SPEC).score([GOOD, "<answer>[200, 100, 400, 200]</answer>"], ctxs(2))
    assert out.scores == pytest.approx([1.5, 1 / 3])
    assert out.components["iou"] == pytest.approx([1.0, 1 / 3]) and out.components["format"] == [1.0, 0.0]
    assert out.errored == [False, False] and out.reasons[0] is None and "format:" in out.reasons[1]
    assert len(out) == 2


def test_exclude_policy_marks_nan_and_logs_sample_and_reward(flaky, caplog):
    runner = RewardRunner([{"name": "format", "weight": 1.0}, {"name": flaky, "weight": 1.0}], max_error_rate=1.0)
    with caplog.at_level(logging.WARNING, logger="rewards.runner"):
        out = runner.score([GOOD, "boom"], ctxs(2))
    assert out.errored == [False, True]
    assert out.scores[0] == 2.0 and math.isnan(out.scores[1])
    assert out.components["format"] == [1.0, 0.0] and math.isnan(out.components[flaky][1])
    assert "RuntimeError: boom" in out.errors[1] and out.errors[0] is None
    assert runner.n_errored == 1 and runner.error_counts[flaky] == 1 and runner.error_rate == 0.5
    assert any("s1" in r.getMessage() and flaky in r.getMessage() for r in caplog.records)


def test_zero_policy(flaky):
    out = RewardRunner([flaky], on_error="zero", max_error_rate=1.0).score(["boom", "ok"], ctxs(2))
    assert out.scores == [0.0, 1.0] and out.errored == [True, False] and out.components[flaky] == [0.0, 1.0]


def test_bad_data_and_non_finite_scores_are_errors(flaky):
    runner = RewardRunner(SPEC, max_error_rate=1.0)
    out = runner.score([GOOD], ctxs(1, solution={}))
    assert out.errored == [True] and "SolutionError" in out.errors[0]
    out = RewardRunner([flaky], max_error_rate=1.0).score(["nan"], ctxs(1))
    assert out.errored == [True] and "non-finite" in out.errors[0]


def test_error_rate_stop_after_minimum(flaky):
    runner = RewardRunner([flaky], max_error_rate=0.1, min_samples=10)
    runner.score(["boom", "ok", "ok"], ctxs(3))  # 1/3 but only 3 samples: no stop yet
    with pytest.raises(RewardErrorRateExceeded) as err:
        runner.score(["ok"] * 6 + ["boom"], ctxs(7))
    msg = str(err.value)
    assert "2 of 10 samples" in msg and "max_error_rate=0.1" in msg and flaky in msg
    assert err.value.counts == {flaky: 2}


def test_runner_spec_per_call_and_one_shot():
    runner = RewardRunner()
    with pytest.raises(ValueError, match="no rewards"):
        runner.score([GOOD], ctxs(1))
    assert runner.score([GOOD], ctxs(1), rewards=["format"]).scores == [1.0]
    assert score_batch([GOOD], ctxs(1), SPEC).scores == [1.5]
    with pytest.raises(ValueError, match="contexts"):
        runner.score([GOOD], [], rewards=["format"])


def test_batched_reward_isolates_the_failing_sample():
    @register_reward("t_batched_flaky", batched=True)
    def batched(completions, ctxs_):
        """Batched; raises when any completion is 'boom'."""
        if "boom" in completions:
            raise ValueError("bad batch")
        return [0.5] * len(completions)

    try:
        out = RewardRunner(["t_batched_flaky"], max_error_rate=1.0).score(["a", "boom", "b"], ctxs(3))
        assert out.errored == [False, True, False] and out.scores[0] == 0.5 and out.scores[2] == 0.5
    finally:
        unregister_reward("t_batched_flaky")


def test_in_process_timeout(flaky):
    start = time.perf_counter()
    out = RewardRunner([flaky], timeout_s=0.2, max_error_rate=1.0).score(["slow", "ok"], ctxs(2))
    assert time.perf_counter() - start < 2
    assert out.errored == [True, False] and "timed out" in out.errors[0]


def test_process_pool_with_timeout(flaky):
    with RewardRunner([{"name": flaky}, {"name": "format", "weight": 0.5}], num_workers=2, timeout_s=0.5,
                      mp_context="fork", max_error_rate=1.0) as runner:
        start = time.perf_counter()
        out = runner.score(["slow", GOOD, "boom", GOOD], ctxs(4))
        assert time.perf_counter() - start < 4
    assert out.errored == [True, False, True, False]
    assert "timed out" in out.errors[0] and "boom" in out.errors[2]
    assert out.scores[1] == 1.5 and out.scores[3] == 1.5


def test_config_validation():
    for bad in ({"on_error": "skip"}, {"max_error_rate": 2}, {"timeout_s": 0}, {"num_workers": -1},
                {"mp_context": "threads"}):
        with pytest.raises(ValueError):
            RunnerConfig(**bad)


def test_spawned_pool_scores_builtins_by_name():
    with RewardRunner(SPEC, num_workers=2) as runner:  # default 'spawn': workers rebuild rewards by name
        out = runner.score([GOOD, "<answer>[200, 100, 400, 200]</answer>", GOOD], ctxs(3))
    assert out.scores == pytest.approx([1.5, 1 / 3, 1.5]) and out.errored == [False] * 3
