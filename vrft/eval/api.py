"""Evaluation on Sample lists: the API the GRPO engine, the mixture search and the demo call.

    from vrft.eval import evaluate_samples, evaluate_mixture_heldout

    result = evaluate_samples(policy, loaded["grounding"].heldout, loaded["grounding"].config,
                              max_new_tokens=128, batch_size=8)
    result.metrics["score"], result.metrics["acc@0.5"], result.predictions[0]["answer"]
    result = evaluate_samples(policy, loaded["grounding"].heldout, loaded["grounding"].config,
                              samples_per_prompt=8)          # greedy, plus 8 samples per prompt
    result.metrics["score"], result.metrics["avg@8"], result.metrics["avg@8_se"]

    scores = evaluate_mixture_heldout(policy, loaded, max_samples=32)   # {dataset: metrics}
    {name: m["score"] for name, m in scores.items()}                    # headline per dataset, in [0, 1]

Prompts are rolled out by :class:`vrft.rollout.RolloutCollector`, the collector training uses (the
dataset's prompt template, vision budget and tools, exactly as in training), judged by
:mod:`vrft.eval.judges` and scored by the benchmark's metric function. Under torchrun, pass the
process's :class:`~vrft.parallel.dist.DistInfo`: samples are sharded by rank and every rank gets
all predictions and the same metrics back. With a sharded model (FSDP2, ZeRO-3) pass
``lockstep=True`` so every rank runs the same number of forwards.
"""

from __future__ import annotations

import importlib
import logging
import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import torch

from vrft.data.mixture_config import DatasetConfig, ToolsConfig
from vrft.data.sample import Sample
from vrft.eval.avg_at_k import score_records
from vrft.eval.benchmarks import Benchmark, benchmark_for_dataset, get_benchmark
from vrft.eval.judges import judge
from vrft.eval.records import make_record
from vrft.parallel.dist import DistInfo, all_gather_object, any_rank
from vrft.policy.sampling import SamplingParams
from vrft.rollout import RolloutBatch, RolloutCollector

log = logging.getLogger(__name__)

TOOL_LOOP_MODULE = "vrft.rollout.loop"
TOOL_LOOP_NAMES = ("run_turn_loop",)
"""The turn loop evaluation's tool rollouts run through (with every other rollout)."""


class ToolLoopUnavailable(RuntimeError):
    """Tool use was asked for but the multi-turn tool loop is not installed."""


@dataclass
class EvalSettings:
    """How completions are drawn and judged."""

    max_new_tokens: int = 256
    """Upper bound on generated tokens per completion (per turn with tools)."""
    temperature: float = 0.0
    """Sampling temperature; 0 is greedy (the default for benchmarks)."""
    top_p: float = 1.0
    """Nucleus sampling mass (with temperature > 0)."""
    n: int = 1
    """Completions per prompt; more than 1 reports pass@k and Avg@n (and needs temperature > 0)."""
    samples_per_prompt: int = 1
    """Avg@k: besides the main (greedy) completion, sample this many more per prompt at
    ``sample_temperature``; the metrics add ``avg@k`` and ``avg@k_se`` (:mod:`vrft.eval.avg_at_k`)
    and pass@k over them. 1: none. Not with ``n`` > 1, whose n samples already give Avg@n."""
    sample_temperature: float = 1.0
    """Temperature of the Avg@k samples."""
    batch_size: int = 8
    """Prompts per generate call (per rank)."""
    seed: int = 0
    """Sampling seed (rank r uses seed + r)."""
    require_answer_tag: bool = True
    """Only the single <answer> block counts (False: a bare answer is parsed too)."""
    tools: bool | None = None
    """True: run the tool loop (error when it is not installed); False: single turn; None: the tool
    loop when the dataset enables tools and the loop is installed, else single turn."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.samples_per_prompt < 1:
            raise ValueError(f"samples_per_prompt must be >= 1, got {self.samples_per_prompt}")
        if self.samples_per_prompt > 1 and self.n > 1:
            raise ValueError(f"n={self.n} sampled completions per prompt already give Avg@{self.n}; "
                             f"drop samples_per_prompt={self.samples_per_prompt} (or set n=1)")
        if self.samples_per_prompt > 1 and self.sample_temperature <= 0:
            raise ValueError(f"samples_per_prompt={self.samples_per_prompt} needs sample_temperature > 0 "
                             f"(got {self.sample_temperature}): greedy samples are all the same")
        if self.n > 1 and self.temperature == 0:
            raise ValueError(f"n={self.n} samples per prompt with temperature 0 are all the same greedy "
                             "completion; set a temperature > 0 (e.g. 0.7) for pass@k")
        SamplingParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p)

    def sampling_params(self) -> SamplingParams:
        return SamplingParams(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p)

    def draw_params(self) -> SamplingParams:
        """The Avg@k samples' sampling settings."""
        return SamplingParams(max_new_tokens=self.max_new_tokens, temperature=self.sample_temperature, top_p=self.top_p)


@dataclass
class EvalResult:
    """Metrics (with the headline ``score``) and one prediction record per sample, in input order."""

    metrics: dict[str, float]
    predictions: list[dict[str, Any]] = field(default_factory=list)


