"""Rollouts for training and evaluation: the one turn loop (a plain prompt is one turn), the
generation backends (HF, vLLM, scripted), RolloutBatch, ground-truth injection and reward scoring.

    from vrft.rollout import RolloutCollector
    batch = RolloutCollector(policy, configs, rewards).collect(samples, n=8, params=params, generator=g)
"""

from vrft.rollout.backends import BACKENDS, GenerationBackend, HFBackend, Lockstep, TurnRequest, VLLMServerBackend
from vrft.rollout.batch import BEHAVIOURS, EXPERT, OLD, POLICY, RolloutBatch, group_has_signal
from vrft.rollout.collector import RolloutCollector, batch_from_trajectories, trajectory_inputs, trajectory_logprobs
from vrft.rollout.episode import (
    DEFAULT_MAX_IMAGES, DEFAULT_MAX_TOTAL_TOKENS, Episode, encode_sample, episode_for_prompt, prepare_episode,
)
from vrft.rollout.ground_truth import ground_truth_tokens, inject_ground_truth, supervised_pairs
from vrft.rollout.loop import run_turn_loop
from vrft.rollout.prefix import PrefixPlan
from vrft.rollout.scoring import reward_context, score_rollouts, trajectory_reward_context
from vrft.rollout.scripted import ScriptedBackend
from vrft.rollout.trajectory import FINISH_REASONS, TRUNCATED, Trajectory

__all__ = [
    "BACKENDS", "BEHAVIOURS", "DEFAULT_MAX_IMAGES", "DEFAULT_MAX_TOTAL_TOKENS", "EXPERT", "Episode", "FINISH_REASONS",
    "GenerationBackend", "OLD", "POLICY", "PrefixPlan",
    "HFBackend", "Lockstep", "RolloutBatch", "RolloutCollector", "ScriptedBackend", "TRUNCATED", "Trajectory",
    "TurnRequest", "VLLMServerBackend", "batch_from_trajectories", "encode_sample", "episode_for_prompt",
    "ground_truth_tokens", "group_has_signal", "inject_ground_truth", "prepare_episode", "reward_context",
    "run_turn_loop", "score_rollouts", "supervised_pairs", "trajectory_inputs", "trajectory_logprobs", "trajectory_reward_context",
]
