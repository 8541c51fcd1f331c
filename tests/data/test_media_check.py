"""`vrft data check` finds a corrupt image and a truncated video; `data.on_bad_media: skip` lets a
run carry on past them and lists them in bad_samples.jsonl (``raise`` stops with the sample named)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.data.official import materialize_official
from vrft.cli import _module, build_parser
from vrft.data.bad_media import BadMediaLog, read_bad_samples
from vrft.data.load import load_datasets
from vrft.data.media_check import check_mixture, decode_image, decode_video
from vrft.data.mixture_config import load_mixture_config
from vrft.policy.errors import MediaError
from vrft.policy.media import VisionSettings, load_video, open_image

CORRUPT = "coco/train2014/COCO_train2014_000000573297.jpg"
TRUNCATED = "charades/Charades_v1_480/Y6R7T.mp4"


def run_cli(argv: list[str]) -> int:
    return _module(argv[0]).run(build_parser(argv).parse_args(argv))


def truncate(path, keep: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The official fixtures with one image and one video cut short, and a config over both."""
    root = materialize_official(tmp_path_factory.mktemp("planted") / "data")
    truncate(root / CORRUPT)
    truncate(root / TRUNCATED)
    (root / "durations.json").write_text(json.dumps({"Y6R7T": 20.0, "AO8RW": 32.0}))
    cfg = {"datasets": [
        {"name": "refcoco", "format": "refcoco", "files": "refcoco/refcoco_train.json",
         "media_root": "coco/train2014", "rewards": [{"name": "iou"}]},
        {"name": "charades", "format": "charades_sta", "files": "charades/charades_sta_train.txt",
         "media_root": "charades/Charades_v1_480", "loader_opts": {"durations": "durations.json"},
         "rewards": [{"name": "temporal_iou"}]}]}
    (root / "mix.yaml").write_text(yaml.safe_dump(cfg))
    return root


def test_decoders(planted):
    assert decode_image(str(planted / "coco/train2014/COCO_train2014_000000581857.jpg")) is None
    assert "cannot decode image" in decode_image(str(planted / CORRUPT))
    assert decode_video(str(planted / "charades/Charades_v1_480/AO8RW.mp4"), frames=0) is None
    assert "cannot decode video" in decode_video(str(planted / TRUNCATED))


@pytest.mark.parametrize("workers", [1, 2])
def test_check_reports_every_bad_row(planted, workers):
    report = check_mixture(load_mixture_config(str(planted / "mix.yaml")), workers=workers)
    bad = {(b.dataset, b.row): b for b in report.bad}
    assert set(bad) == {("refcoco", "refcoco/refcoco_train:2"), ("charades", "charades/charades_sta_train:Y6R7T#1"),
                        ("charades", "charades/charades_sta_train:Y6R7T#2")}
    assert bad[("refcoco", "refcoco/refcoco_train:2")].file.endswith("refcoco_train.json")
    assert CORRUPT.split("/")[-1] in bad[("refcoco", "refcoco/refcoco_train:2")].reason
    assert report.n_rows == 6 and report.n_media == 4 and not report.ok


def test_cli_exits_non_zero_and_lists_them(planted, capsys):
    assert run_cli(["data", "check", str(planted / "mix.yaml"), "--workers", "2"]) == 1
    captured = capsys.readouterr()
    assert captured.out.count(": row ") == 3 and "3 bad row(s)" in captured.out
    assert "decoding media [" in captured.err and "4/4" in captured.err


def test_cli_on_clean_data_and_bad_config(tmp_path, capsys):
    root = materialize_official(tmp_path / "data")
    cfg = {"datasets": [{"name": "ss", "format": "screenspot", "files": ["screenspot/screenspot_mobile.json"],
                         "media_root": "screenspot/screenspot_imgs", "rewards": [{"name": "gui_click"}]}]}
    (root / "ss.yaml").write_text(yaml.safe_dump(cfg))
    assert run_cli(["data", "check", str(root / "ss.yaml"), "--no-progress", "--workers", "1"]) == 0
    assert "all usable" in capsys.readouterr().out
    assert run_cli(["data", "check", str(tmp_path / "nope.yaml")]) == 2
    (root / "screenspot" / "screenspot_web.json").write_text("[{broken")
    cfg["datasets"][0]["files"].append("screenspot/screenspot_web.json")
    (root / "ss.yaml").write_text(yaml.safe_dump(cfg))
    capsys.readouterr()
    assert run_cli(["data", "check", str(root / "ss.yaml"), "--no-progress", "--workers", "1"]) == 1
    out = capsys.readouterr().out
    assert "screenspot_web.json: row -: " in out and "not valid JSON" in out and "1 bad row(s)" in out


def encode(sample):
    """What the rollout encoder does with a sample's media (the same decoding functions)."""
    for path in sample.images:
        open_image(path, sample_id=sample.id)
    if sample.video is not None:
        load_video(sample.video.path, VisionSettings(nframes=4, max_pixels=12544), 28, sample_id=sample.id)


def test_training_with_skip_carries_on_and_lists_them(planted, tmp_path):
    loaded = load_datasets(str(planted / "mix.yaml"))  # loading only checks that files exist
    samples = [s for ds in loaded.values() for s in ds.samples]
    log = BadMediaLog("skip", str(tmp_path / "run"))
    used = []
    for step, sample in enumerate(samples):
        try:
            encode(sample)
        except MediaError as e:
            log.record(sample, e, step=step)
            continue
        used.append(sample.id)
    assert len(used) == len(samples) - 3
    entries = read_bad_samples(str(tmp_path / "run"))
    assert sorted(e["id"] for e in entries) == ["charades/charades_sta_train:Y6R7T#1",
                                                "charades/charades_sta_train:Y6R7T#2", "refcoco/refcoco_train:2"]
    assert {e["dataset"] for e in entries} == {"refcoco", "charades"} and all(e["reason"] for e in entries)
    assert any(e["file"].endswith(CORRUPT.split("/")[-1]) for e in entries)
    assert log.metrics() == {"data/bad_media_skipped": 3.0, "data/bad_media_skipped/charades": 2.0,
                             "data/bad_media_skipped/refcoco": 1.0}


def test_raise_is_the_default_and_names_the_sample(planted, tmp_path):
    sample = next(s for s in load_datasets(str(planted / "mix.yaml"))["refcoco"].samples if s.id.endswith(":2"))
    log = BadMediaLog()
    with pytest.raises(MediaError, match="refcoco/refcoco_train:2"):
        try:
            encode(sample)
        except MediaError as e:
            log.record(sample, e)
    assert log.count == 0 and not read_bad_samples(str(tmp_path))
    with pytest.raises(ValueError, match="must be one of"):
        BadMediaLog("ignore", str(tmp_path))
    with pytest.raises(ValueError, match="run directory"):
        BadMediaLog("skip")
