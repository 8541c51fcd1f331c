import pytest

from tests.conftest import write_video
from vrft.policy.errors import MediaError
from vrft.policy.media import VisionSettings, load_image, load_video
from vrft.policy.media_cache import MediaCache

S = VisionSettings(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 64)


def test_image_resized_to_factor_within_budget(media_dir):
    im = load_image(str(media_dir / "a.png"), S, 28, sample_id="s1")
    w, h = im.resized_size
    assert im.original_size == (200, 120)
    assert w % 28 == 0 and h % 28 == 0 and S.min_pixels <= w * h <= S.max_pixels


@pytest.mark.parametrize("case", ["missing", "empty", "corrupt", "bomb"])
def test_bad_images_name_sample_and_file(tmp_path, case):
    path = tmp_path / f"{case}.png"
    settings = S
    if case == "empty":
        path.write_bytes(b"")
    elif case == "corrupt":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    elif case == "bomb":
        from PIL import Image

        Image.new("RGB", (300, 300)).save(path)
        settings = VisionSettings(max_image_pixels=300 * 299)
    with pytest.raises(MediaError) as e:
        load_image(str(path), settings, 28, sample_id="sample-7")
    assert "sample-7" in str(e.value) and str(path) in str(e.value)


def test_video_frames_count_and_timestamps(media_dir):
    v = load_video(str(media_dir / "v.mp4"), VisionSettings(nframes=6), 28, sample_id="v1")
    assert v.frames.shape[0] == 6
    assert len(v.timestamps) == 6 and v.timestamps[0] == 0.0
    assert v.timestamps == sorted(v.timestamps)
    assert v.duration == pytest.approx(5.0)
    # fps sampling of a clip: 2 fps over [1, 4] s -> about 6 frames, all inside the clip
    clip = load_video(str(media_dir / "v.mp4"), VisionSettings(fps=2.0), 28, start=1.0, end=4.0)
    assert clip.frames.shape[0] % 2 == 0 and 4 <= clip.frames.shape[0] <= 8
    assert all(1.0 <= t <= 4.0 for t in clip.timestamps)
    assert clip.clip_start == 1.0


def test_video_frame_content_matches_timestamps(media_dir):
    # frame i of the fixture has red = 6 * i, so each sampled frame's red level gives its index
    v = load_video(str(media_dir / "v.mp4"), VisionSettings(nframes=4), 28)
    for frame, t in zip(v.frames, v.timestamps):
        index = round(t * 8)
        assert abs(float(frame[0].mean()) - 6 * index) < 6


@pytest.mark.parametrize("case", ["missing", "corrupt", "clip_outside", "clip_inverted"])
def test_bad_videos(tmp_path, media_dir, case):
    path, kw = str(media_dir / "v.mp4"), {}
    if case == "missing":
        path = str(tmp_path / "nope.mp4")
    elif case == "corrupt":
        path = str(tmp_path / "bad.mp4")
        open(path, "wb").write(b"\x00\x00\x00\x18ftypmp42" + b"x" * 100)
    elif case == "clip_outside":
        kw = {"start": 30.0, "end": 40.0}
    else:
        kw = {"start": 3.0, "end": 2.0}
    with pytest.raises(MediaError) as e:
        load_video(path, S, 28, sample_id="vid-3", **kw)
    assert "vid-3" in str(e.value) and path in str(e.value)


def test_media_cache_hit_on_second_use(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    policy.media_cache = MediaCache()
    a = policy.encode("q", images=[str(media_dir / "a.png")])
    b = policy.encode("q", images=[str(media_dir / "a.png")])
    assert policy.media_cache.misses == 1 and policy.media_cache.hits == 1
    assert (a.pixel_values == b.pixel_values).all()


def test_media_cache_is_bounded_by_bytes():
    class Item:
        def __init__(self, n):
            self.nbytes = n

    cache = MediaCache(max_bytes=100)
    for i in range(5):
        cache.get_or_load(("k", i), lambda: Item(40))
    assert cache.bytes <= 100 and len(cache) == 2
    cache.get_or_load(("k", 4), lambda: Item(40))
    assert cache.hits == 1


def test_video_written_by_helper_is_readable(tmp_path):
    import decord

    p = write_video(tmp_path / "x.mp4", n_frames=10, fps=5)
    assert len(decord.VideoReader(p)) == 10
