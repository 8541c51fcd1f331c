"""Does vrft work on this GPU? One prepared run that answers it and writes one JSON.

    python scripts/gpu_check.py [--cpu] [--out runs/gpu_check/gpu_check.json]
    (normally through `bash scripts/gpu_check.sh`, which installs what the machine lacks first)

On a GPU it builds a random-initialised model with the exact shape of Qwen2.5-VL-3B (text and vision
sizes from its public config.json; the tokenizer is vrft's tiny offline one, the embedding keeps the
real 151,936 rows), writes synthetic grounding data, and then:

1. runs the `gpu`-marked tests (pytest -m gpu);
2. trains a few bf16 GRPO steps with HF rollouts under `single`, `fsdp2`, DeepSpeed ZeRO-2 and
   ZeRO-3 (the last three under torchrun with one process);
3. runs `vrft eval` on 32 held-out samples with the model the `single` run saved.

Per backend it records rollout tokens/s (generated tokens / rollout time), update tokens/s (prompt +
completion tokens through the model in the update / update time), the update's MFU, peak GPU memory,
and pass / fail with the error. MFU counts 6 FLOPs per parameter per token (forward + backward) for
the language model on every update token (embedding lookups excluded, the output projection
included) and for the vision tower on every image patch it encodes; attention's sequence-length
term is left out, so MFU is slightly understated. The peak is the GPU's dense bf16 rate from
`PEAK_BF16_TFLOPS` (`--peak-tflops` overrides it). The first step of each run (allocator and
kernel warm-up) is left out of the rates.

`--cpu` runs the same program on the default tiny model on the CPU (in CI), so the script itself is
tested where there is no GPU; its rates say nothing about GPUs. Exit status 0 when every part passed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
import transformers
from transformers import AutoConfig, AutoModelForImageTextToText

from vrft.config.sections import TinySize
from vrft.data.synth import generate
from vrft.policy.tiny_model import build_tiny_model

ROOT = Path(__file__).resolve().parents[1]

#: Qwen2.5-VL-3B-Instruct's config.json, as sizes of vrft's model builder plus the fields it sets.
QWEN25_VL_3B = TinySize(hidden=2048, layers=36, heads=16, kv_heads=2, intermediate=11008, vision_depth=32,
                        vision_hidden=1280, vision_intermediate=3420, vision_heads=16)
QWEN25_VL_3B_FIELDS = {"text_config.vocab_size": 151936, "vision_config.fullatt_block_indexes": [7, 15, 23, 31],
                       "tie_word_embeddings": True}

#: Dense bf16 tensor-core peak, TFLOP/s, by a substring of the device name.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "H800": 989.0, "A100": 312.0, "A800": 312.0, "L40S": 362.0,
                    "L40": 181.0, "A10": 125.0, "L4": 121.0, "4090": 165.0}

BACKENDS = {
    "single": ["train.backend=single", "checkpoint.save_final=true"],
    "fsdp2": ["train.backend=fsdp2"],
    "deepspeed_zero2": ["train.backend=deepspeed", "train.deepspeed.zero_stage=2"],
    "deepspeed_zero3": ["train.backend=deepspeed", "train.deepspeed.zero_stage=3"],
}

MIXTURE = """datasets:
  - name: grounding
    format: refcoco
    files: {root}/grounding/train.json
    heldout: {{files: [{root}/grounding/test.json]}}
    prompt_template: no_think
    rewards: [{{name: iou, weight: 1.0}}, {{name: format, weight: 0.2, kwargs: {{think_tag: null}}}}]
