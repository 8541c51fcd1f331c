"""The synthetic task generator: layout, public formats, determinism, manifest and the CLI."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from vrft.data.sample import Sample
from vrft.data.synth import TASK_NAMES, generate, is_current, parse_tasks
from vrft.data.synth.common import parse_difficulty

ANNOTATIONS = {
    "grounding": "{}.json", "detection": "{}.json", "chart": "{}.json", "gui": "{}.json",
    "gui_type": "{}.jsonl", "temporal": "{}.txt", "zoom": "{}.jsonl", "color": "{}.jsonl",
}


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(out, "all", n=4, seed=3, difficulty="medium", test_n=3)
    return out


def _text_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*")) if p.suffix in (".json", ".jsonl", ".txt", ".csv")
    }


def test_layout_and_counts(synth_dir):
    for task, pattern in ANNOTATIONS.items():
        for split, n in (("train", 4), ("test", 3)):
            path = synth_dir / task / pattern.format(split)
            assert path.is_file(), path
            if path.suffix == ".json":
                data = json.loads(path.read_text())
                rows = data["annotations"] if task == "detection" else data
                if task == "detection":
                    assert len(data["images"]) == n
                else:
                    assert len(rows) == n
            else:
                assert len(path.read_text().splitlines()) == n
    manifest = json.loads((synth_dir / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["n"] == 4 and manifest["test_n"] == 3
    assert manifest["tasks"] == list(TASK_NAMES) and manifest["difficulty"] == 0.5
    assert set(manifest["per_task"]) == set(TASK_NAMES)


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    tasks = "grounding,detection,chart,gui,gui_type,temporal,zoom,color"
    generate(tmp_path / "a", tasks, n=3, seed=11, test_n=2)
    generate(tmp_path / "b", tasks, n=3, seed=11, test_n=2)
    generate(tmp_path / "c", tasks, n=3, seed=12, test_n=2)
    a, b, c = (_text_files(tmp_path / k) for k in "abc")
    assert a == b and len(a) > 16
    # Images too (PNG encoding is deterministic).
    for p in (tmp_path / "a").rglob("*.png"):
        assert p.read_bytes() == (tmp_path / "b" / p.relative_to(tmp_path / "a")).read_bytes()
    different = [k for k in a if k != "manifest.json" and k in c and a[k] != c[k]]
    assert len(different) >= 8


def test_train_and_test_splits_differ(synth_dir):
    train = json.loads((synth_dir / "grounding/train.json").read_text())
    test = json.loads((synth_dir / "grounding/test.json").read_text())
    assert {(r["problem"], tuple(r["solution"])) for r in train}.isdisjoint(
        {(r["problem"], tuple(r["solution"])) for r in test})
    assert (synth_dir / "grounding/images/train_00000.png").read_bytes() != \
        (synth_dir / "grounding/images/test_00000.png").read_bytes()


def test_refcoco_rows(synth_dir):
    rows = json.loads((synth_dir / "grounding/train.json").read_text())
    assert set(rows[0]) == {"id", "image", "problem", "solution", "width", "height"}
    assert rows[0]["id"] == "grounding-train-00000" and rows[0]["image"] == "images/train_00000.png"
    for r in rows:
        x1, y1, x2, y2 = r["solution"]
        assert 0 <= x1 < x2 <= r["width"] and 0 <= y1 < y2 <= r["height"]
        assert (synth_dir / "grounding" / r["image"]).is_file()


def test_coco_loads_with_pycocotools(synth_dir):
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(synth_dir / "detection/train.json"))
    assert len(coco.getImgIds()) == 4 and len(coco.getAnnIds()) >= 4 * 2
    names = {c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert {"circle", "square", "triangle"} <= names
    for ann in coco.loadAnns(coco.getAnnIds()):
        img = coco.loadImgs(ann["image_id"])[0]
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and x + w <= img["width"] and y + h <= img["height"]
        assert ann["area"] == w * h and ann["iscrowd"] == 0
        assert (synth_dir / "detection" / img["file_name"]).is_file()


def test_chartqa_and_screenspot_rows(synth_dir):
    chart = json.loads((synth_dir / "chart/train.json").read_text())
    for r in chart:
        assert set(r) == {"imgname", "query", "label"} and isinstance(r["label"], str)
        assert (synth_dir / "chart/png" / r["imgname"]).is_file()
    gui = json.loads((synth_dir / "gui/train.json").read_text())
    for r in gui:
        assert set(r) == {"img_filename", "bbox", "instruction", "data_type", "data_source"}
        assert r["data_type"] in ("text", "icon") and r["data_source"] == "synthetic"
        assert (synth_dir / "gui/images" / r["img_filename"]).is_file()
        assert r["bbox"][2] > 0 and r["bbox"][3] > 0


def test_charades_lines_and_durations(synth_dir):
    durations = json.loads((synth_dir / "temporal/durations.json").read_text())
    assert len(durations) == 7
    for line in (synth_dir / "temporal/train.txt").read_text().splitlines():
        head, query = line.split("##")
        vid, start, end = head.split()
        assert query and len(start.split(".")[1]) == 1 and len(end.split(".")[1]) == 1
        assert 0 <= float(start) < float(end) <= durations[vid]
        assert (synth_dir / "temporal/videos" / f"{vid}.mp4").is_file()


@pytest.mark.parametrize("task,sample_task", [("gui_type", "gui"), ("zoom", "vqa"), ("color", "vqa")])
def test_native_rows_are_samples(synth_dir, task, sample_task):
    for line in (synth_dir / task / "train.jsonl").read_text().splitlines():
        row = json.loads(line)
        sample = Sample.from_dict(row)
        assert sample.to_dict() == row
        assert sample.dataset == task and sample.task == sample_task and sample.video is None
        assert all((synth_dir / task / p).is_file() for p in sample.images)
    if task == "gui_type":
        assert sample.solution["action"] == "type" and isinstance(sample.solution["text"], str)
    if task == "zoom":
        x1, y1, x2, y2 = sample.meta["region"]
        assert 0 <= x1 < x2 <= sample.meta["width"] and sample.meta["width"] >= 896


def test_project_loaders_read_the_files(synth_dir):
    """The project's own format loaders accept every file (none of the rows is a Problem)."""
    loaders = pytest.importorskip("vrft.data.loaders")
    cases = [
        ("refcoco", "grounding/train.json", "grounding", {}),
        ("coco", "detection/train.json", "detection", {}),
        ("chartqa", "chart/train.json", "chart", {}),
        ("screenspot", "gui/train.json", "gui", {}),
        ("charades_sta", "temporal/train.txt", "temporal",
         {"video_dir": "videos", "durations": str(synth_dir / "temporal/durations.json")}),
        ("jsonl", "gui_type/train.jsonl", "gui_type", {}),
        ("jsonl", "zoom/train.jsonl", "zoom", {}),
        ("jsonl", "color/train.jsonl", "color", {}),
    ]
    for fmt, rel, task_dir, opts in cases:
        result = loaders.get_loader(fmt)(str(synth_dir / rel), str(synth_dir / task_dir), task_dir, **opts)
        assert not result.problems, (fmt, [str(p) for p in result.problems])
        assert len(result.samples) >= 4, fmt


