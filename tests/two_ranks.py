"""Two-process helpers for the multi-process tests: a free port, two gloo ranks spawned in-process,
and a 2-process `vrft train` under torchrun on a chosen backend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_two(worker, *args) -> dict:
    """Run `worker(rank, port, out, *args)` on ranks 0 and 1; returns what they put in `out`."""
    out = mp.Manager().dict()
    mp.spawn(worker, args=(free_port(), out, *args), nprocs=2, join=True)
    return dict(out)


def torchrun_train(overrides: list[str], backend: str, zero_stage: int = 2) -> subprocess.CompletedProcess:
    """`torchrun --nproc_per_node=2 -m vrft train OVERRIDES` with `train.backend=backend` (DeepSpeed on
    its CPU accelerator at `zero_stage`), one thread per process; asserts it exits 0."""
    overrides = [*overrides, f"train.backend={backend}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if backend == "deepspeed":
        pytest.importorskip("deepspeed")
        overrides.append(f"train.deepspeed.zero_stage={zero_stage}")
        env.setdefault("DS_ACCELERATOR", "cpu")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "vrft",
                           "train", *overrides], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc
