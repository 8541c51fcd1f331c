"""Helpers every format loader shares: reading rows, turning row errors into Problems, checking
media files, and parsing boxes.

A loader's per-row builder raises :class:`RowError` (or KeyError / TypeError / ValueError) for a
malformed row; :func:`build_samples` turns that into a :class:`Problem` and then checks that every
media file a built sample points at exists and is not empty.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable

from PIL import Image

from vrft.data.problems import LoadResult, Problem
from vrft.data.sample import Sample
from vrft.tasks.base import SolutionError
from vrft.tasks.checks import answer_text as task_answer_text
from vrft.tasks.checks import check_box


class RowError(ValueError):
    """A malformed row; the message says what is wrong with it."""


def read_rows(path: str) -> tuple[list[tuple[str, Any]], list[Problem]]:
    """Rows of a JSON list or a JSON-lines file, each as (label, row).

    The label is the row's index in a JSON list, or ``line N`` (1-based) in JSON lines. A JSON file
    that does not parse raises ValueError naming the file; a bad JSON line becomes a Problem.
    """
    if path.endswith((".jsonl", ".ndjson")):
        rows, problems = [], []
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rows.append((f"line {lineno}", json.loads(line)))
                except json.JSONDecodeError as e:
                    problems.append(Problem(f"line {lineno}", path, f"invalid JSON: {e.msg}"))
        return rows, problems
    data = read_json(path)
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of rows, got {type(data).__name__}")
    return [(str(i), row) for i, row in enumerate(data)], []


def read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


def build_samples(
    path: str,
    rows: Iterable[tuple[str, Any]],
    build: Callable[[str, Any], Sample | list[Sample] | None],
    check_media: bool = True,
    problems: list[Problem] | None = None,
) -> LoadResult:
    """Build samples row by row; malformed rows and missing media become Problems.

    ``build(label, row)`` returns a Sample, a list of them, or None for a row deliberately left out
    (e.g. filtered by an option). A problem names the row by its id when it has one.
    """
    result = LoadResult(problems=list(problems or []))
    media_cache: dict[str, str | None] = {}
    for label, row in rows:
        name = label
        if isinstance(row, dict) and row.get("id") is not None and str(row["id"]) not in label:
            name = f"{label} (id {row['id']})"
        try:
            if not isinstance(row, dict):
                raise RowError(f"expected an object, got {type(row).__name__}")
            built = build(label, row)
        except KeyError as e:
            result.problems.append(Problem(name, path, f"missing key {e.args[0]!r}"))
            continue
        except (RowError, TypeError, ValueError, AttributeError, IndexError) as e:
            result.problems.append(Problem(name, path, str(e)))
            continue
        if built is None:
            continue
        for sample in built if isinstance(built, list) else [built]:
            missing = media_problems(sample, media_cache) if check_media else []
            if missing:
                result.problems.append(Problem(name, path, "; ".join(missing)))
            else:
                result.samples.append(sample)
    return result


def media_problems(sample: Sample, cache: dict[str, str | None] | None = None) -> list[str]:
    """Reasons the sample's media are unusable: a missing or empty image or video file."""
    cache = {} if cache is None else cache
    paths = list(sample.images) + ([sample.video.path] if sample.video else [])
    out = []
    for p in paths:
        if p not in cache:
            cache[p] = _file_problem(p)
        if cache[p]:
            out.append(cache[p])
    return out


def _file_problem(path: str) -> str | None:
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return f"media file not found: {path}"
    except OSError as e:
        return f"media file unreadable: {path} ({e.strerror})"
    if not os.path.isfile(path):
        return f"media path is not a file: {path}"
    return f"media file is empty: {path}" if size == 0 else None


def join_media(media_root: str, rel: Any, fallback_dirs: Iterable[str] = ()) -> str:
    """Absolute path of a media file given relative to the media root.

    When the file is not at ``media_root/rel``, these are tried in turn and the first that exists
    is used: ``media_root/<dir>/rel`` for each of ``fallback_dirs`` (e.g. ChartQA's ``png/``), then
    ``rel`` with a leading part that the media root already ends with removed (rows saying
    ``train2014/x.jpg`` under a media root ``.../train2014``). A missing file is reported by the
    media check, with the primary path.
    """
    if not isinstance(rel, str) or not rel:
        raise RowError(f"media path must be a non-empty string, got {rel!r}")
    if os.path.isabs(rel):
        return rel
    primary = os.path.abspath(os.path.join(media_root, rel))
    if os.path.exists(primary):
        return primary
    for alt in _media_alternatives(media_root, rel, fallback_dirs):
        if os.path.exists(alt):
            return alt
    return primary


def _media_alternatives(media_root: str, rel: str, fallback_dirs: Iterable[str]) -> Iterable[str]:
    for d in fallback_dirs:
        if d:
            yield os.path.abspath(os.path.join(media_root, d, rel))
    root_parts = os.path.normpath(os.path.abspath(media_root)).split(os.sep)
    rel_parts = [p for p in rel.replace("\\", "/").split("/") if p and p != "."]
    for k in range(min(len(root_parts), len(rel_parts) - 1), 0, -1):
        if root_parts[-k:] == rel_parts[:k]:  # media_root/.../a/b + a/b/x.jpg -> media_root/x.jpg
            yield os.path.abspath(os.path.join(media_root, *rel_parts[k:]))


