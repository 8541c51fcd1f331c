"""The synthetic answers are right: boxes match painted pixels, video windows match the frames,
chart labels match the drawn values, GUI boxes hold the named element."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vrft.data.synth import chart, color, detection, generate, grounding, gui, gui_type, temporal, zoom
from vrft.data.synth.common import format_number, sample_rng
from vrft.data.synth.shapes import COLORS, MAX_BACKGROUND_SPREAD, SHAPES, mask_box, shape_mask
from vrft.data.synth.video import write_mp4


def _color_mask(arr: np.ndarray, color) -> np.ndarray:
    return np.all(arr == np.array(color, dtype=arr.dtype), axis=-1)


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_masks_fill_their_box(shape):
    for size in (8, 13, 40):
        m = shape_mask(shape, size)
        x1, y1, x2, y2 = mask_box(m)
        assert m.shape == (size, size) and m.sum() > size  # not empty
        assert min(x2 - x1, y2 - y1) >= 0.8 * size - 1  # regular polygons are a little flatter


def test_grounding_box_is_the_tight_box_of_the_target_pixels():
    for i in range(12):
        arr, rec = grounding.make_sample(sample_rng(0, "grounding", "train", i), d=i / 11)
        target = rec["objects"][0]
        mask = _color_mask(arr, COLORS[target["color"]])
        x1, y1, x2, y2 = rec["box"]
        inside = np.zeros_like(mask)
        inside[y1:y2, x1:x2] = mask[y1:y2, x1:x2]
        assert [x1, y1, x2, y2] == [v + o for v, o in zip(mask_box(inside[y1:y2, x1:x2]), (x1, y1, x1, y1))]
        assert mask[y1:y2, x1:x2].mean() > 0.3
        # Every pixel of the target colour belongs to an object of that colour (never the background).
        same = np.zeros_like(mask)
        for o in rec["objects"]:
            if o["color"] == target["color"]:
                bx1, by1, bx2, by2 = o["box"]
                same[by1:by2, bx1:bx2] = True
        assert not (mask & ~same).any()
        # Boxes never overlap, so each box holds one object only.
        boxes = [o["box"] for o in rec["objects"]]
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                p, q = boxes[a], boxes[b]
                assert p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1]


def test_grounding_plain_background_scan(monkeypatch):
    """On a plain background the target colour's pixels, scanned over the whole image, give exactly
    the solution box when no other object shares the colour."""
    from vrft.data.synth import shapes

    monkeypatch.setattr(grounding, "background", lambda rng, w, h, d: shapes.plain_background(rng, w, h))
    checked = 0
    for i in range(40):
        arr, rec = grounding.make_sample(sample_rng(1, "grounding", "test", i), d=0.0)
        assert len(np.unique(arr[_color_mask(arr, arr[0, 0])], axis=0)) == 1
        target = rec["objects"][0]
        if sum(o["color"] == target["color"] for o in rec["objects"]) > 1:
            continue
        assert mask_box(_color_mask(arr, COLORS[target["color"]])) == rec["box"]
        checked += 1
    assert checked >= 5


def test_background_never_takes_a_shape_colour():
    from vrft.data.synth.shapes import background

    for d in (0.0, 1.0):
        bg = background(sample_rng(0, "x", "train", 0), 200, 150, d).astype(int)
        assert (bg.max(-1) - bg.min(-1)).max() <= MAX_BACKGROUND_SPREAD
    for rgb in COLORS.values():
        assert max(rgb) - min(rgb) > MAX_BACKGROUND_SPREAD + 50


def test_grounding_expression_is_unique_and_true():
    for i in range(30):
        _, rec = grounding.make_sample(sample_rng(2, "grounding", "train", i), d=1.0)
        words = rec["problem"].split()[1:]
        def fits(o):
            return all(w in (o["size"], o["color"], o["shape"]) for w in words)
        assert fits(rec["objects"][0])
        assert sum(fits(o) for o in rec["objects"]) == 1, rec["problem"]


def test_detection_boxes_match_painted_shapes():
    for i in range(6):
        arr, rec = detection.make_sample(sample_rng(0, "detection", "train", i), d=0.5)
        for o in rec["objects"]:
            x1, y1, x2, y2 = o["box"]
            crop = _color_mask(arr[y1:y2, x1:x2], COLORS[o["color"]])
            assert mask_box(crop) == [0, 0, x2 - x1, y2 - y1]


def test_color_answer_is_the_painted_colour():
    for i in range(10):
        arr, rec = color.make_sample(sample_rng(0, "color", "train", i), d=0.5)
        assert rec["choices"] == ["red", "green", "blue", "yellow"]
        assert mask_box(_color_mask(arr, COLORS[rec["answer"]])) == rec["box"]
    assert len(color.make_sample(sample_rng(0, "color", "train", 0), d=1.0)[1]["choices"]) == 6


def test_temporal_video_frames_and_window(tmp_path):
    import decord

    for event in ("appears", "color"):
        frames, rec = temporal.make_sample(sample_rng(0, "temporal", "train", 7), d=0.0, event=event)
        path = tmp_path / f"{event}.mp4"
        write_mp4(path, frames, temporal.FPS)
        vr = decord.VideoReader(str(path))
        assert len(vr) == rec["num_frames"] == len(frames)
        assert vr.get_avg_fps() == pytest.approx(temporal.FPS)
        decoded = vr.get_batch(list(range(len(vr)))).asnumpy().astype(int)
        want = np.array(COLORS[rec["target"]["color_in_window"]])
        present = (np.abs(decoded - want).max(-1) < 40).sum(axis=(1, 2)) > 20
        k0, k1 = rec["frames"]
        assert present[k0:k1].all() and not present[:k0].any() and not present[k1:].any(), event
        assert (rec["start"], rec["end"]) == (k0 / 10, k1 / 10)
    frames, rec = temporal.make_sample(sample_rng(0, "temporal", "train", 3), d=0.0, event="moves")
    changed = np.array([False] + [(frames[k] != frames[k - 1]).any() for k in range(1, len(frames))])
    k0, k1 = rec["frames"]
    assert changed[k0:k1].all() and not changed[:k0].any() and not changed[k1:].any()


def test_temporal_written_split_matches_decord(tmp_path):
    import decord

    temporal.write_split(tmp_path, "test", 2, 5, 0.5)
    durations = json.loads((tmp_path / "durations.json").read_text())
    for line in (tmp_path / "test.txt").read_text().splitlines():
        vid = line.split()[0]
        vr = decord.VideoReader(str(tmp_path / "videos" / f"{vid}.mp4"))
        assert len(vr) / vr.get_avg_fps() == pytest.approx(durations[vid])


def test_chart_labels_match_drawn_values(tmp_path):
    for i in range(4):
        spec = chart.make_chart(sample_rng(0, "chart", "train", i), d=i / 3)
        _, drawn = chart.render(spec)
        assert drawn == pytest.approx(spec["values"])
    chart.write_split(tmp_path, "train", 16, 0, 0.7)
    rows = json.loads((tmp_path / "train.json").read_text())
    assert len(rows) == 16
    for r in rows:
        with open(tmp_path / "tables" / r["imgname"].replace(".png", ".csv")) as f:
            table = {row[0]: float(row[1]) for row in list(csv.reader(f))[1:]}
        q, label = r["query"], r["label"]
        names = [n for n in table if f" {n}?" in q or f" {n} " in q]
        if "highest" in q:
            assert label == max(table, key=table.get)
        elif "lowest" in q:
            assert label == min(table, key=table.get)
        elif q.startswith("What is the value"):
            assert label == format_number(table[names[0]])
        elif "difference" in q:
            assert float(label) == pytest.approx(abs(table[names[0]] - table[names[1]]))
        else:
            assert "sum" in q and float(label) == pytest.approx(table[names[0]] + table[names[1]])
        assert label == label.strip() and not label.endswith(".0")


def test_gui_target_box_holds_the_named_widget():
    for i in range(10):
        arr, rec = gui.make_sample(sample_rng(0, "gui", "train", i), d=i / 9)
        x1, y1, x2, y2 = rec["box"]
        assert 0 <= x1 < x2 <= rec["width"] and 0 <= y1 < y2 <= rec["height"]
        assert arr[y1:y2, x1:x2].reshape(-1, 3).std(0).max() > 5  # something is drawn there
        matches = [w for w in rec["widgets"] if w[2] == rec["box"]]
        assert len(matches) == 1
        kind, text, _ = matches[0]
        assert text in rec["instruction"] and (rec["data_type"] == "icon") == (kind == "icon")
        assert sum(w[1] == text and w[0] == kind for w in rec["widgets"]) == 1


def test_gui_type_text_is_in_prompt_or_on_screen():
    sources = set()
    for i in range(12):
        arr, rec = gui_type.make_sample(sample_rng(0, "gui_type", "train", i), d=1.0)
        sources.add(rec["source"])
        assert rec["field"] in rec["prompt"]
        if rec["source"] == "prompt":
            assert f"'{rec['text']}'" in rec["prompt"]
        else:
            assert rec["text"] not in rec["prompt"]
    assert sources == {"prompt", "screen"}


def test_zoom_region_is_the_named_sign():
    for i in range(4):
        img, rec = zoom.make_sample(sample_rng(0, "zoom", "train", i), d=i / 3)
        arr = np.asarray(img)
        x1, y1, x2, y2 = rec["region"]
        color_name = rec["question"].split("small ")[1].split(" sign")[0]
        assert tuple(arr[y1, x1]) == COLORS[color_name] and tuple(arr[y2 - 1, x2 - 1]) == COLORS[color_name]
        inner = arr[y1 + 4 : y2 - 4, x1 + 4 : x2 - 4]
        assert (inner.min(-1) < 100).any()  # the dark text is inside
        assert rec["text_px"] <= 16 and img.width >= 896
