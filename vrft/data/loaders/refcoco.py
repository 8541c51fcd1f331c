"""RefCOCO-style referring-expression grounding, in the layouts the community ships it.

``layout`` (default ``auto``: chosen per row from its keys):

- ``refcoco``: ``{"id"?, "image", "problem", "solution": [x1, y1, x2, y2], "width"?, "height"?}``, a
  JSON list or JSON lines. This is VLM-R1's ``rec_jsons_processed`` (``"image":
  "train2014/COCO_train2014_...jpg"``, plus ``normal_caption``). The solution may also be a string
  holding one box (``"<answer>[1, 2, 3, 4]</answer>"``), a list of boxes, or ``{"bbox_2d": [...]}``.
- ``conversations``: ``{"id"?, "image", "width"?, "height"?, "conversations": [{"from": "human",
  "value": "<image>...<ref>the lady</ref>"}, {"from": "gpt", "value": "..."}]}``: VLM-R1's jsonl
  (the answer is a pixel box ``[x1, y1, x2, y2]``) and InternVL's grounding data (the answer is
  ``<ref>..</ref><box>[[x1, y1, x2, y2]]</box>`` in 0-1000 of the image). The expression is the
  ``<ref>`` text, else the question after "...describes:", else the whole question.
- ``lmms``: lmms-eval's RefCOCO rows ``{"question_id", "file_name", "answer": ["expr", ...],
  "bbox": [x, y, w, h]}`` (exported from lmms-lab/RefCOCO); one sample per expression, as
  lmms-eval's own preprocessing does.

``box_format`` (``xyxy | xywh | norm1000``; default: the layout's, i.e. xyxy, xywh for ``lmms``,
norm1000 for an InternVL ``<box>``) says how the row states boxes. ``norm1000`` needs the image size:
``width``/``height`` in the row, else read from the image file. Boxes end in original-image pixels
-> task ``grounding``, solution ``{"boxes": [[x1, y1, x2, y2], ...]}``. Ids are unique per (file, row)
(``<file stem>:<row id or index>``), so refcoco / refcoco+ / refcocog files mix in one dataset.
"""

from __future__ import annotations

import re
from typing import Any

from vrft.data.loaders.common import (
    BOX_FORMATS, RowError, box_in_format, build_samples, check_box_in_image, file_row_id, image_file_size,
    image_ref, image_size, join_media, read_rows, require_str, sample_id,
)
from vrft.data.loaders.registry import register_loader
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample

LAYOUTS = ("auto", "refcoco", "conversations", "lmms")
_REF = re.compile(r"<ref>(.*?)</ref>", re.S)
_BOX_TAG = re.compile(r"<box>(.*?)</box>", re.S)
_DESCRIBES = re.compile(r"describes\s*:\s*(.+)", re.S | re.I)
_BOX_LIST = re.compile(r"\[\s*-?[\d.]+\s*,\s*-?[\d.]+\s*,\s*-?[\d.]+\s*,\s*-?[\d.]+\s*\]")


def parse_boxes(value: Any, box_format: str = "xyxy", size=None) -> list[list[float]]:
    """One or several boxes from the forms a RefCOCO-style solution takes."""
    if isinstance(value, dict):
        for key in ("bbox_2d", "bbox", "boxes"):
            if key in value:
                return parse_boxes(value[key], box_format, size)
        raise RowError(f"solution object has no 'bbox_2d', 'bbox' or 'boxes' key: {value!r}")
    if isinstance(value, (list, tuple)) and value and all(isinstance(b, (list, tuple, dict)) for b in value):
        return [b for item in value for b in parse_boxes(item, box_format, size)]
    if isinstance(value, str) and box_format != "xyxy":
        value = answer_boxes(value)[0]  # the numbers of the box written in the string
    return [box_in_format(value, box_format, size, "solution box")]


def row_layout(row: dict, layout: str) -> str:
    if layout != "auto":
        return layout
    if isinstance(row.get("conversations"), list):
        return "conversations"
    if "answer" in row and "bbox" in row:
        return "lmms"
    return "refcoco"


