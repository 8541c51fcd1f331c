"""GRPO with ``rollout.backend: vllm``: 3 steps end to end through the server, the weights synced
after every optimizer step (the next step's sampler log-probs then equal the trainer's old ones:
``rollout/logprob_gap`` stays below ``ATOL``); a killed server stops the run with an error naming it."""

from __future__ import annotations

import json
import os

import pytest
import torch

from tests.grpo.conftest import run_overrides, small_mixture  # noqa: F401 - fixtures
from vrft.config import load_config
from vrft.grpo.trainer import GRPOTrainer
from vrft.rollout.vllm_client import VLLMServerError

pytestmark = pytest.mark.slow
ATOL = 1e-3


@pytest.mark.parametrize("sync", ["broadcast", "file"])
def test_three_grpo_steps_through_the_server(vllm_server, vllm_model_dir, run_overrides, sync):  # noqa: F811
    proc, client = vllm_server
    cfg = load_config(None, run_overrides(**{
        "model.name_or_path": vllm_model_dir, "rollout.backend": "vllm", "rollout.vllm.server_url": client.url,
        "rollout.vllm.weight_sync": sync, "rollout.vllm.timeout_s": 120, "eval.at_start": "false",
        "eval.at_end": "false", "train.lr": 1e-2}))  # ground-truth injection gives the groups a signal
    trainer = GRPOTrainer(cfg)
    before = {n: p.detach().clone() for n, p in trainer.policy.model.named_parameters()}
    trainer.train()
    assert any(not torch.equal(before[n], p) for n, p in trainer.policy.model.named_parameters())
    rows = [json.loads(line) for line in open(os.path.join(cfg.log.run_dir, "metrics.jsonl"))]
    rows = [r for r in rows if r["step"] >= 1]
    assert [r["step"] for r in rows] == [1, 2, 3]
    gaps = [r["rollout/logprob_gap"] for r in rows]
    assert max(gaps) < ATOL, f"sampler vs trainer gap per step {gaps}: the weight sync is not exact"
    if sync == "file":
        assert os.path.exists(os.path.join(cfg.log.run_dir, "vllm_sync.safetensors"))


def test_a_killed_server_stops_the_run_with_a_clear_error(vllm_model_dir, run_overrides, tmp_path):  # noqa: F811
    from tests.serving.conftest import start_server

    proc, client = start_server(vllm_model_dir, tmp_path / "server.log")
    cfg = load_config(None, run_overrides(**{
        "model.name_or_path": vllm_model_dir, "rollout.backend": "vllm", "rollout.vllm.server_url": client.url,
        "rollout.vllm.timeout_s": 60, "eval.at_start": "false", "eval.at_end": "false", "train.steps": 1}))
    trainer = GRPOTrainer(cfg)
    trainer.train_step()
    proc.kill()
    proc.wait(timeout=60)
    with pytest.raises(VLLMServerError, match=client.url):
        trainer.train_step()
