"""End-to-end `vrft eval` on a tiny checkpoint over files in each real benchmark format: outputs,
resuming after an interruption, ground-truth ("oracle") completions scoring perfectly, tools."""

from __future__ import annotations

import json
import sys

import pytest
import torch

import vrft.eval.api as api
from tests.eval.conftest import eval_argv, run_cli
from vrft.data.templates import render_solution_completion
from vrft.policy.hf_generator import Completion
from vrft.policy.policy import Policy

BENCHMARKS = ["refcoco", "coco_det", "chartqa", "screenspot", "screenspot_pro", "charades_sta", "activitynet",
              "vqa", "mcq", "gui_action", "synthetic"]


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in open(path)]


@pytest.mark.parametrize("bench", BENCHMARKS)
def test_eval_writes_all_outputs(tiny_model_dir, eval_data, tmp_path, bench):
    out = tmp_path / "out"
    assert run_cli(eval_argv(tiny_model_dir(), bench, eval_data[bench], out)) == 0
    summary = json.loads((out / "metrics.json").read_text())
    m = summary["metrics"]
    records = _lines(out / "predictions.jsonl")
    assert summary["n_samples"] == m["n"] == len(records) >= 3
    assert 0.0 <= m["score"] <= 1.0 and m["unparseable"] + m["unparseable_rate"] >= 0
    assert m["unparseable"] == sum(r["unparseable"] for r in records)
    for r in records:
        assert {"id", "completion", "answer", "score", "unparseable", "reason", "solution"} <= set(r)
        assert r["unparseable"] == (r["reason"] is not None) or not r["unparseable"]
    md = (out / "metrics.md").read_text()
    assert "| score |" in md and summary["benchmark"] in md
    assert json.loads((out / "eval_config.json").read_text())["max_new_tokens"] == 8


class GenerateSpy:
    """Counts the prompts Policy.generate sees; optionally fails on the k-th call (an interruption)."""
    def __init__(self, monkeypatch, fail_on_call: int | None = None):
        self.prompts, self.calls, self.fail_on_call = 0, 0, fail_on_call
        real = Policy.generate

        def spy(policy, prompts, n, params, generator=None, all_finished=None):
            self.calls += 1
            if self.fail_on_call == self.calls:
                raise KeyboardInterrupt("simulated interruption")
            self.prompts += len(prompts)
            return real(policy, prompts, n, params, generator=generator, all_finished=all_finished)

        monkeypatch.setattr(Policy, "generate", spy)


def test_rerun_only_generates_new_ids(tiny_model_dir, eval_data, tmp_path, monkeypatch):
    out, spec, model = tmp_path / "out", eval_data["refcoco"], tiny_model_dir()
    spy = GenerateSpy(monkeypatch)
    assert run_cli(eval_argv(model, "refcoco", spec, out, "--max-samples", "2")) == 0
    first = _lines(out / "predictions.jsonl")
    assert spy.prompts == 2 and len(first) == 2
    assert run_cli(eval_argv(model, "refcoco", spec, out)) == 0
    lines = _lines(out / "predictions.jsonl")
    assert spy.prompts == 4 and lines[:2] == first  # only the 2 new ids were generated
    assert len({r["id"] for r in lines}) == len(lines) == 4
    assert run_cli(eval_argv(model, "refcoco", spec, out)) == 0  # all done: no generation at all
    assert spy.prompts == 4 and json.loads((out / "metrics.json").read_text())["generated_this_run"] == 0
    # other settings into the same folder are refused; --overwrite starts over
    assert run_cli(eval_argv(model, "refcoco", spec, out, "--max-new-tokens", "9")) == 2
    assert run_cli(eval_argv(model, "refcoco", spec, out, "--overwrite", "--max-samples", "1")) == 0
    assert len(_lines(out / "predictions.jsonl")) == 1


def test_resume_after_interruption(tiny_model_dir, eval_data, tmp_path, monkeypatch):
    out, spec, model = tmp_path / "out", eval_data["screenspot"], tiny_model_dir()
    spy = GenerateSpy(monkeypatch, fail_on_call=2)  # the second batch of 2 never finishes
    with pytest.raises(KeyboardInterrupt):
        run_cli(eval_argv(model, "screenspot", spec, out))
    done = _lines(out / "predictions.jsonl")
    assert len(done) == 2 and not (out / "metrics.json").exists()  # the first batch was flushed
    spy.fail_on_call = None
    assert run_cli(eval_argv(model, "screenspot", spec, out)) == 0
    assert spy.prompts == 4  # 2 before the interruption + the 2 left
    assert json.loads((out / "metrics.json").read_text())["metrics"]["n"] == 4


