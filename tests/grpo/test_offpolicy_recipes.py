"""Off-policy recipes end to end on a tiny model (CHORD on injected ground truth, ReLIFT, replay,
prefix sampling, RAFT), and the small pieces they add (RAFT's advantage, ReLIFT's failed groups and
SFT loss)."""

from __future__ import annotations

import pytest
import torch

from tests.grpo.test_offpolicy import _batch
from tests.grpo.test_trainer import _metrics, _vrft
from vrft.grpo.advantages import get_advantage
from vrft.grpo.offpolicy.relift import failed_groups, sft_loss_B


def _straight_and_killed(run_overrides, recipe: dict, tmp_path):
    """Metrics of `recipe` run straight (tmp_path/a) and killed at step 2 then resumed (tmp_path/b)."""
    straight = run_overrides(**{**recipe, "log.run_dir": tmp_path / "a"})
    killed = run_overrides(**{**recipe, "log.run_dir": tmp_path / "b"})
    done = _vrft(straight)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _vrft(killed, {"VRFT_FAULT_KILL_AT_STEP": "2"}).returncode == -9
    resumed = _vrft(killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    return _metrics(tmp_path / "a"), _metrics(tmp_path / "b")


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
    a, b = _straight_and_killed(run_overrides, recipe, tmp_path)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert any(r.get("relift/sft_steps", 0) > 0 for r in a)  # the interleaved SFT ran
    assert a[0]["offpolicy/chord_mu"] == pytest.approx(0.5)
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "loss/total", "reward/mean", "train/grad_norm", "relift/buffer",
                    "relift/sft_steps", "offpolicy/expert_loss"):
            assert ra.get(key) == rb.get(key), (ra["step"], key, ra.get(key), rb.get(key))


def test_replay_marks_stored_rows_old_with_their_logps_and_reincarnates():
    from types import SimpleNamespace

    from vrft.grpo.offpolicy.remix import Replay

    cfg = SimpleNamespace(enabled=True, buffer_steps=1, until_step=3)
    replay = Replay(cfg)
    b0 = _batch([0.0, 1.0, 1.0], ["policy", "policy", "expert"], [0, 0, 0])
    b0.behaviour_logprobs = [None] * 3
    lp0 = [torch.full((2,), -1.0), torch.full((2,), -2.0), torch.full((2,), -3.0)]
    same = replay.mix(0, b0, torch.ones(3), torch.ones(3), None, None)
    assert same[0] is b0  # nothing stored yet
    replay.store(0, b0, torch.tensor([-1.0, 1.0, 2.0]), torch.ones(3), lp0)
    b1 = _batch([0.0, 0.0], ["policy", "policy"], [0, 0])
    b1.behaviour_logprobs = [None] * 2
    merged, adv, mask, old, is_w = replay.mix(1, b1, torch.zeros(2), torch.ones(2), None, None)
    assert merged.behaviour == ["policy", "policy", "old", "old", "expert"]
    assert adv.tolist() == [0.0, 0.0, -1.0, 1.0, 2.0] and len(merged.samples) == 2
    assert old[:2] == [None, None] and torch.equal(old[2], lp0[0]) and torch.equal(old[3], lp0[1])
    assert old[4] is None  # an expert row has no behaviour log-probs (it takes no ratio)
    replay.store(1, b1, torch.zeros(2), torch.ones(2), [torch.zeros(2)] * 2)
    assert len(replay.entries) == 1  # buffer_steps = 1: only the last step is kept
    assert replay.store(2, b1, torch.zeros(2), torch.ones(2), [torch.zeros(2)] * 2) == {}  # step 3 is on-policy
    assert replay.mix(3, b1, torch.zeros(2), torch.ones(2), None, None)[0] is b1


@pytest.mark.slow
def test_replay_trains_and_resumes_exactly_after_a_kill(run_overrides, tmp_path):
    """Replay of the previous step's rows (non-empty at the checkpoint): 4 steps straight == 2,
    SIGKILL, resume, 2 more."""
    recipe = {"train.steps": 4, "checkpoint.every": 2, "algo.remix.enabled": "true", "algo.remix.buffer_steps": 1}
    a, b = _straight_and_killed(run_overrides, recipe, tmp_path)
    assert a[-1]["remix/buffer_rows"] > 0
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "loss/total", "reward/mean", "train/grad_norm", "policy/ratio_mean",
                    "remix/buffer_rows"):
            assert ra.get(key) == rb.get(key), (ra["step"], key, ra.get(key), rb.get(key))


@pytest.mark.slow
def test_prefix_sampling_trains_and_resumes_exactly_after_a_kill(run_overrides, tmp_path):
    """Prefix-RFT (one prefix row and one injected row per group of 4) with replay of the previous
    step: 4 steps straight == 2 steps, SIGKILL, resume, 2 more; the prefix tokens were trained."""
    recipe = {"train.steps": 4, "checkpoint.every": 2, "algo.prefix_sampling.enabled": "true",
              "algo.prefix_sampling.per_group": 1, "algo.prefix_sampling.entropy_top_frac": 0.5,
              "algo.remix.enabled": "true"}
    a, b = _straight_and_killed(run_overrides, recipe, tmp_path)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert all(r["prefix/token_frac"] > 0 for r in a)
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "loss/total", "reward/mean", "train/grad_norm", "prefix/token_frac",
                    "prefix/token_prob", "remix/buffer_rows"):
            assert ra.get(key) == rb.get(key), (ra["step"], key, ra.get(key), rb.get(key))


@pytest.mark.slow
def test_remix_with_kl_convex_trains_and_resumes_exactly_after_a_kill(run_overrides, tmp_path):
    """ReMix: replay of the previous step plus the KL-Convex constraint (base = the reference model,
    precedent = the policy before the update; mu = 2 so the precedent term acts): 4 steps straight
    == 2 steps, SIGKILL, resume, 2 more."""
    recipe = {"train.steps": 4, "checkpoint.every": 2, "algo.remix.enabled": "true", "algo.remix.kl_convex": "true",
              "algo.remix.kl_lambda": 0.5, "algo.beta": 0.05, "algo.mu": 2}
    a, b = _straight_and_killed(run_overrides, recipe, tmp_path)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert all(r["remix/kl_precedent"] > 0 and r["remix/kl_base"] > 0 for r in a[1:])
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "loss/total", "loss/kl", "remix/kl_base", "remix/kl_precedent", "reward/mean",
                    "train/grad_norm", "remix/buffer_rows"):
            assert ra.get(key) == rb.get(key), (ra["step"], key, ra.get(key), rb.get(key))


@pytest.mark.slow
def test_raft_trains_and_resumes_exactly_after_a_kill(run_overrides, tmp_path):
    """RAFT (the best of each group gets advantage 1, the rest 0; no injection): 4 steps straight ==
    2 steps, SIGKILL, resume, 2 more; the update is not empty."""
    recipe = {"train.steps": 4, "checkpoint.every": 2, "algo.advantage": "raft", "algo.gt_injection.enabled": "false"}
    a, b = _straight_and_killed(run_overrides, recipe, tmp_path)
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert all(r["train/grad_norm"] > 0 for r in a)
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "loss/total", "reward/mean", "train/grad_norm"):
            assert ra.get(key) == rb.get(key), (ra["step"], key, ra.get(key), rb.get(key))
