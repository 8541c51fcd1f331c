"""Config sections for how the policy learns and what a run records: ``algo``, ``train``,
``checkpoint``, ``log``, ``eval``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union


@dataclass
class DynamicSamplingConfig:
    """DAPO dynamic sampling: drop groups whose rewards are all equal (zero advantage) and sample
    more prompts until the step's batch is full."""

    enabled: bool = False
    """Turn dynamic sampling on."""
    max_attempts: int = 3
    """Rollout rounds per step before training on a batch that is not full."""


@dataclass
class GtInjectionConfig:
    """Ground-truth injection: replace some samples of a group with a completion written from the
    solution (off-policy guidance while the policy rarely succeeds)."""

    enabled: bool = False
    """Turn injection on."""
    per_group: int = 1
    """Samples per group replaced by the ground-truth completion; less than rollout.num_generations."""
    until_step: Optional[int] = None
    """Inject only before this training step; null: for the whole run."""
    prob: float = 1.0
    """Probability that a given group gets injected, in [0, 1]."""


@dataclass
class OffPolicyConfig:
    """How rows the policy did not sample (injected ground truth: expert rows) are trained
    (vrft.grpo.offpolicy; docs/algorithms.md)."""

    expert_form: str = "luffy"
    """Objective of expert rows (registry name): luffy (-A * p/(p+gamma), no clip) | none (-A * log p)
    | chord (mu-weighted SFT with token weight p(1-p)) | sft (mu-weighted plain SFT)."""
    gamma: float = 0.1
    """gamma of LUFFY's policy shaping p/(p+gamma), > 0."""
    group_baseline: Literal["sampled", "mixed"] = "sampled"
    """Rows in a group's mean and std: sampled (the policy's rows only; an expert row's advantage then
    comes from expert_advantage; LUFFY's grpo_split) | mixed (every row, expert rows included, as
    TempSamp-R1's mixed-policy GRPO: a group whose samples all failed then gets negative
    advantages for them against the expert's success; expert_advantage is not used). Either way the
    mixture learner's signal counts sampled rows only."""
    expert_advantage: str = "relative"
    """Advantage of an expert row (registry name): relative (its reward against the sampled rows'
    mean and std, clipped to +-expert_advantage_cap) | fixed (expert_advantage_value) | tempsamp
    (TempSamp-R1's non-linearly shaped reward against the shaped mixed group's mean and std)."""
    expert_advantage_cap: float = 3.0
    """Bound of the relative expert advantage (reached when the sampled rows all scored the same)."""
    expert_advantage_value: float = 1.0
    """The fixed expert advantage."""
    tempsamp_threshold: float = 0.8
    """TempSamp-R1 shaping: rewards at or above this are log-compressed, below it exponentially ramped."""
    tempsamp_log_scale: float = 0.01
    """TempSamp-R1 shaping: scale of the log compression above the threshold, >= 0."""
    tempsamp_alpha: float = 1.0
    """TempSamp-R1 shaping: steepness of the exponential ramp below the threshold, > 0."""
    chord_mu_peak: float = 0.1
    """CHORD: peak of the global SFT coefficient mu, in [0, 1]."""
    chord_mu_valley: float = 0.1
    """CHORD: value of mu after the decay, in [0, 1]."""
    chord_mu_warmup_steps: int = 0
    """CHORD: steps of linear warm-up of mu from 0 to chord_mu_peak."""
    chord_mu_decay_steps: int = 0
    """CHORD: steps of cosine decay of mu from peak to valley after the warm-up."""


@dataclass
class ReliftConfig:
    """ReLIFT: questions whose whole sampled group failed are collected and trained on by
    supervised steps on their ground truth, interleaved with the RL steps (docs/algorithms.md)."""

    enabled: bool = False
    """Turn ReLIFT on."""
    batch_size: int = 8
    """Collected questions per supervised step (over all ranks); at least the number of ranks."""
    fail_threshold: float = 0.0
    """A group failed when every sampled reward is at most this."""


