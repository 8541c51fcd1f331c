"""The in-training API: evaluate_samples on Sample lists + DatasetConfig, and evaluate_mixture_heldout."""

from __future__ import annotations

import pytest
import torch

import vrft.eval.api as api
from vrft.data.load import load_datasets
from vrft.data.mixture_config import parse_mixture_config
from vrft.data.templates import render_solution_completion
from vrft.eval import evaluate_mixture_heldout, evaluate_samples
from vrft.policy.hf_generator import Completion
from vrft.policy.policy import Policy


@pytest.fixture
def loaded(eval_data, tmp_path):
    root = eval_data["vqa"]["data"].parent.parent
    data = {"datasets": [
        {"name": "color", "format": "jsonl", "task": "vqa", "files": f"{root}/color/test.jsonl",
         "heldout": {"files": f"{root}/color/test.jsonl"}, "rewards": [{"name": "answer_match"}],
         "vision": {"max_pixels": 12544}},
        {"name": "grounding", "format": "refcoco", "files": f"{root}/grounding/test.json",
         "heldout": {"files": f"{root}/grounding/test.json"}, "rewards": [{"name": "iou"}],
         "vision": {"max_pixels": 12544}, "prompt_template": "no_think"},
        {"name": "gui_type", "format": "jsonl", "task": "gui", "files": f"{root}/gui_type/test.jsonl",
         "heldout": {"files": f"{root}/gui_type/test.jsonl"}, "rewards": [{"name": "gui_action"}],
         "vision": {"max_pixels": 12544}},
        {"name": "nohold", "format": "jsonl", "task": "vqa", "files": f"{root}/color/test.jsonl",
         "rewards": [{"name": "answer_match"}]},
    ]}
    return load_datasets(parse_mixture_config(data, str(tmp_path)))


def test_evaluate_samples_infers_the_benchmark(tiny_policy, loaded):
    ds = loaded["grounding"]
    result = evaluate_samples(tiny_policy(), ds.heldout, ds.config, max_new_tokens=8, batch_size=3)
    assert [r["id"] for r in result.predictions] == [s.id for s in ds.heldout]
    assert {"acc@0.5", "miou", "score", "unparseable", "unparseable_rate"} <= set(result.metrics)
    assert result.metrics["n"] == len(ds.heldout)
    ds = loaded["color"]
    result = evaluate_samples(tiny_policy(), ds.heldout[:2], ds.config, benchmark="synthetic", max_new_tokens=8)
    assert result.metrics["n"] == 2 and "score/vqa" in result.metrics


def test_evaluate_mixture_heldout_gives_a_headline_per_dataset(tiny_policy, loaded):
    scores = evaluate_mixture_heldout(tiny_policy(), loaded, max_samples=2, max_new_tokens=8)
    assert list(scores) == ["color", "grounding", "gui_type"]  # no held-out split: left out
    assert all(0.0 <= m["score"] <= 1.0 and m["n"] == 2 for m in scores.values())
    assert "accuracy" in scores["color"] and "acc@0.5" in scores["grounding"]
    assert "action_acc" in scores["gui_type"]


def test_heldout_oracle_scores_one(tiny_policy, loaded, monkeypatch):
    """With ground-truth completions every inferred benchmark's headline is 1."""
    current = []
    real = api._rollouts

    def rollouts(policy, samples, *args):
        current[:] = samples
        return real(policy, samples, *args)

    def generate(policy, prompts, n, params, generator=None, **kw):
        return [Completion(p, torch.zeros(1, dtype=torch.long), torch.zeros(1),
                           render_solution_completion(s, pr.image_frames or None, think=False), "eos")
                for p, (s, pr) in enumerate(zip(current, prompts)) for _ in range(n)]

    monkeypatch.setattr(api, "_rollouts", rollouts)
    monkeypatch.setattr(Policy, "generate", generate)
    scores = evaluate_mixture_heldout(tiny_policy(), loaded, max_samples=3)
    assert {k: m["score"] for k, m in scores.items()} == {"color": 1.0, "grounding": 1.0, "gui_type": 1.0}
