"""Cross-field checks of a typed config, run by ``load_config`` before any model is loaded.

Each failed check raises :class:`ConfigError` naming the dotted key and the fix. Checks that need the
hardware (vLLM and flash-attention need CUDA) are left to the engine at start-up.

Keys that name a registry entry (``algo.advantage``, ``algo.loss``, ``algo.kl_estimator``) are
checked against registries the caller passes (``validate(cfg, registries={"algo.loss": LOSSES})``;
the engine's are ``vrft.grpo.config_names.CONFIG_REGISTRIES``): the config sits below the engine and
does not import it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from vrft.config.sections import TINY_FAMILIES, TINY_PREFIX, TinySize
from vrft.config.typed import ConfigError
from vrft.registry import Registry

if TYPE_CHECKING:
    from vrft.config import Config


def _need(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(key, message)


def world_size_from_env() -> int:
    """The number of ranks torchrun announces (``WORLD_SIZE``), 1 otherwise."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


@dataclass(frozen=True)
class Batching:
    """How one step's P * G completions split into optimizer steps and micro-batches."""

    samples_per_step: int
    """P * G completions per step over all ranks."""
    mini_batch_size: int
    """Completions per optimizer step over all ranks."""
    optimizer_steps_per_epoch: int
    """samples_per_step / mini_batch_size."""
    prompts_per_rank: int
    """P / world_size."""
    per_rank_mini_batch: int
    """mini_batch_size / world_size: completions per optimizer step on each rank."""
    micro_batch_size: int
    """Completions per forward/backward on each rank (at most per_rank_mini_batch)."""
    grad_accum: int
    """Micro-batches per optimizer step on each rank."""


def resolve_batching(cfg: "Config", world_size: int = 1) -> Batching:
    """Derive the batching of ``cfg`` on ``world_size`` ranks, raising ConfigError when the sizes do
    not divide."""
    P, G = cfg.rollout.prompts_per_step, cfg.rollout.num_generations
    _need(P % world_size == 0, "rollout.prompts_per_step",
          f"{P} prompts cannot be split evenly over {world_size} ranks; use a multiple of {world_size}")
    total = P * G
    mini = cfg.algo.mini_batch_size or total
    _need(total % mini == 0, "algo.mini_batch_size",
          f"{mini} must divide rollout.prompts_per_step * rollout.num_generations = {total}; "
          f"use a divisor such as {_divisors(total)}")
    _need(mini % world_size == 0, "algo.mini_batch_size",
          f"{mini} completions per optimizer step cannot be split over {world_size} ranks; "
          f"use a multiple of {world_size}")
    per_rank = mini // world_size
    micro = min(cfg.train.micro_batch_size, per_rank)
    _need(per_rank % micro == 0, "train.micro_batch_size",
          f"{cfg.train.micro_batch_size} must divide the per-rank mini-batch of {per_rank} completions "
          f"(algo.mini_batch_size {mini} / {world_size} ranks); use one of {_divisors(per_rank)}")
    accum = per_rank // micro
    if cfg.train.grad_accum is not None:
        _need(cfg.train.grad_accum == accum, "train.grad_accum",
              f"{cfg.train.grad_accum} disagrees with algo.mini_batch_size {mini} / ({world_size} ranks * "
              f"train.micro_batch_size {micro}) = {accum}; remove train.grad_accum (null) or set it to {accum}")
    return Batching(samples_per_step=total, mini_batch_size=mini, optimizer_steps_per_epoch=total // mini,
                    prompts_per_rank=P // world_size, per_rank_mini_batch=per_rank, micro_batch_size=micro,
                    grad_accum=accum)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def validate(cfg: "Config", world_size: int = 1, registries: Mapping[str, Registry] | None = None) -> Batching:
    """Run every cross-field check; returns the resolved batching. ``registries`` maps a dotted key
    to the registry its value must name (keys left out are not checked here)."""
    check_names(cfg, registries or {})
    _check_model(cfg)
    _check_rollout(cfg)
    _check_algo(cfg)
    _check_train(cfg, world_size)
    _check_outputs(cfg)
    return resolve_batching(cfg, world_size)


