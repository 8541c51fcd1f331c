"""External reward plugins through the `vrft.rewards` entry-point group, with no change in vrft."""

from __future__ import annotations

import sys
import textwrap

import pytest

from rewards import RewardPluginError, get_reward, list_rewards, unregister_reward
from rewards.composite import CompositeReward
from rewards.context import RewardContext
from rewards.runner import RewardRunner


def _write_dist(root, dist, version, entry_points: str, modules: dict[str, str]) -> None:
    info = root / f"{dist}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    _write_dist(tmp_path, "my_plugin", "0.1", """\
        [vrft.rewards]
        my_plugin_reward = my_plugin_rewards:exact_length
        my_plain_reward = my_plugin_plain:shout
        broken_reward = my_plugin_broken:reward
        """, {
        "my_plugin_rewards": '''
            from rewards import RewardResult, register_reward

            @register_reward("my_plugin_reward", score_range=(0.0, 1.0))
            def exact_length(completion, ctx, *, target=None):
                """1 when the answer has the solution's length."""
                target = target if target is not None else ctx.solution["length"]
                return RewardResult(score=1.0 if len(completion) == target else 0.0)
            ''',
        "my_plugin_plain": '''
            def shout(completion, ctx):
                """Share of upper-case letters."""
                letters = [c for c in completion if c.isalpha()]
                return sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
            ''',
        "my_plugin_broken": "import not_an_installed_module_xyz\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("my_plugin_reward", "my_plain_reward", "broken_reward"):
        unregister_reward(name)
    for mod in ("my_plugin_rewards", "my_plugin_plain", "my_plugin_broken"):
        sys.modules.pop(mod, None)


def test_plugin_used_through_a_composite_spec(plugin_path):
    comp = CompositeReward.from_config([{"name": "my_plugin_reward", "weight": 1.0}])
    ctx = RewardContext(solution={"length": 3}, sample_id="p1")
    assert comp("abc", ctx).score == 1.0
    assert comp("abcd", ctx).components == {"my_plugin_reward": 0.0}
    out = RewardRunner([{"name": "my_plugin_reward", "weight": 2.0, "kwargs": {"target": 2}},
                        {"name": "format", "weight": 0.5}]).score(["ab"], [ctx])
    assert out.scores == [2.0] and out.components["my_plugin_reward"] == [1.0]


def test_plain_function_plugin_is_registered_under_the_entry_point_name(plugin_path):
    spec = get_reward("my_plain_reward")
    assert spec.module == "my_plugin_plain" and spec.doc == "Share of upper-case letters."
    assert spec("ABcd", None) == 0.5


def test_broken_plugin_error_names_the_entry_point(plugin_path):
    with pytest.raises(RewardPluginError) as err:
        get_reward("broken_reward")
    msg = str(err.value)
    assert "broken_reward" in msg and "my_plugin_broken:reward" in msg and "not_an_installed_module_xyz" in msg


def test_list_collects_plugins_and_cli_reports_broken_one(plugin_path, capsys):
    with pytest.raises(RewardPluginError):
        list_rewards()
    from vrft.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["rewards", "list"])
    out = capsys.readouterr().out
    assert exit_.value.code == 1
    assert "my_plugin_reward" in out and "my_plain_reward" in out and "error:" in out and "broken_reward" in out


def test_plugins_load_lazily(plugin_path):
    assert "my_plugin_rewards" not in sys.modules
    get_reward("iou")
    assert "my_plugin_rewards" not in sys.modules
    get_reward("my_plugin_reward")
    assert "my_plugin_rewards" in sys.modules


def test_plugin_clashing_with_a_builtin_is_an_error(tmp_path, monkeypatch):
    _write_dist(tmp_path, "clash", "0.1", "[vrft.rewards]\niou = clash_rewards:iou\n",
                {"clash_rewards": "def iou(completion, ctx):\n    return 1.0\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(RewardPluginError, match="already registered"):
            list_rewards()
    finally:
        sys.modules.pop("clash_rewards", None)
