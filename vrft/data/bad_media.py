"""What training does with a sample whose image or video cannot be decoded: ``data.on_bad_media``.

- ``raise`` (default): the error propagates (it names the sample and the file), and the run stops.
- ``skip``: the sample is left out of its batch, one JSON line is appended to
  ``<run_dir>/bad_samples.jsonl`` (``id``, ``dataset``, ``file``, ``reason``, ``step``), a warning is
  logged, and the count shows in the step metrics (``data/bad_media_skipped`` and per dataset
  ``data/bad_media_skipped/<dataset>``, cumulative). Nothing is skipped silently.

The rollout encoder calls :meth:`BadMediaLog.record` where encoding a sample's media raised::

    try:
        prompt = encode_sample(policy, sample, cfg)
    except MediaError as e:
        bad_media.record(sample, e, step=step)   # re-raises under "raise"
        continue                                 # "skip": the sample leaves this batch

``vrft data check CONFIG`` finds the same files before a run starts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from typing import Any

from vrft.data.sample import Sample

log = logging.getLogger(__name__)

POLICIES = ("raise", "skip")
BAD_SAMPLES = "bad_samples.jsonl"


class BadMediaLog:
    """Applies the ``data.on_bad_media`` policy and keeps the record of skipped samples.

    Every process of a distributed run may hold one with the same ``run_dir``: each line is written
    with one ``O_APPEND`` write, so lines of different ranks do not interleave.
    """

    def __init__(self, policy: str = "raise", run_dir: str | None = None, rank: int = 0) -> None:
        if policy not in POLICIES:
            raise ValueError(f"data.on_bad_media must be one of {list(POLICIES)}, got {policy!r}")
        if policy == "skip" and not run_dir:
            raise ValueError("data.on_bad_media: skip needs the run directory to write bad_samples.jsonl")
        self.policy, self.run_dir, self.rank = policy, run_dir, rank
        self.skipped: Counter[str] = Counter()
        """Skipped samples per dataset (this process)."""

    @property
    def path(self) -> str | None:
        return os.path.join(self.run_dir, BAD_SAMPLES) if self.run_dir else None

    @property
    def count(self) -> int:
        return sum(self.skipped.values())

    def record(self, sample: Sample, error: BaseException, *, step: int | None = None) -> None:
        """Re-raise ``error`` under ``raise``; under ``skip`` append the sample to bad_samples.jsonl,
        count it and log a warning."""
        if self.policy == "raise":
            raise error
        bad_file = getattr(error, "path", None) or next(iter(sample.images), None) or (
            sample.video.path if sample.video else None)
        entry: dict[str, Any] = {"id": sample.id, "dataset": sample.dataset, "file": bad_file,
                                 "reason": getattr(error, "reason", None) or str(error),
                                 "error": type(error).__name__, "step": step, "rank": self.rank,
                                 "time": round(time.time(), 3)}
        os.makedirs(self.run_dir, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(entry) + "\n").encode("utf-8"))
        finally:
            os.close(fd)
        self.skipped[sample.dataset] += 1
        log.warning("skipping sample %r (dataset %r): %s: %s (data.on_bad_media: skip; listed in %s)",
                    sample.id, sample.dataset, entry["reason"], bad_file, self.path)

    def metrics(self) -> dict[str, float]:
        """Cumulative skip counts of this process, for the step log (sum them over ranks)."""
        out: dict[str, float] = {"data/bad_media_skipped": float(self.count)}
        out.update({f"data/bad_media_skipped/{d}": float(n) for d, n in sorted(self.skipped.items())})
        return out


def read_bad_samples(run_dir: str) -> list[dict[str, Any]]:
    """The entries of ``<run_dir>/bad_samples.jsonl`` (empty when none was skipped)."""
    path = os.path.join(run_dir, BAD_SAMPLES)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
