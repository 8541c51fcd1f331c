"""Avg@k: the mean headline score over k sampled completions per prompt and its standard error,
checked against a hand computation from the per-sample judgements."""

from __future__ import annotations

import json
import math
import statistics

import pytest

import vrft.eval.api as api
from tests.eval.conftest import eval_argv, run_cli
from vrft.data.mixture_config import DatasetConfig, RewardSpec
from vrft.data.sample import Sample
from vrft.eval.api import EvalSettings, evaluate_samples
from vrft.eval.avg_at_k import avg_at_k, draw_records
from vrft.eval.benchmarks import get_benchmark
from vrft.rollout import RolloutCollector, ScriptedBackend


def _record(correct: list[bool]) -> dict:
    return {"id": "x", "correct": True, "unparseable": False, "score": 1.0,
            "samples": [{"correct": c, "unparseable": False, "score": float(c)} for c in correct]}


def test_mean_and_standard_error_by_hand():
    records = [_record([True, True, False, False]), _record([False] * 4), _record([True] * 4)]
    out = avg_at_k(get_benchmark("vqa"), records)
    # per-prompt means 0.5, 0, 1: mean 0.5, sample sd 0.5, se 0.5 / sqrt(3)
    assert out["avg@4"] == pytest.approx(0.5) and out["avg@4_se"] == pytest.approx(0.5 / math.sqrt(3))
    assert [d["correct"] for d in draw_records(records[0])] == [True, True, False, False]
    assert math.isnan(avg_at_k(get_benchmark("vqa"), records[:1])["avg@4_se"])  # one prompt: no spread
    assert avg_at_k(get_benchmark("vqa"), [{"id": "y", "correct": True}]) == {}  # greedy only


def test_settings_refuse_ambiguous_sampling():
    with pytest.raises(ValueError, match="already give Avg@4"):
        EvalSettings(n=4, temperature=0.7, samples_per_prompt=8)
    with pytest.raises(ValueError, match="sample_temperature > 0"):
        EvalSettings(samples_per_prompt=8, sample_temperature=0.0)


GREEDY = ["red", "blue", "red"]                          # prompt p's greedy answer
DRAWS = [["red", "red", "blue"], ["blue", "blue", "blue"], ["red", "green", "blue"]]  # its 3 samples


def test_evaluate_samples_reports_greedy_and_avg_at_k(tiny_policy, media_dir, monkeypatch):
    policy = tiny_policy("qwen2_5_vl")
    passes = []

    def scripted_collector(policy, configs, lockstep=None):
        # the first collection of a batch is the greedy pass (n=1), the second the k samples
        draws = bool(passes)
        passes.append(draws)
        script = (lambda i, t: f"<answer>{DRAWS[i // 3][i % 3]}</answer>") if draws else \
            (lambda i, t: f"<answer>{GREEDY[i]}</answer>")
        return RolloutCollector(policy, configs, backend=ScriptedBackend(policy.tokenizer, script), lockstep=lockstep)

    monkeypatch.setattr(api, "RolloutCollector", scripted_collector)
    cfg = DatasetConfig(name="colors", format="jsonl", files=["c.jsonl"], task="vqa",
                        rewards=[RewardSpec("answer_match")])
    samples = [Sample(id=f"colors/{p}", dataset="colors", task="vqa", prompt="What colour is it?",
                      solution={"answer": "red"}, images=[str(media_dir / "a.png")]) for p in range(3)]
    result = evaluate_samples(policy, samples, cfg, max_new_tokens=16, samples_per_prompt=3, batch_size=3)
    assert passes == [False, True]
    assert [r["answer"] for r in result.predictions] == GREEDY  # the top level stays greedy
    per_sample = [[float(s["correct"]) for s in r["samples"]] for r in result.predictions]
    assert per_sample == [[1, 1, 0], [0, 0, 0], [1, 0, 0]]
    prompt_means = [sum(v) / 3 for v in per_sample]
    m = result.metrics
    assert m["score"] == pytest.approx(2 / 3)  # greedy accuracy
    assert m["avg@3"] == pytest.approx(sum(prompt_means) / 3) == pytest.approx(1 / 3)
    assert m["avg@3_se"] == pytest.approx(statistics.stdev(prompt_means) / math.sqrt(3)) == pytest.approx(
        (1 / 3) / math.sqrt(3))
    assert m["pass@3"] == pytest.approx(2 / 3)  # prompts 0 and 2 have a correct sample


def test_vrft_eval_samples_per_prompt(tiny_model_dir, eval_data, tmp_path, capsys):
    out = tmp_path / "out"
    argv = eval_argv(tiny_model_dir(), "vqa", eval_data["vqa"], out, "--max-samples", "3", "--samples-per-prompt", "2")
    assert run_cli(argv) == 0
    summary = json.loads((out / "metrics.json").read_text())
    records = [json.loads(line) for line in open(out / "predictions.jsonl")]
    assert len(records) == 3 and all(len(r["samples"]) == 2 for r in records)
    means = [sum(float(s["correct"] and not s["unparseable"]) for s in r["samples"]) / 2 for r in records]
    m = summary["metrics"]
    assert m["avg@2"] == pytest.approx(sum(means) / 3)
    assert m["avg@2_se"] == pytest.approx(statistics.stdev(means) / math.sqrt(3))
    assert summary["settings"]["samples_per_prompt"] == 2 and summary["settings"]["sample_temperature"] == 1.0
    capsys.readouterr()
    assert run_cli(eval_argv(tiny_model_dir(), "vqa", eval_data["vqa"], out, "--max-samples", "3",
                             "--samples-per-prompt", "4")) != 0
    assert "samples_per_prompt: 2 -> 4" in capsys.readouterr().out  # other Avg@k settings: not a resume
