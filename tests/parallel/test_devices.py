"""Device discipline without a GPU: fake CUDA tensors (FakeTensorMode) raise
FakeTensorDeviceMismatchError wherever a CPU tensor meets a CUDA one, so these tests fail if a
compute path creates tensors on the default device or a collective is handed CPU tensors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorDeviceMismatchError, FakeTensorMode

import vrft.eval.api as eval_api
import vrft.parallel.dist as dist_mod
import vrft.policy.vision_features as vision_features
from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
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


class _SpyVisionModel(torch.nn.Module):
    """A stand-in VL model whose parameters live on the `meta` device (a device other than the
    CPU, on a CPU-only machine); its vision tower records where its inputs are."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(2, 2, device="meta")
        self.seen: list[torch.device] = []

    def get_image_features(self, pixel_values, grid_thw, return_dict=True):
        self.seen += [pixel_values.device, grid_thw.device]
        return SimpleNamespace(pooler_output=[torch.zeros(1, 2, device="meta")] * int(grid_thw.shape[0]))


def test_vision_inputs_move_to_the_models_device(monkeypatch):
    """The processor leaves pixels and grids on the CPU; the vision tower must get them on the
    model's device."""
    spy = _SpyVisionModel()
    monkeypatch.setattr(vision_features, "core", lambda model: model)
    prompt = SimpleNamespace(pixel_values=torch.ones(4, 6), image_grid_thw=torch.tensor([[1, 2, 2]]),
                             pixel_values_videos=None, video_grid_thw=None)
    vision_features.encode_media(spy, [prompt])
    assert spy.seen == [torch.device("meta")] * 2


def test_evaluation_samples_with_a_generator_on_the_ranks_device(monkeypatch):
    made = []
    real = torch.Generator

    def spy_generator(device="cpu"):
        made.append(torch.device(device))
        return real()

    monkeypatch.setattr(eval_api.torch, "Generator", spy_generator)
    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop  # the generator is made; nothing more to see

    monkeypatch.setattr(eval_api, "_rollouts", stop)
    settings = eval_api.EvalSettings(batch_size=1)
    sample = Sample(id="s", dataset="d", task="vqa", prompt="q", solution={"answer": "a"})
    with pytest.raises(Stop):
        eval_api.run_sharded(None, [sample], DatasetConfig(name="d", format="jsonl", files=["x"]), None, settings,
                             info=DistInfo(device=CUDA))
    assert made == [CUDA]
