"""Checks that a solution has the shape its task needs (see DESIGN: solutions are in the original
media frame). Used by the native loader, whose rows state solutions directly; each task's
``check_solution`` (:mod:`vrft.tasks`) holds the rules."""

from __future__ import annotations

from typing import Any

from vrft.data.loaders.common import RowError
from vrft.tasks import SolutionError, get_task


def validate_solution(task: str, solution: Any, meta: dict[str, Any]) -> dict[str, Any]:
    """The solution, normalised (boxes as floats, answers as strings); RowError when malformed or
    the task is unknown (the message suggests the closest task name)."""
    try:
        kind = get_task(task)
    except ValueError as e:
        raise RowError(str(e)) from None
    if not isinstance(solution, dict):
        raise RowError(f"solution must be an object, got {type(solution).__name__}")
    try:
        return kind.check_solution(dict(solution), meta)
    except SolutionError as e:
        raise RowError(str(e)) from None
