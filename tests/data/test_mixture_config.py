"""Mixture config parsing: typed fields, errors naming the key path, paths and env expansion."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from vrft.config import ConfigError
from vrft.data.mixture_config import (
    CONFIG_DIR, DatasetConfig, load_mixture_config, parse_mixture_config, validate_rewards,
)

REWARDS = ["format", "iou", "detection", "chart_answer", "gui_click", "gui_action", "temporal_iou",
           "answer_match", "tool_use"]


def ds(**over):
    d = {"name": "rc", "format": "refcoco", "files": "train.json", "rewards": [{"name": "iou"}]}
    d.update(over)
    return d


def err(data) -> str:
    with pytest.raises(ConfigError) as e:  # the run config's error type: a ValueError naming the key
        parse_mixture_config(data, "/base")
    assert str(e.value).startswith(e.value.key)
    return str(e.value)


def test_minimal_config_defaults():
    cfg = parse_mixture_config({"datasets": [ds()]}, "/base")
    d = cfg.datasets[0]
    assert isinstance(d, DatasetConfig)
    assert d.files == ["/base/train.json"] and d.media_root == "/base" and d.task == "grounding"
    assert d.rewards[0].weight == 1.0 and d.prompt_template == "default"
    assert cfg.mixture.strategy == "fixed" and not cfg.difficulty.enabled
    assert cfg.weights == {"rc": 1.0}


@pytest.mark.parametrize("data, message", [
    ({"datasets": [ds(), ds(name="b", rewards=[{"name": "iou", "wieght": 1}])]},
     "datasets[1].rewards[0].wieght: unknown key (did you mean 'datasets[1].rewards[0].weight'?)"),
    ({"datasets": [ds(weight="heavy")]}, "datasets[0].weight: expected a number, got 'heavy'"),
    ({"datasets": [ds(format="refcocoo")]},
     "datasets[0].format: unknown dataset format 'refcocoo' (did you mean 'refcoco'?); valid formats:"),
    ({"datasets": [ds(task="chart")]}, "datasets[0].task: format 'refcoco' produces ['grounding']"),
    ({"datasets": [ds(task="grounds")]}, "datasets[0].task: unknown task 'grounds' (did you mean 'grounding'?)"),
    ({"datasets": [ds(files=["a.json", 3])]}, "datasets[0].files[1]: expected a string, got 3"),
    ({"datasets": [ds(vision={"max_pixel": 10})]},
     "datasets[0].vision.max_pixel: unknown key (did you mean 'datasets[0].vision.max_pixels'?)"),
    ({"datasets": [ds(vision={"fps": 2, "nframes": 8})]}, "datasets[0].vision: give fps or nframes"),
    ({"datasets": [ds(tools={"enabled": "zoom_in"})]}, "datasets[0].tools.enabled: expected a list"),
    ({"datasets": [ds(loader_opts={"imge_key": "img"})]},
     "datasets[0].loader_opts.imge_key: unknown key (did you mean 'datasets[0].loader_opts.image_key'?)"),
    ({"datasets": [ds(rewards=[])]}, "datasets[0].rewards: at least one reward"),
    ({"datasets": [ds(prompt_template="grounding_v9")]}, "datasets[0].prompt_template: unknown prompt template"),
    ({"datasets": [ds(gt_template="cot")]}, "datasets[0].gt_template: unknown 'cot'"),
    ({"datasets": [ds(heldout={"fraction": 1.5})]}, "datasets[0].heldout.fraction: must be in [0, 1)"),
    ({"datasets": [ds(), ds()]}, "datasets[1].name: duplicate dataset name 'rc'"),
    ({"datasets": [ds()], "mixture": {"strategy": "bandits"}}, "mixture.strategy: unknown mixture strategy 'bandits'"),
    ({"datasets": [ds()], "mixture": {"strategy": "bandit", "params": {"temprature": 1}}},
     "mixture.params.temprature: unknown key (did you mean 'mixture.params.temperature'?)"),
    ({"datasets": [ds(), ds(name="b")], "mixture": {"floor": 0.5}}, "mixture.floor: 0.5 x 2 datasets"),
    ({"datasets": [ds()], "difficulty": {"enabled": "yes"}}, "difficulty.enabled: expected true/false"),
    ({"datasets": [ds()], "difficulty": {"lo": 0.9, "hi": 0.2}}, "difficulty: need 0 <= lo < hi"),
    ({"datasets": [ds()], "mixtures": {}}, "mixtures: unknown key (did you mean 'mixture'?)"),
    ({"datasets": [{"format": "refcoco", "files": "x", "rewards": [{"name": "iou"}]}]}, "datasets[0].name: required"),
    ({"datasets": []}, "datasets: at least one dataset"),
])
def test_errors_name_the_key(data, message):
    assert message in err(data)


def test_paths_env_and_relative(monkeypatch, tmp_path):
    monkeypatch.setenv("COCO_ROOT", "/data/coco")
    monkeypatch.delenv("VRFT_CACHE", raising=False)
    cfg_file = tmp_path / "cfg" / "mix.yaml"
    cfg_file.parent.mkdir()
    cfg_file.write_text(yaml.safe_dump({"datasets": [
        ds(files=["rel/train.json"], media_root="${COCO_ROOT}/train2014",
           heldout={"files": ["${VRFT_CACHE:-~/.cache/vrft}/val.json"]}),
        ds(name="cs", format="charades_sta", files="${VRFT_CACHE:-/tmp/x}/t.txt",
           loader_opts={"durations": "d.json"}, rewards=[{"name": "temporal_iou"}]),
    ]}))
    cfg = load_mixture_config(str(cfg_file))
    a, b = cfg.datasets
    assert a.files == [str(tmp_path / "cfg/rel/train.json")]
    assert a.media_root == "/data/coco/train2014"
    assert a.heldout.files == [os.path.expanduser("~/.cache/vrft/val.json")]
    assert a.heldout.media_root == a.media_root
    assert b.files == ["/tmp/x/t.txt"] and b.media_root == "/tmp/x" and b.task == "temporal"
    assert b.loader_opts["durations"] == str(tmp_path / "cfg/d.json")
    monkeypatch.delenv("COCO_ROOT")
    with pytest.raises(ValueError, match=r"datasets\[0\].media_root: environment variable COCO_ROOT is not set"):
        load_mixture_config(str(cfg_file))


def test_heldout_shorthands():
    cfg = parse_mixture_config({"datasets": [ds(heldout=0.1), ds(name="b", heldout="val.json")]}, "/base")
    assert cfg.datasets[0].heldout.fraction == 0.1
    assert cfg.datasets[1].heldout.files == ["/base/val.json"]


def test_inline_prompt_template_is_accepted():
    cfg = parse_mixture_config({"datasets": [ds(prompt_template="Q: {question}\n{format}")]}, "/b")
    assert cfg.datasets[0].prompt_template.startswith("Q:")
    assert "must contain {question}" in err({"datasets": [ds(prompt_template="{format} only")]})


def test_validate_rewards_lists_unknown_names():
    cfg = parse_mixture_config({"datasets": [ds(rewards=[{"name": "format"}, {"name": "iuo"}])]}, "/b")
    validate_rewards(parse_mixture_config({"datasets": [ds()]}, "/b"), REWARDS)
    with pytest.raises(ValueError, match=r"datasets\[0\].rewards\[1\].name: unknown reward 'iuo' \(did you mean 'iou'\?\)"):
        validate_rewards(cfg, REWARDS)


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CONFIG_DIR, "*.yaml"))),
                         ids=os.path.basename)
def test_example_configs_parse(path, monkeypatch):
    for var in ("REFCOCO_ROOT", "COCO_ROOT", "CHARTQA_ROOT", "SCREENSPOT_ROOT", "CHARADES_ROOT"):
        monkeypatch.setenv(var, f"/data/{var.lower()}")
    cfg = load_mixture_config(path)
    validate_rewards(cfg, REWARDS)
    assert all(os.path.isabs(f) for d in cfg.datasets for f in d.files)


def test_builtin_name_resolves_to_datasets_cfg():
    cfg = load_mixture_config("demo")
    assert cfg.source.endswith("datasets_cfg/demo.yaml")
    assert {d.name for d in cfg.datasets} == {"color", "grounding", "detection", "chart", "gui", "gui_type",
                                             "temporal", "zoom"}
    assert cfg.mixture.strategy in ("bandit", "exp_grad")
