"""A two-dataset synthetic mixture (colour question + grounding), both with held-out splits, whose
YAML uses paths relative to its own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def search_mixture(tmp_path_factory):
    from vrft.data.synth import generate

    root = tmp_path_factory.mktemp("mixsearch")
    generate(str(root / "synth"), ["color", "grounding"], 16, 0, "easy", 4)
    path = root / "mix.yaml"
    path.write_text("""
mixture: {strategy: bandit, floor: 0.1, params: {temperature: 0.2}}
datasets:
  - name: color
    format: jsonl
    files: synth/color/train.jsonl
    heldout: {files: synth/color/test.jsonl}
    prompt_template: no_think
    rewards: [{name: answer_match, weight: 1.0}]
    weight: 3
  - name: grounding
    format: refcoco
    files: synth/grounding/train.json
    heldout: synth/grounding/test.json
    prompt_template: no_think
    rewards: [{name: iou, weight: 1.0}, {name: format, weight: 0.1}]
    weight: 1
""")
    return str(path)
