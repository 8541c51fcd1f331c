"""Mixture copies with new weights: relative paths made absolute, strategy fixed, loadable as written."""

from __future__ import annotations

import os

import pytest
import yaml

from vrft.data.mixture_config import load_mixture_config
from vrft.mixsearch.mixture_yaml import read_raw_mixture, with_weights, write_mixture


def test_copy_elsewhere_loads_with_new_weights_and_fixed_strategy(search_mixture, tmp_path):
    raw = read_raw_mixture(search_mixture)
    assert raw.names == ["color", "grounding"]
    out = write_mixture(str(tmp_path / "sub" / "trial.yaml"), raw, {"color": 0.2, "grounding": 0.8},
                        strategy="fixed", header="a trial\nsecond line")
    text = open(out).read()
    assert text.startswith("# a trial\n# second line\n")
    cfg = load_mixture_config(out)
    assert cfg.mixture.strategy == "fixed" and cfg.mixture.params == {} and cfg.mixture.floor == 0.0
    assert cfg.weights == pytest.approx({"color": 0.2, "grounding": 0.8})
    original = load_mixture_config(search_mixture)
    for a, b in zip(cfg.datasets, original.datasets):  # same data as the original, from another folder
        assert a.files == b.files and a.heldout.files == b.heldout.files and a.media_root == b.media_root
        assert a.rewards == b.rewards and a.prompt_template == b.prompt_template


def test_original_strategy_kept_and_env_paths_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("MIXSEARCH_ROOT", str(tmp_path))
    (tmp_path / "cfg").mkdir()
    src = tmp_path / "cfg" / "m.yaml"
    src.write_text("""
mixture: {strategy: bandit, floor: 0.1}
datasets:
  - {name: a, format: jsonl, files: "${MIXSEARCH_ROOT}/a.jsonl", rewards: [{name: format}]}
  - {name: b, format: charades_sta, files: b.txt, rewards: [{name: temporal_iou}],
     loader_opts: {video_dir: videos, durations: d.json}, heldout: 0.25}
""")
    raw = read_raw_mixture(str(src))
    data = with_weights(raw, {"a": 0.123456, "b": 0.876544}, digits=3)
    assert data["mixture"] == {"strategy": "bandit", "floor": 0.1}
    a, b = data["datasets"]
    assert a["files"] == "${MIXSEARCH_ROOT}/a.jsonl"
    assert b["files"] == os.path.join(str(tmp_path), "cfg", "b.txt")
    assert b["loader_opts"] == {"video_dir": "videos", "durations": os.path.join(str(tmp_path), "cfg", "d.json")}
    assert b["heldout"] == 0.25
    assert (a["weight"], b["weight"]) == (0.123, 0.877)
    assert yaml.safe_load(open(src))["datasets"][1]["files"] == "b.txt"  # the original is untouched
    with pytest.raises(ValueError, match="exactly the datasets"):
        with_weights(raw, {"a": 1.0})


def test_builtin_name_resolves():
    raw = read_raw_mixture("demo")
    assert raw.source.endswith(os.path.join("datasets_cfg", "demo.yaml")) and "color" in raw.names
