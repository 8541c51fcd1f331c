"""Benchmark files in their real formats for the end-to-end evaluation tests: the synthetic tasks
(`vrft.data.synth`, written as RefCOCO json, COCO instances, ChartQA json, ScreenSpot json,
Charades-STA txt and native jsonl), plus ScreenSpot-Pro and multiple-choice fixtures from
tests/eval/fixtures and an ActivityNet Captions json built over the synthetic videos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from vrft.cli import _module, build_parser
from vrft.data.synth import generate

FIXTURES = Path(__file__).parent / "fixtures"
N_TEST = 4


@pytest.fixture(scope="session")
def eval_data(tmp_path_factory) -> dict[str, dict]:
    """benchmark -> {"data": file, "media_root": folder, "opts": [--loader-opt values]}."""
    root = tmp_path_factory.mktemp("eval_data")
    generate(str(root), ["grounding", "detection", "chart", "gui", "gui_type", "temporal", "color"], n=0, seed=0,
             difficulty="easy", test_n=N_TEST)
    shutil.copy(root / "chart" / "test.json", root / "chart" / "test_human.json")  # split from the file name
    shutil.copy(FIXTURES / "mcq.jsonl", root / "color" / "mcq.jsonl")
    pro = root / "sspro"
    (pro / "images" / "photoshop_windows").mkdir(parents=True)
    shutil.copy(FIXTURES / "screenspot_pro_photoshop_windows.json", pro)
    Image.new("RGB", (320, 200), (40, 40, 60)).save(pro / "images" / "photoshop_windows" / "shot_0.png")
    Image.new("RGB", (240, 160), (90, 40, 60)).save(pro / "images" / "photoshop_windows" / "shot_1.png")
    # ActivityNet Captions json over the synthetic videos (ids carry the usual "v_" prefix).
    durations = json.loads((root / "temporal" / "durations.json").read_text())
    anet: dict[str, dict] = {}
    for line in (root / "temporal" / "test.txt").read_text().splitlines():
        head, query = line.split("##")
        vid, start, end = head.split()
        entry = anet.setdefault("v_" + vid, {"duration": durations[vid], "timestamps": [], "sentences": []})
        entry["timestamps"].append([float(start), float(end)])
        entry["sentences"].append(query)
    (root / "temporal" / "anet_val.json").write_text(json.dumps(anet))
    durations_opt = f"durations={root / 'temporal' / 'durations.json'}"
    return {
        "refcoco": {"data": root / "grounding" / "test.json"},
        "coco_det": {"data": root / "detection" / "test.json"},
        "chartqa": {"data": root / "chart" / "test_human.json"},
        "screenspot": {"data": root / "gui" / "test.json"},
        "screenspot_pro": {"data": pro / "screenspot_pro_photoshop_windows.json"},
        "charades_sta": {"data": root / "temporal" / "test.txt", "opts": ["video_dir=videos", durations_opt]},
        "activitynet": {"data": root / "temporal" / "anet_val.json", "opts": ["video_dir=videos"]},
        "vqa": {"data": root / "color" / "test.jsonl"},
        "mcq": {"data": root / "color" / "mcq.jsonl"},
        "gui_action": {"data": root / "gui_type" / "test.jsonl"},
        "synthetic": {"data": root / "color" / "test.jsonl"},
    }


def eval_argv(model: str, bench: str, spec: dict, out, *extra: str) -> list[str]:
    argv = ["eval", "--model", model, "--benchmark", bench, "--data", str(spec["data"]), "--out", str(out),
            "--max-new-tokens", "8", "--batch-size", "2", "--max-pixels", "12544", "--nframes", "4"]
    for opt in spec.get("opts", []):
        argv += ["--loader-opt", opt]
    return argv + list(extra)


def run_cli(argv: list[str]) -> int:
    """`vrft ...` in this process (no sys.exit)."""
    args = build_parser(argv).parse_args(argv)
    return _module(args.command).run(args)
