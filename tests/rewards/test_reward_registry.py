"""Registry: registration, lookup errors, metadata, batched rewards, and `vrft rewards list`."""

from __future__ import annotations

import pytest

import rewards
from rewards import RewardResult, get_reward, list_rewards, register_reward, unregister_reward
from rewards.registry import UnknownRewardError, as_result

BUILTINS = {"format", "iou", "detection", "chart_answer", "gui_click", "gui_action", "temporal_iou",
            "answer_match", "tool_use"}


def test_import_registers_builtins_without_torch():
    import subprocess
    import sys

    code = "import sys, rewards; from rewards import list_rewards; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert BUILTINS <= {s.name for s in list_rewards()}


def test_register_get_and_metadata():
    @register_reward("t_reg_double", score_range=(0.0, 2.0))
    def double(completion, ctx, *, factor=2.0):
        """Twice the length, capped.

        More text."""
        return min(2.0, factor * len(completion))

    try:
        spec = get_reward("t_reg_double")
        assert spec.fn is double and spec.score_range == (0.0, 2.0)
        assert spec.doc == "Twice the length, capped." and spec.module == __name__
        assert spec("a", None) == 2.0
        assert spec.score("", None) == RewardResult(score=0.0)
        assert "t_reg_double" in [s.name for s in list_rewards()]
    finally:
        unregister_reward("t_reg_double")


def test_duplicate_name_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        register_reward("iou")(lambda c, x: 0.0)


def test_unknown_name_lists_registered_ones():
    with pytest.raises(UnknownRewardError) as err:
        get_reward("no_such_reward")
    msg = str(err.value)
    assert "no_such_reward" in msg and "iou" in msg and "chart_answer" in msg


@pytest.mark.parametrize("bad", ["", "has space", None, "x/y"])
def test_invalid_names(bad):
    with pytest.raises(ValueError):
        register_reward(bad)


def test_invalid_range():
    with pytest.raises(ValueError, match="score_range"):
        register_reward("t_bad_range", score_range=(1.0, 0.0))


def test_batched_reward_both_call_forms():
    @register_reward("t_batched_len", batched=True)
    def lengths(completions, ctxs):
        """Length-based, batched."""
        return [min(1.0, len(c) / 10) for c in completions]

    try:
        spec = get_reward("t_batched_len")
        assert spec.batched
        assert spec("abcde", None) == 0.5
        assert [r.score for r in spec.score_batch(["a", "aaaaaaaaaaaa"], [None, None])] == [0.1, 1.0]
    finally:
        unregister_reward("t_batched_len")


def test_as_result_rejects_non_numbers():
    assert as_result(1).score == 1.0
    with pytest.raises(TypeError):
        as_result("1.0", "x")
    with pytest.raises(TypeError):
        as_result(True, "x")


def test_ranges_are_documented_in_docstrings():
    for spec in list_rewards():
        if spec.name in BUILTINS:
            assert "range" in (spec.fn.__doc__ or "").lower(), spec.name


def test_cli_rewards_list(capsys):
    from vrft.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["rewards", "list"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in BUILTINS:
        assert name in out
    assert "rewards.builtin.iou" in out and "[-1, 1]" in out


def test_cli_run_returns_int_and_json(capsys):
    import argparse
    import json

    from vrft.commands import rewards as cmd

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    rc = cmd.run(parser.parse_args(["list", "--json"]))
    assert rc == 0 and isinstance(rc, int)
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= BUILTINS
    assert all({"name", "module", "range", "doc"} <= set(r) for r in rows)


def test_package_exports():
    for name in ("RewardRunner", "CompositeReward", "get_reward", "register_reward", "ParseError"):
        assert hasattr(rewards, name)
