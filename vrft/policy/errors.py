"""Errors for bad media and unsupported models. Each names the sample and the file, so a user can fix
the data without guessing, and nothing is lost silently."""

from __future__ import annotations


class MediaError(ValueError):
    """An image or video that cannot be used: missing, empty, corrupt, too large, or a bad clip."""

    def __init__(self, reason: str, *, path: str, sample_id: str | None = None) -> None:
        self.reason, self.path, self.sample_id = reason, path, sample_id
        where = f"sample {sample_id!r}: " if sample_id else ""
        super().__init__(f"{where}{reason}: {path}")


class UnsupportedModelError(ValueError):
    """The checkpoint's architecture is not one the policy knows how to drive."""