@dataclass
class RemixConfig:
    """Replay of recent steps' rollouts as off-policy rows with their stored behaviour log-probs
    (the buffer part of ReMix; docs/algorithms.md)."""

    enabled: bool = False
    """Turn replay on."""
    buffer_steps: int = 1
    """How many previous steps' rollouts each step trains on besides its own (each rollout is used
    in 1 + buffer_steps updates)."""
    until_step: Optional[int] = None
    """Policy reincarnation: from this training step on the buffer is dropped and training is
    on-policy; null: replay for the whole run."""
    reincarnate_reference: bool = False
    """Policy reincarnation of the base model: at step until_step (before its update) the frozen
    reference model of the KL term becomes a copy of the policy; needs until_step and algo.beta > 0."""
    kl_convex: bool = False
    """ReMix's KL-Convex constraint: the KL term (coefficient algo.beta > 0) becomes
    kl_lambda * KL(policy || base) + (1 - kl_lambda) * KL(policy || policy before this step's update),
    on on-policy and replayed rows; works with or without the buffer."""
    kl_lambda: float = 0.5
    """Weight of the base model's KL in the KL-Convex constraint, in [0, 1] (1: the plain KL)."""


@dataclass
class PrefixSamplingConfig:
    """Prefix-RFT: some rows of each group continue a prefix of the rendered ground truth; the
    prefix is trained as expert tokens, the continuation as on-policy tokens (docs/algorithms.md)."""

    enabled: bool = False
    """Turn prefix sampling on (rollout.backend: hf, plain prompts, algo.loss dapo or dr_grpo)."""
    per_group: int = 1
    """Rows of each group continued from an expert prefix (with ground-truth injection, the rows
    before the injected ones); with gt_injection.per_group, less than rollout.num_generations."""
    max_ratio: float = 0.95
    """Fraction of the expert answer's tokens given as prefix at step 0, in [0, 1]."""
    min_ratio: float = 0.05
    """Fraction after the cosine decay, in [0, max_ratio]."""
    decay_steps: Optional[int] = None
    """Steps of the cosine decay of the fraction from max_ratio to min_ratio; null: train.steps."""
    entropy_top_frac: float = 0.2
    """Entropy-based selection: only this fraction of each row's prefix tokens, those of highest
    entropy under the policy, carry loss; in (0, 1]."""
    form: str = "luffy"
    """Objective of the selected prefix tokens: an expert form joined with the RL loss (luffy | none)."""
    until_step: Optional[int] = None
    """Prefix sampling only before this training step; null: for the whole run."""


@dataclass
class WarmupStageConfig:
    """One stage of the supervised warm-up's curriculum."""

    datasets: list[str] = field(default_factory=list)
    """Mixture datasets this stage draws from (in their mixture proportions)."""
    steps: int = 0
    """Warm-up steps of this stage."""


