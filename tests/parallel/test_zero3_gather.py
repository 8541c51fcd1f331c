"""DeepSpeed ZeRO-3 rollouts gather the parameters once per phase, not at every decode step
(2-process gloo on CPU)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist

from tests.two_ranks import spawn_two

GATHERS = ("allgather_fn", "all_gather_into_tensor", "all_gather", "all_gather_coalesced")


def _count_gathers(engine, steps: int, use_gathered: bool) -> int:
    """All-gathers issued by ZeRO-3 (through deepspeed.comm, which its partitioner calls) while
    `steps` forwards run, as a decode loop would."""
    import deepspeed.comm as ds_comm

    from vrft.parallel.deepspeed import gathered_zero3

    calls = []
    real = {name: getattr(ds_comm, name) for name in GATHERS}

    def counting(fn):
        def wrapper(*args, **kwargs):
            calls.append(1)
            return fn(*args, **kwargs)
        return wrapper

    for name, fn in real.items():
        setattr(ds_comm, name, counting(fn))
    try:
        with torch.no_grad(), (gathered_zero3(engine) if use_gathered else torch.enable_grad()):
            for _ in range(steps):
                engine(torch.ones(2, 8))
    finally:
        for name, fn in real.items():
            setattr(ds_comm, name, fn)
    return len(calls)


def _worker(rank, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE="2", DS_ACCELERATOR="cpu")
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        import deepspeed

        torch.manual_seed(0)
        model = torch.nn.Sequential(*[torch.nn.Linear(8, 8) for _ in range(3)])
        config = {"train_micro_batch_size_per_gpu": 2, "gradient_accumulation_steps": 1,
                  # tiny layers would otherwise stay whole on every rank (persistent parameters)
                  "zero_optimization": {"stage": 3, "stage3_param_persistence_threshold": 0}}
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, config=config)
        with torch.no_grad():
            expected = engine(torch.ones(2, 8)).detach()
        per_step = _count_gathers(engine, 10, use_gathered=False)
        once = _count_gathers(engine, 10, use_gathered=True)
        once_longer = _count_gathers(engine, 20, use_gathered=True)
        from vrft.parallel.deepspeed import gathered_zero3
        with torch.no_grad(), gathered_zero3(engine):
            same = torch.equal(engine(torch.ones(2, 8)), expected)
        partitioned = all(p.numel() == 0 for p in engine.module.parameters())
        # training still works after the phase: the hooks are back
        loss = engine(torch.ones(2, 8)).square().mean()
        engine.backward(loss)
        engine.step()
        with torch.no_grad():
            moved = not torch.equal(engine(torch.ones(2, 8)), expected)
        out[rank] = (per_step, once, once_longer, same, partitioned, moved)
    finally:
        dist.destroy_process_group()


@pytest.mark.multiproc
def test_zero3_gathers_once_per_rollout_phase():
    pytest.importorskip("deepspeed")
    out = spawn_two(_worker)
    for rank in (0, 1):
        per_step, once, once_longer, same, partitioned, moved = out[rank]
        assert per_step >= 10, per_step  # every forward gathers (its layers, coalesced)
        # one gather per parameter for the whole phase, however many forwards it runs
        assert once == once_longer <= 6, (once, once_longer)
        assert same, "the gathered forward differs from ZeRO-3's own"
        assert partitioned, "the parameters were not partitioned again after the phase"
        assert moved, "training after the phase did not change the model"
