"""train.time_limit_s: a wall-clock budget per launch that stops every rank at the same step, runs
the end evaluation, saves a checkpoint, and lets a later launch resume."""

from __future__ import annotations

import json
import os
import types

import pytest

from tests.two_ranks import spawn_two
from vrft.config import load_config
from vrft.grpo import time_limit
from vrft.grpo.checkpoint import list_checkpoints
from vrft.grpo.time_limit import TimeLimit
from vrft.grpo.trainer import GRPOTrainer
from vrft.parallel.dist import DistInfo


def _ticking_clock(seconds_per_call: float = 1.0):
    """A clock that moves on by a fixed amount at each reading: the stopping step is deterministic."""
    t = [0.0]

    def now() -> float:
        t[0] += seconds_per_call
        return t[0]
    return now


def test_budget_is_checked_against_the_clock_and_stays_spent():
    limit = TimeLimit(2.5, DistInfo(), clock=_ticking_clock())  # start reads 1
    assert [limit.check() for _ in range(4)] == [False, False, True, True]  # elapsed 1, 2, then 3 >= 2.5
    assert TimeLimit(None, DistInfo()).check() is False
    with pytest.raises(ValueError, match="time_limit_s"):
        TimeLimit(-1.0, DistInfo())


def test_a_negative_budget_is_a_config_error(run_overrides):
    with pytest.raises(Exception, match="train.time_limit_s"):
        load_config(None, run_overrides(**{"train.time_limit_s": -5}))


def _two_rank_worker(rank, port, out):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        # Rank 1's clock runs ten times faster: its budget is spent at its 2nd check, rank 0's never.
        limit = TimeLimit(15.0, DistInfo(rank=rank, world=2), clock=_ticking_clock(1.0 if rank == 0 else 10.0))
        out[rank] = [limit.check() for _ in range(4)]
    finally:
        dist.destroy_process_group()


@pytest.mark.multiproc
def test_two_ranks_stop_at_the_same_check_when_one_rank_is_over_budget():
    out = spawn_two(_two_rank_worker)
    assert out[0] == out[1] == [False, True, True, True]


def _lines(run_dir, name) -> list[dict]:
    return [json.loads(line) for line in open(os.path.join(run_dir, name))]


@pytest.mark.slow
def test_a_spent_budget_stops_rl_evaluates_saves_and_the_next_launch_resumes(run_overrides, monkeypatch, capsys):
    # One tick per reading: start 1, then the checks before steps 1, 2, 3 read 2, 3, 4 (>= 1 + 2.5).
    monkeypatch.setattr(time_limit, "time", types.SimpleNamespace(monotonic=_ticking_clock()))
    extra = {"train.steps": 4, "eval.at_start": "false", "eval.max_samples": 2}
    cfg = load_config(None, run_overrides(**extra, **{"train.time_limit_s": 2.5}))
    GRPOTrainer(cfg).train()
    assert "train.time_limit_s=2.5 spent" in capsys.readouterr().out
    assert [r["step"] for r in _lines(cfg.log.run_dir, "metrics.jsonl")] == [1, 2, 2]  # last: the end evaluation
    assert [(r["tag"], r["step"]) for r in _lines(cfg.log.run_dir, "eval.jsonl")] == [("end", 2)]
    assert [p.name for p in list_checkpoints(cfg.log.run_dir)] == ["step-000002"]

    resumed = GRPOTrainer(load_config(None, run_overrides(**extra)))  # no limit this launch
    resumed.train()
    assert resumed.step == 4
    assert [r["step"] for r in _lines(cfg.log.run_dir, "metrics.jsonl")][-2:] == [3, 4]


@pytest.mark.slow
def test_a_budget_spent_in_the_warm_up_skips_the_rest_and_rl(run_overrides, monkeypatch):
    monkeypatch.setattr(time_limit, "time", types.SimpleNamespace(monotonic=_ticking_clock()))
    cfg = load_config(None, run_overrides(**{"train.steps": 3, "train.warmup_sft_steps": 5, "eval.at_start": "false",
                                             "eval.max_samples": 2, "train.time_limit_s": 1.5}))
    trainer = GRPOTrainer(cfg)
    trainer.train()
    assert trainer.step == 0
    steps = [(r["step"], "sft/loss" in r) for r in _lines(cfg.log.run_dir, "metrics.jsonl")]
    assert steps[:2] == [(-4, True), (-3, True)]  # warm-up steps 1 and 2 of 5 ran
    assert [r["tag"] for r in _lines(cfg.log.run_dir, "eval.jsonl")] == ["after-warmup", "end"]
