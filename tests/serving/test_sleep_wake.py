"""``rollout.vllm.sleep_mode``: the trainer's order of calls against a recording stand-in server
(vLLM's sleep mode needs a CUDA / ROCm GPU, so the real CPU server cannot sleep; the real server's
refusals are tested in test_vllm_server.py). Per step: rollouts, sleep once every rank is done,
then after the update wake the weights, sync them, wake the rest; never a rollout while asleep."""

from __future__ import annotations

import pytest

from tests.grpo.conftest import run_overrides, small_mixture  # noqa: F401 - fixtures
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


def test_sleep_mode_against_a_server_without_it_stops_at_once_naming_key_and_url(run_overrides):  # noqa: F811
    fake = FakeServer(sleep_mode=False)
    try:
        trainer = _trainer(fake.url, run_overrides)
        with pytest.raises(ValueError, match=rf"rollout.vllm.sleep_mode.*{fake.url}.*--sleep-mode"):
            trainer.train_step()
    finally:
        fake.close()
    assert [p for p, _ in fake.calls] == ["/health"]  # refused before any weight went out
