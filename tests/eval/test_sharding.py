"""run_sharded over two gloo ranks: every rank gets every record in input order, and with
``lockstep`` a rank with fewer samples still joins every generate call (sharded models need it)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import torch.distributed as dist

import vrft.eval.api as api
from rewards.context import RewardContext
from tests.two_ranks import spawn_two
from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.eval.benchmarks import get_benchmark
from vrft.parallel.dist import DistInfo


def _samples(k: int) -> list[Sample]:
    return [Sample(id=f"d/{i}", dataset="d", task="vqa", prompt="q", solution={"answer": "yes" if i % 2 else "no"})
            for i in range(k)]


def fake_rollouts(calls):
    def rollouts(policy, samples, cfg, settings, tools, generator, all_finished):
        calls.append([s.id for s in samples])
        return SimpleNamespace(samples=samples, seq_prompt=list(range(len(samples))),
                               texts=["<answer>yes</answer>"] * len(samples), finish_reasons=["eos"] * len(samples),
                               contexts=[RewardContext(solution=s.solution, task=s.task) for s in samples])

    return rollouts


def _worker(rank: int, port: int, out) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        calls: list = []
        api._rollouts = fake_rollouts(calls)
        cfg = DatasetConfig(name="d", format="jsonl", files=["x"])
        settings = api.EvalSettings(batch_size=1, tools=False)
        gathered: list = []
        records = api.run_sharded(None, _samples(3), cfg, get_benchmark("vqa"), settings, info=DistInfo(rank, 2),
                                  lockstep=True, on_records=gathered.append)
        out[rank] = {"ids": [r["id"] for r in records], "correct": [r["correct"] for r in records],
                     "calls": calls, "gathered": [len(g) for g in gathered]}
    finally:
        dist.destroy_process_group()


@pytest.mark.multiproc
def test_two_ranks_gather_everything_in_order_and_keep_step():
    out = spawn_two(_worker)
    for rank in (0, 1):
        assert out[rank]["ids"] == ["d/0", "d/1", "d/2"]
        assert out[rank]["correct"] == [False, True, False]
        assert out[rank]["gathered"] == [2, 1]  # batch 0: one per rank; batch 1: rank 0 only
    assert out[0]["calls"] == [["d/0"], ["d/2"]]
    assert out[1]["calls"] == [["d/1"], ["d/0"]]  # lockstep: a throw-away call on the last batch


def test_single_process_needs_no_process_group(monkeypatch):
    calls: list = []
    monkeypatch.setattr(api, "_rollouts", fake_rollouts(calls))
    cfg = DatasetConfig(name="d", format="jsonl", files=["x"])
    records = api.run_sharded(None, _samples(5), cfg, get_benchmark("vqa"), api.EvalSettings(batch_size=2, tools=False))
    assert [r["id"] for r in records] == [f"d/{i}" for i in range(5)] and len(calls) == 3
