"""Every shipped config in datasets_cfg/ loads the benchmark files in their official layout unchanged
(tests/data/fixtures/official: records from the public releases, blank media of the right size), and
an oracle (the ground truth as the answer) scores 1.0 on each benchmark's headline metric."""

from __future__ import annotations

import os

import pytest

from tests.data.oracle import oracle_records
from vrft.data.load import load_datasets
from vrft.data.mixture_config import CONFIG_DIR
from vrft.eval.benchmarks import get_benchmark

SHIPPED = sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".yaml") and f != "demo.yaml")
BENCHMARK = {"refcoco": "refcoco", "coco_fewshot": "coco_det", "chartqa": "chartqa", "screenspot": "screenspot",
             "charades_sta": "charades_sta"}


def test_every_shipped_config_is_covered():
    assert SHIPPED == ["charades_sta", "chartqa", "coco_fewshot", "image_video_mix", "refcoco", "screenspot"]


@pytest.mark.parametrize("config", SHIPPED)
def test_shipped_config_loads_official_files_and_oracle_scores_one(official_env, config, caplog):
    loaded = load_datasets(config)
    for name, ds in loaded.items():
        assert ds.samples and not ds.dropped, (config, name, ds.dropped)
        ids = [s.id for s in ds.samples + ds.heldout]
        assert len(ids) == len(set(ids)), (config, name)
        bench = get_benchmark(BENCHMARK[name])
        metrics = bench.metric(oracle_records(ds.samples + ds.heldout))
        assert metrics["unparseable"] == 0, (config, name)
        assert metrics[bench.headline] == pytest.approx(1.0), (config, name, metrics)


def test_chartqa_reads_human_and_augmented_files(official_env):
    ds = load_datasets("chartqa")["chartqa"]
    splits = sorted(s.meta["split"] for s in ds.samples)
    assert splits == ["augmented"] * 3 + ["human"] * 3  # both train files, nothing dropped as a duplicate
    assert {s.id.split(":")[0] for s in ds.samples} == {"chartqa/train_human", "chartqa/train_augmented"}
    m = get_benchmark("chartqa").metric(oracle_records(ds.samples))
    assert m["relaxed_acc/human"] == m["relaxed_acc/augmented"] == 1.0


def test_screenspot_reads_the_three_platform_files(official_env):
    ds = load_datasets("screenspot")["screenspot"]
    samples = ds.samples + ds.heldout
    assert len(samples) == 7 and {s.meta["group"] for s in samples} == {"mobile", "desktop", "web"}
    assert all("/screenspot_imgs/" in s.images[0] for s in samples)
    m = get_benchmark("screenspot").metric(oracle_records(samples))
    assert {"click_acc/data_source/ios", "click_acc/data_source/windows", "click_acc/data_source/shop"} <= set(m)


def test_refcoco_rows_with_train2014_prefix_under_train2014_root(official_env):
    ds = load_datasets("refcoco")["refcoco"]
    root = official_env / "coco" / "train2014"
    assert all(s.images[0].startswith(str(root) + os.sep) and "train2014/train2014" not in s.images[0]
               for s in ds.samples)


def test_charades_clips_segments_past_the_video_and_counts_them(official_env, caplog):
    ds = load_datasets("charades_sta")["charades_sta"]
    clipped = [s for s in ds.heldout if "clipped_end" in s.meta]
    assert len(clipped) == 2 and all(s.solution["segment"][1] == pytest.approx(29.0) for s in clipped)
    assert ds.notes == {"segment end clipped to the video's end": 2}
    assert "2 row(s): segment end clipped" in caplog.text
