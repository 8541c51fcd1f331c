"""Decode every image and video a mixture config reads, before training does (``vrft data check``).

Loading a dataset only checks that each media file exists and is not empty; a corrupt image or a
truncated video is found here instead of mid-run. Every data file of every dataset (training and
held-out) is read with its loader, each distinct media file is decoded in a pool of worker
processes, and every row that cannot be used is reported with its dataset, file, row and reason:
malformed rows and missing files (as the loader reports them) and media that fails to decode.

Images are fully decoded (``PIL.Image.load``: a truncated file fails). Videos are opened with decord
and ``frames`` frames spread over the whole video, the last one included, are decoded (0: every
frame), which catches a truncated file.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, TextIO

import decord
from PIL import Image, ImageFile

from vrft.data.loaders import get_loader
from vrft.data.mixture_config import DatasetConfig, MixtureConfig
from vrft.data.sample import Sample


@dataclass
class BadRow:
    """One row that training could not use."""

    dataset: str
    file: str
    row: str
    """The sample id, or the loader's row label when no sample could be built."""
    reason: str

    def __str__(self) -> str:
        return f"{self.dataset}: {self.file}: row {self.row}: {self.reason}"


@dataclass
class CheckReport:
    """What ``check_mixture`` found."""

    n_rows: int = 0
    """Rows read (valid samples plus invalid rows)."""
    n_media: int = 0
    """Distinct media files decoded."""
    bad: list[BadRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad


def decode_image(path: str) -> str | None:
    """Why the image cannot be decoded, or None."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file must fail here, whatever else set it
    try:
        with Image.open(path) as im:
            im.load()
            if im.width < 1 or im.height < 1:
                return f"image has no pixels ({im.width}x{im.height}): {path}"
    except Exception as e:  # noqa: BLE001  (PIL raises many types for corrupt files)
        return f"cannot decode image ({type(e).__name__}: {e}): {path}"
    return None


def decode_video(path: str, frames: int = 8) -> str | None:
    """Why the video cannot be decoded (``frames`` frames spread over it, the last included;
    0: all), or None."""
    try:
        vr = decord.VideoReader(path, num_threads=1)
        n, fps = len(vr), float(vr.get_avg_fps())
        if n < 1 or fps <= 0:
            return f"video has {n} frames at {fps} fps: {path}"
        k = n if frames <= 0 else min(frames, n)
        indices = sorted({round(i * (n - 1) / max(k - 1, 1)) for i in range(k)})
        for start in range(0, len(indices), 16):  # small batches: bounded memory on long videos
            vr.get_batch(indices[start:start + 16]).asnumpy()
    except Exception as e:  # noqa: BLE001  (decord raises its own error types)
        return f"cannot decode video ({type(e).__name__}: {e}): {path}"
    return None


def _decode(job: tuple[str, str, int]) -> tuple[str, str | None]:
    path, kind, frames = job
    return path, decode_video(path, frames) if kind == "video" else decode_image(path)


def _load_file(cfg: DatasetConfig, path: str, media_root: str) -> tuple[list[Sample], list[BadRow], int]:
    """(samples, invalid rows, rows read) of one data file, read with its dataset's loader."""
    if not os.path.isfile(path):
        return [], [BadRow(cfg.name, path, "-", "data file not found")], 0
    opts = {k: v for k, v in cfg.loader_opts.items() if k != "check_media"}
    try:
        result = get_loader(cfg.format)(path, media_root, cfg.name, cfg.task, check_media=True, **opts)
    except (ValueError, OSError) as e:  # the whole file is unreadable (not JSON, not COCO, ...)
        return [], [BadRow(cfg.name, path, "-", str(e))], 0
    bad = [BadRow(cfg.name, p.file, p.row, p.reason) for p in result.problems]
    return result.samples, bad, len(result.samples) + len(result.problems)


def media_of(sample: Sample) -> list[tuple[str, str]]:
    """(path, "image" | "video") of each media file of a sample."""
    return [(p, "image") for p in sample.images] + ([(sample.video.path, "video")] if sample.video else [])


def progress_bar(out: TextIO) -> Callable[[int, int], None]:
    """A one-line bar redrawn in place on a terminal; into a file or pipe, a line per 10%."""
    tty = hasattr(out, "isatty") and out.isatty()

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        bar = f"decoding media [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if tty:
            out.write("\r" + bar + ("\n" if done == total else ""))
        elif done == total or (10 * done) // total != (10 * (done - 1)) // total:
            out.write(bar + "\n")
        out.flush()
    return show


def _run(jobs: list[tuple[str, str, int]], workers: int,
         progress: Callable[[int, int], None] | None) -> Iterable[tuple[str, str | None]]:
    if workers <= 1:
        results = map(_decode, jobs)
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(_decode, jobs, chunksize=max(1, min(64, len(jobs) // (workers * 8) or 1)))
    try:
        for i, item in enumerate(results, 1):
            if progress is not None:
                progress(i, len(jobs))
            yield item
    finally:
        if workers > 1:
            pool.shutdown(cancel_futures=True)


def check_mixture(cfg: MixtureConfig, *, workers: int | None = None, frames: int = 8,
                  progress: Callable[[int, int], None] | None = None) -> CheckReport:
    """Read every data file of ``cfg`` and decode every media file; see the module docstring.
    ``workers``: decoding processes (default: the CPU count; 1 decodes in this process)."""
    report = CheckReport()
    rows: list[tuple[str, str, Sample]] = []  # (dataset, file, sample)
    for d in cfg.datasets:
        parts = [(d.files, d.media_root)]
        if d.heldout.files:
            parts.append((d.heldout.files, d.heldout.media_root or d.media_root))
        for files, root in parts:
            for path in files:
                samples, bad, n = _load_file(d, path, root or os.path.dirname(path))
                report.bad += bad
                report.n_rows += n
                rows += [(d.name, path, s) for s in samples]
    kinds = {p: k for _, _, s in rows for p, k in media_of(s)}
    jobs = [(p, k, frames) for p, k in sorted(kinds.items())]
    report.n_media = len(jobs)
    failed = {p: reason for p, reason in _run(jobs, workers or os.cpu_count() or 1, progress) if reason}
    for name, path, s in rows:
        reasons = [failed[p] for p, _ in media_of(s) if p in failed]
        if reasons:
            report.bad.append(BadRow(name, path, s.id, "; ".join(reasons)))
    return report


def print_report(report: CheckReport, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    for row in report.bad:
        print(str(row), file=out)
    verdict = "all usable" if report.ok else f"{len(report.bad)} bad row(s)"
    print(f"data check: {report.n_rows} rows, {report.n_media} media files decoded: {verdict}", file=out)
