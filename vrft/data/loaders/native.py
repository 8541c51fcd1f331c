"""The native format: one Sample dict per line (``Sample.from_dict``), or a parquet file with the
same columns (``solution`` / ``meta`` may be JSON strings there). Media paths (``images``, ``video``)
are relative to the media root. A row's ``task`` wins; the dataset config's ``task`` fills it in when a
row has none, and a row naming another task is a Problem. ``dataset`` is always the config's name.
"""

from __future__ import annotations

import json
from typing import Any

from vrft.data.loaders.common import (
    RowError, build_samples, join_media, own_id, read_rows, sample_id,
)
from vrft.data.loaders.registry import register_loader
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample, VideoRef
from vrft.data.loaders.solutions import validate_solution

FIELDS = ("id", "dataset", "task", "prompt", "solution", "images", "video", "meta")


def read_parquet_rows(path: str) -> list[tuple[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(f"reading {path} needs pyarrow: pip install pyarrow") from None
    rows = pq.read_table(path).to_pylist()
    for row in rows:
        for key in ("solution", "meta", "video"):
            if isinstance(row.get(key), str) and row[key][:1] in "{[":
                try:
                    row[key] = json.loads(row[key])
                except json.JSONDecodeError:
                    pass  # left as a string; validation names the column
    return [(str(i), row) for i, row in enumerate(rows)]


@register_loader("jsonl", tasks=())
def load_native(path: str, media_root: str, dataset_name: str, task: str | None = None, *,
                check_media: bool = True) -> LoadResult:
    if path.endswith(".parquet"):
        rows, problems = read_parquet_rows(path), []
    else:
        rows, problems = read_rows(path)

    def build(label: str, row: dict) -> Sample:
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise RowError(f"unknown field(s) {unknown}; a native row has {list(FIELDS)}")
        row_task = row.get("task") or task
        if task and row_task != task:
            raise RowError(f"row task {row_task!r} differs from the dataset's task {task!r}")
        if not row_task:
            raise RowError("no 'task' in the row and none in the dataset config")
        prompt = row.get("prompt")
        if not (isinstance(prompt, str) and prompt.strip()) and not isinstance(prompt, list):
            raise RowError(f"'prompt' must be a non-empty string or a list of messages, got {prompt!r}")
        meta = row.get("meta") or {}
        if not isinstance(meta, dict):
            raise RowError(f"'meta' must be an object, got {type(meta).__name__}")
        images = row.get("images") or []
        images = [images] if isinstance(images, str) else images
        if not isinstance(images, list):
            raise RowError(f"'images' must be a list of paths, got {type(images).__name__}")
        video = row.get("video")
        if isinstance(video, str):
            video = VideoRef(path=join_media(media_root, video))
        elif isinstance(video, dict):
            extra = sorted(set(video) - {"path", "start", "end"})
            if extra:
                raise RowError(f"'video' has unknown field(s) {extra}; expected path/start/end")
            video = VideoRef(**{**video, "path": join_media(media_root, video.get("path"))})
        elif video is not None:
            raise RowError(f"'video' must be a path or {{path, start, end}}, got {type(video).__name__}")
        return Sample(
            id=sample_id(dataset_name, own_id(row, path, label)), dataset=dataset_name, task=row_task,
            prompt=prompt.strip() if isinstance(prompt, str) else prompt,
            solution=validate_solution(row_task, row.get("solution"), meta),
            images=[join_media(media_root, p) for p in images], video=video, meta=meta,
        )

    return build_samples(path, rows, build, check_media, problems)


register_loader("parquet", tasks=())(load_native)