def conversation_parts(row: dict) -> tuple[str, str, bool]:
    """(referring expression, answer text, whether the answer is an InternVL ``<box>``)."""
    turns = row["conversations"]
    human = next((t.get("value") for t in turns if isinstance(t, dict) and t.get("from") in ("human", "user")), None)
    gpt = next((t.get("value") for t in turns if isinstance(t, dict) and t.get("from") in ("gpt", "assistant")), None)
    if not isinstance(human, str) or not isinstance(gpt, str):
        raise RowError("'conversations' needs a human turn and a gpt turn with string values")
    ref = _REF.search(human)
    if ref:
        text = ref.group(1)
    else:
        text = human.replace("<image>", "").strip()
        m = _DESCRIBES.search(text)
        text = m.group(1).strip().rstrip(".") if m else text
    box_tag = _BOX_TAG.search(gpt)
    answer = box_tag.group(1) if box_tag else gpt
    return text.strip(), answer, bool(box_tag)


def answer_boxes(answer: str) -> list[list[float]]:
    boxes = [[float(v) for v in m.group(0).strip("[] ").split(",")] for m in _BOX_LIST.finditer(answer)]
    if not boxes:
        raise RowError(f"no [x1, y1, x2, y2] box in the gpt answer {answer[:80]!r}")
    return boxes


def _image_of(row: dict, image_key: str) -> Any:
    image = row.get(image_key)
    if isinstance(image, list) and len(image) == 1:
        image = image[0]
    if not isinstance(image, str) and isinstance(row.get("file_name"), str):  # lmms-eval rows
        return row["file_name"]
    image = image_ref(image)
    if image is None:
        raise RowError(f"missing key {image_key!r} (or 'file_name')")
    return image


def _size(row: dict, image_path: str) -> tuple[float, float] | None:
    return image_size(row) or image_file_size(image_path)


@register_loader("refcoco", tasks=("grounding",))
def load_refcoco(path: str, media_root: str, dataset_name: str, task: str = "grounding", *,
                 check_media: bool = True, layout: str = "auto", box_format: str | None = None,
                 image_key: str = "image", text_key: str = "problem",
                 solution_key: str = "solution") -> LoadResult:
    """Options: ``layout``, ``box_format`` (see the module docstring); ``image_key`` / ``text_key`` /
    ``solution_key`` rename the three columns of the ``refcoco`` layout."""
    if layout not in LAYOUTS:
        raise ValueError(f"refcoco: layout must be one of {list(LAYOUTS)}, got {layout!r}")
    if box_format is not None and box_format not in BOX_FORMATS:
        raise ValueError(f"refcoco: box_format must be one of {list(BOX_FORMATS)}, got {box_format!r}")
    rows, problems = read_rows(path)

    def make(key: str, image_path: str, text: str, boxes: list[list[float]], size) -> Sample:
        boxes = [check_box_in_image(b, size, "solution box") for b in boxes]
        meta: dict[str, Any] = {"width": int(size[0]), "height": int(size[1])} if size else {}
        return Sample(id=sample_id(dataset_name, file_row_id(path, key)), dataset=dataset_name, task=task,
                      prompt=text, solution={"boxes": boxes}, images=[image_path], meta=meta)

    def build(label: str, row: dict) -> Sample | list[Sample]:
        kind = row_layout(row, layout)
        image_path = join_media(media_root, _image_of(row, image_key))
        key = next((str(row[k]) for k in ("id", "question_id") if row.get(k) is not None), label)
        if kind == "conversations":
            text, answer, is_box_tag = conversation_parts(row)
            fmt = box_format or ("norm1000" if is_box_tag else "xyxy")
            size = _size(row, image_path) if fmt == "norm1000" else image_size(row)
            boxes = [box_in_format(b, fmt, size, "answer box") for b in answer_boxes(answer)]
            return make(key, image_path, require_str({"ref": text}, "ref"), boxes, size or image_size(row))
        if kind == "lmms":
            fmt = box_format or "xywh"
            size = _size(row, image_path) if fmt == "norm1000" else image_size(row)
            boxes = parse_boxes(row["bbox"], fmt, size)
            answers = row["answer"] if isinstance(row["answer"], list) else [row["answer"]]
            if not answers:
                raise RowError("'answer' holds no referring expression")
            return [make(f"{key}#{k}", image_path, require_str({"answer": a}, "answer"), boxes, size)
                    for k, a in enumerate(answers)]
        fmt = box_format or "xyxy"
        size = _size(row, image_path) if fmt == "norm1000" else image_size(row)
        return make(key, image_path, require_str(row, text_key), parse_boxes(row[solution_key], fmt, size), size)

    return build_samples(path, rows, build, check_media, problems)
