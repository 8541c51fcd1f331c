"""Video loaders (Charades-STA, ActivityNet) and the native jsonl / parquet loader."""

from __future__ import annotations

import json

import pytest

from vrft.data.loaders import get_loader


def reasons(result) -> dict[str, str]:
    return {p.row: p.reason for p in result.problems}


def test_charades_sta_with_durations(data_dir):
    res = get_loader("charades_sta")(str(data_dir / "charades_sta_train.txt"), str(data_dir / "charades"),
                                     "cs", durations=str(data_dir / "charades_durations.json"))
    by_id = {s.id: s for s in res.samples}
    assert sorted(by_id) == ["cs/charades_sta_train:AO8RW#1", "cs/charades_sta_train:AO8RW#2",
                           "cs/charades_sta_train:Y6R7T#3"]
    s = by_id["cs/charades_sta_train:AO8RW#1"]
    assert s.task == "temporal" and s.prompt == "a person is putting a book on a shelf."
    assert s.solution == {"segment": [0.0, 6.9]} and s.meta["duration"] == 8.0
    assert s.video.path == str(data_dir / "charades/AO8RW.mp4") and not s.images
    bad = reasons(res)
    assert set(bad) == {"line 4", "line 5", "line 6", "line 7", "line 8"}
    assert "start < end" in bad["line 4"]
    assert "beyond the video's 6.00 s" in bad["line 5"]
    assert "not found" in bad["line 6"]
    assert "VIDEOID start end##query" in bad["line 7"]
    assert "not numbers" in bad["line 8"]


def test_charades_sta_probes_duration_with_decord(tmp_path, make_mp4):
    make_mp4(tmp_path / "vids/ABC12.mp4", n_frames=10, fps=5)  # 2.0 s
    txt = tmp_path / "train.txt"
    txt.write_text("ABC12 0.2 1.5##someone waves\nABC12 0.5 3.5##a little past the end\n"
                   "ABC12 0.5 9.0##far past the end\n")
    res = get_loader("charades_sta")(str(txt), str(tmp_path), "cs", video_dir="vids")
    assert len(res.samples) == 2 and res.samples[0].meta["duration"] == pytest.approx(2.0)
    clipped = res.samples[1]  # within the 5 s tolerance: clipped to the video's end and counted
    assert clipped.solution["segment"] == [0.5, pytest.approx(2.0)] and clipped.meta["clipped_end"] == 3.5
    assert res.notes == {"segment end clipped to the video's end": 1}
    assert len(res.problems) == 1 and "beyond" in res.problems[0].reason and "tolerance of 5 s" in res.problems[0].reason
    strict = get_loader("charades_sta")(str(txt), str(tmp_path), "cs", video_dir="vids", tolerance=0.5)
    assert len(strict.samples) == 1 and not strict.notes


def test_activitynet(data_dir):
    res = get_loader("activitynet")(str(data_dir / "activitynet.json"), str(data_dir / "anet"), "an")
    by_id = {s.id: s for s in res.samples}
    assert sorted(by_id) == ["an/v_QOlSCBRmfWY#0", "an/v_QOlSCBRmfWY#1", "an/v_QOlSCBRmfWY#2"]
    s = by_id["an/v_QOlSCBRmfWY#1"]
    assert s.prompt == "She begins to dance." and s.solution == {"segment": [17.37, 60.81]}
    assert s.meta["duration"] == 82.73
    assert s.video.path == str(data_dir / "anet/QOlSCBRmfWY.mp4")  # found without the v_ prefix
    bad = reasons(res)
    assert "empty" in bad["v_ehGHCYKzyZ8#0"] and "start < end" in bad["v_ehGHCYKzyZ8#1"]
    assert "not found" in bad["v_nosuchvideo#0"]
    assert "same length" in bad["v_mismatch#0"]


def test_native_jsonl(data_dir):
    res = get_loader("jsonl")(str(data_dir / "native.jsonl"), str(data_dir), "nat")
    by_id = {s.id: s for s in res.samples}
    assert sorted(by_id) == ["nat/n0", "nat/n1", "nat/n2"]
    assert by_id["nat/n0"].dataset == "nat" and by_id["nat/n0"].images == [str(data_dir / "images/n0.png")]
    assert by_id["nat/n1"].solution == {"action": "type", "text": "hello"}
    v = by_id["nat/n2"].video
    assert v.path == str(data_dir / "videos/v.mp4") and (v.start, v.end) == (0.5, 3.0)
    bad = reasons(res)
    assert "no area" in bad["line 4 (id n3)"]
    assert "unknown field(s) ['colour']" in bad["line 5 (id n4)"]
    assert "'action' must be one of" in bad["line 6 (id n5)"]
    assert "not found" in bad["line 7 (id n6)"]
    assert "invalid JSON" in bad["line 8"]
    assert "<= duration" in bad["line 9 (id n7)"]


def test_native_task_mismatch(data_dir):
    res = get_loader("jsonl")(str(data_dir / "native.jsonl"), str(data_dir), "nat", "vqa")
    assert [s.id for s in res.samples] == ["nat/n0"]
    assert any("differs from the dataset's task 'vqa'" in p.reason for p in res.problems)


def test_native_parquet(data_dir, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [{"id": "p0", "task": "vqa", "prompt": "what?", "solution": json.dumps({"answer": "blue"}),
             "images": ["images/n0.png"], "meta": json.dumps({"k": 1})},
            {"id": "p1", "task": "mcq", "prompt": "which?", "solution": json.dumps({"answer": "B"}),
             "images": ["images/nope.png"], "meta": "{}"}]
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    res = get_loader("parquet")(str(path), str(data_dir), "pq")
    assert [s.id for s in res.samples] == ["pq/p0"]
    assert res.samples[0].solution == {"answer": "blue"} and res.samples[0].meta == {"k": 1}
    assert "not found" in res.problems[0].reason
    assert get_loader("jsonl")(str(path), str(data_dir), "pq").samples == res.samples
