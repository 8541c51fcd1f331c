"""COCO instances JSON -> detection samples (read with pycocotools).

One sample per image holding its annotations as ``{"bbox": xyxy, "label": name, "area": a}`` objects
(boxes converted from COCO's ``[x, y, w, h]``; ``area`` is the annotation's, which COCOeval's
small / medium / large ranges use). Crowd annotations (``iscrowd: 1``) are not objects to find: they go
to ``solution["ignore"]`` in the same form, and the COCO metric passes them to COCOeval as crowd
regions, where detections on them are neither hits nor false positives (as in the official
evaluation). Images without annotations are kept (the model must answer ``[]``; detections there are
false positives), unless ``keep_empty: false``. The prompt lists the categories to detect.

Options: ``categories`` (names to keep; default all), ``max_objects`` (leave out images with more),
``shots_per_category`` (Visual-RFT few-shot: for each category, k images containing it, one sample
per (image, category) with only that category's objects), ``seed`` (which k images),
``prompt_categories`` ("all" lists every kept category, "present" only those in the image),
``keep_empty`` (keep images with no kept objects; default: true when every category is kept, as the
official evaluation counts them, false when ``categories`` narrows them), ``image_dir`` (fallback
folder for images).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from pycocotools.coco import COCO

from vrft.data.loaders.common import (
    RowError, build_samples, check_box_in_image, join_media, sample_id, xywh_to_xyxy,
)
from vrft.data.loaders.registry import register_loader
from vrft.data.problems import LoadResult
from vrft.data.sample import Sample


def detection_prompt(categories: list[str]) -> str:
    if len(categories) == 1:
        return f"Detect every object of the category '{categories[0]}' in the image."
    return "Detect every object of these categories in the image: " + ", ".join(categories) + "."


def _read_coco(path: str):
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
            return COCO(path)
    except (KeyError, TypeError, ValueError, AssertionError) as e:
        raise ValueError(f"{path}: not a COCO instances file ({type(e).__name__}: {e})") from None


@register_loader("coco", tasks=("detection",))
def load_coco(path: str, media_root: str, dataset_name: str, task: str = "detection", *,
              check_media: bool = True, categories: list[str] | None = None,
              max_objects: int | None = None, shots_per_category: int | None = None, seed: int = 0,
              prompt_categories: str = "all", keep_empty: bool | None = None,
              image_dir: str = "images") -> LoadResult:
    if prompt_categories not in ("all", "present"):
        raise ValueError(f"coco: prompt_categories must be 'all' or 'present', got {prompt_categories!r}")
    coco = _read_coco(path)
    cats = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    if categories:
        unknown = sorted(set(categories) - set(cats.values()))
        if unknown:
            raise ValueError(f"coco: categories {unknown} are not in {path}; it has {sorted(cats.values())}")
        cats = {i: n for i, n in cats.items() if n in set(categories)}
    all_names = list(cats.values())
    if keep_empty is None:
        keep_empty = not categories

    def objects_of(img_id: int, cat_ids: set[int], size) -> tuple[list[dict], list[dict]]:
        """(objects, crowd regions) of the image in the given categories."""
        objs, crowd = [], []
        for ann in coco.imgToAnns.get(img_id, []):
            if ann.get("category_id") not in cat_ids:
                continue
            box = xywh_to_xyxy(ann.get("bbox"), f"annotation {ann.get('id')} bbox")
            box = check_box_in_image(box, size, f"annotation {ann.get('id')} bbox")
            obj = {"bbox": box, "label": cats[ann["category_id"]]}
            if isinstance(ann.get("area"), (int, float)) and not isinstance(ann.get("area"), bool):
                obj["area"] = float(ann["area"])
            (crowd if ann.get("iscrowd", 0) else objs).append(obj)
        return objs, crowd

    def make(img: dict, row_id: str, found: tuple[list[dict], list[dict]], names: list[str]) -> Sample:
        objs, crowd = found
        solution: dict = {"objects": objs}
        if crowd:
            solution["ignore"] = crowd
        return Sample(
            id=sample_id(dataset_name, row_id), dataset=dataset_name, task=task,
            prompt=detection_prompt(names), solution=solution,
            images=[join_media(media_root, img.get("file_name"), [image_dir])],
            meta={"width": img.get("width"), "height": img.get("height"), "image_id": img["id"]},
        )

    n_filtered = 0

    def build_image(label: str, img: dict):
        nonlocal n_filtered
        size = (img["width"], img["height"]) if img.get("width") and img.get("height") else None
        found = objects_of(img["id"], set(cats), size)
        objs = found[0]
        if (not objs and not keep_empty) or (max_objects is not None and len(objs) > max_objects):
            n_filtered += 1
            return None
        present = [n for n in all_names if any(o["label"] == n for o in objs)]
        return make(img, str(img["id"]), found, all_names if prompt_categories == "all" else present)

    def build_shot(label: str, row: dict):
        nonlocal n_filtered
        img, cat_id = row["img"], row["cat"]
        size = (img["width"], img["height"]) if img.get("width") and img.get("height") else None
        found = objects_of(img["id"], {cat_id}, size)
        if max_objects is not None and len(found[0]) > max_objects:
            n_filtered += 1
            return None
        if not found[0]:
            raise RowError(f"image {img['id']} has no objects of category {cats[cat_id]!r}")
        return make(img, f"{img['id']}-{cats[cat_id]}", found, [cats[cat_id]])

    if shots_per_category:
        rng = np.random.default_rng(seed)
        images_of: dict[int, set[int]] = {c: set() for c in cats}
        for a in coco.anns.values():
            if a.get("category_id") in images_of and not a.get("iscrowd", 0):
                images_of[a["category_id"]].add(a["image_id"])
        rows = []
        for cat_id in cats:
            img_ids = sorted(images_of[cat_id])
            chosen = rng.permutation(len(img_ids))[:shots_per_category]
            rows += [(f"image {img_ids[k]}", {"img": coco.imgs[img_ids[k]], "cat": cat_id}) for k in sorted(chosen)]
        result = build_samples(path, rows, build_shot, check_media)
    else:
        rows = [(f"image {i}", img) for i, img in coco.imgs.items()]
        result = build_samples(path, rows, build_image, check_media)
    result.note(f"images left out on purpose (no kept objects, or more than max_objects={max_objects})", n_filtered)
    return result
