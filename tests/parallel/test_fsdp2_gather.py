"""FSDP2 rollouts gather the parameters once per phase, not at every decode step (2-process gloo)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
from torch.distributed.fsdp import fully_shard

from tests.two_ranks import spawn_two
from vrft.parallel.fsdp2 import gathered


def _count_gathers(model, steps: int, use_gathered: bool) -> int:
    calls = []
    real = dist.all_gather_single

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    dist.all_gather_single = counting
    try:
        with torch.no_grad(), (gathered(model) if use_gathered else torch.enable_grad()):
            for _ in range(steps):
                model(torch.ones(2, 8))
    finally:
        dist.all_gather_single = real
    return len(calls)


def _worker(rank, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        model = torch.nn.Sequential(*[torch.nn.Linear(8, 8) for _ in range(3)])
        for layer in model:
            fully_shard(layer)
        fully_shard(model)
        expected = model(torch.ones(2, 8)).detach()
        per_step = _count_gathers(model, 10, use_gathered=False)
        once = _count_gathers(model, 10, use_gathered=True)
        with torch.no_grad(), gathered(model):
            same = torch.equal(model(torch.ones(2, 8)), expected)
        sharded_again = all(p.to_local().numel() < p.numel() for p in model.parameters())
        out[rank] = (per_step, once, same, sharded_again)
    finally:
        dist.destroy_process_group()


@pytest.mark.multiproc
def test_fsdp2_gathers_once_per_rollout_phase():
    out = spawn_two(_worker)
    for rank in (0, 1):
        per_step, once, same, sharded_again = out[rank]
        assert per_step >= 10 * 3, per_step  # every forward gathers every layer
        assert once <= 4, once  # one gather per unit for the whole phase
        assert same and sharded_again
