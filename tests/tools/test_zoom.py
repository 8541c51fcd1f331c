"""The zoom tools on real files: crops come from the full-resolution original, clips are re-sampled."""

import numpy as np
import pytest
from PIL import Image

from rewards.context import VideoInfo
from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame
from tests.conftest import write_image
from vrft.data.sample import VideoRef
from vrft.policy.families import FAMILIES
from vrft.policy.media import VisionSettings
from vrft.tools import ToolContext, ToolError, get_tool


@pytest.fixture(scope="module")
def big_image(tmp_path_factory):
    return write_image(tmp_path_factory.mktemp("zoom") / "big.png", 1000, 500, seed=3)


def _ctx(images, family="qwen2_5_vl", frames=None, **kw):
    fam = FAMILIES[family]
    if frames is None:
        frames = [ImageFrame((1000, 500), (616, 308), RESIZED_PIXELS) if fam.output_frame == RESIZED_PIXELS
                  else ImageFrame((1000, 500), (1008, 504), NORM_1000) for _ in images]
    return ToolContext(images=list(images), image_frames=frames, settings=VisionSettings(), family=fam, **kw)


def test_zoom_in_crops_the_original_and_resizes_within_budget(big_image):
    from qwen_vl_utils.vision_process import smart_resize

    obs = get_tool("zoom_in")({"bbox_2d": [154, 77, 308, 154]}, _ctx([big_image]))
    h, w = smart_resize(125, 250, factor=28, min_pixels=VisionSettings().min_pixels,
                        max_pixels=VisionSettings().max_pixels)
    assert obs.error is None and len(obs.images) == 1 and obs.video is None
    assert obs.result == {"image_index": 0, "crop_box": [250, 125, 500, 250], "resized_size": [w, h]}
    assert obs.images[0].original_size == (250, 125) and obs.images[0].resized_size == (w, h)
    assert obs.text == "Zoomed in on region [154, 77, 308, 154]."


def test_zoomed_pixels_are_the_original_pixels(big_image):
    # 56 x 56 original pixels: a multiple of 28, so nothing is resized (Qwen2-VL frame, 0-1000)
    obs = get_tool("zoom_in")({"bbox_2d": [280, 280, 336, 392]}, _ctx([big_image], "qwen2_vl"))
    assert obs.result["crop_box"] == [280, 140, 336, 196]
    expected = np.asarray(Image.open(big_image).convert("RGB").crop((280, 140, 336, 196)))
    assert np.array_equal(np.asarray(obs.images[0].image), expected)


def test_zoom_in_image_index(big_image, media_dir):
    small = str(media_dir / "b.png")  # 96 x 160
    frames = [ImageFrame((1000, 500), (1008, 504), NORM_1000), ImageFrame((96, 160), (112, 168), NORM_1000)]
    ctx = _ctx([big_image, small], "qwen3_vl", frames)
    obs = get_tool("zoom_in")({"bbox_2d": [0, 0, 500, 500], "image_index": 1}, ctx)
    assert obs.result["crop_box"] == [0, 0, 48, 80] and obs.text.endswith("of image 1.")
    for bad, message in [(2, "out of range; there are 2 images"), (-1, "out of range"), (1.0, "integer"),
                         (True, "integer"), ("0", "integer")]:
        with pytest.raises(ToolError, match=message):
            get_tool("zoom_in")({"bbox_2d": [0, 0, 500, 500], "image_index": bad}, ctx)


@pytest.mark.parametrize("args, message", [
    ({}, "missing argument 'bbox_2d'"),
    ({"bbox": [1, 2, 3, 4]}, "missing argument 'bbox_2d'"),
    ({"bbox_2d": [1, 2, 3, 4], "zoom": 2}, "unknown argument 'zoom'"),
])
def test_zoom_in_argument_names(big_image, args, message):
    with pytest.raises(ToolError, match=message):
        get_tool("zoom_in")(args, _ctx([big_image]))


def test_zoom_in_without_image_and_video_without_video():
    with pytest.raises(ToolError, match="no image"):
        get_tool("zoom_in")({"bbox_2d": [1, 2, 3, 4]}, _ctx([]))
    with pytest.raises(ToolError, match="no video"):
        get_tool("zoom_in_video")({"start": 1, "end": 2}, _ctx([]))


@pytest.mark.parametrize("family, start, end", [("qwen2_5_vl", 1.0, 2.0), ("qwen3_vl", 2.0, 3.0)])
def test_zoom_in_video_resamples_the_clip(media_dir, family, start, end):
    """The prompt showed 1-4 s of a 5 s, 8 fps video at 2 fps. Qwen2.5-VL's times are relative to
    the clip (1-2 s is 2-3 s of the video), Qwen3-VL's absolute; both get 2-3 s at 4 fps."""
    clip_start = 0.0 if family == "qwen3_vl" else 1.0
    info = VideoInfo(duration=5.0, timestamps=[1.0, 1.5, 2.0, 2.5, 3.0, 3.5], clip_start=clip_start)
    ctx = _ctx([], family, video=VideoRef(str(media_dir / "v.mp4"), 1.0, 4.0), video_info=info, video_fps=8.0)
    obs = get_tool("zoom_in_video")({"start": start, "end": end}, ctx)
    assert obs.error is None and obs.video is not None and not obs.images
    assert obs.result["clip"] == [2.0, 3.0]
    ts = obs.video.timestamps
    assert ts == obs.result["timestamps"] and len(ts) == obs.video.frames.shape[0] == 4
    assert 2.0 <= ts[0] < ts[-1] <= 3.0
    red = obs.video.frames[:, 0].mean(dim=(1, 2))  # frame i of the file has red 6 * i
    assert np.allclose(red.numpy(), [6 * round(t * 8) for t in ts], atol=4)
    assert obs.text == f"Frames of {start:.2f}-{end:.2f} s (4 frames, 3.6 per second)."


def test_zoom_in_video_errors(media_dir):
    info = VideoInfo(duration=5.0, timestamps=[1.0, 2.0, 3.0], clip_start=1.0)
    ctx = _ctx([], video=VideoRef(str(media_dir / "v.mp4"), 1.0, 4.0), video_info=info, video_fps=8.0)
    for args, message in [({"start": 2, "end": 1}, "empty or inverted"),
                          ({"start": 3.5, "end": 9}, "outside the video"),
                          ({"start": "a", "end": 1}, "number"), ({"start": 1}, "missing argument 'end'")]:
        with pytest.raises(ToolError, match=message):
            get_tool("zoom_in_video")(args, ctx)
