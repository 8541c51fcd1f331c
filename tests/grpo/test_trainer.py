"""End-to-end GRPO runs on a tiny model: training, checkpoints, exact resume, distributed backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.grpo.conftest import zoom_dataset_yaml
from vrft.config import load_config


def _metrics(run_dir, with_eval_row: bool = False) -> list[dict]:
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    return rows if with_eval_row else [r for r in rows if r["step"] >= 1]


@pytest.mark.slow
def test_single_process_run_writes_everything(run_overrides, tmp_path):
    from transformers import AutoModelForImageTextToText

    from vrft.grpo.trainer import GRPOTrainer

    cfg = load_config(None, run_overrides(**{"checkpoint.every": 2, "train.steps": 3, "log.tensorboard": "true",
                                             "train.warmup_sft_steps": 2, "train.warmup_sft_lr_schedule": "linear",
                                             "eval.warmup_every": 1}))
    os.makedirs(cfg.log.run_dir)
    for stale in ("metrics.jsonl", "eval.jsonl"):  # an earlier run's files in the same run dir
        with open(os.path.join(cfg.log.run_dir, stale), "w") as f:
            f.write(json.dumps({"tag": "end", "step": 99, "results": {}}) + "\n")
    trainer = GRPOTrainer(cfg)
    before = {n: p.detach().clone() for n, p in trainer.policy.model.named_parameters() if p.requires_grad}
    trainer.train()
    after = dict(trainer.policy.model.named_parameters())
    assert any(not torch.equal(before[n], after[n]) for n in before), "no parameter changed"
    run = cfg.log.run_dir
    rows = _metrics(run)
    assert [r["step"] for r in rows] == [1, 2, 3]
    for key in ("reward/mean", "loss/policy", "train/grad_norm", "perf/tokens_per_s", "mixture/weight/color",
                "reward/color/mean", "reward/grounding/iou", "policy/entropy", "policy/clip_frac"):
        assert any(key in r for r in rows), key  # per-dataset keys: when the step sampled that dataset
    assert all(r["step"] != 99 for r in _metrics(run, with_eval_row=True))  # a fresh run replaced the old log
    sft = [r for r in _metrics(run, with_eval_row=True) if "sft/loss" in r]
    assert [r["step"] for r in sft] == [-1, 0] and [r["sft/lr"] for r in sft] == [1e-3, 5e-4]  # linear decay
    assert all(any(k.startswith(("sft/color/", "sft/grounding/")) for k in r) for r in sft)
    start = _metrics(run, with_eval_row=True)[0]
    assert start["step"] == -2 and 0.0 <= start["eval/color/score"] <= 1.0  # "before": ahead of the 2 warm-up steps
    assert "eval/color/score" in rows[-1] and "eval/grounding/score" not in rows[-1]  # grounding has no held-out
    evals = [json.loads(line) for line in open(os.path.join(run, "eval.jsonl"))]
    assert [(e["tag"], e["step"]) for e in evals] == [("start", -2), ("warmup-1", -1), ("after-warmup", 0), ("end", 3)]
    assert os.path.exists(os.path.join(run, "config.yaml"))
    assert os.listdir(os.path.join(run, "tensorboard"))
    assert {"rewards.png", "completion_length.png", "mixture_weights.png", "eval.png", "warmup_loss.png"} <= set(
        os.listdir(os.path.join(run, "plots")))
    ckpts = sorted(os.listdir(os.path.join(run, "checkpoints")))
    assert ckpts == ["step-000002", "step-000003"]
    model = AutoModelForImageTextToText.from_pretrained(os.path.join(run, "checkpoints", "step-000003", "model"))
    saved = dict(model.named_parameters())
    name = "lm_head.weight"
    assert torch.equal(saved[name], after[name].detach())


def _vrft(args: list[str], env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "vrft", "train", *args], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_exact_resume_after_hard_kill(run_overrides, tmp_path):
    """6 steps straight == 3 steps, SIGKILL, resume, 3 more: same losses, rewards and grad norms."""
    straight = run_overrides(**{"train.steps": 6, "log.run_dir": tmp_path / "a", "checkpoint.every": 3})
    killed = run_overrides(**{"train.steps": 6, "log.run_dir": tmp_path / "b", "checkpoint.every": 3})
    assert _vrft(straight).returncode == 0
    first = _vrft(killed, {"VRFT_FAULT_KILL_AT_STEP": "3"})
    assert first.returncode == -9, first.stderr[-2000:]
    resumed = _vrft(killed)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stdout
    a, b = _metrics(tmp_path / "a"), _metrics(tmp_path / "b")
    assert [r["step"] for r in b] == [1, 2, 3, 4, 5, 6]
    for ra, rb in zip(a, b):
        for key in ("loss/policy", "reward/mean", "train/grad_norm", "rollout/completion_len", "mixture/weight/color"):
            assert ra[key] == rb[key], (ra["step"], key, ra[key], rb[key])


def test_interrupted_save_leaves_previous_checkpoint(run_overrides, monkeypatch):
    from transformers import AutoModelForImageTextToText

    from vrft.grpo.checkpoint import latest_checkpoint
    from vrft.grpo.trainer import GRPOTrainer

    cfg = load_config(None, run_overrides(**{"train.steps": 1, "checkpoint.save_final": "true"}))
    trainer = GRPOTrainer(cfg)
    trainer.train()
    good = latest_checkpoint(cfg.log.run_dir)
    trainer.step = 2

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(trainer.policy, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        trainer.save()
    assert latest_checkpoint(cfg.log.run_dir) == good
    AutoModelForImageTextToText.from_pretrained(os.path.join(good, "model"))


@pytest.mark.slow
def test_training_raises_a_trivially_learnable_reward(run_overrides):
    """GRPO on a reward for short completions: the policy learns to end early and the reward rises."""
    from rewards.registry import register_reward, unregister_reward
    from vrft.grpo.trainer import GRPOTrainer

    @register_reward("test_brevity", score_range=(0.0, 1.0))
    def brevity(completion, ctx):
        """1 for an empty answer, falling linearly to 0 at 40 characters."""
        return max(0.0, 1.0 - len(completion) / 40.0)

    try:
        import yaml

        cfg = load_config(None, run_overrides(**{"train.steps": 30, "rollout.prompts_per_step": 2,
                                                 "rollout.num_generations": 8, "rollout.max_new_tokens": 12,
                                                 "train.lr": 2e-2, "algo.gt_injection.enabled": "false",
                                                 "train.micro_batch_size": 16}))
        mix = yaml.safe_load(open(cfg.data.config))
        for d in mix["datasets"]:
            d["rewards"] = [{"name": "test_brevity"}]
        path = os.path.join(cfg.log.run_dir + "-mix.yaml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        yaml.safe_dump(mix, open(path, "w"))
        cfg.data.config = path
        GRPOTrainer(cfg).train()
    finally:
        unregister_reward("test_brevity")
    r = [row["reward/mean"] for row in _metrics(cfg.log.run_dir)]
    early, late = sum(r[:5]) / 5, sum(r[-5:]) / 5
    assert late > early + 0.15, r


@pytest.mark.slow
@pytest.mark.multiproc
@pytest.mark.parametrize("backend", ["ddp", "fsdp2", "deepspeed", "deepspeed-zero3"])
def test_two_process_backends_keep_replicas_identical(run_overrides, tmp_path, backend):
    """Rollouts (gathered once per phase under fsdp2 / ZeRO-3), update, checkpoint, replica check."""
    run_dir = tmp_path / backend
    name, _, zero3 = backend.partition("-")
    extra = {"train.steps": 2, "log.run_dir": run_dir, "train.backend": name, "checkpoint.every": 2}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if name == "deepspeed":
        pytest.importorskip("deepspeed")
        extra["train.deepspeed.zero_stage"] = 3 if zero3 else 2
        env.setdefault("DS_ACCELERATOR", "cpu")
    args = run_overrides(**extra)
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "vrft",
                           "train", *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    replicas = json.load(open(run_dir / "replicas.json"))
    assert replicas["world_size"] == 2 and replicas["max_abs_diff"] == 0.0
    assert [r["step"] for r in _metrics(run_dir)] == [1, 2]
    assert (run_dir / "checkpoints" / "step-000002" / "COMPLETE").exists()


def test_dynamic_sampling_keeps_only_groups_with_signal(run_overrides):
    from vrft.grpo.trainer import GRPOTrainer
    from vrft.rollout import group_has_signal

    # Ground-truth injection gives every group one rewarded sample among unrewarded ones.
    cfg = load_config(None, run_overrides(**{"algo.dynamic_sampling.enabled": "true",
                                             "algo.dynamic_sampling.max_attempts": 2}))
    trainer = GRPOTrainer(cfg)
    batch = trainer.rollout().batch
    assert len(batch.samples) == cfg.rollout.prompts_per_step
    assert all(group_has_signal(batch, p) for p in range(len(batch.samples)))
    assert batch.rewards.shape[0] == len(batch.texts) == len(batch.samples) * cfg.rollout.num_generations


@pytest.mark.slow
def test_grpo_with_zoom_tools_trains_end_to_end(tmp_path, tiny_model_dir):
    """A tool-enabled dataset rolls out multi-turn trajectories (completions with loss masks) and
    trains; the tool trace reaches the rewards."""
    from vrft.data.synth import generate
    from vrft.grpo.trainer import GRPOTrainer
    from vrft.policy.prompt_inputs import MultiTurnCompletion

    root = tmp_path / "synth"
    generate(str(root), ["zoom"], 4, 0, "easy", 2)
    mix = tmp_path / "zoom.yaml"
    mix.write_text("datasets:" + zoom_dataset_yaml(root))
    cfg = load_config(None, [f"data.config={mix}", f"model.name_or_path={tiny_model_dir('qwen2_5_vl')}",
                             f"log.run_dir={tmp_path / 'run'}", "train.steps=2", "rollout.prompts_per_step=2",
                             "rollout.num_generations=2", "rollout.max_new_tokens=8", "checkpoint.every=0",
                             "algo.gt_injection.enabled=true", "log.tensorboard=false", "eval.at_start=false",
                             "eval.at_end=false", "train.lr=1e-3"])
    trainer = GRPOTrainer(cfg)
    batch = trainer.rollout().batch
    sampled = [c for c, inj in zip(batch.completions, batch.injected) if not inj]
    assert sampled and all(isinstance(c, MultiTurnCompletion) for c in sampled)
    assert all(hasattr(ctx, "tool_calls") for ctx in batch.contexts)
    assert "tool_use" in batch.components
    before = {n: p.detach().clone() for n, p in trainer.policy.model.named_parameters() if p.requires_grad}
    trainer.train()
    after = dict(trainer.policy.model.named_parameters())
    assert any(not torch.equal(before[n], after[n]) for n in before)
    for row in _metrics(cfg.log.run_dir):  # tool use is logged every step
        assert 0.0 <= row["tools/call_rate"] <= 1.0 and 1.0 <= row["tools/turns_per_episode"] <= 2.0
