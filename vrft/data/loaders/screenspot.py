"""ScreenSpot GUI grounding: ``[{"img_filename", "bbox": [x, y, w, h], "instruction", "data_type",
"data_source"}]`` -> task ``gui``, solution ``{"action": "click", "bbox": [x1, y1, x2, y2]}``.

``meta``: ``data_type`` ("text" / "icon"), ``data_source`` (e.g. "ios", "windows", "shop") and
``group`` ("mobile" / "desktop" / "web", from an official file name such as ``screenspot_mobile.json``
or ScreenSpot-v2's ``screenspot_mobile_v2.json``). Images are looked up in the media root, then in
``<media_root>/<image_dir>/`` (the official ``screenspot_imgs``, or ``images``). Rows carry no id:
ids are ``<file stem>:<row index>``, unique over the three files of the benchmark.
"""

from __future__ import annotations

import os

from vrft.data.loaders.common import (
    BOX_FORMATS, box_in_format, build_samples, file_row_id, image_file_size, join_media, read_rows,
    require_str, sample_id,
)
from vrft.data.loaders.registry import register_loader
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample

GROUPS = ("mobile", "desktop", "web")


@register_loader("screenspot", tasks=("gui",))
def load_screenspot(path: str, media_root: str, dataset_name: str, task: str = "gui", *,
                    check_media: bool = True, image_dir: str = "screenspot_imgs",
                    box_format: str = "xywh") -> LoadResult:
    """Options: ``image_dir``; ``box_format`` (``xywh``, the official form; ``xyxy`` or ``norm1000``
    for re-exports that changed it, the latter needing the image file to read its size)."""
    if box_format not in BOX_FORMATS:
        raise ValueError(f"screenspot: box_format must be one of {list(BOX_FORMATS)}, got {box_format!r}")
    rows, problems = read_rows(path)
    stem = os.path.splitext(os.path.basename(path))[0].lower()
    group = next((g for g in GROUPS if stem.endswith(g) or stem.endswith(g + "_v2")), None)

    def build(label: str, row: dict) -> Sample:
        image = join_media(media_root, require_str(row, "img_filename"), [image_dir, "screenspot_imgs", "images"])
        size = image_file_size(image) if box_format == "norm1000" else None
        meta = {"data_type": row.get("data_type"), "data_source": row.get("data_source")}
        if group:
            meta["group"] = group
        return Sample(
            id=sample_id(dataset_name, file_row_id(path, row.get("id", label))), dataset=dataset_name, task=task,
            prompt=require_str(row, "instruction"),
            solution={"action": "click", "bbox": box_in_format(row["bbox"], box_format, size, "bbox")},
            images=[image],
            meta=meta,
        )

    return build_samples(path, rows, build, check_media, problems)
