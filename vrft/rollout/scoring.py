"""The reward context of a rollout and the scoring of a batch, each written once.

The context carries what a reward needs beyond the text: the solution, each image's original and
resized size and the model's output frame, what the model saw of the video, the tool-call trace.
"""

from __future__ import annotations

from typing import Sequence

import torch

from rewards.context import RewardContext, ToolCall
from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.policy.prompt_inputs import PromptInputs
from vrft.rollout.batch import RolloutBatch


def reward_context(sample: Sample, prompt: PromptInputs, tool_calls: Sequence[ToolCall] = ()) -> RewardContext:
    """The context of one rollout of ``sample`` (encoded as ``prompt``) with its tool-call trace."""
    return RewardContext(solution=sample.solution, task=sample.task, dataset=sample.dataset, sample_id=sample.id,
                         images=list(prompt.image_frames), video=prompt.video_info,
                         tool_calls=list(tool_calls), meta=dict(sample.meta))


def trajectory_reward_context(sample: Sample, trajectory) -> RewardContext:
    """The reward context of a :class:`~vrft.rollout.trajectory.Trajectory` (score its ``final_text``)."""
    return reward_context(sample, trajectory.prompt, trajectory.tool_calls)


def reward_spec(cfg: DatasetConfig) -> list[dict]:
    return [{"name": r.name, "weight": r.weight, "kwargs": r.kwargs} for r in cfg.rewards]


def score_rollouts(batch: RolloutBatch, runner, configs: dict[str, DatasetConfig]) -> None:
    """Fill ``batch.rewards``, ``.valid`` and ``.components``, scoring each dataset's rows with its own
    composite reward. Components are NaN on rows of datasets that do not use them."""
    b = len(batch.texts)
    rewards = torch.full((b,), float("nan"))
    valid = torch.ones(b, dtype=torch.bool)
    components: dict[str, torch.Tensor] = {}
    by_dataset: dict[str, list[int]] = {}
    for i, p in enumerate(batch.seq_prompt):
        by_dataset.setdefault(batch.samples[p].dataset, []).append(i)
    for name, rows in by_dataset.items():
        scores = runner.score([batch.texts[i] for i in rows], [batch.contexts[i] for i in rows],
                              rewards=reward_spec(configs[name]))
        rewards[rows] = torch.tensor(scores.scores, dtype=torch.float32)
        valid[rows] = ~torch.tensor(scores.errored, dtype=torch.bool)
        for key, values in scores.components.items():
            components.setdefault(key, torch.full((b,), float("nan")))[rows] = torch.tensor(values, dtype=torch.float32)
    batch.rewards, batch.valid, batch.components = rewards, valid, components
