"""The Task interface and the task registry: everything vrft knows about one kind of sample.

A task kind (grounding, detection, chart, ...) is one class in one file, registered by name::

    @register_task("counting")
    class Counting(Task):
        benchmark = None                        # held-out splits get a benchmark built from `metrics`
        def check_solution(self, solution, meta): ...   # {"count": 3} -> normalised, or SolutionError
        def answer_format(self, sample, frame): return "Answer with a single integer."
        def render_answer(self, sample, frames, clip_start=0.0): return str(sample.solution["count"])
        def judge(self, completion, ctx, *, require_answer_tag=True): ...

Loaders (solution checks), prompt templates (question lead-in, answer format), ground-truth
completions (GT injection, SFT warm-up) and evaluation (judge, metrics, default benchmark) all look
the task up with :func:`get_task`; no other module branches on a task's name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from rewards.context import RewardContext
from rewards.frames import ImageFrame
from rewards.parsing import ParseError, extract_answer
from rewards.registry import get_reward
from vrft.data.sample import Sample
from vrft.registry import Registry
from vrft.tasks.metrics import Record, mixed_metrics

TASKS: Registry = Registry("task")
"""Task name -> :class:`Task` instance (``register_task`` fills it; ``get_task`` reads it)."""


class SolutionError(ValueError):
    """A malformed solution in dataset data; the message says what is wrong and what is expected."""


@dataclass
class Judgement:
    """The verdict on one completion (stored in ``predictions.jsonl``)."""

    answer: Any = None
    """The parsed answer in the original frame (None when unparseable)."""
    score: float = 0.0
    """The task reward's score, in [0, 1]."""
    correct: bool = False
    """Whether the answer counts as right for accuracy and pass@k (see each task's ``judge``)."""
    unparseable: bool = False
    """The answer could not be parsed (no single <answer> block, malformed box, ...)."""
    reason: str | None = None
    """Why it could not be parsed, or why the reward gave 0 to a parsed answer."""
    extras: dict[str, float] = field(default_factory=dict)
    """Task values the metrics use (``iou`` for grounding and temporal)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Task:
    """One kind of sample. Subclasses override the methods below; ``name`` is set on registration.

    Solutions are in the original media frame (see docs/architecture.md); answers the model writes
    are in its output frame, which ``render_answer`` and ``judge`` map through :mod:`rewards.frames`.
    """

    name: str = ""
    benchmark: str | None = None
    """The benchmark a held-out split of this task is scored by (None: one built from ``metrics``)."""
    headline: str = "score"
    """Headline metric of ``metrics`` (for the benchmark built from it)."""

    def check_solution(self, solution: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        """The solution normalised (boxes as floats, answers as strings); SolutionError when malformed.
        ``solution`` is a copy the task may change."""
        raise NotImplementedError

    def question(self, text: str) -> str:
        """The task text as a request (a referring expression gets a short lead-in)."""
        return text

    def answer_format(self, sample: Sample, frame: str) -> str:
        """The sentence saying what goes inside <answer>; ``frame`` says how coordinates are given."""
        raise NotImplementedError

    def render_answer(self, sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
        """What a perfect model writes inside <answer>, in the model's output frame."""
        raise NotImplementedError

    def judge(self, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        """Parse one completion (never raises on model output): answer in the original frame, score
        (the task's reward with default settings), correctness."""
        raise NotImplementedError

    def metrics(self, records: list[Record]) -> dict[str, float]:
        """Records -> metrics with ``score`` (the headline, in [0, 1])."""
        return mixed_metrics(records)

    def benchmark_for(self, reward_names: list[str], solutions: list[dict]) -> str | None:
        """The benchmark of a held-out split rewarded by ``reward_names`` with these solutions."""
        return self.benchmark


def register_task(name: str) -> Callable[[type[Task]], type[Task]]:
    """Class decorator: registers an instance of the task class under ``name``."""

    def deco(cls: type[Task]) -> type[Task]:
        task = cls()
        task.name = name
        TASKS.register(name)(task)
        return cls

    return deco


def get_task(name: str, where: str = "") -> Task:
    """The task registered under ``name``; ValueError (did you mean ...) prefixed by ``where``."""
    try:
        return TASKS.get(name)
    except ValueError as e:
        raise ValueError(f"{where}: {e}" if where else str(e)) from None


def sample_task(sample: Sample) -> Task:
    """The task of ``sample``; the error names the sample and its dataset."""
    return get_task(sample.task, f"sample {sample.id!r} (dataset {sample.dataset!r})")


# ---- helpers the built-in judges share --------------------------------------------------------

def parsed(parse: Callable[[str], Any], completion: str, require_answer_tag: bool) -> tuple[Any, str | None]:
    """(parsed answer, None) or (None, reason) for the text inside the <answer> block."""
    try:
        return parse(extract_answer(completion, required=require_answer_tag)), None
    except ParseError as e:
        return None, str(e)


def reward(name: str, completion: str, ctx: RewardContext, require_answer_tag: bool, **kwargs):
    """The registered reward ``name``'s result on one completion."""
    return get_reward(name).score(completion, ctx, require_answer_tag=require_answer_tag, **kwargs)


def unparseable(reason: str) -> Judgement:
    return Judgement(unparseable=True, reason=reason)
