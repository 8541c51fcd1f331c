"""The benchmark registry, the predictions store, resume checks and the markdown tables."""

from __future__ import annotations

import json

import pytest

from vrft.data.mixture_config import VisionConfig
from vrft.eval.benchmarks import benchmark_for_dataset, get_benchmark, list_benchmarks, register_benchmark
from vrft.eval.records import PredictionStore
from vrft.eval.report import before_after_table, compare_table, metrics_table, stages_table
from vrft.eval.run import EVAL_CONFIG, EvalRun, check_resume, dataset_config


def test_registry_aliases_and_unknown_name_lists_valid():
    assert get_benchmark("refcoco+").name == "refcoco" and get_benchmark("refcocog").format == "refcoco"
    b = get_benchmark("coco_det")
    assert (b.format, b.task, b.judge, b.prompt_template) == ("coco", "detection", "detection", "default")
    with pytest.raises(ValueError, match="valid benchmarks: .*charades_sta.*refcoco"):
        get_benchmark("refcoko")
    for name in ("refcoco", "refcoco+", "refcocog", "coco_det", "chartqa", "screenspot", "screenspot_pro",
                 "charades_sta", "activitynet", "mcq", "vqa", "synthetic"):
        assert name in list_benchmarks()
    with pytest.raises(ValueError, match="already registered"):
        register_benchmark("refcocog", format="refcoco", task="grounding")(lambda r: {})


def test_benchmark_inferred_from_task():
    assert benchmark_for_dataset("grounding").name == "refcoco"
    assert benchmark_for_dataset("detection").name == "coco_det"
    assert benchmark_for_dataset("chart").name == "chartqa"
    assert benchmark_for_dataset("temporal").name == "charades_sta"
    assert benchmark_for_dataset("mcq").name == "mcq"
    assert benchmark_for_dataset("vqa", ["format", "answer_match"]).name == "vqa"
    assert benchmark_for_dataset("vqa", ["chart_answer"]).judge == "chart"
    assert benchmark_for_dataset("gui", ["gui_click"], [{"action": "click", "bbox": [0, 0, 1, 1]}]).name == "screenspot"
    assert benchmark_for_dataset("gui", [], [{"action": "type", "text": "x"}]).name == "gui_action"
    with pytest.raises(ValueError, match="unknown task .audio."):
        benchmark_for_dataset("audio")


def test_store_appends_reads_and_repairs_a_torn_line(tmp_path):
    store = PredictionStore(str(tmp_path))
    store.append([{"id": "a", "score": 1.0}, {"id": "b", "score": 0.0}])
    with open(store.path, "a") as f:
        f.write('{"id": "c", "sco')  # interrupted mid-write
    assert set(store.read()) == {"a", "b"}
    store.repair()
    store.append([{"id": "c", "score": 0.5}])
    assert store.read()["c"]["score"] == 0.5 and len(open(store.path).read().splitlines()) == 3


def test_resume_refuses_other_settings(tmp_path):
    config = {"model": "m", "benchmark": "refcoco", "data": "/d.json", "temperature": 0.0, "max_samples": 4}
    assert check_resume(str(tmp_path), config) is None
    (tmp_path / EVAL_CONFIG).write_text(json.dumps(config))
    assert check_resume(str(tmp_path), {**config, "max_samples": None}) is None  # more samples: fine
    err = check_resume(str(tmp_path), {**config, "model": "other"})
    assert "model: 'm' -> 'other'" in err and "--overwrite" in err


def _write_run(path, model, metrics):
    path.mkdir()
    (path / "metrics.json").write_text(json.dumps({"benchmark": "refcoco", "model": model, "metrics": metrics}))
    return str(path)


def test_tables(tmp_path):
    m = {"n": 4, "unparseable": 1, "unparseable_rate": 0.25, "acc@0.5": 0.5, "miou": 0.41234, "score": 0.5}
    table = metrics_table(m)
    assert table.splitlines()[2] == "| score | 0.5000 |" and "| n | 4 |" in table
    a = _write_run(tmp_path / "base", "Qwen/base", m)
    b = _write_run(tmp_path / "rft", "runs/rft", {**m, "acc@0.5": 0.75, "score": 0.75, "unparseable": 0})
    cmp = compare_table(a, b)
    assert "| metric | base | rft | delta |" in cmp
    assert "| acc@0.5 | 0.5000 | 0.7500 | +0.2500 |" in cmp and "| unparseable | 1 | 0 | -1 |" in cmp
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        compare_table(a, str(tmp_path / "missing"))
    ba = before_after_table({"color": {"score": 0.25}}, {"color": {"score": 0.5}, "gui": {"score": 0.1}})
    assert "| color | 0.2500 | 0.5000 | +0.2500 |" in ba and "| gui | - | 0.1000 | - |" in ba
    three = stages_table([("before", {"a": {"score": 0.0}}), ("mid", {"a": {"score": 0.75}}),
                          ("after", {"a": {"score": 0.5}, "b": {"score": 1.0}})])
    assert three.splitlines()[0] == "| dataset | before | mid | after | delta |"
    assert "| a | 0.0000 | 0.7500 | 0.5000 | +0.5000 |" in three and "| b | - | - | 1.0000 | - |" in three
    gains = stages_table([("before", {"a": {"score": 0.0}}), ("after warm-up", None),
                          ("after RL", {"a": {"score": 0.5}})], gains=[("RL gain", 1, 2), ("total", 0, 2)])
    assert gains.splitlines()[0] == "| dataset | before | after warm-up | after RL | RL gain | total |"
    assert "| a | 0.0000 | - | 0.5000 | - | +0.5000 |" in gains  # a stage that did not happen


def test_run_config_merges_benchmark_defaults_and_options(tmp_path):
    bench = get_benchmark("screenspot_pro")
    run = EvalRun(model="m", benchmark="screenspot_pro", data=str(tmp_path / "a.json"), out=str(tmp_path))
    cfg = dataset_config(run, bench)
    assert cfg.vision.max_pixels == 28 * 28 * 4096 and cfg.media_root == str(tmp_path)
    assert (cfg.format, cfg.task, cfg.prompt_template) == ("screenspot_pro", "gui", "default")
    run = EvalRun(model="m", benchmark="screenspot_pro", data=str(tmp_path / "a.json"), out=str(tmp_path),
                  vision=VisionConfig(max_pixels=1000, min_pixels=100), prompt_template="no_think",
                  tools=["zoom_in"])
    cfg = dataset_config(run, bench)
    assert (cfg.vision.max_pixels, cfg.vision.min_pixels, cfg.prompt_template) == (1000, 100, "no_think")
    assert cfg.tools.enabled == ["zoom_in"] and cfg.tools.max_turns == 3
    with pytest.raises(ValueError, match="max-samples"):
        EvalRun(model="m", benchmark="x", data="d", out="o", max_samples=0)
