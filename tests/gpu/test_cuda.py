"""On a real GPU (skipped without CUDA; run by scripts/gpu_check.sh): the policy, the sampler, the
update and the backends with every tensor on the device and bf16 compute."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import FAMILIES
from vrft.config import load_config
from vrft.parallel import DistInfo, build_backend
from vrft.policy.loading import LoadSettings
from vrft.policy.policy import Policy
from vrft.policy.sampling import SamplingParams

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

CUDA = torch.device("cuda:0")


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_policy_generates_and_scores_on_cuda(tiny_model_dir, media_dir, family, dtype):
    policy = Policy.from_pretrained(tiny_model_dir(family), LoadSettings(dtype=dtype), device=CUDA)
    prompts = [policy.encode("What is in the image?", images=[str(media_dir / "a.png")]),
               policy.encode("When does it change?", video=str(media_dir / "v.mp4"))]
    g = torch.Generator(device=CUDA).manual_seed(0)
    comps = policy.generate(prompts, n=4, params=SamplingParams(max_new_tokens=12), generator=g)
    assert len(comps) == 8
    out = policy.logprobs(prompts, [c.prompt_index for c in comps], [c.token_ids for c in comps])
    tol = 2e-3 if dtype == "float32" else 0.1  # bf16 kernels differ between decode and a full forward
    for lp, c in zip(out.logprobs, comps):
        assert lp.dtype == torch.float32 and torch.isfinite(lp).all()
        torch.testing.assert_close(lp.cpu(), c.logprobs.float().cpu(), atol=tol, rtol=0)


def test_bf16_single_backend_keeps_fp32_master_weights_on_cuda(tiny_model_dir):
    policy = Policy.from_pretrained(tiny_model_dir("qwen2_5_vl"), LoadSettings(dtype="bfloat16"), device=CUDA)
    backend = build_backend("single", DistInfo(device=CUDA), {"bf16": True})
    model = backend.setup(policy.model, lambda m: (torch.optim.AdamW(m.parameters(), lr=1e-6), None), 1)
    params = [p for g in backend.optimizer.param_groups for p in g["params"]]
    assert all(p.dtype == torch.float32 and p.device.type == "cuda" for p in params)
    assert model is policy.model


@pytest.mark.parametrize("backend", ["single", "fsdp2"])
def test_grpo_steps_on_cuda(run_overrides, backend, monkeypatch):
    """Two bf16 GRPO steps on the GPU; FSDP2 needs a process group even with one process."""
    import os

    import torch.distributed as dist

    from vrft.grpo.trainer import GRPOTrainer

    if backend == "fsdp2":
        monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
        monkeypatch.setenv("MASTER_PORT", str(29500 + os.getpid() % 1000))
        dist.init_process_group("nccl", rank=0, world_size=1)
    try:
        cfg = load_config(None, run_overrides(**{"train.bf16": "true", "train.steps": 2, "train.backend": backend}))
        info = DistInfo(rank=0, world=1, device=CUDA)
        trainer = GRPOTrainer(cfg, info)
        last = trainer.train()
        assert last["train/grad_norm"] == last["train/grad_norm"]
        assert trainer.generator.device.type == "cuda"
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
