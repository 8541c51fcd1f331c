"""ActivityNet Captions temporal grounding: ``{video_id: {"duration", "timestamps": [[s, e], ...],
"sentences": [...]}}`` -> one ``temporal`` sample per sentence.

Videos are looked up as ``<media_root>/<video_dir>/<video_id><ext>`` for each ext in ``video_exts``
(also without the ``v_`` prefix the annotation ids carry). Segments past the stated duration by more
than ``tolerance`` seconds, or with start >= end, are Problems; within it they are clipped to the
duration and counted in the load summary.
"""

from __future__ import annotations

import math

from vrft.data.loaders.common import RowError, build_samples, read_json, require_str, sample_id
from vrft.data.loaders.registry import register_loader
from vrft.data.loaders.video import check_segment, count_clipped, find_video
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample, VideoRef


@register_loader("activitynet", tasks=("temporal",))
def load_activitynet(path: str, media_root: str, dataset_name: str, task: str = "temporal", *,
                     check_media: bool = True, video_dir: str = "",
                     video_exts: list[str] | None = None, tolerance: float = 0.5) -> LoadResult:
    exts = video_exts or [".mp4", ".mkv", ".webm"]
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected {{video_id: {{duration, timestamps, sentences}}}}")
    rows = []
    for vid, entry in data.items():
        sentences = entry.get("sentences") if isinstance(entry, dict) else None
        n = len(sentences) if isinstance(sentences, list) else 1
        rows += [(f"{vid}#{k}", {"vid": vid, "k": k, "entry": entry}) for k in range(n)]

    def build(label: str, row: dict) -> Sample:
        vid, k, entry = row["vid"], row["k"], row["entry"]
        if not isinstance(entry, dict):
            raise RowError(f"expected an object with duration/timestamps/sentences, got {type(entry).__name__}")
        duration, stamps, sentences = entry["duration"], entry["timestamps"], entry["sentences"]
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) \
                or not math.isfinite(duration) or duration <= 0:
            raise RowError(f"duration must be a positive number, got {duration!r}")
        if not isinstance(stamps, list) or not isinstance(sentences, list) or len(stamps) != len(sentences):
            raise RowError("'timestamps' and 'sentences' must be lists of the same length")
        stamp = stamps[k]
        if not isinstance(stamp, list) or len(stamp) != 2:
            raise RowError(f"timestamp must be [start, end], got {stamp!r}")
        segment = check_segment(stamp[0], stamp[1], float(duration), tolerance)
        meta = {"duration": float(duration), "video_id": vid}
        if segment[1] < stamp[1]:
            meta["clipped_end"] = stamp[1]
        return Sample(
            id=sample_id(dataset_name, label), dataset=dataset_name, task=task,
            prompt=require_str({"sentence": sentences[k]}, "sentence"),
            solution={"segment": segment},
            video=VideoRef(path=find_video(media_root, vid, video_dir, exts)),
            meta=meta,
        )

    return count_clipped(build_samples(path, rows, build, check_media))
