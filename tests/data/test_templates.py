"""Prompt templates and ground-truth completions in both model output frames."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings, strategies as st

from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame, box_to_original
from vrft.data.sample import Sample, VideoRef
from vrft.data.templates import render_prompt, render_solution_completion


def sample(task, solution, prompt="the red triangle", **kw):
    return Sample(id="d/1", dataset="d", task=task, prompt=prompt, solution=solution, images=["x.png"], **kw)


def answer(text: str):
    m = re.fullmatch(r"<answer>(.*)</answer>", text, re.S)
    assert m, text
    return m.group(1)


GROUND = sample("grounding", {"boxes": [[100, 50, 300, 250]]})
RESIZED = ImageFrame((1000, 500), (448, 224), RESIZED_PIXELS)
NORM = ImageFrame((1000, 500), (448, 224), NORM_1000)


def test_grounding_completion_resized_pixels_scales_box():
    # 1000x500 shown as 448x224: x * 0.448, y * 0.448
    out = json.loads(answer(render_solution_completion(GROUND, [RESIZED])))
    assert out == {"bbox_2d": [45, 22, 134, 112]}


def test_grounding_completion_norm_1000():
    out = json.loads(answer(render_solution_completion(GROUND, [NORM])))
    assert out == {"bbox_2d": [100, 100, 300, 500]}


def test_completion_format_exact_and_think():
    assert render_solution_completion(GROUND, [NORM]) == '<answer>{"bbox_2d": [100, 100, 300, 500]}</answer>'
    text = render_solution_completion(GROUND, [NORM], think=True)
    assert text.startswith("<think>") and "</think>\n<answer>" in text


def test_detection_gui_temporal_and_text_completions():
    det = sample("detection", {"objects": [{"bbox": [0, 0, 500, 250], "label": "cat"}]})
    assert json.loads(answer(render_solution_completion(det, [RESIZED]))) == [
        {"bbox_2d": [0, 0, 224, 112], "label": "cat"}]
    click = sample("gui", {"action": "click", "bbox": [100, 100, 300, 200]})
    assert json.loads(answer(render_solution_completion(click, [NORM]))) == {"action": "click", "point_2d": [200, 300]}
    typ = sample("gui", {"action": "type", "text": "hello"})
    assert json.loads(answer(render_solution_completion(typ, None))) == {"action": "type", "text": "hello"}
    tmp = sample("temporal", {"segment": [12.5, 20.1]}, meta={"duration": 30.0})
    assert answer(render_solution_completion(tmp, None)) == "12.50 to 20.10"
    assert answer(render_solution_completion(tmp, None, clip_start=10.0)) == "2.50 to 10.10"
    assert answer(render_solution_completion(sample("chart", {"answer": "12.5"}), None)) == "12.5"
    assert answer(render_solution_completion(sample("mcq", {"answer": "B"}), None)) == "B"


def test_coordinate_tasks_need_frames():
    with pytest.raises(ValueError, match="needs the ImageFrame"):
        render_solution_completion(GROUND, None)


@pytest.mark.parametrize("task, solution, expect", [
    ("grounding", {"boxes": [[1, 1, 2, 2]]}, '{"bbox_2d": [x1, y1, x2, y2]}'),
    ("detection", {"objects": []}, '"label": "cat"'),
    ("chart", {"answer": "1"}, "single number"),
    ("vqa", {"answer": "1"}, "single number"),
    ("mcq", {"answer": "A"}, "letter"),
    ("gui", {"action": "click", "bbox": [1, 1, 2, 2]}, '"point_2d": [x, y]'),
    ("temporal", {"segment": [1, 2]}, "12.50 to 20.10"),
])
def test_prompt_asks_for_task_format(task, solution, expect):
    s = sample(task, solution, meta={"duration": 30.0})
    text = render_prompt(s, "default", NORM_1000)
    assert expect in text and "<think>" in text and "<answer>" in text


def test_prompt_frames_and_no_think():
    norm = render_prompt(GROUND, "default", NORM_1000)
    pix = render_prompt(GROUND, "default", RESIZED_PIXELS)
    assert "normalised to 0-1000" in norm and "absolute pixel coordinates of the image you see" in pix
    assert '"the red triangle"' in norm
    plain = render_prompt(GROUND, "default", NORM_1000, think=False)
    assert "<think>" not in plain and "<answer>" in plain
    assert "<think>" not in render_prompt(GROUND, "no_think", NORM_1000)
    with pytest.raises(ValueError, match="unknown output frame"):
        render_prompt(GROUND, "default", "pixels")


def test_inline_template_keeps_other_braces():
    text = render_prompt(GROUND, 'Task: {question} Reply like {"bbox_2d": [...]}. {format}', NORM_1000)
    assert text.startswith('Task: Find the region') and '{"bbox_2d": [...]}' in text


def test_temporal_prompt_states_clip_duration():
    s = sample("temporal", {"segment": [1, 2]}, meta={"duration": 30.0})
    assert "30.00 seconds" in render_prompt(s, "default", NORM_1000)
    s.video = VideoRef("v.mp4", start=5.0, end=15.0)
    assert "10.00 seconds" in render_prompt(s, "default", NORM_1000)


def test_chat_prompt_uses_user_text():
    s = sample("vqa", {"answer": "red"}, prompt=[{"role": "system", "content": "be brief"},
                                                 {"role": "user", "content": [{"type": "image"},
                                                                              {"type": "text", "text": "What colour?"}]}])
    text = render_prompt(s, "default", NORM_1000)
    assert text.startswith("What colour?") and "be brief" not in text


@settings(max_examples=60, deadline=None)
@given(ow=st.integers(50, 4000), oh=st.integers(50, 4000), scale=st.floats(0.1, 1.0),
       frac=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
       frame_kind=st.sampled_from([NORM_1000, RESIZED_PIXELS]))
def test_completion_round_trips_through_frames(ow, oh, scale, frac, frame_kind):
    """Mapping the rendered box back to the original frame lands within one output unit."""
    x1, x2 = sorted([frac[0] * ow, frac[1] * ow])
    y1, y2 = sorted([frac[2] * oh, frac[3] * oh])
    rw, rh = max(28, int(ow * scale)), max(28, int(oh * scale))
    frame = ImageFrame((ow, oh), (rw, rh), frame_kind)
    s = sample("grounding", {"boxes": [[x1, y1, x2 + 1, y2 + 1]]})
    box = json.loads(answer(render_solution_completion(s, [frame])))["bbox_2d"]
    back = box_to_original(box, frame)
    unit_x = ow / (1000 if frame_kind == NORM_1000 else rw)
    unit_y = oh / (1000 if frame_kind == NORM_1000 else rh)
    for got, want, unit in zip(back, [x1, y1, min(x2 + 1, ow), min(y2 + 1, oh)], [unit_x, unit_y] * 2):
        assert abs(got - want) <= unit / 2 + 1e-6
