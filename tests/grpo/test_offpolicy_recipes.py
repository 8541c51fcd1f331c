"""Off-policy recipes end to end on a tiny model (CHORD on injected ground truth, ReLIFT), and the
small pieces they add (RAFT's advantage, ReLIFT's failed groups and SFT loss)."""

from __future__ import annotations

import pytest
import torch

from tests.grpo.test_offpolicy import _batch
from tests.grpo.test_trainer import _metrics, _vrft
from vrft.grpo.advantages import get_advantage
from vrft.grpo.offpolicy.relift import failed_groups, sft_loss_B


def test_raft_advantage_is_one_for_each_groups_best():
    rewards = torch.tensor([0.2, 0.9, 0.9, 0.1, 0.0, 0.5, 0.3])
    group = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    valid = torch.tensor([True, True, True, True, True, False, True])
    adv, _ = get_advantage("raft")(rewards, group, valid)
    assert adv.tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]  # first of a tie; an invalid row never wins


def test_relift_collects_groups_whose_sampled_rows_all_failed():
    kinds = ["policy", "policy", "expert"] * 3
    group = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    rewards = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.1, 0.0, 1.0]  # group 0 failed (expert's 1 does not count)
    batch = _batch(rewards, kinds, group)
    assert [s.id for s in failed_groups(batch, 0.0)] == ["s0"]
    assert [s.id for s in failed_groups(batch, 0.15)] == ["s0", "s2"]


def test_relift_sft_loss_is_the_per_sample_mean_nll():
    logps = [torch.tensor([-1.0, -3.0]), torch.tensor([-0.5])]
    assert sft_loss_B(logps).tolist() == [2.0, 0.5]


@pytest.mark.slow
def test_chord_and_relift_train_and_resume_exactly_after_a_kill(run_overrides, tmp_path):
    """CHORD on injected ground truth plus ReLIFT's interleaved SFT: 4 steps straight == 2 steps,
    SIGKILL, resume, 2 more (the ReLIFT buffer, non-empty at the checkpoint, comes back)."""
    recipe = {"train.steps": 4, "checkpoint.every": 2, "algo.offpolicy.expert_form": "chord",
              "algo.offpolicy.chord_mu_peak": 0.5, "algo.offpolicy.chord_mu_valley": 0.1,
              "algo.offpolicy.chord_mu_decay_steps": 4, "algo.relift.enabled": "true",
              "algo.relift.batch_size": 3, "algo.relift.fail_threshold": 0.5}
    straight = run_overrides(**{**recipe, "log.run_dir": tmp_path / "a"})
    killed = run_overrides(**{**recipe, "log.run_dir": tmp_path / "b"})
    assert _vrft(straight).returncode == 0
    first = _vrft(killed, {"VRFT_FAULT_KILL_AT_STEP": "2"})
    assert first.returncode == -9, first.stderr[-2000:]
    resumed = _vrft(killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = _metrics(tmp_path / "a"), _metrics(tmp_path / "b")
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert any(r.get("relift/sft_steps", 0) > 0 for r in a)  # the interleaved SFT ran
    assert a[0]["offpolicy/chord_mu"] == pytest.approx(0.5)
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "loss/total", "reward/mean", "train/grad_norm", "relift/buffer",
                    "relift/sft_steps", "offpolicy/expert_loss"):
            assert ra.get(key) == rb.get(key), (ra["step"], key, ra.get(key), rb.get(key))
