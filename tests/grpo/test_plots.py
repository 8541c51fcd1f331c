"""Run plots read metrics.jsonl as the trainer writes it: warm-up steps <= 0, resumed runs appending."""

from __future__ import annotations

import json

from vrft.grpo.plots import _read, plot_run


def test_records_of_one_step_merge_and_later_values_win(tmp_path):
    rows = [
        {"step": -2, "eval/color/score": 0.0},                          # before the warm-up
        {"step": -1, "sft/loss": 2.0, "sft/color/loss": 2.0},
        {"step": 0, "sft/loss": 1.0, "sft/color/loss": 1.0},             # the last warm-up step...
        {"step": 0, "eval/color/score": 0.75},                          # ...and the evaluation after it
        {"step": 1, "reward/mean": 0.1, "reward/color/mean": 0.1, "mixture/weight/color": 1.0},
        {"step": 1, "reward/mean": 0.2, "reward/color/mean": 0.2, "mixture/weight/color": 1.0},  # resumed
    ]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    merged = _read(str(tmp_path))
    assert [r["step"] for r in merged] == [-2, -1, 0, 1]
    assert merged[2] == {"step": 0, "sft/loss": 1.0, "sft/color/loss": 1.0, "eval/color/score": 0.75}
    assert merged[3]["reward/mean"] == 0.2
    written = {p.rsplit("/", 1)[1] for p in plot_run(str(tmp_path))}
    assert written == {"rewards.png", "mixture_weights.png", "eval.png", "warmup_loss.png"}
