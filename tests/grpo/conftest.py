"""A small synthetic mixture (colour question + grounding) and a run-config builder for engine tests."""

from __future__ import annotations

import pytest


def zoom_dataset_yaml(root) -> str:
    """The synthetic zoom task (written by `vrft.data.synth.generate` under `root`) as a mixture
    entry with the zoom_in tool enabled."""
    return f"""
  - name: zoom
    format: jsonl
    task: vqa
    files: {root}/zoom/train.jsonl
    prompt_template: no_think
    rewards: [{{name: answer_match, weight: 1.0}}, {{name: tool_use, weight: 0.2}}]
    vision: {{max_pixels: 50176}}
    tools: {{enabled: [zoom_in], max_turns: 2}}
"""


@pytest.fixture(scope="session")
def small_mixture(tmp_path_factory):
    from vrft.data.synth import generate

    root = tmp_path_factory.mktemp("synth")
    generate(str(root), ["color", "grounding"], 16, 0, "easy", 4)
    path = root / "mix.yaml"
    path.write_text(f"""
mixture: {{strategy: bandit, floor: 0.1}}
datasets:
  - name: color
    format: jsonl
    files: {root}/color/train.jsonl
    heldout: {{files: {root}/color/test.jsonl}}
    prompt_template: no_think
    rewards: [{{name: answer_match, weight: 1.0}}]
  - name: grounding
    format: refcoco
    files: {root}/grounding/train.json
    prompt_template: no_think
    rewards: [{{name: iou, weight: 1.0}}, {{name: format, weight: 0.1}}]
""")
    return str(path)


@pytest.fixture
def run_overrides(small_mixture, tmp_path, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "vrft-cache"

    def make(**extra) -> list[str]:
        base = {
            "data.config": small_mixture, "data.cache_dir": str(cache), "log.run_dir": str(tmp_path / "run"),
            "train.steps": 3, "rollout.prompts_per_step": 2, "rollout.num_generations": 4,
            "rollout.max_new_tokens": 8, "train.lr": 1e-3, "algo.gt_injection.enabled": "true",
            "log.tensorboard": "false", "checkpoint.every": 0,
        }
        base.update(extra)
        return [f"{k}={v}" for k, v in base.items()]

    return make
