"""The benchmark registry: a name -> loader format, task, judge, default prompt template and metric.

    @register_benchmark("refcoco", format="refcoco", task="grounding", aliases=("refcoco+", "refcocog"))
    def refcoco(records): return grounding_metrics(records)

``get_benchmark(name)`` resolves aliases; an unknown name lists the valid ones. For the held-out
splits of a training mixture, :func:`benchmark_for_dataset` asks the task (``Task.benchmark_for``);
a task without a registered benchmark gets one built from its own ``metrics``. Metric functions live
with their task in :mod:`vrft.tasks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from vrft.registry import Registry
from vrft.tasks import get_task
from vrft.tasks.answer import chart_metrics
from vrft.tasks.detection import detection_metrics
from vrft.tasks.grounding import grounding_metrics
from vrft.tasks.gui import gui_action_metrics, gui_click_metrics
from vrft.tasks.metrics import accuracy_metrics, mixed_metrics
from vrft.tasks.temporal import temporal_metrics

MetricFn = Callable[[list[dict[str, Any]]], dict[str, float]]


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark."""

    name: str
    format: str
    """Loader format (``vrft.data.loaders``) its data files are in."""
    task: str | None
    """Task of its samples (None: each row names its task, as in native jsonl)."""
    metric: MetricFn
    """Records -> metrics (with ``score``, the headline in [0, 1])."""
    judge: str | None = None
    """Task whose judge scores completions (``Task.judge``); None: the judge of each sample's task."""
    prompt_template: str = "default"
    """Default prompt template (``--prompt-template`` overrides it)."""
    headline: str = "score"
    """Name of the headline metric (``score`` repeats its value)."""
    aliases: tuple[str, ...] = ()
    loader_opts: dict[str, Any] = field(default_factory=dict)
    """Default loader options (``--loader-opt`` overrides them)."""
    vision: dict[str, Any] = field(default_factory=dict)
    """Default vision budget (``VisionConfig`` fields; the ``--max-pixels`` etc. options override)."""
    doc: str = ""

    def judge_for(self, sample_task: str) -> str:
        return self.judge or sample_task


#: Every benchmark under its name and each of its aliases (the same Benchmark object).
BENCHMARKS: Registry[Benchmark] = Registry("benchmark", plural="benchmarks")


def register_benchmark(name: str, *, format: str, task: str | None, judge: str | None = None,
                       prompt_template: str = "default", headline: str = "score",
                       aliases: tuple[str, ...] = (), loader_opts: dict[str, Any] | None = None,
                       vision: dict[str, Any] | None = None):
    """Decorator registering a metric function as benchmark ``name`` (plus ``aliases``)."""

    def deco(fn: MetricFn) -> MetricFn:
        taken = [n for n in (name, *aliases) if n in BENCHMARKS]
        if taken:
            raise ValueError(f"benchmark {taken[0]!r} is already registered")
        doc = next((line.strip() for line in (fn.__doc__ or "").splitlines() if line.strip()), "")
        bench = Benchmark(name=name, format=format, task=task, metric=fn, judge=judge if judge is not None else task,
                          prompt_template=prompt_template, headline=headline, aliases=tuple(aliases),
                          loader_opts=dict(loader_opts or {}), vision=dict(vision or {}), doc=doc)
        for n in (name, *aliases):
            BENCHMARKS.register(n, bench)
        return fn

    return deco


def get_benchmark(name: str) -> Benchmark:
    """The benchmark registered under ``name`` or one of its aliases; the error lists valid names."""
    return BENCHMARKS.get(name)


def list_benchmarks() -> list[str]:
    """Every registered name and alias, sorted."""
    return BENCHMARKS.names()


# ---- built-in benchmarks ---------------------------------------------------------------------

@register_benchmark("refcoco", format="refcoco", task="grounding", headline="acc@0.5",
                    aliases=("refcoco+", "refcocog"))
def refcoco(records):
    """Referring-expression grounding: accuracy at IoU > 0.5 and mean IoU (original pixels)."""
    return grounding_metrics(records)


@register_benchmark("coco_det", format="coco", task="detection", headline="mAP")
def coco_det(records):
    """COCO detection: mAP@[.5:.95] and AP50 by pycocotools' COCOeval."""
    return detection_metrics(records)


@register_benchmark("chartqa", format="chartqa", task="chart", headline="relaxed_acc")
def chartqa(records):
    """ChartQA: relaxed accuracy (5% on numbers), split by human / augmented."""
    return chart_metrics(records)


# GUI targets are small: screenshots get a larger pixel budget than the training default.
@register_benchmark("screenspot", format="screenspot", task="gui", headline="click_acc",
                    vision={"max_pixels": 28 * 28 * 1280})
def screenspot(records):
    """ScreenSpot: click accuracy, by text / icon, data_source (ios, windows, shop, ...) and group."""
    return gui_click_metrics(records)


@register_benchmark("screenspot_pro", format="screenspot_pro", task="gui", headline="click_acc",
                    vision={"max_pixels": 28 * 28 * 4096})
def screenspot_pro(records):
    """ScreenSpot-Pro: click accuracy, by text / icon, platform, group and application."""
    return gui_click_metrics(records)


@register_benchmark("gui_action", format="jsonl", task="gui", headline="action_acc")
def gui_action(records):
    """GUI actions (click / type / scroll) in native jsonl: accuracy, by action."""
    return gui_action_metrics(records)


@register_benchmark("charades_sta", format="charades_sta", task="temporal", headline="miou")
def charades_sta(records):
    """Charades-STA temporal grounding: R1@{0.3, 0.5, 0.7} and mIoU."""
    return temporal_metrics(records)


@register_benchmark("activitynet", format="activitynet", task="temporal", headline="miou")
def activitynet(records):
    """ActivityNet Captions temporal grounding: R1@{0.3, 0.5, 0.7} and mIoU."""
    return temporal_metrics(records)


@register_benchmark("mcq", format="jsonl", task="mcq", headline="accuracy")
def mcq(records):
    """Multiple choice (native jsonl, solution {"answer": "B"}): accuracy."""
    return accuracy_metrics(records)


@register_benchmark("vqa", format="jsonl", task="vqa", headline="accuracy")
def vqa(records):
    """Short-answer VQA (native jsonl): exact-match accuracy (answer_match)."""
    return accuracy_metrics(records)


@register_benchmark("synthetic", format="jsonl", task=None, headline="score")
def synthetic(records):
    """Native jsonl rows of any task (the synthetic tasks): mean score and accuracy, by task."""
    return mixed_metrics(records)


def benchmark_for_dataset(task: str, reward_names: list[str] = (), solutions: list[dict] = (),
                          dataset: str | None = None) -> Benchmark:
    """The benchmark for a mixture dataset's held-out split: the one its task picks from the dataset's
    rewards and solutions (``Task.benchmark_for``), or, for a task without one, a native-jsonl
    benchmark named after the task, scored by the task's judge and ``metrics``. ``dataset`` names
    the dataset in the error for an unknown task."""
    kind = get_task(task, f"dataset {dataset!r}" if dataset else "held-out benchmark")
    name = kind.benchmark_for(list(reward_names), list(solutions))
    if name is not None:
        return get_benchmark(name)
    return Benchmark(name=kind.name, format="jsonl", task=kind.name, metric=kind.metrics, judge=kind.name,
                     headline=kind.headline, doc=f"held-out split of task {kind.name!r}: its own metrics")
