"""Crop and clip geometry in every family's coordinate frame, by hand-computed values.

The image is 1000x500. Qwen2.5-VL sees it resized to 616x308 (smart_resize, factor 28, max 200704
pixels) and answers in those pixels; Qwen2-VL and Qwen3-VL answer in 0-1000 of either side.
"""

import math

import pytest

from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame
from vrft.tools.geometry import MIN_CROP_SIDE, clip_region, crop_region
from vrft.tools.types import ToolError

ORIGINAL = (1000, 500)
FRAMES = {
    "qwen2_vl": ImageFrame(ORIGINAL, (1008, 504), NORM_1000),
    "qwen2_5_vl": ImageFrame(ORIGINAL, (616, 308), RESIZED_PIXELS),
    "qwen3_vl": ImageFrame(ORIGINAL, (1024, 512), NORM_1000),
}
# The same region, original pixels [250, 125, 500, 250], in each family's output frame.
BOXES = {"qwen2_vl": [250, 250, 500, 500], "qwen2_5_vl": [154, 77, 308, 154], "qwen3_vl": [250, 250, 500, 500]}


def test_resized_frame_is_what_smart_resize_gives():
    from qwen_vl_utils.vision_process import smart_resize

    assert smart_resize(500, 1000, factor=28, min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 256) == (308, 616)


@pytest.mark.parametrize("family", sorted(FRAMES))
def test_box_in_each_frame_maps_to_the_same_crop(family):
    assert crop_region(BOXES[family], FRAMES[family]) == [250, 125, 500, 250]


@pytest.mark.parametrize("family, box, crop", [
    ("qwen2_vl", [900, -100, 1200, 300], [900, 0, 1000, 150]),  # clamped to the image
    # y: 300 * 500/308 = 487.01 -> [487, 500] clamped, 13 px, grown to 28 inside the image
    ("qwen2_5_vl", [-50, 300, 100, 400], [0, 472, 163, 500]),
    ("qwen3_vl", [0, 0, 1000, 1000], [0, 0, 1000, 500]),
    ("qwen2_5_vl", [0.5, 0.5, 615.9, 307.9], [0, 0, 1000, 500]),  # fractions cover whole pixels
])
def test_clamping(family, box, crop):
    assert crop_region(box, FRAMES[family]) == crop


@pytest.mark.parametrize("family, box, crop", [
    # 5 x 1 original pixels around (502.5, 250.5) grow to 28 x 28 around the centre
    ("qwen2_vl", [500, 500, 505, 502], [488, 236, 516, 264]),
    # at the corner the grown crop is shifted back inside the image
    ("qwen3_vl", [0, 0, 5, 5], [0, 0, 28, 28]),
    ("qwen2_5_vl", [615, 307, 616, 308], [972, 472, 1000, 500]),
    # a wide, thin strip only grows in height
    ("qwen2_vl", [0, 500, 1000, 501], [0, 236, 1000, 264]),
])
def test_min_side(family, box, crop):
    out = crop_region(box, FRAMES[family])
    assert out == crop
    assert out[2] - out[0] >= MIN_CROP_SIDE and out[3] - out[1] >= MIN_CROP_SIDE


def test_min_side_of_a_small_image_is_the_image():
    frame = ImageFrame((1000, 20), (1000, 20), RESIZED_PIXELS)
    assert crop_region([10, 5, 12, 6], frame) == [0, 0, 28, 20]  # 20 px tall: the whole height


def test_extreme_aspect_ratio_is_rejected():
    wide = ImageFrame((10_000, 500), (1000, 50), NORM_1000)
    with pytest.raises(ToolError, match="aspect ratio 357"):
        crop_region([0, 0, 1000, 1], wide)  # 10000 x 28 after growing to the minimum side
    assert crop_region([0, 0, 500, 1], wide) == [0, 0, 5000, 28]  # 179: accepted
    # on the 1000x500 image no box can be that thin once grown to 28 px
    assert crop_region([0, 0, 1000, 1], FRAMES["qwen2_vl"]) == [0, 0, 1000, 28]


@pytest.mark.parametrize("box, message", [
    ([10, 10, 10, 20], "empty or inverted"),
    ([50, 10, 10, 20], "empty or inverted"),
    ([1200, 1200, 1300, 1300], "outside the image, which spans [0, 0, 1000, 1000]"),
    ([-30, 10, -1, 20], "outside the image"),
    ([1, 2, 3], "list of 4 numbers"),
    ("1, 2, 3, 4", "list of 4 numbers"),
    ([1, "2", 3, 4], "must be a number"),
    ([1, True, 3, 4], "must be a number"),
    ([math.nan, 2, 3, 4], "finite"),
    ([1, 2, math.inf, 4], "finite"),
    ([1, 2, 10 ** 400, 4], "finite"),
])
def test_invalid_boxes(box, message):
    with pytest.raises(ToolError, match=message.replace("[", r"\[").replace("]", r"\]")):
        crop_region(box, FRAMES["qwen2_vl"])


def test_outside_message_uses_the_resized_frame():
    with pytest.raises(ToolError, match=r"spans \[0, 0, 616, 308\]"):
        crop_region([700, 0, 800, 10], FRAMES["qwen2_5_vl"])


def test_clip_region_relative_and_absolute_times():
    # Qwen2/2.5-VL saw the clip 10-20 s of the video and answer relative to its start
    assert clip_region(2, 5, bounds=(10.0, 20.0), clip_start=10.0) == (12.0, 15.0)
    # Qwen3-VL answers in absolute seconds (clip_start 0)
    assert clip_region(12, 15, bounds=(10.0, 20.0), clip_start=0.0) == (12.0, 15.0)
    # clamped to what the model was shown, grown to the minimum length around the centre
    assert clip_region(-5, 3, bounds=(10.0, 20.0), clip_start=10.0) == (10.0, 13.0)
    assert clip_region(4.0, 4.2, bounds=(10.0, 20.0), clip_start=10.0, min_seconds=1.0) == pytest.approx((13.6, 14.6))
    assert clip_region(9.9, 10, bounds=(10.0, 20.0), clip_start=10.0, min_seconds=1.0) == (19.0, 20.0)


@pytest.mark.parametrize("start, end, message", [
    (5, 5, "empty or inverted"), (6, 2, "empty or inverted"), (11, 15, "outside the video, which spans 0.00-10.00 s"),
    (-4, -1, "outside the video"), ("1", 2, "must be a number"), (1, math.nan, "finite"), (None, 2, "number"),
])
def test_invalid_clips(start, end, message):
    with pytest.raises(ToolError, match=message):
        clip_region(start, end, bounds=(10.0, 20.0), clip_start=10.0)
