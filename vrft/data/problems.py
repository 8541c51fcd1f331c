"""What a loader returns: the samples it could build and the problems it found on the way.

Loaders never raise on a bad row; they record a :class:`Problem` naming the row, the file and the
reason, so that `load_dataset` can report every problem at once (and drop them only when the
dataset config says ``skip_invalid: true``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vrft.data.sample import Sample


@dataclass
class Problem:
    """One invalid row: which row (its id, or its index / line number), in which file, and why."""

    row: str
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.reason}"


@dataclass
class LoadResult:
    """The samples a loader built from one file and the rows it had to leave out."""

    samples: list[Sample] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    """Rows loaded after a documented repair, counted by kind (e.g. a segment clipped to the end of
    its video); ``load_dataset`` reports them in its summary."""

    def note(self, kind: str, n: int = 1) -> None:
        if n:
            self.notes[kind] = self.notes.get(kind, 0) + n

    def extend(self, other: "LoadResult") -> None:
        self.samples.extend(other.samples)
        self.problems.extend(other.problems)
        for kind, n in other.notes.items():
            self.note(kind, n)


class DataValidationError(ValueError):
    """A dataset has invalid rows and its config does not say ``skip_invalid: true``."""

    def __init__(self, message: str, dataset: str, problems: list[Problem]):
        super().__init__(message)
        self.dataset = dataset
        self.problems = problems


def summarize_problems(dataset: str, problems: list[Problem], n_total: int, max_shown: int = 5) -> str:
    """One summary: how many rows are invalid, then the first few with file and reason."""
    lines = [f"dataset {dataset!r}: {len(problems)} invalid row(s) out of {n_total}"]
    for p in problems[:max_shown]:
        lines.append(f"  - {p}")
    if len(problems) > max_shown:
        lines.append(f"  ... and {len(problems) - max_shown} more")
    return "\n".join(lines)
