"""One benchmark run: load the data, skip finished samples, generate and judge the rest (sharded over
torchrun ranks), write ``predictions.jsonl`` as batches finish, then ``metrics.json`` / ``metrics.md``.

Resuming: ``OUT/eval_config.json`` records what shapes the predictions (model, benchmark, data,
template, sampling); a rerun with the same settings skips every id already in ``predictions.jsonl``
and only generates the rest, and a rerun with other settings is refused (use another ``--out`` or
``--overwrite``). ``--max-samples`` may change between runs: metrics cover the current samples.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch.distributed as dist
from tqdm import tqdm

from vrft.data.load import load_dataset
from vrft.data.mixture_config import DatasetConfig, RewardSpec, ToolsConfig, VisionConfig
from vrft.data.sample import Sample
from vrft.data.templates import template_text
from vrft.eval.api import EvalSettings, run_sharded
from vrft.eval.avg_at_k import score_records
from vrft.eval.benchmarks import Benchmark, get_benchmark
from vrft.eval.records import PredictionStore
from vrft.eval.report import METRICS_JSON, METRICS_MD, run_markdown
from vrft.parallel.dist import all_gather_object, init_distributed, shutdown
from vrft.policy.loading import LoadSettings
from vrft.policy.policy import Policy

EVAL_CONFIG = "eval_config.json"
RESUME_KEYS = ("model", "benchmark", "data", "prompt_template", "vision", "tools", "loader_opts",
               "max_new_tokens", "temperature", "top_p", "n", "samples_per_prompt", "sample_temperature",
               "require_answer_tag", "seed")
"""Settings that change predictions: a rerun into the same folder must keep them."""


@dataclass
class EvalRun:
    """Everything ``vrft eval`` needs (the CLI fills it from its arguments)."""

    model: str
    """Checkpoint folder or Hugging Face id."""
    benchmark: str
    """Registered benchmark name (see ``vrft.eval.benchmarks``)."""
    data: str | list[str]
    """Annotation file(s) in the benchmark's format (e.g. ScreenSpot's three platform files, or
    ScreenSpot-Pro's one file per application), evaluated together."""
    out: str
    """Output folder (predictions.jsonl, metrics.json, metrics.md, eval_config.json)."""
    media_root: str | None = None
    """Folder media paths are relative to (default: the first data file's folder)."""
    max_samples: int | None = None
    """Evaluate the first N samples of the file (None: all)."""
    prompt_template: str | None = None
    """Prompt template name or inline text (None: the benchmark's default)."""
    vision: VisionConfig = field(default_factory=VisionConfig)
    """Image / video budget; None fields keep the benchmark's defaults, then the framework's."""
    loader_opts: dict[str, Any] = field(default_factory=dict)
    """Format loader options (e.g. durations, video_dir for charades_sta)."""
    tools: list[str] = field(default_factory=list)
    """Tools to enable (needs the tool loop); empty: single turn."""
    max_turns: int = 3
    """Most assistant turns with tools."""
    settings: EvalSettings = field(default_factory=EvalSettings)
    """Sampling, batching and judging."""
    dtype: str = "auto"
    """Model dtype: auto, float32, bfloat16, float16."""
    skip_invalid: bool = False
    """Drop invalid rows of the data file with a warning instead of failing."""
    overwrite: bool = False
    """Start over: delete earlier predictions in ``out``."""

    def __post_init__(self) -> None:
        if self.max_samples is not None and self.max_samples < 1:
            raise ValueError(f"--max-samples must be >= 1, got {self.max_samples}")
        if self.tools and self.max_turns < 2:
            raise ValueError("--max-turns: tools need at least 2 turns (call, then answer)")


def dataset_config(run: EvalRun, bench: Benchmark) -> DatasetConfig:
    """The DatasetConfig a benchmark run evaluates with (prompts, vision, tools, loader)."""
    files = [os.path.abspath(f) for f in ([run.data] if isinstance(run.data, str) else run.data)]
    if not files:
        raise ValueError("--data: no data file given")
    given = {k: v for k, v in asdict(run.vision).items() if v is not None}
    vision = VisionConfig(**{**bench.vision, **given})
    template = run.prompt_template or bench.prompt_template
    try:
        template_text(template)
    except ValueError as e:
        raise ValueError(f"--prompt-template: {e}") from None
    return DatasetConfig(
        name=bench.name.replace("/", "_"), format=bench.format, files=files,
        media_root=os.path.abspath(run.media_root) if run.media_root else os.path.dirname(files[0]),
        task=bench.task, prompt_template=template,
        rewards=[RewardSpec(name="format")], vision=vision,
        tools=ToolsConfig(enabled=list(run.tools), max_turns=run.max_turns if run.tools else 1),
        skip_invalid=run.skip_invalid, loader_opts={**bench.loader_opts, **run.loader_opts},
    )


def load_samples(cfg: DatasetConfig, max_samples: int | None) -> list[Sample]:
    """The benchmark's samples in file order (the first ``max_samples``)."""
    for path in cfg.files:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--data: file not found: {path}")
    samples = load_dataset(cfg).samples
    return samples[:max_samples] if max_samples else samples


