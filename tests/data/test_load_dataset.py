"""load_dataset: one validation summary, skip_invalid, held-out splits; MixtureData end to end."""

from __future__ import annotations

import json
import logging

import pytest

from vrft.data.load import load_dataset, load_datasets
from vrft.data.mixture import GroupOutcome, MixtureData, step_stats
from vrft.data.mixture_config import parse_mixture_config
from vrft.data.problems import DataValidationError


def config(data_dir, **over):
    d = {"name": "rc", "format": "refcoco", "files": "refcoco.json", "rewards": [{"name": "iou"}]}
    d.update(over)
    return parse_mixture_config({"datasets": [d]}, str(data_dir))


def test_invalid_rows_raise_one_summary(data_dir):
    with pytest.raises(DataValidationError) as e:
        load_dataset(config(data_dir).datasets[0])
    msg = str(e.value)
    assert msg.startswith("dataset 'rc': 7 invalid row(s) out of 10")
    assert msg.count("refcoco.json: row") == 5 and "... and 2 more" in msg and "skip_invalid: true" in msg
    assert len(e.value.problems) == 7 and e.value.dataset == "rc"


def test_skip_invalid_warns_and_drops(data_dir, caplog):
    with caplog.at_level(logging.WARNING):
        ds = load_dataset(config(data_dir, skip_invalid=True).datasets[0])
    assert len(ds.samples) == 3 and len(ds.dropped) == 7
    assert "7 invalid row(s) out of 10" in caplog.text and "dropping them" in caplog.text


def write_rows(path, n, image="images/a.png"):
    rows = [{"id": f"s{i}", "image": image, "problem": f"thing {i}", "solution": [1, 1, 5, 5]} for i in range(n)]
    path.write_text(json.dumps(rows))


def test_heldout_fraction_is_deterministic_and_disjoint(data_dir):
    write_rows(data_dir / "many.json", 40)
    cfg = config(data_dir, files="many.json", heldout={"fraction": 0.25, "seed": 1}).datasets[0]
    a, b = load_dataset(cfg), load_dataset(cfg)
    assert len(a.heldout) == 10 and len(a.samples) == 30
    assert [s.id for s in a.heldout] == [s.id for s in b.heldout]
    assert not {s.id for s in a.heldout} & {s.id for s in a.samples}
    capped = load_dataset(config(data_dir, files="many.json", max_samples=5).datasets[0])
    assert len(capped.samples) == 5


def test_heldout_files_with_own_media_root(data_dir):
    write_rows(data_dir / "train.json", 3)
    (data_dir / "val").mkdir()
    write_rows(data_dir / "val" / "val.json", 2, image="v.png")
    (data_dir / "val" / "v.png").write_bytes((data_dir / "images/a.png").read_bytes())
    cfg = config(data_dir, files="train.json", heldout={"files": ["val/val.json"], "media_root": "val"})
    ds = load_dataset(cfg.datasets[0])
    assert len(ds.samples) == 3 and len(ds.heldout) == 2
    assert ds.heldout[0].images == [str(data_dir / "val" / "v.png")]


def test_duplicate_ids_and_missing_file(data_dir):
    write_rows(data_dir / "one.json", 2)
    write_rows(data_dir / "two.json", 1)
    ds = load_dataset(config(data_dir, files=["one.json", "two.json"]).datasets[0])  # ids per (file, row)
    assert [s.id for s in ds.samples] == ["rc/one:s0", "rc/one:s1", "rc/two:s0"]
    (data_dir / "twice.json").write_text(json.dumps(json.loads((data_dir / "one.json").read_text()) * 2))
    with pytest.raises(DataValidationError, match="duplicate id"):  # within one file: a real duplicate
        load_dataset(config(data_dir, files=["twice.json"]).datasets[0])
    native = [{"id": "n0", "task": "vqa", "prompt": "q", "solution": {"answer": "a"}}]
    for name in ("a.jsonl", "b.jsonl"):  # native rows name global ids: the same id twice is a duplicate
        (data_dir / name).write_text(json.dumps(native[0]) + "\n")
    with pytest.raises(DataValidationError, match="duplicate id"):
        load_dataset(config(data_dir, format="jsonl", files=["a.jsonl", "b.jsonl"]).datasets[0])
    with pytest.raises(FileNotFoundError, match="dataset 'rc': data file not found"):
        load_dataset(config(data_dir, files="nope.json").datasets[0])