def test_manifest_tells_whether_current(synth_dir, tmp_path):
    assert is_current(synth_dir, "all", n=4, seed=3, difficulty="medium", test_n=3)
    assert not is_current(synth_dir, "all", n=4, seed=4, difficulty="medium", test_n=3)
    assert not is_current(synth_dir, "color", n=5, seed=3, difficulty="medium", test_n=3)
    assert not is_current(tmp_path, "color", n=4, seed=3)
    # A later run of one task keeps the other tasks' entries.
    generate(tmp_path, "color", n=2, seed=1, test_n=1)
    generate(tmp_path, "grounding", n=2, seed=1, test_n=1)
    assert is_current(tmp_path, "color,grounding", n=2, seed=1, test_n=1)


def test_bad_arguments_name_the_fix():
    with pytest.raises(ValueError, match="unknown synth task 'charts'"):
        parse_tasks("grounding,charts")
    with pytest.raises(ValueError, match="difficulty"):
        parse_difficulty("impossible")
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        parse_difficulty(1.5)
    assert parse_difficulty("0.25") == 0.25 and parse_difficulty("hard") == 1.0
    assert parse_tasks("all") == list(TASK_NAMES)
    with pytest.raises(ValueError, match="non-negative"):
        generate("/nonexistent-never-written", "color", n=-1)


def test_cli_writes_the_files(tmp_path, capsys):
    from vrft.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(tmp_path), "--tasks", "color,grounding", "--n", "4", "--seed", "0"])
    assert exit_info.value.code == 0
    assert len((tmp_path / "color/train.jsonl").read_text().splitlines()) == 4
    assert len(json.loads((tmp_path / "grounding/test.json").read_text())) == 16  # max(16, n // 4)
    assert json.loads((tmp_path / "manifest.json").read_text())["tasks"] == ["color", "grounding"]
    assert "color" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(tmp_path), "--tasks", "colour", "--n", "4"])
    assert exit_info.value.code == 2