# ---- generation ------------------------------------------------------------------------------

def tool_loop():
    """The tool loop module; :class:`ToolLoopUnavailable` saying why when it is missing."""
    try:
        module = importlib.import_module(TOOL_LOOP_MODULE)
    except ImportError as e:
        raise ToolLoopUnavailable(
            f"tool use needs the multi-turn tool loop ({TOOL_LOOP_MODULE}), which is not available in "
            f"this installation ({e}); evaluate without tools, or install a vrft version that has it") from None
    missing = [n for n in TOOL_LOOP_NAMES if not hasattr(module, n)]
    if missing:
        raise ToolLoopUnavailable(f"{TOOL_LOOP_MODULE} has no {', '.join(missing)}; this evaluation code and "
                                  "the tool loop are out of step")
    return module


def _use_tools(cfg: DatasetConfig, settings: EvalSettings) -> bool:
    if settings.tools is False:
        return False
    if settings.tools is True:
        if not cfg.tools.enabled:
            raise ValueError(f"dataset {cfg.name!r}: tools requested but no tool is enabled "
                             "(set tools.enabled, e.g. [zoom_in])")
        return True
    if not cfg.tools.enabled:
        return False
    try:
        tool_loop()
        return True
    except ToolLoopUnavailable as e:
        log.warning("dataset %s enables tools but %s; evaluating single-turn", cfg.name, e)
        return False


def _rollouts(policy, samples: list[Sample], cfg: DatasetConfig, settings: EvalSettings, tools: bool,
              generator: torch.Generator, lockstep, draws: bool = False) -> RolloutBatch:
    """Roll out through the training collector; without tools the dataset runs single-turn.
    ``draws``: the Avg@k samples instead of the main completions."""
    cfg = cfg if tools else replace(cfg, tools=ToolsConfig())  # no tool system prompt without tools
    configs = {s.dataset: cfg for s in samples}
    n, params = (settings.samples_per_prompt, settings.draw_params()) if draws else \
        (settings.n, settings.sampling_params())
    return RolloutCollector(policy, configs, lockstep=lockstep).collect(
        samples, n, params, generator=generator, score=False)


def judge_rollouts(batch, bench: Benchmark, require_answer_tag: bool = True) -> list[dict[str, Any]]:
    """One record per prompt of a RolloutBatch (rows are prompt-major)."""
    rows: dict[int, list[int]] = {}
    for i, p in enumerate(batch.seq_prompt):
        rows.setdefault(p, []).append(i)
    records = []
    for p, sample in enumerate(batch.samples):
        idx = rows.get(p, [])
        texts = [batch.texts[i] for i in idx]
        judgements = [judge(bench.judge_for(sample.task), batch.texts[i], batch.contexts[i],
                            require_answer_tag=require_answer_tag) for i in idx]
        multi_turn = getattr(batch, "multi_turn", None)
        traces = [batch.traces[i] for i in idx] if multi_turn and multi_turn[p] else None
        records.append(make_record(sample, batch.contexts[idx[0]], texts, [batch.finish_reasons[i] for i in idx],
                                   judgements, traces=traces))
    return records


def run_sharded(policy, samples: list[Sample], cfg: DatasetConfig, bench: Benchmark, settings: EvalSettings, *,
                info: DistInfo | None = None, lockstep: bool = False,
                on_records: Callable[[list[dict[str, Any]]], None] | None = None) -> list[dict[str, Any]]:
    """Generate and judge ``samples`` (every rank passes the same list; rank r takes every world-th
    one), batch by batch. After each batch the records of all ranks are gathered and handed to
    ``on_records`` (e.g. appended to predictions.jsonl by rank 0). Returns every record, on every
    rank, in the order of ``samples``."""
    info = info or DistInfo()
    mine = samples[info.rank::info.world]
    per_rank = math.ceil(len(samples) / info.world)
    n_batches = math.ceil(per_rank / settings.batch_size)
    tools = _use_tools(cfg, settings)
    generator = torch.Generator(device=info.device).manual_seed(settings.seed + info.rank)  # the sampling device
    ranks_done = (lambda done: not any_rank(not done, info)) if lockstep and info.enabled else None
    out: dict[str, dict[str, Any]] = {}
    for b in range(n_batches):
        chunk = mine[b * settings.batch_size:(b + 1) * settings.batch_size]
        records: list[dict[str, Any]] = []
        if chunk:
            batch = _rollouts(policy, chunk, cfg, settings, tools, generator, ranks_done)
            records = judge_rollouts(batch, bench, settings.require_answer_tag)
            if settings.samples_per_prompt > 1:  # the Avg@k samples; the top level stays the main completion
                drawn = _rollouts(policy, chunk, cfg, settings, tools, generator, ranks_done, draws=True)
                for record, judged in zip(records, judge_rollouts(drawn, bench, settings.require_answer_tag)):
                    assert record["id"] == judged["id"], (record["id"], judged["id"])
                    record["samples"] = judged["samples"]
        elif lockstep and info.enabled:  # a sharded model needs every rank in every forward
            _rollouts(policy, samples[:1], cfg, settings, tools, generator, ranks_done)
            if settings.samples_per_prompt > 1:
                _rollouts(policy, samples[:1], cfg, settings, tools, generator, ranks_done, draws=True)
        gathered = [r for part in all_gather_object(records, info) for r in part]
        if on_records is not None:
            on_records(gathered)
        out.update((r["id"], r) for r in gathered)
    return [out[s.id] for s in samples if s.id in out]


