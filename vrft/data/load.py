"""Load the datasets a mixture config names: train and held-out samples, validated up front.

Every invalid row (malformed, bad box or segment, missing or empty media file, duplicate id) of
every file is collected; ``load_dataset`` then reports ONE summary per dataset and raises
:class:`DataValidationError`, unless the dataset says ``skip_invalid: true``, in which case the same
summary is logged as a warning and those rows are dropped. Nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field

from vrft.data.loaders import get_loader
from vrft.data.mixture_config import DatasetConfig, MixtureConfig, load_mixture_config
from vrft.data.problems import DataValidationError, LoadResult, Problem, summarize_problems
from vrft.data.sample import Sample

log = logging.getLogger(__name__)


@dataclass
class LoadedDataset:
    """A dataset's config with its loaded training and held-out samples."""

    config: DatasetConfig
    samples: list[Sample]
    heldout: list[Sample] = field(default_factory=list)
    dropped: list[Problem] = field(default_factory=list)
    """Invalid rows left out (only with ``skip_invalid: true``)."""
    notes: dict[str, int] = field(default_factory=dict)
    """Rows loaded after a documented repair, by kind (e.g. segments clipped to their video's end)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def rewards(self):
        return self.config.rewards

    @property
    def vision(self):
        return self.config.vision

    @property
    def tools(self):
        return self.config.tools


def _hash_order(samples: list[Sample], seed: int) -> list[int]:
    """Indices sorted by a hash of (seed, id): a deterministic order independent of file order."""
    key = [hashlib.sha1(f"{seed}:{s.id}".encode()).hexdigest() for s in samples]
    return sorted(range(len(samples)), key=key.__getitem__)


def _subset(samples: list[Sample], n: int | None, seed: int) -> list[Sample]:
    if n is None or n >= len(samples):
        return samples
    keep = set(_hash_order(samples, seed)[:n])
    return [s for i, s in enumerate(samples) if i in keep]


def _load_files(cfg: DatasetConfig, files: list[str], media_root: str, check_media: bool) -> LoadResult:
    loader = get_loader(cfg.format)
    opts = dict(cfg.loader_opts)
    check_media = bool(opts.pop("check_media", True)) and check_media
    out = LoadResult()
    first_file: dict[str, str] = {}
    for path in files:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"dataset {cfg.name!r}: data file not found: {path}")
        result = loader(path, media_root, cfg.name, cfg.task, check_media=check_media, **opts)
        out.problems += result.problems
        for kind, n in result.notes.items():
            out.note(kind, n)
        for s in result.samples:
            if s.id in first_file:
                out.problems.append(Problem(s.id, path, f"duplicate id (first seen in {first_file[s.id]})"))
            else:
                first_file[s.id] = path
                out.samples.append(s)
    return out


def load_dataset(cfg: DatasetConfig, check_media: bool = True) -> LoadedDataset:
    """Load a dataset's training and held-out samples; see the module docstring for invalid rows."""
    train = _load_files(cfg, cfg.files, cfg.media_root, check_media)
    held = LoadResult()
    if cfg.heldout.files:
        held = _load_files(cfg, cfg.heldout.files, cfg.heldout.media_root or cfg.media_root, check_media)
    problems = train.problems + held.problems
    if problems:
        n_total = len(train.samples) + len(held.samples) + len(problems)
        summary = summarize_problems(cfg.name, problems, n_total)
        if not cfg.skip_invalid:
            raise DataValidationError(
                summary + "\nfix these rows, or set skip_invalid: true on this dataset to drop them",
                cfg.name, problems)
        log.warning("%s\ndropping them (skip_invalid: true)", summary)
    notes = dict(train.notes)
    for kind, n in held.notes.items():
        notes[kind] = notes.get(kind, 0) + n
    if notes:
        log.warning("dataset %r: %s", cfg.name, ", ".join(f"{n} row(s): {kind}" for kind, n in sorted(notes.items())))
    samples, heldout = train.samples, held.samples
    if cfg.heldout.fraction:
        n_held = int(round(cfg.heldout.fraction * len(samples)))
        held_ids = {samples[i].id for i in _hash_order(samples, cfg.heldout.seed)[:n_held]}
        heldout = [s for s in samples if s.id in held_ids]
        samples = [s for s in samples if s.id not in held_ids]
    samples = _subset(samples, cfg.max_samples, 0)
    heldout = _subset(heldout, cfg.heldout.max_samples, cfg.heldout.seed)
    if not samples:
        raise DataValidationError(f"dataset {cfg.name!r}: no valid training samples in {cfg.files}",
                                  cfg.name, problems)
    return LoadedDataset(config=cfg, samples=samples, heldout=heldout, dropped=problems, notes=notes)


def load_datasets(cfg: MixtureConfig | str, check_media: bool = True) -> dict[str, LoadedDataset]:
    """Every dataset of a mixture config (a config object, a YAML path, or a builtin name like
    ``demo``), in config order."""
    if isinstance(cfg, str):
        cfg = load_mixture_config(cfg)
    return {d.name: load_dataset(d, check_media) for d in cfg.datasets}
