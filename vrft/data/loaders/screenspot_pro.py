"""ScreenSpot-Pro GUI grounding on high-resolution professional screenshots.

Rows ``{"img_filename", "bbox": [x1, y1, x2, y2], "instruction", "img_size": [w, h], "ui_type", "group",
"platform", "application", "id"}`` (one JSON file per application in the official release)
-> task ``gui``, solution ``{"action": "click", "bbox": [x1, y1, x2, y2]}``; the box is checked
against ``img_size``. ``meta``: ``ui_type``, ``group``, ``platform``, ``application``, ``width``, ``height``.
"""

from __future__ import annotations

from vrft.data.loaders.common import (
    BOX_FORMATS, RowError, box_in_format, build_samples, check_box_in_image, join_media, own_id, read_rows,
    require_str, sample_id,
)
from vrft.data.loaders.registry import register_loader
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample


@register_loader("screenspot_pro", tasks=("gui",))
def load_screenspot_pro(path: str, media_root: str, dataset_name: str, task: str = "gui", *,
                        check_media: bool = True, image_dir: str = "images",
                        box_format: str = "xyxy") -> LoadResult:
    """Options: ``image_dir``; ``box_format`` (``xyxy``, the official form; ``xywh`` / ``norm1000``
    for re-exports that changed it; ``norm1000`` uses ``img_size``)."""
    if box_format not in BOX_FORMATS:
        raise ValueError(f"screenspot_pro: box_format must be one of {list(BOX_FORMATS)}, got {box_format!r}")
    rows, problems = read_rows(path)

    def build(label: str, row: dict) -> Sample:
        size = row.get("img_size")
        if size is not None:
            if not (isinstance(size, list) and len(size) == 2
                    and all(isinstance(v, (int, float)) and v > 0 for v in size)):
                raise RowError(f"img_size must be [width, height], got {size!r}")
        size = tuple(size) if size else None
        box = check_box_in_image(box_in_format(row["bbox"], box_format, size, "bbox"), size, "bbox")
        meta = {k: row.get(k) for k in ("ui_type", "group", "platform", "application")}
        if size:
            meta["width"], meta["height"] = int(size[0]), int(size[1])
        return Sample(
            id=sample_id(dataset_name, own_id(row, path, label)), dataset=dataset_name, task=task,
            prompt=require_str(row, "instruction"),
            solution={"action": "click", "bbox": box},
            images=[join_media(media_root, require_str(row, "img_filename"), [image_dir])],
            meta=meta,
        )

    return build_samples(path, rows, build, check_media, problems)
