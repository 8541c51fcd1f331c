"""The demo's closing tables, from a run's eval.jsonl: stages with RL's own gain (RL only, warm-up
then RL, supervised only) and the Avg@k line."""

from __future__ import annotations

import json

from vrft.commands.demo import avg_at_k_summary, before_after_table, read_evals


def _write(run_dir, records) -> list[dict]:
    """`records` written as the run's eval.jsonl, and read back as the demo reads it."""
    with open(run_dir / "eval.jsonl", "w") as f:
        for tag, results in records:
            f.write(json.dumps({"tag": tag, "step": 0, "results": results}) + "\n")
    return read_evals(str(run_dir))


def test_rl_only_warm_up_then_rl_and_supervised_only(tmp_path):
    for name in ("rl", "both", "sft"):
        (tmp_path / name).mkdir()
    rl = before_after_table(_write(tmp_path / "rl", [("start", {"color": {"score": 0.0}}),
                                                     ("end", {"color": {"score": 0.75}})]))
    assert "| color | 0.0000 | - | 0.7500 | +0.7500 | +0.7500 |" in rl  # no warm-up: all of it is RL's
    both = before_after_table(_write(tmp_path / "both", [("start", {"color": {"score": 0.0}}),
                                                         ("after-warmup", {"color": {"score": 0.25}}),
                                                         ("end", {"color": {"score": 1.0}})]))
    assert "| color | 0.0000 | 0.2500 | 1.0000 | +0.7500 | +1.0000 |" in both
    sft = before_after_table(_write(tmp_path / "sft", [("start", {"color": {"score": 0.0}}),
                                                       ("after-warmup", {"color": {"score": 1.0}})]))
    assert "| color | 0.0000 | 1.0000 | - | - | +1.0000 |" in sft  # train.steps=0: the warm-up's gain


def test_avg_at_k_line_only_when_measured(tmp_path):
    end = {"color": {"score": 0.75, "avg@4": 0.625, "avg@4_se": 0.0712}, "zoom": {"score": 0.0}}
    line = avg_at_k_summary(_write(tmp_path, [("start", {}), ("end", end)]))
    assert line == "avg@4 after RL (sampled, +- standard error over prompts): color 0.625 +- 0.071"
    assert avg_at_k_summary(_write(tmp_path, [("end", {"color": {"score": 0.75}})])) is None
