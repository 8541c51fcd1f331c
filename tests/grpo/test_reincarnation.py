"""ReMix's policy reincarnation of the base model (`algo.remix.reincarnate_reference`): the reference
becomes the policy at `until_step`, and a run killed after that resumes with the same reference."""

from __future__ import annotations

import os

import pytest
import torch

from tests.grpo.test_offpolicy_recipes import _straight_and_killed
from tests.grpo.test_trainer import _metrics
from tests.two_ranks import torchrun_train
from vrft.config import ConfigError, config_from_dict, load_config
from vrft.grpo.config_names import CONFIG_REGISTRIES


def _err(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as e:
        config_from_dict({}, overrides, world_size=1, registries=CONFIG_REGISTRIES)
    return str(e.value)


def test_reincarnation_is_refused_without_a_step_or_a_reference_model():
    on = "algo.remix.reincarnate_reference=true"
    assert "algo.remix.reincarnate_reference" in _err([on, "algo.beta=0.05"])  # until_step null
    assert "algo.remix.reincarnate_reference" in _err([on, "algo.remix.until_step=2", "algo.beta=0"])
    assert "algo.remix.reincarnate_reference" in _err([on, "algo.remix.until_step=2", "algo.beta=0.05",
                                                       "model.lora.enabled=true"])
    config_from_dict({}, [on, "algo.remix.until_step=2", "algo.beta=0.05"], world_size=1,
                     registries=CONFIG_REGISTRIES)


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.slow
def test_reference_is_the_initial_model_until_the_step_then_the_policy_of_that_step(run_overrides):
    from vrft.grpo.trainer import GRPOTrainer

    cfg = load_config(None, run_overrides(**{"train.steps": 4, "algo.beta": 0.05, "algo.remix.until_step": 2,
                                             "algo.remix.reincarnate_reference": "true"}))
    trainer = GRPOTrainer(cfg)
    probe = trainer.rollout().batch  # any batch of completions to score
    initial = trainer._logprobs(trainer.policy, probe)
    for step in range(4):
        before = trainer._logprobs(trainer.policy, probe)  # the policy this step starts from
        trainer.step = step
        metrics = trainer.train_step()
        ref = trainer._logprobs(trainer.reference, probe)
        assert metrics["remix/reincarnated"] == float(step >= 2)
        if step < 2:
            assert _same(ref, initial), step
        elif step == 2:
            assert _same(ref, before) and not _same(ref, initial)
            at_reincarnation = ref
        else:  # replaced once only: the policy moved on, the reference did not
            assert _same(ref, at_reincarnation) and not _same(ref, before)
    assert not _same(trainer._logprobs(trainer.policy, probe), at_reincarnation)


@pytest.mark.slow
def test_reincarnated_reference_is_checkpointed_and_a_killed_run_resumes_exactly(run_overrides, tmp_path):
    """Replay until step 1, where the reference becomes the policy; 4 steps straight == 2 steps,
    SIGKILL, resume, 2 more. The checkpoint at step 2 is after the replacement, so it holds the
    reference: the policy has moved on since step 1 and the initial model is not it either."""
    recipe = {"train.steps": 4, "checkpoint.every": 2, "algo.remix.enabled": "true", "algo.remix.until_step": 1,
              "algo.remix.reincarnate_reference": "true", "algo.beta": 0.05}
    a, b = _straight_and_killed(run_overrides, recipe, tmp_path)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert [r["remix/reincarnated"] for r in a] == [0.0, 1.0, 1.0, 1.0]
    assert os.path.isdir(tmp_path / "b" / "checkpoints" / "step-000002" / "reference")
    assert all(r["loss/kl"] > 0 for r in a[2:])  # the KL to the replaced reference acts after the resume
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "loss/total", "loss/kl", "reward/mean", "train/grad_norm"):
            assert ra.get(key) == rb.get(key), (ra["step"], key, ra.get(key), rb.get(key))


@pytest.mark.slow
@pytest.mark.multiproc
@pytest.mark.parametrize("backend", ["ddp", "fsdp2", "deepspeed"])
def test_reincarnation_copies_the_whole_policy_on_two_processes(run_overrides, tmp_path, backend):
    """Under each backend (FSDP2 shards, ZeRO-3 partitions gathered) the reference of every rank
    becomes the policy at step 1: that step's KL (one optimizer step, so taken at the weights the
    step starts from) is 0, while the policy had already moved away from the initial model."""
    extra = {"train.steps": 3, "log.run_dir": tmp_path / backend, "algo.beta": 0.05,
             "algo.remix.until_step": 1, "algo.remix.reincarnate_reference": "true", "eval.at_start": "false",
             "eval.at_end": "false", "log.plots": "false"}
    torchrun_train(run_overrides(**extra), backend, zero_stage=3)
    rows = _metrics(tmp_path / backend)
    assert [r["remix/reincarnated"] for r in rows] == [0.0, 1.0, 1.0]
    assert rows[1]["loss/kl"] == pytest.approx(0.0, abs=1e-7)
    assert rows[2]["loss/kl"] > 1e-6
