"""RefCOCO-style referring-expression grounding.

A JSON list (or JSON lines) of ``{"id"?, "image": "images/x.png", "problem": "the red triangle",
"solution": [x1, y1, x2, y2], "width"?, "height"?}``. The solution may also be a string containing
one box (``"<answer>[1, 2, 3, 4]</answer>"``), a list of boxes, or ``{"bbox_2d": [...]}``.
Boxes are original-image pixels. -> task ``grounding``, solution ``{"boxes": [[x1, y1, x2, y2]]}``.
"""

from __future__ import annotations

from typing import Any

from vrft.data.loaders.common import (
    RowError, build_samples, check_box_in_image, image_size, join_media, parse_box, read_rows,
    require_str, sample_id,
)
from vrft.data.loaders.registry import register_loader
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample


def parse_boxes(value: Any) -> list[list[float]]:
    """One or several boxes from the forms a RefCOCO-style solution takes."""
    if isinstance(value, dict):
        for key in ("bbox_2d", "bbox", "boxes"):
            if key in value:
                return parse_boxes(value[key])
        raise RowError(f"solution object has no 'bbox_2d', 'bbox' or 'boxes' key: {value!r}")
    if isinstance(value, (list, tuple)) and value and all(isinstance(b, (list, tuple, dict)) for b in value):
        return [b for item in value for b in parse_boxes(item)]
    return [parse_box(value, "solution box")]


@register_loader("refcoco", tasks=("grounding",))
def load_refcoco(path: str, media_root: str, dataset_name: str, task: str = "grounding", *,
                 check_media: bool = True, image_key: str = "image", text_key: str = "problem",
                 solution_key: str = "solution") -> LoadResult:
    """Options: ``image_key`` / ``text_key`` / ``solution_key`` rename the three columns."""
    rows, problems = read_rows(path)

    def build(label: str, row: dict) -> Sample:
        image = row[image_key]
        if isinstance(image, list) and len(image) == 1:
            image = image[0]
        size = image_size(row)
        boxes = [check_box_in_image(b, size, "solution box") for b in parse_boxes(row[solution_key])]
        meta: dict[str, Any] = {}
        if size:
            meta["width"], meta["height"] = int(size[0]), int(size[1])
        return Sample(
            id=sample_id(dataset_name, row.get("id", label)),
            dataset=dataset_name,
            task=task,
            prompt=require_str(row, text_key),
            solution={"boxes": boxes},
            images=[join_media(media_root, image)],
            meta=meta,
        )

    return build_samples(path, rows, build, check_media, problems)
