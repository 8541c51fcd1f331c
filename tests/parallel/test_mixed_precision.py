"""`train.bf16`: bf16 compute with fp32 master weights, the same meaning on every backend."""

from __future__ import annotations

import json

import pytest
import torch

from tests.two_ranks import torchrun_train
from vrft.config import load_config
from vrft.parallel import DistInfo, build_backend


def _one_step(bf16: bool) -> tuple[torch.nn.Linear, torch.Tensor, torch.optim.Optimizer]:
    model = torch.nn.Linear(4, 4).to(torch.bfloat16)
    with torch.no_grad():
        model.weight.fill_(1.0)
    backend = build_backend("single", DistInfo(), {"bf16": bf16})
    model = backend.setup(model, lambda m: (torch.optim.AdamW(m.parameters(), lr=1e-6, weight_decay=0.0), None), 1)
    before = model.weight.detach().clone()
    backend.zero_grad()
    with backend.autocast():
        out = model(torch.ones(2, 4, dtype=model.weight.dtype))
    backend.backward(out.float().sum())
    backend.optimizer_step(grad_clip=0.0)
    return model, before, backend.optimizer


def test_bf16_keeps_fp32_master_weights_so_a_1e6_update_is_not_lost():
    model, before, optimizer = _one_step(bf16=True)
    assert all(p.dtype == torch.float32 for g in optimizer.param_groups for p in g["params"])
    assert not torch.equal(model.weight.detach().float(), before.float()), "the 1e-6 update was lost"
    # What happens without master weights: bf16 parameters round the same update away.
    model, before, optimizer = _one_step(bf16=False)
    assert model.weight.dtype == torch.bfloat16 and torch.equal(model.weight.detach(), before)


def test_autocast_computes_in_bf16_over_fp32_weights():
    backend = build_backend("single", DistInfo(), {"bf16": True})
    model = backend.setup(torch.nn.Linear(4, 4), lambda m: (torch.optim.AdamW(m.parameters()), None), 1)
    with backend.autocast():
        assert model(torch.ones(1, 4)).dtype == torch.bfloat16
    assert model.weight.dtype == torch.float32


@pytest.mark.slow
def test_bf16_grpo_run_single_process_end_to_end(run_overrides):
    from vrft.grpo.trainer import GRPOTrainer

    cfg = load_config(None, run_overrides(**{"train.bf16": "true", "model.dtype": "bfloat16", "train.steps": 2}))
    trainer = GRPOTrainer(cfg)
    trainer.train()
    opt = trainer.backend.optimizer
    assert all(p.dtype == torch.float32 for g in opt.param_groups for p in g["params"])


@pytest.mark.slow
@pytest.mark.multiproc
@pytest.mark.parametrize("backend", ["ddp", "fsdp2", "deepspeed"])
def test_bf16_grpo_run_two_processes(run_overrides, tmp_path, backend):
    extra = {"train.steps": 2, "log.run_dir": tmp_path / backend, "train.bf16": "true",
             "model.dtype": "bfloat16", "eval.at_start": "false", "eval.at_end": "false", "log.plots": "false"}
    torchrun_train(run_overrides(**extra), backend, zero_stage=2)
    rows = [json.loads(line) for line in open(tmp_path / backend / "metrics.jsonl")]
    assert [r["step"] for r in rows if r["step"] >= 1] == [1, 2]
    assert all(r["train/grad_norm"] == r["train/grad_norm"] for r in rows if r["step"] >= 1)  # finite
    replicas = json.load(open(tmp_path / backend / "replicas.json"))
    assert replicas["max_abs_diff"] == 0.0


def test_deepspeed_extra_keys_are_merged_into_its_json():
    """`train.deepspeed` keys vrft does not translate reach DeepSpeed's config (they were dropped)."""
    from vrft.parallel.deepspeed import ds_config

    cfg = ds_config({"zero_stage": 3, "offload_optimizer": True, "zero_optimization": {"overlap_comm": False},
                     "activation_checkpointing": {"partition_activations": True}},
                    micro_batch_size=2, accum_steps=4, grad_clip=1.0, bf16=True)
    assert cfg["zero_optimization"] == {"stage": 3, "offload_optimizer": {"device": "cpu"}, "overlap_comm": False}
    assert cfg["activation_checkpointing"] == {"partition_activations": True}
    assert cfg["bf16"] == {"enabled": True} and cfg["gradient_accumulation_steps"] == 4