@dataclass
class AlgoConfig:
    """The RL algorithm: advantages, loss, clipping, KL, updates per batch."""

    advantage: str = "grpo"
    """Advantage estimator (registry name): grpo | dr_grpo | batch_std | rloo | raft (best of
    the group: reward-ranked fine-tuning), or a registered plugin."""
    loss: str = "dapo"
    """Policy loss (registry name): grpo (sequence mean) | dapo (token mean over the global token
    count) | dr_grpo (constant normaliser) | gspo (sequence-level ratio)."""
    clip_low: float = 0.2
    """Lower clip: ratios below 1 - clip_low stop pushing down; in [0, 1). GSPO uses about 3e-4."""
    clip_high: float = 0.28
    """Upper clip: ratios above 1 + clip_high stop pushing up (DAPO's clip-higher: 0.28). GSPO
    uses about 4e-4."""
    beta: float = 0.0
    """KL coefficient to the frozen initial model; 0 skips the reference model entirely."""
    kl_estimator: str = "k3"
    """Per-token KL estimator registered in ``vrft.grpo.kl`` (k1, k2, k3; k3: unbiased and
    non-negative)."""
    mu: int = 1
    """Update epochs over each rollout batch (1: on-policy, ratio 1 on the first update)."""
    mini_batch_size: Optional[int] = None
    """Completions per optimizer step, over all ranks; must divide P * G. null: P * G (one step per
    epoch)."""
    mask_truncated: bool = False
    """Give no loss to completions cut off at max_new_tokens (DAPO overlong filtering)."""
    dynamic_sampling: DynamicSamplingConfig = field(default_factory=DynamicSamplingConfig)
    """Dynamic sampling settings."""
    gt_injection: GtInjectionConfig = field(default_factory=GtInjectionConfig)
    """Ground-truth injection settings."""
    offpolicy: OffPolicyConfig = field(default_factory=OffPolicyConfig)
    """How expert (injected) rows are trained: objective form, advantage rule, CHORD schedule."""
    relift: ReliftConfig = field(default_factory=ReliftConfig)
    """ReLIFT settings."""
    remix: RemixConfig = field(default_factory=RemixConfig)
    """Replay buffer (ReMix) settings."""
    prefix_sampling: PrefixSamplingConfig = field(default_factory=PrefixSamplingConfig)
    """Prefix-RFT: rows continued from a prefix of the ground truth."""
    is_cap: float = 2.0
    """Cap C of the truncated importance weights min(pi_trainer / pi_sampler, C) that correct for
    vLLM sampling (used with rollout.backend: vllm)."""
    reward_on_error: Literal["exclude", "zero"] = "exclude"
    """A reward that fails on a sample: exclude it from its group (advantage 0), or score it 0."""
    reward_error_rate_max: float = 0.2
    """Stop the run when more than this fraction of a step's rewards errored (a broken reward),
    in [0, 1]."""


@dataclass
class TrainConfig:
    """Optimisation and parallelism."""

    steps: int = 20
    """Training steps (one rollout batch each)."""
    lr: float = 1e-4
    """Peak learning rate (AdamW). About 1e-6 for full fine-tuning of 3B-7B models, 1e-5 to 1e-4
    with LoRA or tiny models."""
    lr_schedule: Literal["constant", "cosine", "linear"] = "constant"
    """Decay after warm-up, to 0 at ``steps``."""
    warmup_steps: int = 0
    """Linear warm-up steps from 0 to ``lr``."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this; 0 disables."""
    grad_accum: Optional[int] = None
    """Micro-batches per optimizer step on each rank. null: derived as algo.mini_batch_size /
    (ranks * micro_batch_size); when set it must equal that."""
    micro_batch_size: int = 4
    """Completions per forward/backward pass on each rank."""
    seed: int = 0
    """Seed of every random generator (each rank adds its rank)."""
    time_limit_s: Optional[float] = None
    """Wall-clock budget of one launch in seconds, counted from the end of model loading (warm-up and
    evaluations included). When spent, training stops after the step in progress, runs the end
    evaluation and saves a checkpoint (with checkpoint.save_final); launching again resumes with a
    fresh budget (a warm-up cut short is not resumed). For a scheduler's time limit, and for
    comparing recipes at equal wall time (scripts/bench_offpolicy.py). null: no limit."""
    max_nonfinite_steps: int = 3
    """Consecutive steps with a non-finite loss or gradient (skipped) before the run stops."""
    backend: Literal["single", "ddp", "fsdp2", "deepspeed"] = "single"
    """Parallelism: single process, DDP, FSDP2 (fully_shard) or DeepSpeed ZeRO; launch the last three
    with torchrun."""
    deepspeed: dict[str, Any] = field(default_factory=dict)
    """DeepSpeed settings for backend: deepspeed: ``zero_stage`` (1 | 2 | 3, required),
    ``offload_optimizer`` and ``offload_params`` (bool, params only with stage 3); other keys are
    merged into the DeepSpeed JSON config as given."""
    bf16: Union[bool, Literal["auto"]] = "auto"
    """Mixed precision, the same on every backend: bf16 compute, fp32 master weights (a bf16
    checkpoint is upcast for training), fp32 gradient reduction; log-probs and losses in fp32.
    single / DDP: autocast over fp32 weights; FSDP2: MixedPrecisionPolicy(bf16 params, fp32
    reduce); DeepSpeed: its bf16 section. auto: on with a CUDA GPU that supports bfloat16."""
    warmup_sft_steps: int = 0
    """Supervised steps on ground-truth completions before RL (teaches the answer format)."""
    warmup_sft_lr: Optional[float] = None
    """Learning rate of the supervised warm-up; null: train.lr."""
    warmup_sft_curriculum: list[WarmupStageConfig] = field(default_factory=list)
    """Stages run first, in order, each on a subset of the mixture, e.g. ``[{datasets: [color],
    steps: 300}]``; the rest of ``warmup_sft_steps`` draws from the whole mixture. A tiny random model
    learns to see colours in 300 steps alone but seldom inside an eight-task mixture (docs/demo.md)."""
    warmup_sft_lr_schedule: Literal["constant", "cosine", "linear"] = "constant"
    """Decay of the warm-up learning rate, to 0 at ``warmup_sft_steps`` (the demo keeps it constant:
    cosine did not help there, docs/demo.md)."""