"""


def environment(cpu: bool) -> dict:
    env = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
           "cuda": torch.version.cuda, "device": "cpu"}
    if not cpu:
        props = torch.cuda.get_device_properties(0)
        env.update(device=props.name, gpu_memory_gb=round(props.total_memory / 2**30, 1))
        try:
            env["driver"] = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                           capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            env["driver"] = None
    for name in ("deepspeed", "peft", "qwen_vl_utils", "decord"):
        try:
            env[name] = getattr(__import__(name), "__version__", "installed")
        except Exception as e:  # noqa: BLE001  (report any import failure, do not stop the check)
            env[name] = f"missing: {type(e).__name__}: {e}"
    return env


def parameter_counts(model_dir: Path) -> tuple[int, int]:
    """(language-model parameters that multiply every token, vision-tower parameters), counted on the
    meta device (nothing is allocated)."""
    config = AutoConfig.from_pretrained(model_dir)
    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(config)
    vision = sum(p.numel() for p in model.model.visual.parameters())
    embed = model.get_input_embeddings().weight.numel()
    total = sum(p.numel() for p in model.parameters())  # a tied output projection is counted once
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    return total - vision - (0 if tied else embed), vision


def run(cmd: list[str], log: Path, timeout: int) -> tuple[bool, str | None, float]:
    t0 = time.time()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "4")}
    try:
        with open(log, "w") as f:
            proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, timeout=timeout, cwd=ROOT)
        ok = proc.returncode == 0
        error = None if ok else f"exit {proc.returncode}: " + log.read_text()[-1500:]
    except subprocess.TimeoutExpired:
        ok, error = False, f"timed out after {timeout} s: " + log.read_text()[-1500:]
    return ok, error, time.time() - t0


def rates(run_dir: Path, n_lm: int, n_vision: int, peak_tflops: float | None) -> dict:
    rows = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    steps = [r for r in rows if r.get("step", 0) >= 1 and "perf/train_s" in r]
    timed = steps[1:] or steps  # the first step warms up allocator and kernels
    roll_s = sum(r["perf/rollout_s"] for r in timed)
    train_s = sum(r["perf/train_s"] for r in timed)
    flops = sum(6.0 * (n_lm * r["perf/update_tokens"] + n_vision * r["perf/vision_patches"]) for r in timed)
    peak = max((r.get("perf/peak_gpu_gb", 0.0) for r in steps), default=0.0)
    return {"steps": len(steps), "rollout_tokens_per_s": sum(r["perf/rollout_tokens"] for r in timed) / roll_s,
            "update_tokens_per_s": sum(r["perf/update_tokens"] for r in timed) / train_s,
            "mfu": flops / train_s / (peak_tflops * 1e12) if peak_tflops else None,
            "peak_gpu_gb": round(peak, 2) if peak else None, "grad_norm_last": steps[-1].get("train/grad_norm")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpu", action="store_true", help="tiny model on the CPU (CI); rates mean nothing")
    ap.add_argument("--out", default="runs/gpu_check/gpu_check.json", help="the JSON written")
    ap.add_argument("--work", default=None, help="work folder (default: next to --out)")
    ap.add_argument("--steps", type=int, default=None, help="GRPO steps per backend (GPU 4, CPU 2)")
    ap.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated subset of " + ", ".join(BACKENDS))
    ap.add_argument("--peak-tflops", type=float, default=None, help="the GPU's dense bf16 peak for MFU")
    ap.add_argument("--skip-tests", action="store_true", help="do not run the gpu-marked tests")
    args = ap.parse_args(argv)
    cpu = args.cpu or not torch.cuda.is_available()
    if not args.cpu and cpu:
        print("gpu_check: no CUDA device; use --cpu to check the script on the CPU", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    work = Path(args.work).resolve() if args.work else out.parent / "work"
    work.mkdir(parents=True, exist_ok=True)
    result: dict = {"mode": "cpu" if cpu else "gpu", "env": environment(cpu), "backends": {}}
    name = result["env"]["device"]
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    result["peak_bf16_tflops"] = None if cpu else peak
    t_start = time.time()

    if not args.skip_tests:
        ok, error, secs = run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "tests", "-p", "no:cacheprovider"],
                              work / "gpu_tests.log", 600)
        result["gpu_tests"] = {"ok": ok, "error": error, "seconds": round(secs, 1),
                               "summary": (work / "gpu_tests.log").read_text().strip().splitlines()[-1:]}

    model_dir = work / ("tiny-model" if cpu else "qwen2_5_vl-3b-random")
    if not (model_dir / "config.json").exists():
        t0 = time.time()
        build_tiny_model(model_dir, "qwen2_5_vl", TinySize() if cpu else QWEN25_VL_3B, seed=0,
                         config_overrides=None if cpu else QWEN25_VL_3B_FIELDS,
                         dtype=torch.float32 if cpu else torch.bfloat16, device="cpu" if cpu else "cuda")
        result["model_build_s"] = round(time.time() - t0, 1)
    n_lm, n_vision = parameter_counts(model_dir)
    result["model"] = {"path": str(model_dir), "lm_params": n_lm, "vision_params": n_vision,
                       "shape": "tiny" if cpu else "Qwen2.5-VL-3B"}
    generate(str(work / "synth"), ["grounding"], 64, 0, "easy", 32)
    mixture = work / "grounding.yaml"
    mixture.write_text(MIXTURE.format(root=work / "synth"))

    steps = args.steps or (2 if cpu else 4)
    common = [f"data.config={mixture}", f"model.name_or_path={model_dir}", f"train.steps={steps}",
              "rollout.prompts_per_step=4", "rollout.num_generations=4",
              f"rollout.max_new_tokens={16 if cpu else 64}", "train.micro_batch_size=4", "train.lr=1e-6",
              "train.bf16=true", f"model.dtype={'float32' if cpu else 'bfloat16'}", "eval.at_start=false",
              "eval.at_end=false", "checkpoint.every=0", "log.plots=false", "log.tensorboard=false",
              "algo.gt_injection.enabled=true"]
    for backend in [b for b in args.backends.split(",") if b]:
        if backend not in BACKENDS:
            raise SystemExit(f"--backends: unknown backend {backend!r}; choose from {list(BACKENDS)}")
        run_dir = work / "runs" / backend
        launcher = [sys.executable, "-m", "vrft"] if backend == "single" else \
            [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", "-m", "vrft"]
        cmd = launcher + ["train", *common, *BACKENDS[backend], f"log.run_dir={run_dir}", "checkpoint.resume=none"]
        ok, error, secs = run(cmd, work / f"{backend}.log", 900)
        entry = {"ok": ok, "error": error, "seconds": round(secs, 1)}
        if ok:
            try:
                entry.update(rates(run_dir, n_lm, n_vision, peak))
            except (OSError, KeyError, ValueError, ZeroDivisionError) as e:
                entry.update(ok=False, error=f"could not read the run's metrics: {type(e).__name__}: {e}")
        result["backends"][backend] = entry
        print(f"[gpu_check] {backend}: {'ok' if entry['ok'] else 'FAILED'} ({secs:.0f} s)", flush=True)

    final = work / "runs" / "single" / "checkpoints"
    saved = sorted(final.glob("step-*/model")) if final.exists() else []
    if saved:
        ok, error, secs = run([sys.executable, "-m", "vrft", "eval", "--model", str(saved[-1]), "--benchmark",
                               "refcoco", "--data", str(work / "synth" / "grounding" / "test.json"),
                               "--max-samples", "32", "--max-new-tokens", "32", "--out", str(work / "eval"),
                               "--overwrite", "--dtype", "float32" if cpu else "bfloat16"], work / "eval.log", 600)
        metrics = work / "eval" / "metrics.json"
        result["eval"] = {"ok": ok and metrics.exists(), "error": error, "seconds": round(secs, 1),
                          "metrics": json.loads(metrics.read_text()) if metrics.exists() else None}
    else:
        result["eval"] = {"ok": False, "error": "the single run saved no model to evaluate"}
    result["seconds"] = round(time.time() - t_start, 1)
    parts = [result["eval"], *result["backends"].values()] + ([result["gpu_tests"]] if "gpu_tests" in result else [])
    result["ok"] = all(p["ok"] for p in parts)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps({k: result[k] for k in ("mode", "ok", "seconds")}), f"-> {out}", flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
