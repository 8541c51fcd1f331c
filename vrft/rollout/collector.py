"""The collector training and evaluation both roll out through.

    collector = RolloutCollector(policy, {name: cfg, ...}, rewards, backend="hf", lockstep=None)
    batch = collector.collect(samples, n=8, params=SamplingParams(max_new_tokens=256),
                              generator=torch.Generator(device=policy.device).manual_seed(0), inject_per_group=1)
    batch.rewards, batch.completions, batch.contexts[0].tool_calls

Each sample is encoded with its dataset's config (``sample.dataset``): tool-enabled datasets get
their tools and ``max_turns``, plain ones one turn. All prompts run through the one turn loop
together; then ground truth is injected and the batch scored (each once, for every kind of prompt).
A plain row's completion is its token ids; a tool row's a :class:`MultiTurnCompletion` (turns,
observations and their media, with a loss mask).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.policy.errors import MediaError
from vrft.policy.sampling import SamplingParams
from vrft.rollout.backends import BACKENDS, GenerationBackend, Lockstep
from vrft.rollout.batch import POLICY, RolloutBatch
from vrft.rollout.episode import DEFAULT_MAX_IMAGES, DEFAULT_MAX_TOTAL_TOKENS, Episode, prepare_episode
from vrft.rollout.ground_truth import inject_ground_truth
from vrft.rollout.loop import run_turn_loop
from vrft.rollout.prefix import PrefixPlan, sample_with_prefixes
from vrft.rollout.scoring import score_rollouts, trajectory_reward_context
from vrft.rollout.trajectory import Trajectory


class RolloutCollector:
    def __init__(self, policy, dataset_configs: dict[str, DatasetConfig], rewards=None, *,
                 backend: str | GenerationBackend = "hf", vllm_engine=None, lockstep: Lockstep | None = None,
                 max_images: int = DEFAULT_MAX_IMAGES, max_total_tokens: int = DEFAULT_MAX_TOTAL_TOKENS) -> None:
        """``rewards``: a :class:`rewards.runner.RewardRunner` (None: batches are not scored).
        ``backend``: a name in :data:`vrft.rollout.backends.BACKENDS` or a backend object.
        ``lockstep(this_rank_done) -> every_rank_done`` for sharded training models; None otherwise."""
        self.policy, self.configs, self.rewards, self.lockstep = policy, dict(dataset_configs), rewards, lockstep
        self.backend = BACKENDS.get(backend)(policy, engine=vllm_engine) if isinstance(backend, str) else backend
        self.max_images, self.max_total_tokens = max_images, max_total_tokens

    def config(self, sample: Sample) -> DatasetConfig:
        try:
            return self.configs[sample.dataset]
        except KeyError:
            raise ValueError(f"sample {sample.id!r}: no dataset config for its dataset {sample.dataset!r} "
                             f"(configured: {sorted(self.configs)})") from None

    def episodes(self, samples: Sequence[Sample]) -> list[Episode]:
        return self.encode(samples)[1]

    def encode(self, samples: Sequence[Sample], on_bad_media: Callable[[Sample, MediaError], None] | None = None
               ) -> tuple[list[Sample], list[Episode]]:
        """(the samples kept, their encoded episodes). A sample whose media cannot be decoded
        raises, or, with ``on_bad_media``, is handed to it (which may raise) and left out."""
        kept, episodes = [], []
        for s in samples:
            try:
                episodes.append(prepare_episode(self.policy, s, self.config(s)))
            except MediaError as e:
                if on_bad_media is None:
                    raise
                on_bad_media(s, e)
                continue
            kept.append(s)
        return kept, episodes

    def trajectories(self, episodes: Sequence[Episode], n: int, params: SamplingParams, *,
                     generator: torch.Generator | None = None) -> list[Trajectory]:
        return run_turn_loop(self.backend, self.policy.processor, episodes, n, params, generator=generator,
                             max_images=self.max_images, max_total_tokens=self.max_total_tokens,
                             lockstep=self.lockstep)

    def collect(self, samples: Sequence[Sample], n: int, params: SamplingParams, *,
                generator: torch.Generator | None = None, inject_per_group: int = 0,
                prefix: PrefixPlan | None = None, score: bool = True,
                on_bad_media: Callable[[Sample, MediaError], None] | None = None) -> RolloutBatch:
        """``n`` rollouts per sample, prompt-major; the last ``inject_per_group`` of each group replaced
        by the ground truth, and with ``prefix`` the ``prefix.per_group`` rows before them continued
        from a prefix of it (:mod:`vrft.rollout.prefix`); scored when ``score`` and the collector has
        rewards. ``on_bad_media``: see :meth:`episodes` (a skipped sample is not in the batch)."""
        samples, episodes = self.encode(samples, on_bad_media)
        trajs = self.trajectories(episodes, n, params, generator=generator)
        batch = batch_from_trajectories(samples, episodes, trajs)
        if prefix is not None:
            sample_with_prefixes(batch, episodes, self.policy, self.backend, self.configs, prefix, params,
                                 generator=generator, lockstep=self.lockstep, skip_last=inject_per_group)
        inject_ground_truth(batch, self.policy, self.configs, inject_per_group)
        if score and self.rewards is not None:
            score_rollouts(batch, self.rewards, self.configs)
        return batch


def batch_from_trajectories(samples: list[Sample], episodes: Sequence[Episode],
                            trajs: Sequence[Trajectory]) -> RolloutBatch:
    """The batch of prompt-major trajectories; a plain prompt's rows carry plain token ids."""
    plain = [not ep.uses_tools for ep in episodes]
    return RolloutBatch(
        samples=samples, prompts=[ep.prompt for ep in episodes], seq_prompt=[t.prompt_index for t in trajs],
        completions=[t.token_ids if plain[t.prompt_index] else t.completion for t in trajs],
        sampler_logprobs=[t.sampler_logprobs for t in trajs], texts=[t.final_text for t in trajs],
        finish_reasons=[t.finish_reason for t in trajs], behaviour=[POLICY] * len(trajs),
        contexts=[trajectory_reward_context(samples[t.prompt_index], t) for t in trajs],
        traces=[t.text for t in trajs], multi_turn=[not p for p in plain],
        behaviour_logprobs=[None] * len(trajs), expert_tokens=[None] * len(trajs),
    )


def trajectory_inputs(trajectories: Sequence[Trajectory]):
    """``(prompts, seq_prompt, completions)`` for :meth:`Policy.logprobs` (distinct prompts once)."""
    prompts, index, seq = [], {}, []
    for t in trajectories:
        if id(t.prompt) not in index:
            index[id(t.prompt)] = len(prompts)
            prompts.append(t.prompt)
        seq.append(index[id(t.prompt)])
    return prompts, seq, [t.completion for t in trajectories]


def trajectory_logprobs(policy, trajectories: Sequence[Trajectory], **kwargs):
    """Per-token log-probs of everything after each trajectory's prompt (0 off the loss mask) and the
    loss masks (``out.loss_masks``); kwargs as :func:`vrft.policy.logprobs.completion_logprobs`."""
    prompts, seq, comps = trajectory_inputs(trajectories)
    return policy.logprobs(prompts, seq, comps, **kwargs)
