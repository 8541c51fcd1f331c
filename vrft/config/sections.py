"""Config sections for what is trained and how it samples: ``model``, ``data``, ``rollout``.

Defaults suit a CPU run on a tiny model; every field can be set in YAML or as ``key.sub=value``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

TINY_PREFIX = "tiny:"
TINY_FAMILIES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")


@dataclass
class LoraConfig:
    """LoRA adapters (peft) instead of full fine-tuning."""

    enabled: bool = False
    """Train LoRA adapters on ``target_modules`` and keep the base weights frozen."""
    r: int = 16
    """Adapter rank."""
    alpha: int = 32
    """Adapter scaling numerator (the update is scaled by alpha / r)."""
    dropout: float = 0.05
    """Dropout on the adapter input, in [0, 1)."""
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    """Names (suffixes) of the linear layers that get adapters, as peft's ``target_modules``. The
    default hits the language model's attention only (Qwen vision blocks use a fused ``qkv``)."""
    merge_on_save: bool = False
    """Save checkpoints with the adapters merged into full weights (loadable without peft) instead
    of adapter files."""


@dataclass
class TinySize:
    """Sizes of a ``tiny:FAMILY`` checkpoint (``model.tiny``), also what ``vrft tiny-model`` and
    :func:`vrft.policy.tiny_model.build_tiny_model` take; :func:`vrft.config.checks.check_tiny` checks it."""

    hidden: int = 64
    """Language-model hidden size; ``hidden / heads`` must be an even integer."""
    layers: int = 2
    """Language-model decoder layers."""
    heads: int = 4
    """Attention heads."""
    kv_heads: int = 2
    """Key/value heads (grouped-query attention); must divide ``heads``."""
    intermediate: int = 128
    """Language-model MLP size."""
    vision_depth: int = 2
    """Vision-tower blocks."""
    vision_hidden: int = 64
    """Vision-tower width."""
    vision_intermediate: int = 128
    """Vision-tower MLP size."""
    vision_heads: int = 4
    """Vision-tower attention heads; must divide ``vision_hidden``."""
    vocab: int = 1024
    """Tokenizer vocabulary size (before special tokens)."""
    image_min_pixels: int = 3136
    """Smallest resized image area in pixels (28 * 28 * 4)."""
    image_max_pixels: int = 100352
    """Largest resized image area in pixels (28 * 28 * 128)."""
    video_max_pixels: int = 25088
    """Largest resized video-frame area in pixels (28 * 28 * 32)."""


@dataclass
class ModelConfig:
    """The policy model."""

    name_or_path: str = "tiny:qwen2_5_vl"
    """Hugging Face hub id or local directory of a Qwen2-VL / Qwen2.5-VL / Qwen3-VL checkpoint, or
    ``tiny:FAMILY`` (qwen2_vl | qwen2_5_vl | qwen3_vl) to build a tiny random-weight checkpoint in
    ``data.cache_dir`` (offline; sizes from ``model.tiny``)."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Weight dtype. auto: bfloat16 on a CUDA GPU that supports it, float32 otherwise."""
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2"] = "sdpa"
    """Attention kernel; flash_attention_2 needs CUDA, the flash-attn package and a half dtype."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory, about 30% more compute."""
    freeze_vision_tower: bool = True
    """Do not train the vision encoder (the usual choice for RL fine-tuning)."""
    freeze_merger: bool = False
    """Do not train the patch merger (the projector from vision to language features)."""
    freeze_language_model: bool = False
    """Do not train the language model (with LoRA off, only unfrozen vision parts then train)."""
    lora: LoraConfig = field(default_factory=LoraConfig)
    """LoRA settings."""
    tiny: TinySize = field(default_factory=TinySize)
    """Sizes used when ``name_or_path`` is ``tiny:FAMILY``."""


