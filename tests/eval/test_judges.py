"""Judges: shared parsers, answers mapped to the original frame, unparseable outputs with a reason."""

from __future__ import annotations

import pytest

from rewards.context import RewardContext, VideoInfo
from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame
from vrft.eval.judges import get_judge, judge

HALF = ImageFrame((200, 100), (100, 50), RESIZED_PIXELS)  # the model saw the image at half size
NORM = ImageFrame((200, 100), (112, 56), NORM_1000)


def ctx(solution, task, frame=HALF, video=None, meta=None):
    return RewardContext(solution=solution, task=task, images=[frame] if frame else [], video=video,
                         meta=meta or {})


def test_grounding_box_is_mapped_to_original_pixels():
    c = ctx({"boxes": [[10, 20, 50, 60]]}, "grounding")
    j = judge("grounding", '<think>x</think><answer>{"bbox_2d": [5, 10, 25, 30]}</answer>', c)
    assert j.answer == [10, 20, 50, 60] and j.score == pytest.approx(1.0) and j.correct
    assert not j.unparseable and j.extras["iou"] == pytest.approx(1.0)
    # 0-1000 frame: x * 200 / 1000, y * 100 / 1000
    c = ctx({"boxes": [[10, 20, 50, 60]]}, "grounding", NORM)
    j = judge("grounding", "<answer>[50, 200, 250, 600]</answer>", c)
    assert j.answer == pytest.approx([10, 20, 50, 60]) and j.correct


def test_unparseable_outputs_give_reason_and_zero():
    c = ctx({"boxes": [[10, 20, 50, 60]]}, "grounding")
    for text, reason in [("[5, 10, 25, 30]", "no <answer>"), ("<answer>a</answer><answer>b</answer>", "several"),
                         ("<answer>{\"bbox_2d\": [1, 2]}</answer>", "4")]:
        j = judge("grounding", text, c)
        assert j.unparseable and j.score == 0.0 and not j.correct and reason in j.reason
    j = judge("grounding", "[5, 10, 25, 30]", c, require_answer_tag=False)  # --lenient
    assert not j.unparseable and j.correct


def test_detection_answer_in_original_frame_and_correct_means_exact_set():
    c = ctx({"objects": [{"bbox": [10, 20, 50, 60], "label": "cat"}]}, "detection")
    j = judge("detection", '<answer>[{"bbox_2d": [5, 10, 25, 30], "label": "cat", "confidence": 0.7}]</answer>', c)
    assert j.answer == [{"bbox": [10, 20, 50, 60], "label": "cat", "confidence": 0.7}] and j.correct
    j = judge("detection", '<answer>[{"bbox_2d": [5, 10, 25, 30], "label": "cat"}, '
                           '{"bbox_2d": [60, 30, 80, 40], "label": "cat"}]</answer>', c)
    assert not j.correct and j.score == pytest.approx(0.5) and j.answer[1]["confidence"] is None


def test_chart_vqa_and_mcq_reuse_the_rewards():
    assert judge("chart", "<answer>12.9</answer>", ctx({"answer": "12.5"}, "chart")).correct  # within 5%
    assert not judge("chart", "<answer>14</answer>", ctx({"answer": "12.5"}, "chart")).correct
    assert judge("vqa", "<answer>Red.</answer>", ctx({"answer": "red"}, "vqa")).correct
    j = judge("mcq", "<answer>(B) the cat</answer>", ctx({"answer": "B"}, "mcq"))
    assert j.answer == "B" and j.correct
    j = judge("mcq", "<answer>A or B</answer>", ctx({"answer": "B"}, "mcq"))
    assert j.unparseable and not j.correct and j.reason


def test_gui_click_point_and_other_actions():
    c = ctx({"action": "click", "bbox": [100, 40, 140, 60]}, "gui")
    j = judge("gui", '<answer>{"action": "click", "point_2d": [60, 25]}</answer>', c)
    assert j.answer == {"action": "click", "point": [120.0, 50.0]} and j.correct
    j = judge("gui", '<answer>{"action": "type", "text": "hi"}</answer>', c)
    assert j.answer == {"action": "type", "text": "hi"} and not j.correct and not j.unparseable
    t = ctx({"action": "type", "text": "hello world"}, "gui")
    assert judge("gui", '<answer>{"action": "type", "text": "Hello world"}</answer>', t).correct


def test_temporal_segment_shifted_by_clip_start_and_clipped():
    video = VideoInfo(duration=30.0, clip_start=10.0)
    c = ctx({"segment": [12.0, 16.0]}, "temporal", frame=None, video=video)
    j = judge("temporal", "<answer>2.0 to 6.0</answer>", c)
    assert j.answer == [12.0, 16.0] and j.extras["iou"] == pytest.approx(1.0) and j.correct
    j = judge("temporal", "<answer>14 to 40</answer>", c)  # 24..50 s, clipped to the 30 s video
    assert j.answer == [24.0, 30.0] and j.extras["iou"] == 0.0
    j = judge("temporal", "<answer>12.0 - 14.0</answer>", ctx({"segment": [12.0, 16.0]}, "temporal", None,
                                                                meta={"duration": 20.0}))
    assert j.extras["iou"] == pytest.approx(0.5) and j.correct  # IoU >= 0.5 counts


def test_unknown_judge_lists_valid():
    with pytest.raises(ValueError, match="grounding"):
        get_judge("nope")
