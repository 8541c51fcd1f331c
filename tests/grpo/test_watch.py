"""A run you can watch: a progress bar per phase on a terminal (a line per step otherwise), plots
redrawn at every evaluation, Avg@k in the held-out records, wandb runs that carry the config and
resume into the same run id."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import types

import pytest

from vrft.config import load_config
from vrft.grpo.run_log import RunLogger
from vrft.grpo.trainer import GRPOTrainer

STEP_LINE = re.compile(r"^step +-?\d+", re.M)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _train(run_overrides, **extra):
    cfg = load_config(None, run_overrides(**{"train.steps": 2, "eval.at_start": "false", "eval.max_samples": 2,
                                             **extra}))
    trainer = GRPOTrainer(cfg)
    trainer.train()
    return cfg, trainer


def _rows(run_dir) -> list[dict]:
    return [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]


@pytest.mark.slow
def test_progress_bars_on_a_terminal_replace_the_step_lines(run_overrides, monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    cfg, _ = _train(run_overrides, **{"log.progress_bar": "true", "train.warmup_sft_steps": 1, "eval.every": 1})
    out = screen.getvalue()
    assert "warm-up: 100%" in out and "RL: 100%" in out and "2/2" in out
    assert "sft_loss=" in out and "reward=" in out and "lr=" in out  # key figures in the postfix
    assert "eval step-1" in out and "eval after-warmup" in out  # the evaluations' own bars
    assert not STEP_LINE.search(out), out
    assert [r["step"] for r in _rows(cfg.log.run_dir)] == [0, 0, 1, 2]  # metrics.jsonl as without bars


@pytest.mark.slow
def test_without_a_terminal_each_step_prints_a_line(run_overrides, monkeypatch):
    log_file = io.StringIO()  # not a terminal: log.progress_bar (on) stays off
    monkeypatch.setattr(sys, "stdout", log_file)
    _train(run_overrides, **{"log.progress_bar": "true", "train.warmup_sft_steps": 1})
    out = log_file.getvalue()
    assert [m.group(0).split()[1] for m in STEP_LINE.finditer(out)] == ["0", "0", "1", "2"]
    assert "RL:" not in out and "%|" not in out


@pytest.mark.slow
def test_plots_are_redrawn_at_every_evaluation_and_held_out_records_carry_avg_at_k(run_overrides):
    cfg = load_config(None, run_overrides(**{"train.steps": 2, "eval.at_start": "false", "eval.max_samples": 2,
                                             "eval.every": 1, "eval.samples_per_prompt": 2}))
    trainer = GRPOTrainer(cfg)
    plots = os.path.join(cfg.log.run_dir, "plots")
    seen, train_step = [], trainer.train_step

    def step():
        seen.append(sorted(os.listdir(plots)) if os.path.isdir(plots) else [])
        return train_step()

    trainer.train_step = step
    trainer.train()
    assert seen[0] == [] and {"eval.png", "rewards.png"} <= set(seen[1])  # drawn after step 1's evaluation
    evals = [json.loads(line) for line in open(os.path.join(cfg.log.run_dir, "eval.jsonl"))]
    assert [e["tag"] for e in evals] == ["step-1", "end"]
    for e in evals:
        color = e["results"]["color"]
        assert 0.0 <= color["avg@2"] <= 1.0 and color["avg@2_se"] >= 0.0 and "score" in color
    assert "eval/color/avg@2_se" in _rows(cfg.log.run_dir)[0]


class FakeWandb(types.ModuleType):
    """Records each wandb.init's keyword arguments and what the run logs."""

    def __init__(self):
        super().__init__("wandb")
        self.runs: list[types.SimpleNamespace] = []

    def init(self, **kwargs):
        run = types.SimpleNamespace(kwargs=kwargs, rows=[], finished=False)
        run.define_metric = lambda *a, **k: None
        run.log = run.rows.append
        run.finish = lambda: setattr(run, "finished", True)
        self.runs.append(run)
        return run


@pytest.mark.slow
def test_wandb_carries_the_config_and_a_resumed_run_keeps_its_id(run_overrides, monkeypatch, tmp_path):
    wandb = FakeWandb()
    monkeypatch.setitem(sys.modules, "wandb", wandb)
    common = {"log.wandb": "true", "log.wandb_project": "watch", "checkpoint.every": 1, "eval.at_end": "false"}
    _train(run_overrides, **{**common, "train.steps": 1})
    _train(run_overrides, **{**common, "train.steps": 2})  # restarted: resumes from step 1's checkpoint
    first, resumed = (r.kwargs for r in wandb.runs)
    assert first["id"] == resumed["id"] and first["resume"] == resumed["resume"] == "allow"
    assert first["project"] == "watch" and first["config"]["train"]["steps"] == 1
    assert resumed["config"]["train"]["steps"] == 2 and resumed["config"]["log"]["wandb"] is True
    assert [r["step"] for r in wandb.runs[0].rows] == [1] and [r["step"] for r in wandb.runs[1].rows] == [2]
    assert all(r.finished for r in wandb.runs)
    # a fresh run in the same run dir is a new wandb run
    RunLogger(first["dir"], tensorboard=False, wandb_project="watch", fresh=True).close()
    assert wandb.runs[-1].kwargs["id"] != first["id"]
