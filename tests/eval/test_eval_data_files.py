"""`vrft eval --data` takes several files or globs (ScreenSpot's one file per platform, ScreenSpot-Pro's
one per application), evaluated together with ids unique per (file, row)."""

from __future__ import annotations

from tests.data.official import materialize_official
from tests.eval.conftest import run_cli
from vrft.cli import _module, build_parser
from vrft.eval.benchmarks import get_benchmark
from vrft.eval.run import dataset_config, load_samples, run_config


def eval_run(*argv: str):
    args = build_parser(["eval", *argv]).parse_args(["eval", *argv])
    return _module("eval").build_run(args)


def test_several_files_and_globs(tmp_path):
    root = materialize_official(tmp_path / "data")
    ss = root / "screenspot"
    common = ("--model", "m", "--benchmark", "screenspot", "--out", str(tmp_path / "out"))
    run = eval_run(*common, "--data", str(ss / "screenspot_*.json"), "--media-root", str(ss / "screenspot_imgs"))
    assert run.data == [str(ss / f"screenspot_{p}.json") for p in ("desktop", "mobile", "web")]
    cfg = dataset_config(run, get_benchmark("screenspot"))
    samples = load_samples(cfg, None)
    assert len(samples) == 7 and len({s.id for s in samples}) == 7
    assert run_config(run, cfg)["data"] == cfg.files
    listed = eval_run(*common, "--data", str(ss / "screenspot_mobile.json"), str(ss / "screenspot_web.json"))
    assert len(load_samples(dataset_config(listed, get_benchmark("screenspot")), None)) == 5
    one = eval_run(*common, "--data", str(ss / "screenspot_web.json"))
    assert one.data == str(ss / "screenspot_web.json")  # one file: recorded as before (resume-compatible)


def test_glob_without_match_is_an_error(tmp_path, capsys):
    argv = ["eval", "--model", "m", "--benchmark", "screenspot", "--out", str(tmp_path / "o"),
            "--data", str(tmp_path / "nothing_*.json")]
    assert run_cli(argv) == 2
    assert "no file matches" in capsys.readouterr().out
