"""Check that data-parallel ranks hold the same weights: per-tensor checksums, not full copies.

Gathering every rank's full parameters (world x model size in fp32 on every rank: 8 x 28 GB for a
7B model on 8 GPUs) is not an option on real models. Each rank computes, per parameter tensor, the
float64 sum and sum of squares of its full (unsharded) value on the backend's device; only those
2 x n_tensors numbers are gathered. Equal replicas give bitwise-equal checksums.
"""

from __future__ import annotations

import json
import os

import torch
from torch.distributed.tensor import DTensor


def tensor_checksums(model: torch.nn.Module, device: torch.device) -> torch.Tensor:
    """(n_tensors, 2) float64 sums and sums of squares of the parameters, in name order. Sharded
    parameters (FSDP2 DTensors) are made full one tensor at a time (a collective on every rank),
    so the peak is one full tensor, not the model."""
    rows = []
    for _name, value in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if isinstance(value, DTensor):
            value = value.full_tensor()
        v = value.detach().to(device=device, dtype=torch.float64)
        rows.append(torch.stack([v.sum(), (v * v).sum()]))
    return torch.stack(rows) if rows else torch.zeros((0, 2), dtype=torch.float64, device=device)


def check_replicas(model: torch.nn.Module, backend, run_dir: str) -> float:
    """Largest difference between any rank's checksums and rank 0's (0.0: identical replicas);
    rank 0 writes it to `replicas.json`."""
    mine = tensor_checksums(model, backend.device).cpu()
    everyone = backend.gather_objects(mine)
    diff = max(float((c - everyone[0]).abs().max()) if c.numel() else 0.0 for c in everyone)
    if backend.info.is_main:
        with open(os.path.join(run_dir, "replicas.json"), "w") as f:
            json.dump({"world_size": backend.info.world, "max_abs_diff": diff, "n_tensors": int(mine.shape[0])}, f)
    return diff