@pytest.fixture
def oracle(monkeypatch):
    """Policy.generate answers every prompt with the sample's ground truth rendered in the model's
    output frame (as ground-truth injection does), so each benchmark must score (near) perfectly."""
    current: list = []
    real_rollouts = api._rollouts

    def rollouts(policy, samples, *args):
        current[:] = samples
        return real_rollouts(policy, samples, *args)

    def generate(policy, prompts, n, params, generator=None, **kw):
        out = []
        for p, (sample, prompt) in enumerate(zip(current, prompts)):
            clip = prompt.video_info.clip_start if prompt.video_info else 0.0
            text = render_solution_completion(sample, prompt.image_frames or None, clip, think=True)
            out += [Completion(p, torch.zeros(1, dtype=torch.long), torch.zeros(1), text, "eos")] * n
        return out

    monkeypatch.setattr(api, "_rollouts", rollouts)
    monkeypatch.setattr(Policy, "generate", generate)


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_oracle_completions_score_perfectly(tiny_model_dir, eval_data, tmp_path, oracle, family):
    model = tiny_model_dir(family)
    expected = {"refcoco": "acc@0.5", "chartqa": "relaxed_acc/human", "screenspot": "click_acc",
                "screenspot_pro": "click_acc", "charades_sta": "R1@0.7", "activitynet": "miou",
                "vqa": "accuracy", "mcq": "accuracy", "gui_action": "action_acc/type", "coco_det": "AP50"}
    for bench, key in expected.items():
        out = tmp_path / bench
        assert run_cli(eval_argv(model, bench, eval_data[bench], out)) == 0
        m = json.loads((out / "metrics.json").read_text())["metrics"]
        assert m["unparseable"] == 0, bench
        assert m[key] == pytest.approx(1.0, abs=1e-6), (bench, m)
        if bench == "coco_det":  # integer coordinates in the resized frame cost a little IoU
            assert m["mAP"] > 0.6
        for r in json.loads("[" + ",".join(open(out / "predictions.jsonl")) + "]"):
            if bench == "refcoco":
                gt = r["solution"]["boxes"][0]
                assert max(abs(a - b) for a, b in zip(r["answer"], gt)) < 6  # original pixels


def test_pass_at_k_with_sampling(tiny_model_dir, eval_data, tmp_path):
    out = tmp_path / "out"
    argv = eval_argv(tiny_model_dir(), "vqa", eval_data["vqa"], out, "--n", "2", "--temperature", "1.0")
    assert run_cli(argv) == 0
    m = json.loads((out / "metrics.json").read_text())["metrics"]
    assert "pass@1" in m and "pass@2" in m
    assert all(len(r["samples"]) == 2 for r in _lines(out / "predictions.jsonl"))
    assert run_cli(eval_argv(tiny_model_dir(), "vqa", eval_data["vqa"], tmp_path / "o2", "--n", "2")) == 2


def test_tools_flag_without_the_tool_loop_is_a_clear_error(tiny_model_dir, eval_data, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "vrft.rollout.loop", None)  # an import of it now fails
    rc = run_cli(eval_argv(tiny_model_dir(), "vqa", eval_data["vqa"], tmp_path / "o", "--tools"))
    assert rc == 2
    err = capsys.readouterr().out
    assert "tool loop (vrft.rollout.loop)" in err and "NotImplementedError" not in err
    assert not (tmp_path / "o").exists()  # refused before loading anything


def test_tools_flag_runs_the_tool_loop(tiny_model_dir, eval_data, tmp_path, monkeypatch):
    import vrft.rollout.collector as collector

    calls = []
    real = collector.prepare_episode

    def spy(policy, sample, cfg, **kwargs):
        calls.append((cfg.tools.enabled, cfg.tools.max_turns))
        return real(policy, sample, cfg, **kwargs)

    monkeypatch.setattr(collector, "prepare_episode", spy)
    out = tmp_path / "o"
    argv = eval_argv(tiny_model_dir(), "vqa", eval_data["vqa"], out, "--tools", "--max-samples", "2")
    assert run_cli(argv) == 0
    assert calls == [(["zoom_in"], 3), (["zoom_in"], 3)]
    for r in _lines(out / "predictions.jsonl"):
        assert isinstance(r["trajectory"], str) and isinstance(r["tool_calls"], list)
        assert r["trajectory"].startswith(r["completion"]) or r["tool_calls"]


def test_cli_errors_and_listing(tmp_path, capsys):
    assert run_cli(["eval", "--list"]) == 0
    assert "coco_det" in capsys.readouterr().out
    assert run_cli(["eval", "--model", "m", "--benchmark", "refcoko", "--data", "x", "--out", str(tmp_path)]) == 2
    assert "valid benchmarks" in capsys.readouterr().out
    assert run_cli(["eval", "--benchmark", "refcoco"]) == 2
    assert "missing --model" in capsys.readouterr().out
    assert run_cli(["eval", "--model", "m", "--benchmark", "refcoco", "--data", "x", "--out", str(tmp_path),
                    "--prompt-template", "nope"]) == 2
    assert "--prompt-template: unknown prompt template 'nope'" in capsys.readouterr().out
