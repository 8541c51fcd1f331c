"""Charades-STA temporal grounding: text lines ``VIDEOID start end##query``.

Videos are at ``<media_root>/<video_dir>/<VIDEOID><video_ext>``. Durations come from the optional
``durations`` json ``{video_id: seconds}``, else are probed from the video with decord.
-> task ``temporal``, solution ``{"segment": [start, end]}`` (seconds), ``meta.duration``.
A segment ending past the video by at most ``tolerance`` seconds (default 5) is clipped to the
video's end (``meta.clipped_end`` keeps the original end) and counted in the load summary; start >= end
or an end further past the video is a Problem. Ids are ``<file stem>:<VIDEOID>#<line>``.
"""

from __future__ import annotations

from vrft.data.loaders.common import RowError, build_samples, file_row_id, sample_id
from vrft.data.loaders.registry import register_loader
from vrft.data.loaders.video import DurationLookup, check_segment, count_clipped, find_video
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample, VideoRef


def parse_line(line: str) -> tuple[str, float, float, str]:
    if "##" not in line:
        raise RowError(f"expected 'VIDEOID start end##query', got {line.strip()!r}")
    head, query = line.split("##", 1)
    parts = head.split()
    if len(parts) != 3 or not query.strip():
        raise RowError(f"expected 'VIDEOID start end##query', got {line.strip()!r}")
    try:
        start, end = float(parts[1]), float(parts[2])
    except ValueError:
        raise RowError(f"start/end are not numbers in {line.strip()!r}") from None
    return parts[0], start, end, query.strip()


@register_loader("charades_sta", tasks=("temporal",), path_opts=("durations",))
def load_charades_sta(path: str, media_root: str, dataset_name: str, task: str = "temporal", *,
                      check_media: bool = True, video_dir: str = "", video_ext: str = ".mp4",
                      durations: str | None = None, tolerance: float = 5.0) -> LoadResult:
    duration_of = DurationLookup(durations)
    with open(path, encoding="utf-8") as f:
        rows = [(f"line {i}", {"line": line}) for i, line in enumerate(f, 1) if line.strip()]

    def build(label: str, row: dict) -> Sample:
        vid, start, end, query = parse_line(row["line"])
        video = find_video(media_root, vid, video_dir, [video_ext])
        duration = duration_of(vid, video)
        segment = check_segment(start, end, duration, tolerance)
        meta = {"duration": duration, "video_id": vid}
        if segment[1] < end:
            meta["clipped_end"] = end
        return Sample(
            id=sample_id(dataset_name, file_row_id(path, f"{vid}#{label.split()[-1]}")), dataset=dataset_name,
            task=task, prompt=query, solution={"segment": segment}, video=VideoRef(path=video), meta=meta,
        )

    return count_clipped(build_samples(path, rows, build, check_media))
