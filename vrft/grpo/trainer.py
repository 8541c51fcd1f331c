"""The GRPO training loop: `GRPOTrainer.train_step` reads top to bottom.

    draw this rank's share of P prompts (MixtureData: learned weights, difficulty skip)
    -> G rollouts each, scored (the rollout layer; DAPO dynamic sampling refills flat groups)
    -> advantages with group statistics of the global batch (registry)
    -> mu epochs of clipped policy-gradient steps through the training backend (loss registry)
    -> every rank feeds the same global group outcomes to the data side -> log -> checkpoint

Launch: `vrft train CONFIG.yaml [key=value ...]`, or the same under
`torchrun --nproc_per_node=N -m vrft train CONFIG.yaml train.backend=ddp`.
Departures from the GRPO paper: KL is optional (beta = 0 loads no reference model, as in DAPO and
Dr. GRPO); ground-truth injection can replace samples with the rendered solution (TempSamp-R1 /
ViSurf), trained as expert rows (no ratio, no clip; vrft.grpo.offpolicy, docs/algorithms.md); old log-probs are only computed when mu > 1 or another engine sampled.
Everything backend-specific (wrapping, gradient sync, optimizer step, gathering weights,
collectives, lockstep decoding) lives in `vrft.parallel`; the loop never asks which backend it runs.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from dataclasses import replace

import numpy as np
import torch

from rewards.registry import list_rewards
from rewards.runner import RewardRunner, RunnerConfig
from vrft.config import resolve_batching, save_config, to_dict
from vrft.data.bad_media import BadMediaLog
from vrft.data.mixture import MixtureData
from vrft.data.mixture_config import load_mixture_config, validate_rewards
from vrft.grpo.dynamic_sampling import DynamicSample, draw_with_signal
from vrft.grpo.heldout import evaluate_heldout
from vrft.grpo.losses import truncated_is_weights
from vrft.grpo.model_setup import build_optimizer, load_policy, load_reference
from vrft.grpo.offpolicy.recipe import OffPolicy, behaviour_logps
from vrft.grpo.offpolicy.reincarnation import Reincarnation, copy_policy_into
from vrft.grpo.offpolicy.relift import Relift
from vrft.grpo.offpolicy.remix import Replay
from vrft.grpo.phases import plots_and_replicas, refresh_plots, run_warmup, stop_at_time_limit
from vrft.grpo.progress import Console
from vrft.grpo.rank_log import RankLog
from vrft.grpo.run_log import RunLogger
from vrft.grpo.run_state import model_dir, restore_run, resume_path, save_run
from vrft.grpo.sft_warmup import stage_plan
from vrft.grpo.step_rollout import StepDraw
from vrft.grpo.step_stats import group_outcomes, rollout_metrics, tool_metrics, work_metrics
from vrft.grpo.time_limit import TimeLimit
from vrft.grpo.update import UpdateSettings, policy_update
from vrft.parallel import DistInfo, bf16_enabled, build_backend, init_distributed, shutdown
from vrft.policy.sampling import SamplingParams
from vrft.rollout import TRUNCATED, RolloutBatch
from vrft.sysinfo import peak_rss_gb, rss_gb


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class GRPOTrainer:
    def __init__(self, cfg, info: DistInfo | None = None):
        self.cfg = cfg
        self.info = info = info or init_distributed()
        seed_everything(cfg.train.seed + info.rank)
        # Data and rewards are checked before any model is loaded.
        mixture = load_mixture_config(cfg.data.config)
        validate_rewards(mixture, {s.name for s in list_rewards()})
        self.data = MixtureData.build(mixture, cfg.rollout.prompts_per_step, seed=cfg.train.seed,
                                      rank=info.rank, world_size=info.world)
        if cfg.train.warmup_sft_steps:
            stage_plan(cfg.train, self.data.names)  # an unknown curriculum dataset fails before the model loads
        self.run_dir = cfg.log.run_dir
        self.resume_path = resume_path(cfg)
        # Resuming loads the checkpoint's weights through the same from_pretrained path.
        self.policy = load_policy(cfg, info, checkpoint_model=model_dir(self.resume_path))
        self.batching = resolve_batching(cfg, info.world)
        self.backend = build_backend(cfg.train.backend, info, {
            **cfg.train.deepspeed, "micro_batch_size": cfg.train.micro_batch_size,
            "grad_clip": cfg.train.grad_clip, "bf16": bf16_enabled(cfg.train.bf16, info.device)})
        self.policy.model = self.backend.setup(self.policy.model, lambda m: build_optimizer(m, cfg),
                                               self.batching.grad_accum)
        self.bad_media = BadMediaLog(cfg.data.on_bad_media, self.run_dir, rank=info.rank)
        self.offpolicy = OffPolicy(cfg.algo)  # how rows the policy did not sample are trained
        self.relift = Relift(cfg.algo.relift)  # supervised steps on questions whole groups failed
        self.replay = Replay(cfg.algo.remix)  # recent rollouts replayed as old rows
        self.rewards = RewardRunner(config=RunnerConfig(on_error=cfg.algo.reward_on_error,
                                                        max_error_rate=cfg.algo.reward_error_rate_max))
        # Each rank samples its own completions: its generator lives on the sampling device.
        self.generator = torch.Generator(device=self.backend.device).manual_seed(cfg.train.seed * 1000 + info.rank)
        self.draws = StepDraw(self)
        self.reincarnation = Reincarnation(cfg.algo.remix)  # the reference replaced by the policy mid-run
        saved_reference = self.reincarnation.reference_dir(self.resume_path)
        self.reference = load_reference(cfg, info, saved_reference) if cfg.algo.beta > 0 else None
        self.step = 0
        self.nonfinite = 0
        self.time_limit = TimeLimit(cfg.train.time_limit_s, info)  # counts from here: the model is loaded
        self.rank_log = RankLog(self.run_dir, info.rank, enabled=False, fresh=False)  # opened by train()
        self.console = Console(enabled=info.is_main, bars=cfg.log.progress_bar)
        a, r, b = cfg.algo, cfg.rollout, self.batching
        self.update_settings = UpdateSettings(
            loss=a.loss, clip_low=a.clip_low, clip_high=a.clip_high, beta=a.beta, kl_estimator=a.kl_estimator,
            mu=a.mu, mini_batch_size=b.per_rank_mini_batch, micro_batch_size=b.micro_batch_size,
            grad_clip=cfg.train.grad_clip, temperature=r.temperature, max_new_tokens=r.max_new_tokens)

    def sampling_params(self) -> SamplingParams:
        r = self.cfg.rollout
        return SamplingParams(max_new_tokens=r.max_new_tokens, temperature=r.temperature, top_p=r.top_p,
                              top_k=r.top_k, min_new_tokens=r.min_new_tokens)

    # ---- one step ------------------------------------------------------------------------------
    def rollout(self) -> DynamicSample:
        """This step's scored groups; with DAPO dynamic sampling, flat groups are dropped and refilled."""
        ds = self.cfg.algo.dynamic_sampling
        # The vLLM server samples: a sharded model is not gathered for a rollout it does not run.
        gather = contextlib.nullcontext() if self.draws.external else self.backend.gathered_for_rollout()
        with self.backend.autocast(), gather:
            return draw_with_signal(self.draws.draw, ds.max_attempts if ds.enabled else 0, self.backend.any_rank)

    def train_step(self) -> dict[str, float]:
        cfg, backend = self.cfg, self.backend
        t0 = time.time()
        if self.reincarnation.due(self.step):  # ReMix: the base model becomes the policy, once
            copy_policy_into(self.reference.model, self.policy.model, backend)
            if self.info.is_main:
                print(f"[vrft] step {self.step}: the reference model is now a copy of the policy", flush=True)
        drawn = self.rollout()
        batch = drawn.batch
        t_roll = time.time() - t0
        rewards_B = torch.nan_to_num(batch.rewards, nan=0.0)
        groups_per_rank = backend.gather_objects(len(batch.samples))
        # Expert rows get advantages by the configured baseline / rule; the mixture reads the sampled rows'.
        adv_B, adv_metrics, signal_B = self.offpolicy.advantages(batch, rewards_B, rank=self.info.rank,
                                                       groups_per_rank=groups_per_rank, reduce_sum=backend.reduce_sum)
        loss_mask_B = batch.valid.float()
        if cfg.algo.mask_truncated:
            loss_mask_B = loss_mask_B * torch.tensor([r not in TRUNCATED for r in batch.finish_reasons]).float()
        old, is_weights = None, None
        external = self.draws.external
        # old log-probs only when the policy moves, another engine sampled, or the rows will be replayed
        if cfg.algo.mu > 1 or external or self.replay.active(self.step + 1):
            old = self._logprobs(self.policy, batch)
        if external:
            self.draws.before_update()
            # Truncated importance sampling: the engine's log-probs differ from the trainer's.
            is_weights = [truncated_is_weights(o, s if s is not None else o, cap=cfg.algo.is_cap)
                          for o, s in zip(old, batch.sampler_logprobs)]
        behaviour = old
        train, adv_T, mask_T, old, is_weights = self.replay.mix(self.step, batch, adv_B, loss_mask_B, old,
                                                                is_weights)
        old = behaviour_logps(train, old)  # stored log-probs for rows an older policy sampled
        ref = self._logprobs(self.reference, train) if self.reference is not None else None
        prec = self._precedent_logps(batch, behaviour) if cfg.algo.remix.kl_convex else None
        t1 = time.time()
        settings = replace(self.update_settings, **self.offpolicy.update_fields(self.step))
        metrics = policy_update(self.policy, train, adv_T, mask_T, backend, settings,
                                old_logps=old, ref_logps=ref, is_weights=is_weights, prec_logps=prec)
        metrics.update(self.replay.store(self.step, batch, adv_B, loss_mask_B, behaviour))
        metrics.update(self.relift.after_step(self, batch))
        metrics.update(self.reincarnation.metrics(self.step))
        self.draws.after_update()
        if external:
            metrics.update(self.draws.gap_metrics(old, batch))  # rollout/logprob_gap: sampler vs trainer
        t_train = time.time() - t1
        self._check_finite(metrics)
        # The data side learns from every group drawn on every rank (dropped ones inform difficulty).
        local = group_outcomes(batch, signal_B) + [g for d in drawn.dropped for g in group_outcomes(d, None, False)]
        global_ids = list(self.data.last_global_ids)
        metrics.update(self.data.observe([g for part in backend.gather_objects(local) for g in part]))
        metrics.update(adv_metrics)
        if cfg.algo.dynamic_sampling.enabled:
            metrics["rollout/dynamic_kept_frac"] = drawn.n_signal / max(drawn.drawn, 1)
            metrics["rollout/dynamic_refills"] = float(drawn.refills)
        metrics.update(rollout_metrics(batch, self.data.strategy.weights, self.info))
        metrics.update(tool_metrics(batch, self.info))
        metrics.update(work_metrics(batch, cfg.algo.mu, backend.device))
        n_tokens = sum(int(c.shape[0]) for c in batch.completions)
        metrics.update({"perf/rollout_s": t_roll, "perf/train_s": t_train,
                        "perf/tokens_per_s": n_tokens / max(time.time() - t0, 1e-9), "perf/rss_gb": rss_gb(),
                        "perf/peak_rss_gb": peak_rss_gb(), "reward/errors_total": float(self.rewards.n_errored)})
        for part in backend.gather_objects(self.bad_media.metrics()):  # skipped samples, all ranks
            for k, v in part.items():
                metrics[k] = metrics.get(k, 0.0) + v
        metrics = {k: float(v) for k, v in metrics.items()}
        self.rank_log.write(self.step + 1, {"global_draw": global_ids, "prompts": [s.id for s in batch.samples],
                                            "rewards": [float(r) for r in rewards_B], "metrics": metrics})
        return metrics

    def _precedent_logps(self, batch: RolloutBatch, own: list[torch.Tensor] | None) -> list[torch.Tensor]:
        """ReMix's KL-Convex: the log-probs of every row of the replay-mixed batch (this step's rows,
        then the replayed ones, as :meth:`Replay.mix` orders them) under the precedent model, this
        policy before the update. ``own``: this step's rows' when already computed (the old
        log-probs), so they are not scored a second time."""
        own = own if own is not None else self._logprobs(self.policy, batch)
        return list(own) + [lp for e in self.replay.entries for lp in self._logprobs(self.policy, e.batch)]

    def _logprobs(self, policy, batch):
        with torch.no_grad(), self.backend.autocast():
            return policy.logprobs(batch.prompts, batch.seq_prompt, batch.completions,
                                   temperature=self.cfg.rollout.temperature).logprobs

    def _check_finite(self, metrics: dict[str, float]) -> None:
        if not metrics.get("train/nonfinite"):
            return
        self.nonfinite += 1
        limit = self.cfg.train.max_nonfinite_steps
        if self.nonfinite > limit:
            raise FloatingPointError(f"{self.nonfinite} steps with a non-finite gradient norm "
                                     f"(train.max_nonfinite_steps={limit}); lower train.lr or check the rewards")

    # ---- checkpoints and evaluation --------------------------------------------------------------
    def save(self) -> None:
        save_run(self)

    def resume(self) -> bool:
        if self.resume_path is None:
            return False
        if not restore_run(self, self.resume_path):
            seed_everything(self.cfg.train.seed + self.info.rank + 7919 * self.step)
        if self.info.is_main:
            print(f"[vrft] resumed from {self.resume_path} at step {self.step}", flush=True)
        return True

    def evaluate(self, tag: str, step: int | None = None) -> dict[str, float]:
        return evaluate_heldout(self, tag, self.step if step is None else step)

    def _eval_tag(self) -> str | None:
        """The tag of the held-out evaluation due after this step, if one is."""
        ev, steps = self.cfg.eval, self.cfg.train.steps
        if self.step == steps:
            return "end" if ev.at_end else None
        return f"step-{self.step}" if ev.every and self.step % ev.every == 0 else None

    # ---- the loop --------------------------------------------------------------------------------
    def train(self) -> dict[str, float]:
        cfg, info = self.cfg, self.info
        if info.is_main:
            os.makedirs(self.run_dir, exist_ok=True)
            save_config(cfg, os.path.join(self.run_dir, "config.yaml"))
        resumed = self.resume()
        logger = RunLogger(self.run_dir, enabled=info.is_main, tensorboard=cfg.log.tensorboard,
                           wandb_project=cfg.log.wandb_project if cfg.log.wandb else None, config=to_dict(cfg),
                           fresh=not resumed, console=self.console)
        self.rank_log = RankLog(self.run_dir, info.rank, cfg.log.per_rank, fresh=not resumed)
        if not resumed:
            run_warmup(self, logger)
        t0 = time.time()
        last: dict[str, float] = {}
        try:
            with self.console.phase("RL", cfg.train.steps, done=self.step):
                while self.step < cfg.train.steps and not self.time_limit.check():
                    last = self.train_step()
                    self.step += 1
                    tag = self._eval_tag()
                    if tag:
                        last.update(self.evaluate(tag))
                    if tag or self.step % cfg.log.every == 0 or self.step == cfg.train.steps:
                        logger.log(self.step, last, cfg.train.steps, t0)  # an evaluation is always logged
                    if tag:
                        refresh_plots(self)
                    if cfg.checkpoint.every and self.step % cfg.checkpoint.every == 0:
                        self.save()
                    if os.environ.get("VRFT_FAULT_KILL_AT_STEP") == str(self.step):  # fault injection for tests
                        os.kill(os.getpid(), signal.SIGKILL)
            if self.step < cfg.train.steps:
                last.update(stop_at_time_limit(self, logger, t0))
            if cfg.checkpoint.save_final and (not cfg.checkpoint.every or self.step % cfg.checkpoint.every):
                self.save()
        finally:
            logger.close()
        plots_and_replicas(self)
        return last


def run_training(cfg) -> dict[str, float]:
    """Entry point of `vrft train`: set up the process group, train, always tear it down."""
    info = init_distributed()
    try:
        return GRPOTrainer(cfg, info).train()
    finally:
        shutdown()
