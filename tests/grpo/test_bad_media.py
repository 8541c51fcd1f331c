"""`data.on_bad_media: skip`: a training run survives corrupt images, lists them and counts them."""

from __future__ import annotations

import json
import os

import pytest

from vrft.config import load_config
from vrft.data.bad_media import read_bad_samples
from vrft.data.synth import generate
from vrft.grpo.trainer import GRPOTrainer


def _colour_mixture(tmp_path, n_bad: int) -> tuple[str, set[str]]:
    root = tmp_path / "synth"
    generate(str(root), ["color"], 8, 0, "easy", 2)
    rows = [json.loads(line) for line in open(root / "color" / "train.jsonl")]
    bad = set()
    for row in rows[:n_bad]:  # truncate the image file: it exists but cannot be decoded
        path = os.path.join(root, "color", row["images"][0])  # relative to the jsonl's folder
        data = open(path, "rb").read()
        open(path, "wb").write(data[: len(data) // 3])
        bad.add(row["id"])
    path = tmp_path / "mix.yaml"
    path.write_text(f"""
datasets:
  - name: color
    format: jsonl
    files: {root}/color/train.jsonl
    prompt_template: no_think
    rewards: [{{name: answer_match, weight: 1.0}}]
""")
    return str(path), bad


@pytest.mark.slow
def test_training_with_skip_survives_corrupt_images_and_lists_them(run_overrides, tmp_path):
    mix, bad_ids = _colour_mixture(tmp_path, n_bad=2)
    cfg = load_config(None, run_overrides(**{"data.config": mix, "data.on_bad_media": "skip", "train.steps": 4,
                                             "rollout.prompts_per_step": 2, "eval.at_start": "false",
                                             "eval.at_end": "false", "log.plots": "false"}))
    last = GRPOTrainer(cfg).train()
    listed = read_bad_samples(cfg.log.run_dir)
    assert len(listed) == len(bad_ids) and all(any(e["id"].endswith(i) for i in bad_ids) for e in listed)
    assert all(e["dataset"] == "color" and e["file"] and e["reason"] for e in listed)
    assert last["data/bad_media_skipped"] == len(listed)


@pytest.mark.slow
def test_training_with_raise_stops_naming_the_sample(run_overrides, tmp_path):
    mix, bad_ids = _colour_mixture(tmp_path, n_bad=8)
    cfg = load_config(None, run_overrides(**{"data.config": mix, "train.steps": 1, "eval.at_start": "false"}))
    with pytest.raises(ValueError, match="color"):
        GRPOTrainer(cfg).train()
