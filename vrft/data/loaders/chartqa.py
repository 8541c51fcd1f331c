"""ChartQA question answering over chart images.

Two row forms are accepted:
- the official ``[{"imgname": "41699051005347.png", "query": "...", "label": "12.5"}]`` with images in
  ``<media_root>/<image_dir>/`` (the official layout keeps them in ``png/`` beside the json);
- ``[{"image": "png/x.png", "question": "...", "answer": "12.5", "type"?: "human"}]`` with the image
  path relative to the media root (``<image_dir>/`` is tried as a fallback).

-> task ``chart`` (or ``vqa``), solution ``{"answer": "12.5"}``; ``meta.split`` is "human" or
"augmented" when the file name (``*_human.json`` / ``*_augmented.json``), a ``type`` field (also
lmms-eval's ``human_test`` / ``augmented_test``) or a Hugging Face ``human_or_machine`` (0 / 1) says so.
Hugging Face exports write labels as lists (``"label": ["14"]``): a list of one value is that value.
Rows carry no id: ids are ``<file stem>:<row index>``, unique over train_human + train_augmented.
"""

from __future__ import annotations

import os

from vrft.data.loaders.common import (
    RowError, answer_text, build_samples, file_row_id, image_ref, join_media, read_rows, require_str, sample_id,
)
from vrft.data.loaders.registry import register_loader
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample

SPLITS = ("human", "augmented")


def split_from_filename(path: str) -> str | None:
    stem = os.path.splitext(os.path.basename(path))[0].lower()
    return next((s for s in SPLITS if stem.endswith("_" + s) or stem == s), None)


def split_of_row(row: dict) -> str | None:
    """``human`` / ``augmented`` from a ``type`` (``human``, ``human_test``, ...) or a Hugging Face
    ``human_or_machine`` flag (0: human, 1: augmented)."""
    kind = row.get("type")
    if isinstance(kind, str):
        found = next((s for s in SPLITS if s in kind.lower()), None)
        if found:
            return found
    flag = row.get("human_or_machine")
    if flag in (0, 1) and not isinstance(flag, bool):
        return SPLITS[flag]
    return None


@register_loader("chartqa", tasks=("chart", "vqa"))
def load_chartqa(path: str, media_root: str, dataset_name: str, task: str = "chart", *,
                 check_media: bool = True, image_dir: str = "png") -> LoadResult:
    rows, problems = read_rows(path)
    file_split = split_from_filename(path)

    def build(label: str, row: dict) -> Sample:
        if "imgname" in row:
            image, question, answer = require_str(row, "imgname"), require_str(row, "query"), row["label"]
            image_path = join_media(media_root, os.path.join(image_dir, image) if image_dir else image)
            if not os.path.exists(image_path):  # images next to the json instead of in png/
                image_path = join_media(media_root, image) if os.path.exists(
                    os.path.join(media_root, image)) else image_path
        elif "image" in row:
            image = image_ref(row["image"])
            question = require_str(row, "question" if "question" in row else "query")
            answer = row["answer"] if "answer" in row else row["label"]
            image_path = join_media(media_root, image, [image_dir])
        else:
            raise RowError("expected 'imgname'/'query'/'label' or 'image'/'question'/'answer' keys")
        meta = {}
        split = split_of_row(row) or file_split
        if split:
            meta["split"] = split
        return Sample(
            id=sample_id(dataset_name, file_row_id(path, row.get("id", label))), dataset=dataset_name, task=task,
            prompt=question, solution={"answer": answer_text(answer, "answer")},
            images=[image_path], meta=meta,
        )

    return build_samples(path, rows, build, check_media, problems)