@dataclass
class DataConfig:
    """Training data."""

    config: str = "demo"
    """Path to a mixture YAML (datasets, weights, rewards), or a name in ``datasets_cfg/`` such as
    ``demo`` (the embedded default: synthetic tasks built on first use). Relative paths are read
    from the working directory."""
    cache_dir: str = "~/.cache/vrft"
    """Where tiny checkpoints, synthetic datasets and media caches are written."""
    on_bad_media: Literal["raise", "skip"] = "raise"
    """A sample whose image or video cannot be decoded during training: raise (the run stops; the
    error names the sample and file), or skip (the sample leaves its batch, is listed in
    run_dir/bad_samples.jsonl and counted in ``data/bad_media_skipped``). ``vrft data check`` finds
    such files before a run."""


@dataclass
class VllmConfig:
    """Rollouts through vrft's vLLM server (``rollout.backend: vllm``): a separate process in its own
    environment (``vrft vllm-serve``, docs/vllm.md); the trainer is its client."""

    server_url: Optional[str] = None
    """URL of the running server, e.g. ``http://127.0.0.1:8765``; required with rollout.backend: vllm."""
    timeout_s: float = 600.0
    """Seconds any one request to the server (a rollout call, a weight update) may take before the run
    stops with an error naming the URL; a dead server is reported at once."""
    weight_sync: Literal["broadcast", "file"] = "broadcast"
    """How the trainer's weights reach the server after every optimizer step: ``broadcast`` over a
    process group made for the sync (NCCL on GPU, gloo on CPU), or ``file``: one safetensors file in
    ``sync_dir`` that the server loads (both processes must see that path)."""
    sync_dir: Optional[str] = None
    """Folder of the ``file`` weight sync; null: the run directory."""
    gpu_memory_utilization: float = 0.3
    """Server launch setting (``vrft vllm-serve``): fraction of GPU memory vLLM may take, in (0, 1)."""
    sleep_mode: bool = False
    """Put the server to sleep during every update and wake it for the weight sync (a server sharing
    the trainer's GPUs); the server must be started with ``--sleep-mode`` (vLLM supports it on CUDA /
    ROCm only, so never on CPU), otherwise the run stops at its first contact saying so."""
    sleep_level: Literal[1, 2] = 1
    """With ``sleep_mode``: 1 offloads the server's weights to host memory, 2 drops them (the weight
    sync after waking restores them: less host memory, same result); both drop its KV cache."""
    tensor_parallel_size: int = 1
    """Server launch setting: GPUs per vLLM engine."""
    max_model_len: Optional[int] = None
    """Server launch setting: context length vLLM reserves KV cache for; null: max_prompt_tokens +
    max_new_tokens."""
    enforce_eager: bool = False
    """Server launch setting: disable CUDA graphs (slower generation, faster start-up, less memory)."""


@dataclass
class RolloutConfig:
    """Sampling of completions."""

    backend: Literal["hf", "vllm"] = "hf"
    """hf: ``generate`` on the training model; vllm: vrft's vLLM server at ``rollout.vllm.server_url``
    (a separate process, docs/vllm.md), given the new weights after every optimizer step."""
    num_generations: int = 4
    """G: completions sampled per prompt (a group); at least 2 for group-relative advantages."""
    prompts_per_step: int = 2
    """P: prompts per training step, over all ranks; must be divisible by the number of ranks."""
    max_new_tokens: int = 64
    """Generation budget per completion (per turn with tools); also the ``dr_grpo`` loss constant."""
    temperature: float = 1.0
    """Sampling temperature (> 0: GRPO needs diverse samples); log-probs are taken at it too."""
    top_p: float = 1.0
    """Nucleus sampling mass in (0, 1]; 1 disables."""
    top_k: int = 0
    """Sample from the k most likely tokens; 0 disables."""
    min_new_tokens: int = 0
    """EOS is blocked until this many tokens are generated."""
    max_prompt_tokens: int = 2048
    """Longest prompt accepted (text plus vision tokens); longer prompts are skipped with a warning."""
    vllm: VllmConfig = field(default_factory=VllmConfig)
    """vLLM settings."""
