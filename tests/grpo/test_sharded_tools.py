"""Sharded training (FSDP2, ZeRO-3) on a mixture of tool and plain datasets: every forward is collective,
so a rank whose prompts are all plain (or all tool-using) must still take part in the other
rollout phase, or the ranks deadlock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.grpo.conftest import zoom_dataset_yaml
from vrft.data.mixture_sampler import MixtureSampler


def _mixture(tmp_path):
    from vrft.data.synth import generate

    root = tmp_path / "synth"
    generate(str(root), ["zoom", "color"], 8, 0, "easy", 2)
    mix = tmp_path / "mix.yaml"
    mix.write_text(f"""
datasets:
  - name: color
    format: jsonl
    files: {root}/color/train.jsonl
    prompt_template: no_think
    rewards: [{{name: answer_match, weight: 1.0}}]""" + zoom_dataset_yaml(root))
    return mix


def _mixed_steps(steps: int, seed: int) -> list[bool]:
    """Which steps give the two ranks (one prompt each) one plain and one tool prompt: the trainer's
    sampler with the same seed and equal weights."""
    sampler = MixtureSampler({"color": list(range(8)), "zoom": list(range(8))}, {"color": 1.0, "zoom": 1.0},
                             batch_size=2, seed=seed)
    return [len({name for name, _ in sampler.next_global_indices()}) == 2 for _ in range(steps)]


@pytest.mark.slow
@pytest.mark.multiproc
@pytest.mark.parametrize("backend", ["fsdp2", "deepspeed"])
def test_sharded_run_with_tool_and_plain_prompts_on_different_ranks(tmp_path, tiny_model_dir, backend):
    steps, seed = 3, 0
    assert any(_mixed_steps(steps, seed)), "pick a seed whose steps split plain and tool prompts across ranks"
    run_dir = tmp_path / "run"
    args = [f"data.config={_mixture(tmp_path)}", f"model.name_or_path={tiny_model_dir('qwen2_5_vl')}",
            f"log.run_dir={run_dir}", f"train.steps={steps}", f"train.seed={seed}", f"train.backend={backend}",
            "rollout.prompts_per_step=2", "rollout.num_generations=2", "rollout.max_new_tokens=8",
            "checkpoint.every=0", "checkpoint.save_final=false", "algo.gt_injection.enabled=true",
            "log.tensorboard=false", "eval.at_start=false", "eval.at_end=false"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if backend == "deepspeed":
        pytest.importorskip("deepspeed")
        args.append("train.deepspeed.zero_stage=3")  # parameters sharded: every forward gathers them
        env.setdefault("DS_ACCELERATOR", "cpu")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "vrft",
                           "train", *args], env=env, capture_output=True, text=True, timeout=int(os.environ.get("VRFT_TEST_TIMEOUT", "300")))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    assert [r["step"] for r in rows if r["step"] >= 1] == list(range(1, steps + 1))
