"""Tasks: one :class:`Task` per kind of sample, registered by name (see :mod:`vrft.tasks.base`).

    from vrft.tasks import get_task
    get_task("grounding").render_answer(sample, frames)

Built-in kinds, one file each: grounding, detection, answer (chart, vqa, mcq), gui, temporal. A new
kind is one file with a ``@register_task("name")`` class, imported before data is loaded.
"""

from vrft.tasks.base import (
    TASKS, Judgement, SolutionError, Task, get_task, register_task, sample_task,
)
from vrft.tasks import answer, detection, grounding, gui, temporal  # noqa: F401  (importing registers them)

__all__ = ["TASKS", "Judgement", "SolutionError", "Task", "get_task", "register_task", "sample_task"]
