"""The GRPO training loop, read top to bottom in `train()`.

    sample P prompts (mixture sampler, difficulty skip) -> G rollouts each (policy wrapper)
    -> rewards (registry, errors excluded) -> advantages (registry) -> mu epochs of clipped
    policy-gradient steps (loss registry) -> mixture / difficulty updates -> log -> checkpoint

Launch: `vrft train CONFIG.yaml [key=value ...]`, or the same under
`torchrun --nproc_per_node=N -m vrft train CONFIG.yaml train.backend=ddp`.
Departures from the GRPO paper: KL is optional (beta = 0 loads no reference model, as in DAPO and
Dr. GRPO); ground-truth injection can replace samples with the rendered solution (TempSamp-R1 /
ViSurf); old log-probs are only computed when mu > 1.
"""

from __future__ import annotations

import math
import os
import random
import signal
import time

import numpy as np
import torch

from vrft.grpo.distributed import DistInfo, any_rank, barrier, init_distributed, shutdown, wrap_model
from vrft.grpo.step_stats import dataset_step_stats, rollout_metrics
from vrft.grpo.update import UpdateSettings, policy_update
from vrft.policy.sampling import SamplingParams
from vrft.rollout import (DEFAULT_MAX_IMAGES, DEFAULT_MAX_TOTAL_TOKENS, TRUNCATED, RolloutBatch, RolloutCollector,
                          group_has_signal)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rss_gb() -> float:
    """Current resident memory (not the peak, so freed memory shows)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return peak_rss_gb()


def peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class GRPOTrainer:
    def __init__(self, cfg, info: DistInfo | None = None):
        from rewards.registry import list_rewards
        from rewards.runner import RewardRunner, RunnerConfig
        from vrft.data.difficulty import DifficultyTracker
        from vrft.data.load import load_datasets
        from vrft.data.mixture_config import load_mixture_config, validate_rewards
        from vrft.data.mixture_learning import build_strategy
        from vrft.data.mixture_sampler import MixtureSampler
        from vrft.grpo.model_setup import build_optimizer, load_policy

        self.cfg = cfg
        self.info = info or init_distributed()
        seed_everything(cfg.train.seed + self.info.rank)
        # Data and rewards are checked before any model is loaded.
        self.mixture = load_mixture_config(cfg.data.config)
        validate_rewards(self.mixture, {s.name for s in list_rewards()})
        self.data = load_datasets(self.mixture)
        if cfg.train.warmup_sft_steps:
            from vrft.grpo.sft_warmup import stage_plan

            stage_plan(cfg.train, list(self.data))  # an unknown curriculum dataset fails before the model loads
        self.run_dir = cfg.log.run_dir
        self.resume_path = self._resume_path()
        # Resuming loads the checkpoint's weights through the same from_pretrained path.
        self.policy = load_policy(cfg, self.info, checkpoint_model=self._checkpoint_model_dir())
        from vrft.config import resolve_batching

        self.batching = resolve_batching(cfg, self.info.world)
        self.engine = None
        if cfg.train.backend == "deepspeed":
            from vrft.grpo import deepspeed_backend

            opt, sched = build_optimizer(self.policy.model, cfg)
            self.engine, self.optimizer, self.scheduler = deepspeed_backend.initialize(
                self.policy.model, opt, sched, cfg, self.batching.grad_accum)
            self.policy.model = self.engine
        else:
            self.policy.model = wrap_model(self.policy.model, cfg.train.backend, self.info)
            self.optimizer, self.scheduler = build_optimizer(self.policy.model, cfg)
        names = list(self.data)
        self.sampler = MixtureSampler({n: d.samples for n, d in self.data.items()}, self.mixture.weights,
                                      cfg.rollout.prompts_per_step, seed=cfg.train.seed, rank=self.info.rank,
                                      world_size=self.info.world)
        self.strategy = build_strategy(self.mixture.mixture.strategy, names,
                                       [self.mixture.weights[n] for n in names], floor=self.mixture.mixture.floor,
                                       params=self.mixture.mixture.params)
        self.difficulty = DifficultyTracker(self.mixture.difficulty)
        self.rewards = RewardRunner(config=RunnerConfig(on_error=cfg.algo.reward_on_error,
                                                        max_error_rate=cfg.algo.reward_error_rate_max))
        self.generator = torch.Generator().manual_seed(cfg.train.seed * 1000 + self.info.rank)
        self.step = 0
        self.nonfinite = 0

    # ---- one step ----------------------------------------------------------------------------
    def sampling_params(self) -> SamplingParams:
        r = self.cfg.rollout
        return SamplingParams(max_new_tokens=r.max_new_tokens, temperature=r.temperature, top_p=r.top_p,
                              top_k=r.top_k, min_new_tokens=r.min_new_tokens)

    def _vllm(self):
        """The colocated vLLM engine when `rollout.backend: vllm` (created on first use)."""
        if self.cfg.rollout.backend != "vllm":
            return None
        if getattr(self, "_vllm_engine", None) is None:
            from vrft.grpo.model_setup import resolve_model_path
            from vrft.policy.vllm_generator import VLLMGenerator

            v, r = self.cfg.rollout.vllm, self.cfg.rollout
            tools = any(d.config.tools.enabled for d in self.data.values())
            # A tool loop's sequence grows by observations (crops, clips) up to the loop's limits.
            added = DEFAULT_MAX_IMAGES if tools else 0
            self._vllm_engine = VLLMGenerator(
                resolve_model_path(self.cfg, self.info), tokenizer=self.policy.tokenizer,
                suppress_ids=self.policy.suppress_ids, gpu_memory_utilization=v.gpu_memory_utilization,
                max_model_len=v.max_model_len or r.max_prompt_tokens + (
                    DEFAULT_MAX_TOTAL_TOKENS if tools else r.max_new_tokens),
                max_images=8 + added, max_videos=1 + added,
                tensor_parallel_size=v.tensor_parallel_size, enforce_eager=v.enforce_eager,
                sleep_mode=v.sleep_mode, sleep_level=v.sleep_level, seed=self.cfg.train.seed + self.info.rank)
            if self.step:  # resumed: the engine starts from the configured weights
                self._vllm_engine.sync_weights(self.policy.model)
        return self._vllm_engine

    def _inject_count(self) -> int:
        gt = self.cfg.algo.gt_injection
        if not gt.enabled or (gt.until_step and self.step >= gt.until_step):
            return 0
        if gt.prob < 1.0 and float(torch.rand((), generator=self.generator)) >= gt.prob:
            return 0  # this step samples every completion
        return gt.per_group

    def rollout(self) -> RolloutBatch:
        """One batch of scored rollouts. With DAPO dynamic sampling, groups whose rewards are all
        equal are dropped and more prompts are drawn, for at most `max_attempts` extra draws; the
        batch may end up smaller (counted in `rollout/dynamic_kept_frac`)."""
        batch = self._rollout_once()
        ds = self.cfg.algo.dynamic_sampling
        if not ds.enabled:
            return batch
        signal = lambda b: b.select([p for p in range(len(b.samples)) if group_has_signal(b, p)])  # noqa: E731
        want, drawn = len(batch.samples), len(batch.samples)
        kept = signal(batch)
        for _ in range(ds.max_attempts):
            # All ranks draw the same number of times, so their samplers stay in step.
            if not any_rank(len(kept.samples) < want, self.info):
                break
            more = self._rollout_once()
            drawn += len(more.samples)
            kept = RolloutBatch.concat([kept, signal(more)])
        n_signal = min(want, len(kept.samples))
        self._dynamic_stats = (n_signal, drawn)
        kept = kept.select(range(n_signal))
        if n_signal < want:
            # Top up with groups without signal (zero advantage, no gradient) so every rank trains on
            # the same number of rows and the backends' collectives stay in step.
            flat = [p for p in range(len(batch.samples)) if not group_has_signal(batch, p)]
            kept = RolloutBatch.concat([kept, batch.select(flat[:want - n_signal])])
        return kept

    def _rollout_once(self) -> RolloutBatch:
        """P prompts, G rollouts each, through the one turn loop (plain prompts are one turn). Sharded
        backends (every forward collective) keep ranks in lockstep: a rank done early decodes dummies."""
        skip = (lambda s: self.difficulty.should_skip(s.id)) if self.mixture.difficulty.enabled else None
        samples = self.sampler.next_batch(skip=skip)
        sharded = self.cfg.train.backend in ("fsdp2", "deepspeed")
        collector = RolloutCollector(
            self.policy, {n: d.config for n, d in self.data.items()}, self.rewards,
            backend=self.cfg.rollout.backend, vllm_engine=self._vllm(),
            lockstep=(lambda done: not any_rank(not done, self.info)) if sharded else None)
        return collector.collect(samples, self.cfg.rollout.num_generations, self.sampling_params(),
                                 generator=self.generator, inject_per_group=self._inject_count())

    def train_step(self) -> dict[str, float]:
        from vrft.grpo.advantages import get_advantage

        cfg = self.cfg
        t0 = time.time()
        batch = self.rollout()
        t_roll = time.time() - t0
        rewards = torch.nan_to_num(batch.rewards, nan=0.0)
        adv, adv_metrics = get_advantage(cfg.algo.advantage)(rewards, batch.group_ids, batch.valid)
        loss_mask = batch.valid.float()
        if cfg.algo.mask_truncated:
            loss_mask = loss_mask * torch.tensor([r not in TRUNCATED for r in batch.finish_reasons]).float()
        old, is_weights = None, None
        external = self._vllm() is not None
        if cfg.algo.mu > 1 or external:  # old log-probs only when the policy moves, or another engine sampled
            with torch.no_grad():
                old = self.policy.logprobs(batch.prompts, batch.seq_prompt, batch.completions,
                                           temperature=cfg.rollout.temperature).logprobs
        if external:
            self._vllm().sleep()
            from vrft.grpo.losses import truncated_is_weights

            # Truncated importance sampling: the engine's log-probs differ from the trainer's.
            is_weights = [truncated_is_weights(o, s if s is not None else o, cap=cfg.algo.is_cap)
                          for o, s in zip(old, batch.sampler_logprobs)]
        t1 = time.time()
        settings = UpdateSettings(loss=cfg.algo.loss, clip_low=cfg.algo.clip_low, clip_high=cfg.algo.clip_high,
                                  beta=cfg.algo.beta, kl_estimator=cfg.algo.kl_estimator, mu=cfg.algo.mu,
                                  mini_batch_size=self.batching.per_rank_mini_batch,
                                  micro_batch_size=self.batching.micro_batch_size,
                                  grad_clip=cfg.train.grad_clip, temperature=cfg.rollout.temperature,
                                  max_new_tokens=cfg.rollout.max_new_tokens)
        ref = self._ref_logprobs(batch) if cfg.algo.beta > 0 else None
        no_sync = getattr(self.policy.model, "no_sync", None) if self.engine is None else None
        metrics = policy_update(self.policy, batch, adv, loss_mask, self.optimizer, self.scheduler, settings,
                                self.info, old_logps=old, ref_logps=ref, no_sync=no_sync, engine=self.engine,
                                is_weights=is_weights)
        if external:
            self._vllm().sync_weights(self.policy.model)
        t_train = time.time() - t1
        if metrics.get("train/nonfinite"):
            self.nonfinite += 1
            if self.nonfinite > cfg.train.max_nonfinite_steps:
                raise FloatingPointError(f"{self.nonfinite} steps with a non-finite gradient norm "
                                         f"(train.max_nonfinite_steps={cfg.train.max_nonfinite_steps}); "
                                         "lower train.lr or check the rewards")
        # Mixture and difficulty learn from this step's signal.
        stats = dataset_step_stats(batch, adv, self.info)
        if stats:
            self.sampler.set_weights(self.strategy.update(stats))
        for p, sample in enumerate(batch.samples):
            rows = [i for i, q in enumerate(batch.seq_prompt) if q == p and not batch.injected[i]]
            self.difficulty.update(sample.id, [float(rewards[i]) for i in rows])
        metrics.update(adv_metrics)
        if getattr(self, "_dynamic_stats", None):
            kept, drawn = self._dynamic_stats
            metrics["rollout/dynamic_kept_frac"] = kept / max(drawn, 1)
        metrics.update(rollout_metrics(batch, self.strategy.weights, self.info))
        n_tokens = sum(int(c.shape[0]) for c in batch.completions)
        metrics.update({"perf/rollout_s": t_roll, "perf/train_s": t_train,
                        "perf/tokens_per_s": n_tokens / max(time.time() - t0, 1e-9), "perf/rss_gb": rss_gb(), "perf/peak_rss_gb": peak_rss_gb(),
                        "reward/errors_total": float(self.rewards.n_errored),
                        "difficulty/rollouts_saved": float(getattr(self.difficulty, "rollouts_saved", 0))
                        * cfg.rollout.num_generations})
        return {k: float(v) for k, v in metrics.items()}

    def _ref_logprobs(self, batch: RolloutBatch):
        if not hasattr(self, "_ref"):
            from vrft.grpo.model_setup import load_reference

            self._ref = load_reference(self.cfg, self.info)
        with torch.no_grad():
            return self._ref.logprobs(batch.prompts, batch.seq_prompt, batch.completions,
                                      temperature=self.cfg.rollout.temperature).logprobs

    # ---- checkpoints -------------------------------------------------------------------------
    def _extra_state(self) -> dict:
        return {"step": self.step, "nonfinite": self.nonfinite, "sampler": self.sampler.state_dict(),
                "strategy": self.strategy.state_dict(), "difficulty": self.difficulty.state_dict(),
                "generator": self.generator.get_state(), "reward_errors": self.rewards.n_errored,
                "rewards_scored": self.rewards.n_scored}

    def save(self) -> None:
        from vrft.grpo.checkpoint import save_checkpoint

        info = self.info
        sharded = self.cfg.train.backend == "fsdp2" and info.enabled

        def save_model(path):
            state = None
            if sharded:  # every rank takes part in gathering the full weights; rank 0 writes them
                from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

                state = get_model_state_dict(self.policy.model,
                                             options=StateDictOptions(full_state_dict=True, cpu_offload=True))
            if self.engine is not None:
                from vrft.grpo.deepspeed_backend import full_state_dict

                # DeepSpeed's own checkpoint holds the partitioned optimizer for exact resume.
                self.engine.save_checkpoint(str(path.parent / "deepspeed"), tag="state")
                state = full_state_dict(self.engine)
            if info.is_main:
                self.policy.save(path, merge_lora=self.cfg.model.lora.merge_on_save, state_dict=state)

        save_checkpoint(self.run_dir, self.step, save_model=save_model,
                        optimizer=self.optimizer if self.engine is None else None,
                        scheduler=self.scheduler if self.engine is None else None,
                        extra_state=self._extra_state(), rank=info.rank,
                        world_size=info.world, barrier=(lambda: barrier(info)) if info.enabled else None,
                        keep_last=self.cfg.checkpoint.keep_last, sharded_optimizer=sharded)

    def _resume_path(self):
        from vrft.grpo.checkpoint import resolve_resume

        if self.cfg.checkpoint.resume in (None, "none"):
            return None
        return resolve_resume(self.run_dir, self.cfg.checkpoint.resume)

    def _checkpoint_model_dir(self) -> str | None:
        return os.path.join(self.resume_path, "model") if self.resume_path is not None else None

    def resume(self) -> bool:
        """Restore optimizer, scheduler, RNG and loop state of `self.resume_path` (weights were
        loaded with the model)."""
        from vrft.grpo.checkpoint import load_checkpoint

        if self.resume_path is None:
            return False
        ds = self.engine is not None
        loaded = load_checkpoint(self.resume_path, optimizer=None if ds else self.optimizer,
                                 scheduler=None if ds else self.scheduler, rank=self.info.rank,
                                 sharded_optimizer=self.cfg.train.backend == "fsdp2" and self.info.enabled)
        if ds:
            self.engine.load_checkpoint(os.path.join(self.resume_path, "deepspeed"), tag="state")
        st = loaded.extra_state
        self.step, self.nonfinite = st["step"], st["nonfinite"]
        self.sampler.load_state_dict(st["sampler"])
        self.strategy.load_state_dict(st["strategy"])
        self.difficulty.load_state_dict(st["difficulty"])
        self.generator.set_state(st["generator"])
        self.rewards.n_errored, self.rewards.n_scored = st["reward_errors"], st["rewards_scored"]
        if loaded.rng_restored is False:
            seed_everything(self.cfg.train.seed + self.info.rank + 7919 * self.step)
        if self.info.is_main:
            print(f"[vrft] resumed from {self.resume_path} at step {self.step}", flush=True)
        return True

    # ---- the loop ----------------------------------------------------------------------------
    def train(self) -> dict[str, float]:
        from vrft.config import save_config
        from vrft.grpo.run_log import RunLogger

        cfg, info = self.cfg, self.info
        if info.is_main:
            os.makedirs(self.run_dir, exist_ok=True)
            save_config(cfg, os.path.join(self.run_dir, "config.yaml"))
        resumed = self.resume()
        logger = RunLogger(self.run_dir, enabled=info.is_main, tensorboard=cfg.log.tensorboard,
                           wandb_project=cfg.log.wandb_project if cfg.log.wandb else None, fresh=not resumed)
        if info.is_main and not resumed and os.path.exists(os.path.join(self.run_dir, "eval.jsonl")):
            os.remove(os.path.join(self.run_dir, "eval.jsonl"))  # a new run's before/after, not an old one's
        if cfg.eval.at_start and not resumed:  # "before" means before any training, warm-up included
            start = -cfg.train.warmup_sft_steps  # warm-up steps are -N+1..0
            logger.log(start, self.evaluate("start", start))
        if not resumed and cfg.train.warmup_sft_steps:
            from vrft.grpo.sft_warmup import sft_warmup

            n = cfg.train.warmup_sft_steps
            for k, m in enumerate(sft_warmup(self), 1):
                if cfg.eval.warmup_every and k % cfg.eval.warmup_every == 0 and k < n:
                    m.update(self.evaluate(f"warmup-{k}", -n + k))
                logger.log(-n + k, m)
            if cfg.eval.after_warmup:
                logger.log(0, self.evaluate("after-warmup"))
        t0 = time.time()
        last: dict[str, float] = {}
        try:
            while self.step < cfg.train.steps:
                last = self.train_step()
                self.step += 1
                if cfg.eval.every and self.step % cfg.eval.every == 0 and self.step != cfg.train.steps:
                    last.update(self.evaluate(f"step-{self.step}"))
                if self.step == cfg.train.steps and cfg.eval.at_end:
                    last.update(self.evaluate("end"))
                if self.step % cfg.log.every == 0 or self.step == cfg.train.steps:
                    logger.log(self.step, last, cfg.train.steps, t0)
                if cfg.checkpoint.every and self.step % cfg.checkpoint.every == 0:
                    self.save()
                if os.environ.get("VRFT_FAULT_KILL_AT_STEP") == str(self.step):  # fault injection for tests
                    os.kill(os.getpid(), signal.SIGKILL)
            if cfg.checkpoint.save_final and (not cfg.checkpoint.every or self.step % cfg.checkpoint.every):
                self.save()
        finally:
            logger.close()
        if info.enabled:
            self.check_replicas()
        if info.is_main and cfg.log.plots:
            from vrft.grpo.plots import plot_run

            plot_run(self.run_dir)
        return last


    def evaluate(self, tag: str, step: int | None = None) -> dict[str, float]:
        """Greedy evaluation on the held-out splits; metrics `eval/<dataset>/<metric>`, and the
        per-dataset results appended to `eval.jsonl` in the run dir (tag: start / warmup-K /
        after-warmup / step-N / end; step: the logged step, warm-up steps <= 0, default the
        current training step)."""
        from vrft.eval.api import evaluate_mixture_heldout

        cfg = self.cfg
        t0 = time.time()
        results = evaluate_mixture_heldout(
            self.policy, self.data, max_samples=cfg.eval.max_samples, max_new_tokens=cfg.rollout.max_new_tokens,
            greedy=cfg.eval.greedy, batch_size=max(1, cfg.rollout.prompts_per_step),
            info=self.info if self.info.enabled else None,
            lockstep=cfg.train.backend in ("fsdp2", "deepspeed"))
        flat = {f"eval/{ds}/{k}": float(v) for ds, m in results.items() for k, v in m.items()}
        if results:
            flat["eval/mean_score"] = sum(m["score"] for m in results.values()) / len(results)
        flat["perf/eval_s"] = time.time() - t0
        if self.info.is_main:
            import json

            with open(os.path.join(self.run_dir, "eval.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps({"tag": tag, "step": self.step if step is None else step, "results": results}) + "\n")
        return flat

    def check_replicas(self) -> float:
        """Largest difference between any rank's full parameters and rank 0's; written to
        `replicas.json`. Data-parallel ranks must hold the same weights after every step."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        state = get_model_state_dict(self.policy.model, options=StateDictOptions(full_state_dict=True,
                                                                                 broadcast_from_rank0=False))
        flat = torch.cat([v.detach().float().flatten().cpu() for _, v in sorted(state.items())])
        gathered = [torch.zeros_like(flat) for _ in range(self.info.world)]
        torch.distributed.all_gather(gathered, flat)
        diff = max(float((g - gathered[0]).abs().max()) for g in gathered)
        if self.info.is_main:
            import json

            with open(os.path.join(self.run_dir, "replicas.json"), "w") as f:
                json.dump({"world_size": self.info.world, "max_abs_diff": diff, "n_params": flat.numel()}, f)
        return diff


def run_training(cfg) -> dict[str, float]:
    """Entry point of `vrft train`: set up the process group, train, always tear it down."""
    info = init_distributed()
    try:
        return GRPOTrainer(cfg, info).train()
    finally:
        shutdown()