def test_step_stats():
    from vrft.data.sample import Sample

    s = Sample(id="d/1", dataset="d", task="vqa", prompt="q", solution={"answer": "a"})
    st = step_stats([(s, [1, 0, 1, 0], [1, -1, 1, -1]), (s, [1, 1, 1, 1], [0, 0, 0, 0])])["d"]
    assert st.n == 8 and st.reward_mean == 0.75 and st.mean_abs_advantage == 0.5
    assert st.reward_var == pytest.approx((0.25 + 0.0) / 2)


def test_mixture_data_build_observe_resume(data_dir):
    write_rows(data_dir / "x.json", 4)
    write_rows(data_dir / "y.json", 20)
    cfg = parse_mixture_config({
        "mixture": {"strategy": "bandit", "floor": 0.05},
        "difficulty": {"enabled": True, "min_evidence": 4, "explore_prob": 0.0, "decay": 1.0, "hi": 0.8},
        "datasets": [
            {"name": "x", "format": "refcoco", "files": "x.json", "rewards": [{"name": "iou"}]},
            {"name": "y", "format": "refcoco", "files": "y.json", "rewards": [{"name": "iou"}]},
        ]}, str(data_dir))
    datasets = load_datasets(cfg)

    def run(data, steps):
        out = []
        for _ in range(steps):
            batch = data.next_batch()
            out.append([s.id for s in batch])
            # x is solved (no signal), y is half solved (signal)
            groups = [GroupOutcome(s.dataset, s.id, (1.0,) * 4, (1.0,) * 4, (0.0,) * 4) if s.dataset == "x"
                      else GroupOutcome(s.dataset, s.id, (1, 0, 1, 0), (1, 0, 1, 0), (1, -1, 1, -1)) for s in batch]
            metrics = data.observe(groups)
        return out, metrics

    full = MixtureData.build(cfg, batch_size=8, seed=0, datasets=datasets)
    stream, metrics = run(full, 12)
    assert metrics["mixture/weight/y"] > 0.7 and metrics["difficulty/skipped"] > 0
    part = MixtureData.build(cfg, batch_size=8, seed=0, datasets=datasets)
    run(part, 5)
    resumed = MixtureData.build(cfg, batch_size=8, seed=0, datasets=datasets)
    resumed.load_state_dict(json.loads(json.dumps(part.state_dict())))  # state survives JSON
    assert run(resumed, 7)[0] == stream[5:]


def test_mixture_weights_update_every_k_steps_from_the_groups_of_those_steps(data_dir):
    """`mixture.update_every: 3`: weights move at steps 3 and 6 only, from the trained groups since
    the last update (kept across a resume)."""
    write_rows(data_dir / "x.json", 8)
    write_rows(data_dir / "y.json", 8)
    cfg = parse_mixture_config({
        "mixture": {"strategy": "bandit", "floor": 0.05, "update_every": 3},
        "datasets": [
            {"name": "x", "format": "refcoco", "files": "x.json", "rewards": [{"name": "iou"}]},
            {"name": "y", "format": "refcoco", "files": "y.json", "rewards": [{"name": "iou"}]},
        ]}, str(data_dir))
    datasets = load_datasets(cfg)

    def outcomes(batch, trained=True):
        return [GroupOutcome(s.dataset, s.id, (1.0,) * 4, (1.0,) * 4, (0.0,) * 4, trained) if s.dataset == "x"
                else GroupOutcome(s.dataset, s.id, (1, 0, 1, 0), (1, 0, 1, 0), (1, -1, 1, -1), trained)
                for s in batch]

    data = MixtureData.build(cfg, batch_size=8, seed=0, datasets=datasets)
    start = dict(data.strategy.weights)
    seen = []
    for step in range(1, 7):
        batch = data.next_batch()
        data.observe(outcomes(batch) + outcomes(data.next_batch(), trained=False))
        seen.append(dict(data.strategy.weights))
        if step == 1:
            resumed = MixtureData.build(cfg, batch_size=8, seed=0, datasets=datasets)
            resumed.load_state_dict(data.state_dict())
            assert [g.sample_id for g in resumed.pending] == [g.sample_id for g in data.pending]
    assert seen[0] == seen[1] == start
    assert seen[2] != start and seen[2] == seen[3] == seen[4]
    assert seen[5] != seen[4]
