"""Ranks that agree: under torchrun every rank must see the same global batch, the same group
statistics and, after a restart, continue exactly where it stopped (2-process gloo runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
import yaml

from tests.two_ranks import spawn_two
from vrft.grpo.advantages import advantages_over_ranks, get_advantage

REWARDS = torch.tensor([1.0, 0.0, 0.3, 0.9, 0.2, 0.7, 0.4, 0.4, 0.0, 1.0, 1.0, 0.5])
GROUPS = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])


def _batch_std_worker(rank, port, out):
    import torch.distributed as dist

    from vrft.parallel.dist import DistInfo, all_reduce_sum

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        info = DistInfo(rank=rank, world=2)
        half = slice(6 * rank, 6 * rank + 6)
        local_groups = GROUPS[half] - 2 * rank  # each rank numbers its own groups from 0
        adv, _ = advantages_over_ranks("batch_std", REWARDS[half], local_groups, None, rank=rank,
                                       groups_per_rank=[2, 2], reduce_sum=lambda t: all_reduce_sum(t, info))
        out[rank] = adv.tolist()
    finally:
        dist.destroy_process_group()


@pytest.mark.multiproc
def test_batch_std_uses_the_global_std_over_two_ranks():
    out = spawn_two(_batch_std_worker)
    one_process, _ = get_advantage("batch_std")(REWARDS, GROUPS)
    torch.testing.assert_close(torch.tensor(out[0] + out[1]), one_process)
    # A per-rank std (the old behaviour) gives different values on this batch.
    local = get_advantage("batch_std")(REWARDS[:6], GROUPS[:6])[0]
    assert not torch.allclose(local, one_process[:6])


def _mixture_with_difficulty(small_mixture, path) -> str:
    mix = yaml.safe_load(open(small_mixture))
    # Skip quickly: one observed group is enough evidence, and never explore.
    mix["difficulty"] = {"enabled": True, "min_evidence": 1.0, "explore_prob": 0.0, "lo": 0.3, "hi": 0.9}
    path.write_text(yaml.safe_dump(mix))
    return str(path)


def _torchrun(args, env_extra=None, check=True):
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "vrft",
                           "train", *args], env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _rank_records(run_dir, rank) -> list[dict]:
    return [json.loads(line) for line in open(os.path.join(run_dir, "ranks", f"rank{rank}.jsonl"))]


@pytest.mark.slow
@pytest.mark.multiproc
def test_two_ranks_draw_identical_global_batches_with_difficulty_skipping(run_overrides, small_mixture, tmp_path):
    mix = _mixture_with_difficulty(small_mixture, tmp_path / "mix.yaml")
    run_dir = tmp_path / "run"
    _torchrun(run_overrides(**{"data.config": mix, "train.steps": 20, "train.backend": "ddp", "log.run_dir": run_dir,
                               "log.per_rank": "true", "rollout.prompts_per_step": 4, "rollout.num_generations": 4,
                               "algo.gt_injection.enabled": "false",
                               "rollout.max_new_tokens": 4, "eval.at_start": "false", "eval.at_end": "false",
                               "log.plots": "false"}))
    r0, r1 = _rank_records(run_dir, 0), _rank_records(run_dir, 1)
    assert [r["step"] for r in r0] == [r["step"] for r in r1] == list(range(1, 21))
    for a, b in zip(r0, r1):
        assert a["global_draw"] == b["global_draw"], f"step {a['step']}: the ranks drew different global batches"
        # each prompt of the global batch is trained on exactly one rank
        assert a["prompts"] + b["prompts"] == a["global_draw"], a["step"]
    assert r0[-1]["metrics"]["difficulty/skipped"] > 0, "the test needs difficulty skipping to happen"


OFFPOLICY = {"algo.offpolicy.expert_form": "chord", "algo.relift.enabled": "true", "algo.relift.batch_size": 3,
             "algo.relift.fail_threshold": 0.5, "algo.remix.enabled": "true", "algo.remix.buffer_steps": 1}


@pytest.mark.slow
@pytest.mark.multiproc
@pytest.mark.parametrize("recipe", [{}, OFFPOLICY], ids=["luffy", "chord+relift+replay"])
def test_kill_and_resume_two_process_ddp_is_bitwise_exact(run_overrides, small_mixture, tmp_path, recipe):
    """With the off-policy recipes too: ReLIFT's global buffer and SFT step, each rank's replay buffer."""
    mix = _mixture_with_difficulty(small_mixture, tmp_path / "mix.yaml")
    common = {"data.config": mix, "train.steps": 6, "train.backend": "ddp", "log.per_rank": "true",
              "eval.at_start": "false", "eval.at_end": "false", "log.plots": "false",
              "algo.gt_injection.prob": 0.5, "rollout.temperature": 1.0, **recipe}
    _torchrun(run_overrides(**common, **{"log.run_dir": tmp_path / "straight"}))
    killed = run_overrides(**common, **{"log.run_dir": tmp_path / "killed", "checkpoint.every": 3})
    first = _torchrun(killed, {"VRFT_FAULT_KILL_AT_STEP": "3"}, check=False)
    assert first.returncode != 0, "the fault injection did not kill the run"
    _torchrun(killed)
    for rank in (0, 1):
        straight = _rank_records(tmp_path / "straight", rank)
        resumed = _rank_records(tmp_path / "killed", rank)
        assert [r["step"] for r in resumed] == list(range(1, 7))
        for a, b in zip(straight, resumed):
            a_m = {k: v for k, v in a["metrics"].items() if not k.startswith("perf/")}
            b_m = {k: v for k, v in b["metrics"].items() if not k.startswith("perf/")}
            assert (a["prompts"], a["rewards"], a_m) == (b["prompts"], b["rewards"], b_m), \
                f"rank {rank} step {a['step']} differs after the restart"
        if recipe:  # the recipes ran: an interleaved SFT step, replayed rows
            assert any(r["metrics"].get("relift/sft_steps", 0) > 0 for r in straight)
            assert any(r["metrics"].get("remix/buffer_rows", 0) > 0 for r in straight)