@dataclass
class CheckpointConfig:
    """Atomic checkpoints in ``log.run_dir/checkpoints``."""

    every: int = 10
    """Save every this many steps; 0: only at the end (if save_final)."""
    keep_last: Optional[int] = 2
    """Complete checkpoints kept (older ones are deleted); null keeps all."""
    resume: Optional[str] = "auto"
    """auto: continue from the newest complete checkpoint of run_dir if there is one; none (or null):
    start fresh; a path: that checkpoint, or the newest one of that run dir."""
    save_final: bool = True
    """Save a checkpoint after the last step."""


@dataclass
class LogConfig:
    """Logging and run outputs."""

    run_dir: str = "runs/default"
    """Run directory: resolved config, metrics, plots, checkpoints."""
    every: int = 1
    """Print (rank 0) and record metrics every this many steps."""
    tensorboard: bool = True
    """Write TensorBoard event files to run_dir/tb."""
    wandb: bool = False
    """Log to Weights & Biases (needs the ``wandb`` extra)."""
    wandb_project: str = "vrft"
    """W&B project name."""
    plots: bool = True
    """Redraw PNG plots of the main metrics in run_dir/plots."""
    progress_bar: bool = True
    """Rank 0 shows a progress bar per phase (warm-up, RL, evaluation) with the key figures in its
    postfix instead of a line per step; off automatically when stdout is not a terminal (then, or
    with false, one line per step). metrics.jsonl is the same either way."""
    per_rank: bool = False
    """Also write each rank's own step record (the global draw it saw, its prompt ids, rewards and
    local update metrics) to run_dir/ranks/rank{r}.jsonl: to check that ranks agree and that a
    resumed run repeats an uninterrupted one."""


@dataclass
class EvalConfig:
    """Evaluation on the held-out split of the data mixture."""

    every: int = 0
    """Evaluate every this many steps; 0 disables periodic evaluation."""
    max_samples: int = 32
    """Held-out samples per dataset per evaluation."""
    greedy: bool = True
    """Greedy decoding (otherwise rollout sampling settings)."""
    samples_per_prompt: int = 1
    """Avg@k: besides the greedy score, sample this many completions per held-out prompt at
    ``eval.temperature`` and report per dataset ``avg@k`` (their mean headline score) and
    ``avg@k_se`` (its standard error over prompts); 1: greedy only (docs/evaluation.md)."""
    temperature: float = 1.0
    """Sampling temperature of the Avg@k samples."""
    at_start: bool = True
    """Evaluate before the first step (the "before" of a before/after comparison)."""
    at_end: bool = True
    """Evaluate after the last step."""
    warmup_every: int = 0
    """Evaluate every this many supervised warm-up steps too (a curve of what the warm-up
    teaches); 0: only after it (``after_warmup``)."""
    after_warmup: bool = True
    """Evaluate after the supervised warm-up (when there is one), to tell what the warm-up taught
    from what RL added."""
