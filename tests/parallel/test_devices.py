"""Device discipline without a GPU: fake CUDA tensors (FakeTensorMode) raise
FakeTensorDeviceMismatchError wherever a CPU tensor meets a CUDA one, so these tests fail if a
compute path creates tensors on the default device or a collective is handed CPU tensors."""

from __future__ import annotations

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorDeviceMismatchError, FakeTensorMode

import vrft.parallel.dist as dist_mod
from vrft.grpo.kl import KL_ESTIMATORS
from vrft.grpo.losses import LOSSES, get_loss
from vrft.grpo.update import pad_right
from vrft.parallel.dist import DistInfo, all_reduce_max, all_reduce_sum

CUDA = torch.device("cuda:0")


def test_fake_cuda_catches_a_device_mismatch():
    """The premise of this file: on a CPU-only machine, fake CUDA tensors still check devices."""
    with FakeTensorMode(allow_non_fake_inputs=True):
        with pytest.raises(FakeTensorDeviceMismatchError):
            torch.ones(2, device=CUDA) + torch.ones(2)


@pytest.mark.parametrize("loss", LOSSES.names())
@pytest.mark.parametrize("kl", KL_ESTIMATORS.names())
def test_every_loss_runs_on_the_device_of_its_inputs(loss, kl):
    with FakeTensorMode(allow_non_fake_inputs=True):
        logp_BT = torch.randn(3, 5, device=CUDA, requires_grad=True)
        value, metrics = get_loss(loss)(
            logp_BT, logp_BT.detach() + 0.1, torch.randn(3, device=CUDA), torch.ones(3, 5, device=CUDA),
            clip_low=0.2, clip_high=0.28, n_tokens_global=15.0, n_seqs_global=3.0, max_len=5,
            ref_logp_BT=torch.randn(3, 5, device=CUDA), beta=0.1, kl_estimator=kl,
            is_weights_BT=torch.ones(3, 5, device=CUDA))
        assert value.device == CUDA
        assert all(m.device == CUDA for m in metrics.values())


def test_pad_right_keeps_rows_on_their_device():
    with FakeTensorMode(allow_non_fake_inputs=True):
        rows = [torch.randn(4, device=CUDA), torch.randn(2, device=CUDA)]
        out, mask = pad_right(rows)
        assert out.device == mask.device == CUDA
        assert pad_right([torch.ones(3)], device=CUDA)[0].device == CUDA


def test_collectives_hand_the_group_tensors_on_its_device(monkeypatch):
    """An NCCL group serves CUDA tensors only: a CPU tensor reduced on a CUDA rank goes to the
    rank's device for the collective and comes back to the caller's device."""
    seen = []
    monkeypatch.setattr(dist_mod.dist, "all_reduce", lambda t, op=None: seen.append(t.device))
    info = DistInfo(rank=0, world=2, device=CUDA)
    with FakeTensorMode(allow_non_fake_inputs=True):
        x = torch.ones(3, dtype=torch.float64)
        assert all_reduce_sum(x, info).device == x.device
        assert all_reduce_max(x, info).device == x.device
    assert seen == [CUDA, CUDA]