def image_ref(value: Any) -> Any:
    """A media path from a row's image column: a path string, or a Hugging Face Image column exported
    as ``{"path": ..., "bytes": ...}`` (its path). Embedded bytes without a path are a RowError that
    says how to fix it, not a dump of the bytes."""
    if isinstance(value, dict):
        if isinstance(value.get("path"), str) and value["path"]:
            return value["path"]
        raise RowError("the image is embedded bytes (a Hugging Face Image column) without a path: write "
                       "the images to files and put their paths in the row")
    return value


def sample_id(dataset_name: str, row_id: Any) -> str:
    """Sample ids are unique across a mixture: ``<dataset>/<row id>``."""
    row_id = str(row_id)
    prefix = dataset_name + "/"
    return row_id if row_id.startswith(prefix) else prefix + row_id


def file_row_id(path: str, row_key: Any) -> str:
    """A row id that is unique per (file, row): ``<file stem>:<row key>`` (``line N`` labels give
    ``<stem>:N``). Used where a format's rows carry no id of their own, or one that is only unique
    within its file, so that a dataset reading several files of one release (ChartQA's human and
    augmented questions, ScreenSpot's three platform files) gets no duplicate ids."""
    stem = os.path.splitext(os.path.basename(path))[0]
    key = str(row_key)
    return f"{stem}:{key[5:] if key.startswith('line ') else key}"


def own_id(row: dict, path: str, label: str) -> str:
    """The row's own ``id`` when it has one (formats whose ids are global, e.g. ScreenSpot-Pro and
    native rows), else :func:`file_row_id` of its index."""
    return str(row["id"]) if row.get("id") is not None else file_row_id(path, label)


def require_str(row: dict, key: str) -> str:
    value = row[key]
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"{key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def parse_box(value: Any, what: str = "box") -> list[float]:
    """A valid (x1, y1, x2, y2) box from a list of 4 numbers or a string containing one: the
    grounding tasks' own check (:func:`vrft.tasks.checks.check_box`), as a row error.

    Raises RowError for a non-numeric, NaN or infinite value, a wrong length, or x2 <= x1 / y2 <= y1.
    """
    try:
        return check_box(value, what)
    except SolutionError as e:
        raise RowError(str(e)) from None


def xywh_to_xyxy(value: Any, what: str = "bbox") -> list[float]:
    """(x, y, w, h) -> (x1, y1, x2, y2), validated like :func:`parse_box`."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise RowError(f"{what} must be [x, y, w, h], got {value!r}")
    x, y, w, h = value
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return parse_box([x, y, x + w, y + h], what)
    return parse_box(list(value), what)  # raises with the non-numeric value named


BOX_FORMATS = ("xyxy", "xywh", "norm1000")
"""How a row states a box: corners in pixels, (x, y, width, height) in pixels (COCO, ScreenSpot,
lmms-eval RefCOCO), or corners normalised to 0-1000 of the image (InternVL ``<box>``)."""


def box_in_format(value: Any, box_format: str, size: tuple[float, float] | None,
                  what: str = "box") -> list[float]:
    """An (x1, y1, x2, y2) box in original pixels from a box stated in ``box_format``;
    ``norm1000`` needs the image ``size`` (width, height)."""
    if box_format == "xyxy":
        return parse_box(value, what)
    if box_format == "xywh":
        return xywh_to_xyxy(value, what)
    if box_format == "norm1000":
        if not size:
            raise RowError(f"{what}: a norm1000 box needs the image size (width/height or the image file)")
        x1, y1, x2, y2 = parse_box(value, what)
        w, h = size
        return parse_box([x1 * w / 1000, y1 * h / 1000, x2 * w / 1000, y2 * h / 1000], what)
    raise ValueError(f"box_format must be one of {list(BOX_FORMATS)}, got {box_format!r}")


def check_box_in_image(box: list[float], size: tuple[float, float] | None, what: str = "box",
                       tolerance: float = 1.0) -> list[float]:
    """Clip a box to the image when it overshoots by at most ``tolerance`` pixels; beyond, RowError."""
    if not size:
        return box
    w, h = size
    x1, y1, x2, y2 = box
    if x1 < -tolerance or y1 < -tolerance or x2 > w + tolerance or y2 > h + tolerance:
        raise RowError(f"{what} {_fmt(box)} lies outside the {w:g}x{h:g} image")
    return [max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2)]


def image_size(row: dict, w_key: str = "width", h_key: str = "height") -> tuple[float, float] | None:
    """(width, height) when the row states both as positive numbers, else None."""
    w, h = row.get(w_key), row.get(h_key)
    if w is None and h is None:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in (w, h)):
        raise RowError(f"image size {w_key}={w!r}, {h_key}={h!r} must be positive numbers")
    return float(w), float(h)


def image_file_size(path: str) -> tuple[float, float] | None:
    """(width, height) read from an image file's header; None when it cannot be read (the media
    check then reports the file)."""
    try:
        with Image.open(path) as im:
            return float(im.width), float(im.height)
    except (OSError, ValueError):
        return None


def answer_text(value: Any, what: str = "answer") -> str:
    """Answers are strings; numbers are written plainly and lists as JSON lists (the answer tasks'
    own rule, :func:`vrft.tasks.checks.answer_text`, as a row error). A list of one value (Hugging
    Face exports of ChartQA write ``"label": ["14"]``) is that value; an empty list is no answer."""
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], (list, dict)):
        value = value[0]
    if isinstance(value, list) and not value:
        raise RowError(f"{what} must be a non-empty string or number, got {value!r}")
    try:
        return task_answer_text(value, what)
    except SolutionError as e:
        raise RowError(str(e)) from None


def _fmt(box: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"