def run_config(run: EvalRun, cfg: DatasetConfig) -> dict[str, Any]:
    s = run.settings
    return {"model": run.model, "benchmark": run.benchmark, "data": cfg.files[0] if len(cfg.files) == 1 else cfg.files,
            "media_root": cfg.media_root,
            "prompt_template": cfg.prompt_template, "vision": asdict(cfg.vision), "tools": list(run.tools),
            "loader_opts": cfg.loader_opts, "max_new_tokens": s.max_new_tokens, "temperature": s.temperature,
            "top_p": s.top_p, "n": s.n, "samples_per_prompt": s.samples_per_prompt,
            "sample_temperature": s.sample_temperature if s.samples_per_prompt > 1 else None,
            "require_answer_tag": s.require_answer_tag,
            "seed": s.seed if s.temperature > 0 or s.samples_per_prompt > 1 else None,  # greedy: no effect
            "batch_size": s.batch_size, "max_samples": run.max_samples}


def check_resume(out: str, config: dict[str, Any]) -> str | None:
    """Why the predictions in ``out`` cannot be reused with ``config`` (None when they can)."""
    path = os.path.join(out, EVAL_CONFIG)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        old = json.load(f)
    diffs = [f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in RESUME_KEYS
             if json.dumps(old.get(k), sort_keys=True) != json.dumps(config.get(k), sort_keys=True)]
    if not diffs:
        return None
    return (f"{out} holds predictions made with other settings ({'; '.join(diffs)}); "
            "use another --out, or --overwrite to start over")


def _prepare(run: EvalRun, config: dict[str, Any], store: PredictionStore) -> tuple[set[str], str | None]:
    """Rank 0's view of the output folder: the finished ids, or an error."""
    os.makedirs(run.out, exist_ok=True)
    if run.overwrite:
        store.clear()
        for name in (EVAL_CONFIG, METRICS_JSON, METRICS_MD):
            if os.path.exists(os.path.join(run.out, name)):
                os.remove(os.path.join(run.out, name))
    error = check_resume(run.out, config)
    if error:
        return set(), error
    store.repair()
    with open(os.path.join(run.out, EVAL_CONFIG), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    return set(store.read()), None


def run_eval(run: EvalRun) -> dict[str, Any] | None:
    """Run one benchmark evaluation (also under torchrun); rank 0 returns the ``metrics.json``
    summary, other ranks None. The process group is always shut down on the way out."""
    info = init_distributed()
    ok = False
    try:
        bench = get_benchmark(run.benchmark)
        cfg = dataset_config(run, bench)
        samples = load_samples(cfg, run.max_samples)
        config = run_config(run, cfg)
        store = PredictionStore(run.out)
        finished, error = _prepare(run, config, store) if info.is_main else (set(), None)
        finished, error = all_gather_object((finished, error), info)[0]
        if error:
            raise ValueError(error)
        pending = [s for s in samples if s.id not in finished]
        t0 = time.perf_counter()
        if pending:
            policy = Policy.from_pretrained(run.model, LoadSettings(dtype=run.dtype), device=info.device)
            # rank 0 on a terminal: a bar of the samples done (a log file gets none)
            with tqdm(total=len(pending), desc=f"eval {bench.name}", unit="sample",
                      disable=not (info.is_main and sys.stdout.isatty())) as bar:

                def finished(records: list[dict[str, Any]]) -> None:
                    store.append(records)
                    bar.update(len(records))

                run_sharded(policy, pending, cfg, bench, run.settings, info=info,
                            on_records=finished if info.is_main else None)
        elapsed = time.perf_counter() - t0
        summary = write_outputs(run, bench, samples, store, config, n_generated=len(pending),
                                elapsed=elapsed) if info.is_main else None
        ok = True
        return summary
    finally:
        if ok or not info.enabled:
            shutdown()
        else:
            _abort_group()


def _abort_group() -> None:
    """Tear the process group down after an error on this rank, without the exit barrier: the other
    ranks may be inside a collective that never completes, and torchrun stops them once this
    process exits with the error."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001  (the original error is what matters)
            pass


def write_outputs(run: EvalRun, bench: Benchmark, samples: list[Sample], store: PredictionStore,
                  config: dict[str, Any], *, n_generated: int, elapsed: float) -> dict[str, Any]:
    """Metrics over the current samples' records -> ``metrics.json`` and ``metrics.md``."""
    records = store.read()
    missing = [s.id for s in samples if s.id not in records]
    if missing:
        raise RuntimeError(f"{len(missing)} samples have no prediction in {store.path} (first: {missing[0]})")
    metrics = score_records(bench, [records[s.id] for s in samples])
    summary = {"benchmark": bench.name, "model": run.model, "data": config["data"], "n_samples": len(samples),
               "headline": bench.headline, "metrics": metrics, "settings": config,
               "generated_this_run": n_generated, "generate_s": round(elapsed, 3)}
    with open(os.path.join(run.out, METRICS_JSON), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(run.out, METRICS_MD), "w", encoding="utf-8") as f:
        f.write(run_markdown(summary))
    return summary