# ---- the engine's API ------------------------------------------------------------------------

def resolve_benchmark(benchmark: str | Benchmark | None, samples: list[Sample], cfg: DatasetConfig) -> Benchmark:
    """An explicit benchmark, or the one :func:`benchmark_for_dataset` picks for the samples' task
    (``synthetic`` when the samples mix tasks)."""
    if isinstance(benchmark, Benchmark):
        return benchmark
    if benchmark is not None:
        return get_benchmark(benchmark)
    tasks = {s.task for s in samples} or {cfg.task}
    if len(tasks) > 1:
        return get_benchmark("synthetic")
    return benchmark_for_dataset(tasks.pop(), [r.name for r in cfg.rewards], [s.solution for s in samples])


def evaluate_samples(policy, samples: list[Sample], dataset_cfg: DatasetConfig, *,
                     benchmark: str | Benchmark | None = None, max_new_tokens: int = 256, greedy: bool = True,
                     temperature: float = 1.0, n: int = 1, batch_size: int = 8,
                     require_answer_tag: bool = True, tools: bool | None = None, seed: int = 0,
                     samples_per_prompt: int = 1, sample_temperature: float = 1.0,
                     info: DistInfo | None = None, lockstep: bool = False,
                     on_records: Callable[[list[dict[str, Any]]], None] | None = None) -> EvalResult:
    """Evaluate ``policy`` on ``samples`` of one dataset; metrics come from ``benchmark`` (inferred
    from the task when None: grounding -> refcoco, detection -> coco_det, chart -> chartqa,
    gui -> screenspot / gui_action, temporal -> charades_sta, vqa / mcq -> accuracy).

    ``greedy=False`` samples at ``temperature``; ``n > 1`` adds pass@k and Avg@n;
    ``samples_per_prompt=k > 1`` keeps the main completion and adds k samples at
    ``sample_temperature`` for Avg@k (``avg@k``, ``avg@k_se``) and pass@k. ``on_records`` gets each
    finished batch's records (progress). The prompt template, vision budget and tools are the
    dataset config's. Under torchrun pass ``info`` (and ``lockstep=True``
    for FSDP2 / ZeRO-3): samples are sharded and all ranks return the same result."""
    bench = resolve_benchmark(benchmark, samples, dataset_cfg)
    settings = EvalSettings(max_new_tokens=max_new_tokens, temperature=0.0 if greedy else temperature, n=n,
                            batch_size=batch_size, seed=seed, require_answer_tag=require_answer_tag, tools=tools,
                            samples_per_prompt=samples_per_prompt, sample_temperature=sample_temperature)
    records = run_sharded(policy, samples, dataset_cfg, bench, settings, info=info, lockstep=lockstep,
                          on_records=on_records)
    return EvalResult(metrics=score_records(bench, records), predictions=records)


def evaluate_mixture_heldout(policy, loaded_datasets: dict[str, Any], *, max_samples: int | None = None,
                             max_new_tokens: int = 256, greedy: bool = True, batch_size: int = 8,
                             require_answer_tag: bool = True, info: DistInfo | None = None,
                             lockstep: bool = False, benchmarks: dict[str, str] | None = None,
                             samples_per_prompt: int = 1, sample_temperature: float = 1.0, seed: int = 0,
                             on_records: Callable[[list[dict[str, Any]]], None] | None = None
                             ) -> dict[str, dict[str, float]]:
    """``{dataset: metrics}`` over the held-out split of every dataset that has one (the first
    ``max_samples`` of each). Each metrics dict has ``score``, the dataset's headline metric in
    [0, 1] (acc@0.5, mAP, relaxed accuracy, click / action accuracy, temporal mIoU, accuracy), for
    the mixture search and before/after tables. ``benchmarks`` overrides the inferred benchmark
    per dataset. ``samples_per_prompt`` / ``sample_temperature``: Avg@k as in :func:`evaluate_samples`.
    ``loaded_datasets`` is what :func:`vrft.data.load.load_datasets` returns."""
    out: dict[str, dict[str, float]] = {}
    for name, ds in loaded_datasets.items():
        held = list(ds.heldout)[:max_samples] if max_samples is not None else list(ds.heldout)
        if not held:
            continue
        result = evaluate_samples(policy, held, ds.config, benchmark=(benchmarks or {}).get(name),
                                  max_new_tokens=max_new_tokens, greedy=greedy, batch_size=batch_size,
                                  require_answer_tag=require_answer_tag, info=info, lockstep=lockstep,
                                  samples_per_prompt=samples_per_prompt, sample_temperature=sample_temperature,
                                  seed=seed, on_records=on_records)
        out[name] = result.metrics
    return out
