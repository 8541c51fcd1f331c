"""One vrft benchmark run in its own process: `python run_vrft.py SPEC.json RESULT.json`.

Runs vrft's GRPOTrainer (`train_step`) on the workload of `SPEC.json` and writes the per-step
wall times, the rollout / update split and the peak RSS of this process to `RESULT.json`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload import Spec, register_bench_reward, set_threads  # noqa: E402


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def overrides(spec: Spec, run_dir: str) -> list[str]:
    """The vrft config of the benchmark: the same GRPO settings as the TRL side."""
    return [
        f"model.name_or_path={spec.checkpoint}",
        "model.dtype=float32",
        "model.attn_implementation=sdpa",
        f"model.gradient_checkpointing={str(spec.grad_ckpt).lower()}",
        "model.freeze_vision_tower=false",  # TRL trains every parameter
        f"data.config={os.path.join(spec.data_dir, 'mixture.yaml')}",
        f"rollout.prompts_per_step={spec.prompts}",
        f"rollout.num_generations={spec.generations}",
        f"rollout.max_new_tokens={spec.new_tokens}",
        f"rollout.min_new_tokens={spec.new_tokens}",
        "rollout.temperature=1.0",
        "algo.loss=grpo",
        f"algo.clip_low={spec.clip}",
        f"algo.clip_high={spec.clip}",
        "algo.beta=0.0",
        "algo.mu=1",
        "algo.advantage=grpo",
        f"train.lr={spec.lr}",
        f"train.micro_batch_size={spec.prompts * spec.generations}",  # TRL: one forward for the batch
        f"train.steps={spec.steps}",
        f"train.seed={spec.seed}",
        "train.grad_clip=1.0",
        "checkpoint.every=0",
        "checkpoint.save_final=false",
        "checkpoint.resume=none",
        "log.tensorboard=false",
        "log.plots=false",
        f"log.run_dir={run_dir}",
    ]


ABLATIONS = {
    "shared_prefix": "score each group unpacked: G rows of prompt + completion (the prompt runs G times)",
    "share_vision": "encode each sequence's images in the log-prob pass (G vision passes per prompt); implies "
                    "shared_prefix off",
    "shared_rollout": "generate like `generate(num_return_sequences=G)`: each prompt copied G times, so G "
                      "prefills and G vision encodings per prompt",
    "fast_decode": "decode under no_grad into Hugging Face's concatenating KV cache (no inference mode, no "
                   "preallocated cache)",
}


def apply_ablations(names: list[str]) -> None:
    """Turn vrft optimisations off, to measure what each contributes (benchmark only)."""
    import functools

    import vrft.grpo.update as update
    import vrft.policy.policy as policy

    unknown = sorted(set(names) - set(ABLATIONS))
    if unknown:
        raise SystemExit(f"unknown ablation(s) {unknown}; choose from {sorted(ABLATIONS)}")
    if "shared_prefix" in names or "share_vision" in names:
        import dataclasses

        import vrft.grpo.trainer as trainer

        @dataclasses.dataclass
        class Unpacked(update.UpdateSettings):
            shared_prefix: bool = False

        trainer.UpdateSettings = Unpacked
    if "shared_rollout" in names:
        generate = policy.Policy.generate

        def per_sequence_generate(self, prompts, n, params, *args, **kwargs):
            comps = generate(self, [p for p in prompts for _ in range(n)], 1, params, *args, **kwargs)
            for i, c in enumerate(comps):
                c.prompt_index = i // n
            return comps

        policy.Policy.generate = per_sequence_generate
    if "fast_decode" in names:
        import vrft.policy.hf_generator as hf

        hf.INFERENCE_MODE = hf.RESERVE_KV = False
    if "share_vision" in names:
        policy.completion_logprobs = functools.partial(policy.completion_logprobs, share_vision=False)


def main(spec_path: str, result_path: str) -> None:
    spec = Spec.from_json(open(spec_path).read())
    set_threads(spec.threads)
    import tempfile

    from vrft.config import load_config
    from vrft.grpo.trainer import GRPOTrainer

    register_bench_reward()
    apply_ablations(spec.ablate)
    t_start = time.time()
    with tempfile.TemporaryDirectory() as run_dir:
        cfg = load_config(None, overrides(spec, run_dir))
        trainer = GRPOTrainer(cfg)
        t_setup = time.time() - t_start
        from vrft.rollout import encode_sample

        data = next(iter(trainer.data.datasets.values()))
        prompt_tokens = encode_sample(trainer.policy, data.samples[0], data.config).length
        steps, cpu, rollout, update, lengths = [], [], [], [], []
        for _ in range(spec.steps):
            t0, c0 = time.perf_counter(), cpu_s()
            metrics = trainer.train_step()
            trainer.step += 1
            steps.append(time.perf_counter() - t0)
            cpu.append(cpu_s() - c0)
            rollout.append(metrics["perf/rollout_s"])
            update.append(metrics["perf/train_s"])
            lengths.append(metrics["rollout/completion_len"])
    import torch

    result = {"side": "vrft", "step_s": steps, "cpu_s": cpu, "rollout_s": rollout, "update_s": update,
              "setup_s": t_setup, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
              "mean_completion_len": lengths, "prompt_tokens": prompt_tokens,
              "torch_threads": torch.get_num_threads()}
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
