"""The lockstep callback of a process group: ``lockstep(this_rank_done) -> every_rank_done``.

The training loop hands the turn loop the one its backend builds; evaluation under torchrun builds
it here from the process group and the device its collectives run on."""

from __future__ import annotations

import torch
import torch.distributed as dist

from vrft.rollout.backends import Lockstep


def all_ranks_done(device: torch.device | str = "cpu") -> Lockstep:
    """A collective: every rank must call it the same number of times."""

    def lockstep(done: bool) -> bool:
        flag = torch.tensor([0.0 if done else 1.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)  # some rank not done -> 1
        return not bool(flag.item())

    return lockstep
