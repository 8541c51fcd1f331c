"""Round trips between each model family's output frame and the original frame (rewards/frames.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.frames import (NORM_1000, ORIGINAL_PIXELS, RESIZED_PIXELS, ImageFrame, box_from_original,
                            box_to_original, point_from_original, point_to_original, segment_from_original,
                            segment_to_original)


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(height, width) rounded to multiples of ``factor`` within the pixel budget, the way the
    Qwen-VL processors size images (written here for the test; factor 28 for Qwen2/2.5-VL, 32 for Qwen3-VL)."""
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return h, w


FAMILIES = {
    "qwen2-vl": (NORM_1000, 28),
    "qwen2.5-vl": (RESIZED_PIXELS, 28),
    "qwen3-vl": (NORM_1000, 32),
}


def family_frame(family: str, width: int, height: int, max_pixels: int = 1280 * 28 * 28) -> ImageFrame:
    frame_kind, factor = FAMILIES[family]
    rh, rw = smart_resize(height, width, factor, 4 * 28 * 28, max_pixels)
    return ImageFrame(original_size=(width, height), resized_size=(rw, rh), output_frame=frame_kind)


def test_qwen25_resized_pixels_hand_values():
    f = ImageFrame((1000, 500), (448, 224), RESIZED_PIXELS)
    assert box_to_original([44.8, 22.4, 448, 224], f) == pytest.approx([100, 50, 1000, 500])
    assert point_to_original([224, 112], f) == pytest.approx([500, 250])
    assert box_from_original([100, 50, 1000, 500], f) == pytest.approx([44.8, 22.4, 448, 224])


def test_qwen25_smart_resize_of_1000x500():
    f = family_frame("qwen2.5-vl", 1000, 500)
    assert f.resized_size == (1008, 504)
    assert box_to_original([0, 0, 1008, 504], f) == pytest.approx([0, 0, 1000, 500])


def test_norm_1000_hand_values_ignore_resized_size():
    for resized in [(448, 224), (1008, 504), (1024, 512)]:
        f = ImageFrame((1000, 500), resized, NORM_1000)
        assert box_to_original([100, 100, 500, 1000], f) == pytest.approx([100, 50, 500, 500])
        assert point_to_original([1000, 1000], f) == pytest.approx([1000, 500])


def test_original_pixels_is_identity():
    f = ImageFrame((640, 480), (320, 240), ORIGINAL_PIXELS)
    assert box_to_original([1, 2, 3, 4], f) == [1, 2, 3, 4]
    assert point_from_original([5, 6], f) == [5, 6]


def test_unknown_frame_is_rejected():
    with pytest.raises(ValueError, match="unknown output frame"):
        ImageFrame((10, 10), (10, 10), "pixels")


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=60, deadline=None)
@given(w=st.integers(28, 4000), h=st.integers(28, 4000), data=st.data())
def test_round_trip_each_family(family, w, h, data):
    f = family_frame(family, w, h)
    x1, x2 = sorted(data.draw(st.lists(st.floats(0, w), min_size=2, max_size=2)))
    y1, y2 = sorted(data.draw(st.lists(st.floats(0, h), min_size=2, max_size=2)))
    box = [x1, y1, x2, y2]
    there = box_from_original(box, f)
    if f.output_frame == NORM_1000:
        assert all(-1e-6 <= v <= 1000 + 1e-6 for v in there)
    else:
        rw, rh = f.resized_size
        assert -1e-6 <= there[0] <= rw + 1e-6 and -1e-6 <= there[3] <= rh + 1e-6
    assert box_to_original(there, f) == pytest.approx(box, abs=1e-6)
    assert point_to_original(point_from_original([x1, y2], f), f) == pytest.approx([x1, y2], abs=1e-6)


def test_segment_round_trip_with_clip_start():
    assert segment_to_original([2.5, 7.5], clip_start=10.0) == [12.5, 17.5]
    assert segment_from_original(segment_to_original([2.5, 7.5], 3.0), 3.0) == pytest.approx([2.5, 7.5])