def check_tiny(t: TinySize, key: str = "model.tiny") -> None:
    """The sizes of a tiny checkpoint fit together (``key`` prefixes the dotted keys in errors)."""
    for name, value in vars(t).items():
        _need(value >= 1, f"{key}.{name}", f"must be >= 1, got {value}")
    _need(t.hidden % t.heads == 0 and (t.hidden // t.heads) % 2 == 0, f"{key}.hidden",
          f"hidden / heads ({t.hidden} / {t.heads}) must be an even integer (the head dim)")
    _need(t.heads % t.kv_heads == 0, f"{key}.kv_heads", f"{t.kv_heads} must divide {key}.heads ({t.heads})")
    _need(t.vision_hidden % t.vision_heads == 0, f"{key}.vision_heads",
          f"{t.vision_heads} must divide {key}.vision_hidden ({t.vision_hidden})")
    _need(t.image_min_pixels <= t.image_max_pixels, f"{key}.image_min_pixels",
          f"{t.image_min_pixels} exceeds {key}.image_max_pixels ({t.image_max_pixels})")


def _check_model(cfg: "Config") -> None:
    m = cfg.model
    _need(bool(m.name_or_path.strip()), "model.name_or_path", "is empty; give a hub id, a local dir or tiny:FAMILY")
    if m.name_or_path.startswith(TINY_PREFIX):
        family = m.name_or_path[len(TINY_PREFIX):]
        _need(family in TINY_FAMILIES, "model.name_or_path",
              f"unknown tiny family {family!r}; use one of {[TINY_PREFIX + f for f in TINY_FAMILIES]}")
    check_tiny(m.tiny, "model.tiny")
    lora = m.lora
    _need(lora.r >= 1, "model.lora.r", f"must be >= 1, got {lora.r}")
    _need(lora.alpha > 0, "model.lora.alpha", f"must be > 0, got {lora.alpha}")
    _need(0 <= lora.dropout < 1, "model.lora.dropout", f"must be in [0, 1), got {lora.dropout}")
    if lora.enabled:
        _need(bool(lora.target_modules), "model.lora.target_modules", "is empty; name the layers to adapt, "
                                                                      "e.g. [q_proj, v_proj]")
    frozen = m.freeze_vision_tower and m.freeze_merger and m.freeze_language_model
    _need(not frozen or lora.enabled, "model.freeze_language_model",
          "the vision tower, merger and language model are all frozen and LoRA is off, so nothing would "
          "train; set model.freeze_language_model=false or model.lora.enabled=true")
    _need(not (m.attn_implementation == "flash_attention_2" and m.dtype == "float32"), "model.attn_implementation",
          "flash_attention_2 needs bfloat16 or float16 weights; set model.dtype=bfloat16 or use sdpa")


def _check_rollout(cfg: "Config") -> None:
    r = cfg.rollout
    _need(r.num_generations >= 2, "rollout.num_generations",
          f"must be >= 2 (group-relative advantages compare samples of one prompt), got {r.num_generations}")
    _need(r.prompts_per_step >= 1, "rollout.prompts_per_step", f"must be >= 1, got {r.prompts_per_step}")
    _need(r.max_new_tokens >= 1, "rollout.max_new_tokens", f"must be >= 1, got {r.max_new_tokens}")
    _need(0 <= r.min_new_tokens <= r.max_new_tokens, "rollout.min_new_tokens",
          f"must be in [0, rollout.max_new_tokens={r.max_new_tokens}], got {r.min_new_tokens}")
    _need(r.temperature > 0, "rollout.temperature",
          f"must be > 0 (GRPO needs diverse samples; greedy groups have zero advantage), got {r.temperature}")
    _need(0 < r.top_p <= 1, "rollout.top_p", f"must be in (0, 1], got {r.top_p}")
    _need(r.top_k >= 0, "rollout.top_k", f"must be >= 0 (0 disables), got {r.top_k}")
    _need(r.max_prompt_tokens >= 1, "rollout.max_prompt_tokens", f"must be >= 1, got {r.max_prompt_tokens}")
    v = r.vllm
    _need(r.backend != "vllm" or bool(v.server_url), "rollout.vllm.server_url",
          "rollout.backend=vllm needs the server's URL (start it with `vrft vllm-serve --model ...`, docs/vllm.md)")
    _need(v.timeout_s > 0, "rollout.vllm.timeout_s", f"must be > 0, got {v.timeout_s}")
    _need(0 < v.gpu_memory_utilization < 1, "rollout.vllm.gpu_memory_utilization",
          f"must be in (0, 1), got {v.gpu_memory_utilization}")
    _need(v.tensor_parallel_size >= 1, "rollout.vllm.tensor_parallel_size", f"must be >= 1, got {v.tensor_parallel_size}")
    need_len = r.max_prompt_tokens + r.max_new_tokens
    _need(v.max_model_len is None or v.max_model_len >= need_len, "rollout.vllm.max_model_len",
          f"{v.max_model_len} is shorter than rollout.max_prompt_tokens + rollout.max_new_tokens = {need_len}; "
          f"raise it or leave it null")


def check_names(cfg: "Config", registries: Mapping[str, Registry]) -> None:
    """Each ``key`` of ``registries`` names an entry of its registry (the error lists the valid ones)."""
    for key, registry in registries.items():
        value: Any = cfg
        for part in key.split("."):
            value = getattr(value, part)
        if value not in registry:
            raise ConfigError(key, registry.unknown_message(value))


def _check_algo(cfg: "Config") -> None:
    a = cfg.algo
    _need(0 <= a.clip_low < 1, "algo.clip_low", f"must be in [0, 1), got {a.clip_low}")
    _need(a.clip_high >= 0, "algo.clip_high", f"must be >= 0, got {a.clip_high}")
    _need(a.beta >= 0, "algo.beta", f"must be >= 0 (0 disables the KL term), got {a.beta}")
    _need(a.mu >= 1, "algo.mu", f"must be >= 1 update epoch per batch, got {a.mu}")
    _need(a.mini_batch_size is None or a.mini_batch_size >= 1, "algo.mini_batch_size",
          f"must be >= 1 or null, got {a.mini_batch_size}")
    _need(a.dynamic_sampling.max_attempts >= 1, "algo.dynamic_sampling.max_attempts",
          f"must be >= 1, got {a.dynamic_sampling.max_attempts}")
    gt, G = a.gt_injection, cfg.rollout.num_generations
    if gt.enabled:
        _need(1 <= gt.per_group < G, "algo.gt_injection.per_group",
              f"must be in [1, rollout.num_generations - 1 = {G - 1}] so each group keeps on-policy samples, "
              f"got {gt.per_group}")
    _need(0 <= gt.prob <= 1, "algo.gt_injection.prob", f"must be in [0, 1], got {gt.prob}")
    _need(gt.until_step is None or gt.until_step >= 0, "algo.gt_injection.until_step",
          f"must be >= 0 or null, got {gt.until_step}")
    op = a.offpolicy
    _need(op.gamma > 0, "algo.offpolicy.gamma", f"must be > 0 (LUFFY uses 0.1), got {op.gamma}")
    _need(op.expert_advantage_cap > 0, "algo.offpolicy.expert_advantage_cap",
          f"must be > 0, got {op.expert_advantage_cap}")
    _need(op.tempsamp_alpha > 0, "algo.offpolicy.tempsamp_alpha", f"must be > 0, got {op.tempsamp_alpha}")
    _need(op.tempsamp_log_scale >= 0, "algo.offpolicy.tempsamp_log_scale",
          f"must be >= 0, got {op.tempsamp_log_scale}")
    for key in ("chord_mu_peak", "chord_mu_valley"):
        _need(0 <= getattr(op, key) <= 1, f"algo.offpolicy.{key}", f"must be in [0, 1], got {getattr(op, key)}")
    for key in ("chord_mu_warmup_steps", "chord_mu_decay_steps"):
        _need(getattr(op, key) >= 0, f"algo.offpolicy.{key}", f"must be >= 0, got {getattr(op, key)}")
    _check_prefix_sampling(cfg)
    _need(a.relift.batch_size >= 1, "algo.relift.batch_size", f"must be >= 1, got {a.relift.batch_size}")
    _need(a.remix.buffer_steps >= 0, "algo.remix.buffer_steps", f"must be >= 0, got {a.remix.buffer_steps}")
    _need(0 <= a.remix.kl_lambda <= 1, "algo.remix.kl_lambda", f"must be in [0, 1], got {a.remix.kl_lambda}")
    if a.remix.reincarnate_reference:
        _need(a.remix.until_step is not None, "algo.remix.reincarnate_reference", "replaces the reference model "
              "at algo.remix.until_step, which is null: set it")
        _need(a.beta > 0, "algo.remix.reincarnate_reference", "needs the KL coefficient algo.beta > 0 (without it "
              "no reference model is loaded, so there is none to replace)")
        _need(not cfg.model.lora.enabled, "algo.remix.reincarnate_reference", "is not supported with "
              "model.lora.enabled (the reference would need the merged weights)")
    if a.remix.kl_convex:
        _need(a.beta > 0, "algo.beta", "algo.remix.kl_convex needs the KL coefficient algo.beta > 0 (the base model "
                                       "is the frozen reference, loaded only then)")
        _need(not (a.gt_injection.enabled and a.offpolicy.expert_form in ("chord", "sft")),
              "algo.remix.kl_convex", f"is not combined with the separate CHORD objective "
                                      f"(algo.offpolicy.expert_form={a.offpolicy.expert_form!r}); use luffy or none")
    _need(a.is_cap >= 1, "algo.is_cap", f"must be >= 1 (a cap below 1 shrinks every weight), got {a.is_cap}")
    _need(0 <= a.reward_error_rate_max <= 1, "algo.reward_error_rate_max",
          f"must be in [0, 1], got {a.reward_error_rate_max}")


def _check_prefix_sampling(cfg: "Config") -> None:
    a, G = cfg.algo, cfg.rollout.num_generations
    ps = a.prefix_sampling
    _need(0 <= ps.min_ratio <= ps.max_ratio <= 1, "algo.prefix_sampling.min_ratio",
          f"need 0 <= min_ratio <= max_ratio <= 1, got {ps.min_ratio} and {ps.max_ratio}")
    _need(0 < ps.entropy_top_frac <= 1, "algo.prefix_sampling.entropy_top_frac",
          f"must be in (0, 1], got {ps.entropy_top_frac}")
    _need(ps.decay_steps is None or ps.decay_steps >= 0, "algo.prefix_sampling.decay_steps",
          f"must be >= 0 or null, got {ps.decay_steps}")
    if not ps.enabled:
        return
    injected = a.gt_injection.per_group if a.gt_injection.enabled else 0
    _need(1 <= ps.per_group and ps.per_group + injected < G, "algo.prefix_sampling.per_group",
          f"must be >= 1 and, with algo.gt_injection.per_group={injected}, leave at least one free sample of "
          f"rollout.num_generations={G}; got {ps.per_group}")
    _need(cfg.rollout.backend == "hf", "algo.prefix_sampling.enabled",
          f"prefix sampling continues the exact prefix token ids, which needs rollout.backend=hf "
          f"(got {cfg.rollout.backend!r}: the vLLM server re-tokenizes text)")
    _need(a.loss in ("dapo", "dr_grpo"), "algo.prefix_sampling.enabled",
          f"prefix rows mix expert and on-policy tokens in one row, which needs a token-sum loss: "
          f"algo.loss dapo or dr_grpo (got {a.loss!r})")
    _need(ps.form in ("luffy", "none"), "algo.prefix_sampling.form",
          f"must be an expert form joined with the RL loss: luffy or none, got {ps.form!r}")


def _check_train(cfg: "Config", world_size: int) -> None:
    t = cfg.train
    _need(t.steps >= 0, "train.steps", f"must be >= 0, got {t.steps}")
    _need(t.lr > 0, "train.lr", f"must be > 0, got {t.lr}")
    _need(0 <= t.warmup_steps <= max(t.steps, 0), "train.warmup_steps",
          f"must be in [0, train.steps={t.steps}], got {t.warmup_steps}")
    _need(t.weight_decay >= 0, "train.weight_decay", f"must be >= 0, got {t.weight_decay}")
    _need(t.grad_clip >= 0, "train.grad_clip", f"must be >= 0 (0 disables), got {t.grad_clip}")
    _need(t.grad_accum is None or t.grad_accum >= 1, "train.grad_accum", f"must be >= 1 or null, got {t.grad_accum}")
    _need(t.micro_batch_size >= 1, "train.micro_batch_size", f"must be >= 1, got {t.micro_batch_size}")
    _need(t.max_nonfinite_steps >= 0, "train.max_nonfinite_steps", f"must be >= 0, got {t.max_nonfinite_steps}")
    _need(t.seed >= 0, "train.seed", f"must be >= 0, got {t.seed}")
    _need(t.warmup_sft_steps >= 0, "train.warmup_sft_steps", f"must be >= 0, got {t.warmup_sft_steps}")
    _need(t.time_limit_s is None or t.time_limit_s >= 0, "train.time_limit_s",
          f"must be >= 0 seconds or null, got {t.time_limit_s}")
    _need(t.warmup_sft_lr is None or t.warmup_sft_lr > 0, "train.warmup_sft_lr",
          f"must be > 0 or null, got {t.warmup_sft_lr}")
    for i, stage in enumerate(t.warmup_sft_curriculum):
        key = f"train.warmup_sft_curriculum[{i}]"
        _need(stage.steps >= 1, f"{key}.steps", f"must be >= 1, got {stage.steps}")
        _need(bool(stage.datasets), f"{key}.datasets", "must name at least one dataset of the mixture")
    staged = sum(stage.steps for stage in t.warmup_sft_curriculum)
    _need(t.warmup_sft_steps == 0 or staged <= t.warmup_sft_steps, "train.warmup_sft_curriculum",  # 0: no warm-up
          f"stages take {staged} steps, more than train.warmup_sft_steps={t.warmup_sft_steps}")
    _need(not (t.backend == "single" and world_size > 1), "train.backend",
          f"is 'single' but {world_size} ranks were launched; set train.backend=ddp (or fsdp2 / deepspeed)")
    _need(not (t.bf16 is True and cfg.model.dtype == "float16"), "train.bf16",
          "bf16 autocast conflicts with model.dtype=float16; set model.dtype=bfloat16 (or auto) or train.bf16=false")
    if t.backend == "deepspeed":
        _check_deepspeed(t.deepspeed)
    else:
        _need(not t.deepspeed, "train.deepspeed",
              f"is set but train.backend is {t.backend!r}; set train.backend=deepspeed or remove train.deepspeed")


def _check_deepspeed(ds: dict[str, Any]) -> None:
    _need(bool(ds), "train.deepspeed", "train.backend=deepspeed needs DeepSpeed settings, at least "
                                       "train.deepspeed.zero_stage=2 (or 1 / 3)")
    stage = ds.get("zero_stage")
    _need(stage in (1, 2, 3) and not isinstance(stage, bool), "train.deepspeed.zero_stage",
          f"must be 1, 2 or 3, got {stage!r}")
    for flag in ("offload_optimizer", "offload_params"):
        _need(isinstance(ds.get(flag, False), bool), f"train.deepspeed.{flag}",
              f"must be true or false, got {ds.get(flag)!r}")
    _need(not ds.get("offload_params") or stage == 3, "train.deepspeed.offload_params",
          "parameter offload needs ZeRO stage 3; set train.deepspeed.zero_stage=3")


def _check_outputs(cfg: "Config") -> None:
    c = cfg.checkpoint
    _need(c.every >= 0, "checkpoint.every", f"must be >= 0 (0: only at the end), got {c.every}")
    _need(c.keep_last is None or c.keep_last >= 1, "checkpoint.keep_last", f"must be >= 1 or null, got {c.keep_last}")
    if c.resume not in (None, "auto", "none", ""):
        _need(os.path.exists(os.path.expanduser(c.resume)), "checkpoint.resume",
              f"{c.resume!r} does not exist; give a checkpoint or run directory, 'auto' or 'none'")
    _need(bool(cfg.log.run_dir.strip()), "log.run_dir", "is empty; give a directory for the run's outputs")
    _need(cfg.log.every >= 1, "log.every", f"must be >= 1, got {cfg.log.every}")
    _need(cfg.eval.every >= 0, "eval.every", f"must be >= 0 (0 disables), got {cfg.eval.every}")
    _need(cfg.eval.max_samples >= 1, "eval.max_samples", f"must be >= 1, got {cfg.eval.max_samples}")
    _need(cfg.eval.warmup_every >= 0, "eval.warmup_every", f"must be >= 0 (0 disables), got {cfg.eval.warmup_every}")
    k = cfg.eval.samples_per_prompt
    _need(k >= 1, "eval.samples_per_prompt", f"must be >= 1 (1: greedy only), got {k}")
    _need(k == 1 or cfg.eval.temperature > 0, "eval.temperature",
          f"must be > 0 for eval.samples_per_prompt={k} (greedy samples are all the same), got {cfg.eval.temperature}")
