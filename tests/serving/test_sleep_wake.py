"""``rollout.vllm.sleep_mode``: the trainer's order of calls against a recording stand-in server
(vLLM's sleep mode needs a CUDA / ROCm GPU, so the real CPU server cannot sleep; the real server's
refusals are tested in test_vllm_server.py). Per step: rollouts, sleep once every rank is done,
then after the update wake the weights, sync them, wake the rest; never a rollout while asleep."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.grpo.conftest import run_overrides, small_mixture  # noqa: F401 - fixtures
from tests.serving.conftest import ROOT
from tests.serving.fake_server import FakeServer
from vrft.config import load_config
from vrft.grpo.trainer import GRPOTrainer


def _trainer(url: str, run_overrides, **extra):  # noqa: F811
    cfg = load_config(None, run_overrides(**{
        "rollout.backend": "vllm", "rollout.vllm.server_url": url, "rollout.vllm.weight_sync": "file",
        "rollout.vllm.timeout_s": 30, "rollout.vllm.sleep_mode": "true", "eval.at_start": "false",
        "eval.at_end": "false", "train.steps": 2, **extra}))
    return GRPOTrainer(cfg)


@pytest.mark.parametrize("level", [1, 2])
def test_sleep_after_rollouts_and_wake_then_sync_before_the_next(run_overrides, level):  # noqa: F811
    fake = FakeServer()
    try:
        trainer = _trainer(fake.url, run_overrides, **{"rollout.vllm.sleep_level": level})
        fake.completion = trainer.policy.tokenizer("<answer>red</answer>", add_special_tokens=False)["input_ids"]
        trainer.train()
    finally:
        fake.close()
    step = ["/generate", "/sleep", "/wake_up['weights']", "/load_weights_file", "/wake_upNone"]
    assert fake.paths() == ["/health", "/load_weights_file", *step, *step]
    assert [b["level"] for p, b in fake.calls if p == "/sleep"] == [level, level]
    assert fake.sleeping == 0  # the run ends with the server awake, holding the final weights
    assert fake.violations == []


@pytest.mark.slow
@pytest.mark.multiproc
def test_two_ranks_wait_for_rank_0s_sync_and_sleep_only_when_both_are_done(run_overrides):  # noqa: F811
    """DDP, 2 processes: only rank 0 talks weights and sleep to the server, but no rank may roll out
    before the server has the weights (loads take 2 s here) nor while it sleeps."""
    fake = FakeServer(load_delay_s=2.0)
    fake.completion = [100, 101, 102, 103]  # plain text tokens of the Qwen vocabulary
    args = run_overrides(**{
        "train.backend": "ddp", "rollout.backend": "vllm", "rollout.vllm.server_url": fake.url,
        "rollout.vllm.weight_sync": "file", "rollout.vllm.timeout_s": 60, "rollout.vllm.sleep_mode": "true",
        "rollout.vllm.sleep_level": 2, "eval.at_start": "false", "eval.at_end": "false", "train.steps": 2})
    try:
        proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "vrft",
                               "train", *args], env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
                              capture_output=True, text=True, cwd=str(ROOT),
                              timeout=int(os.environ.get("VRFT_TEST_TIMEOUT", "600")))
    finally:
        fake.close()
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert fake.violations == []
    step = ["/generate", "/sleep", "/wake_up['weights']", "/load_weights_file", "/wake_upNone"]
    assert [p for p, _ in fake.calls].count("/health") == 2  # each rank checks the server once
    assert [p for p in fake.paths() if p != "/health"] == ["/load_weights_file", *step, *step], fake.paths()


def test_sleep_mode_against_a_server_without_it_stops_at_once_naming_key_and_url(run_overrides):  # noqa: F811
    fake = FakeServer(sleep_mode=False)
    try:
        trainer = _trainer(fake.url, run_overrides)
        with pytest.raises(ValueError, match=rf"rollout.vllm.sleep_mode.*{fake.url}.*--sleep-mode"):
            trainer.train_step()
    finally:
        fake.close()
    assert [p for p, _ in fake.calls] == ["/health"]  # refused before any weight went out
