"""One tool-using rollout: the tokens after the prompt, which of them the model wrote, and the trace.

Layout of ``completion`` (everything after the initial prompt)::

    turn 1 tokens (loss 1) | observation 1 (loss 0) | turn 2 tokens (loss 1) | ... | last turn (loss 1)

A turn's tokens are exactly the sampled ones, ending with ``<|im_end|>`` when the model ended the
turn itself (loss 1) or with ``</tool_call>`` when generation stopped there (the template then
closes the turn: loss 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from rewards.context import ToolCall
from vrft.policy.media import LoadedImage, LoadedVideo
from vrft.policy.multiturn import concat_completions, empty_completion, generated_part
from vrft.policy.prompt_inputs import MultiTurnCompletion, PromptInputs

# Why a trajectory ended. "eos" (or "stop", at a caller's own stop string): the model ended a turn
# without a tool call, its final answer. The others are truncations: "length" (a turn hit
# max_new_tokens), "max_turns" (a tool call on the last allowed turn), "max_images" (a call whose
# media would pass max_images), "max_total_tokens".
FINISH_REASONS = ("eos", "stop", "length", "max_turns", "max_images", "max_total_tokens")
TRUNCATED = {"length", "max_turns", "max_images", "max_total_tokens"}


@dataclass
class Trajectory:
    prompt_index: int
    prompt: PromptInputs
    completion: MultiTurnCompletion = field(default_factory=empty_completion)
    # (T,) the sampler's log-probs of generated tokens, 0 off the loss mask
    sampler_logprobs: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    media: list[LoadedImage | LoadedVideo] = field(default_factory=list)  # added by tools, in order
    turns: list[str] = field(default_factory=list)  # each assistant turn's text (without <|im_end|>)
    observations: list[str] = field(default_factory=list)  # each observation turn's rendered text
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = ""
    truncated_reason: str | None = None
    resume: Any = field(default=None, repr=False)  # the backend's state to continue the next turn from

    # ---- views -------------------------------------------------------------------------------
    @property
    def token_ids(self) -> torch.Tensor:
        return self.completion.token_ids

    @property
    def loss_mask(self) -> torch.Tensor:
        return self.completion.loss_mask

    @property
    def length(self) -> int:
        return self.completion.length

    @property
    def n_generated(self) -> int:
        return int(self.completion.loss_mask.sum())

    @property
    def final_text(self) -> str:
        """The last assistant turn: the text rewards score."""
        return self.turns[-1] if self.turns else ""

    @property
    def text(self) -> str:
        """Everything after the prompt as text (observations with one placeholder per image / video)."""
        parts = []
        for k, turn in enumerate(self.turns):
            parts.append(turn)
            if k < len(self.observations):
                parts.append(self.observations[k])
        return "".join(parts)

    @property
    def images(self) -> list[LoadedImage]:
        return [m for m in self.media if isinstance(m, LoadedImage)]

    @property
    def videos(self) -> list[LoadedVideo]:
        return [m for m in self.media if isinstance(m, LoadedVideo)]

    @property
    def n_calls(self) -> int:
        return len(self.tool_calls)

    @property
    def n_invalid_calls(self) -> int:
        return sum(1 for c in self.tool_calls if not c.valid)

    @property
    def truncated(self) -> bool:
        return self.truncated_reason is not None

    @property
    def done(self) -> bool:
        return bool(self.finish_reason)

    # ---- building (the loop) -----------------------------------------------------------------
    def add_turn(self, token_ids: torch.Tensor, logprobs: torch.Tensor, text: str) -> None:
        self.completion = concat_completions([self.completion, generated_part(token_ids)])
        self.sampler_logprobs = torch.cat([self.sampler_logprobs, logprobs.detach().float().cpu()])
        self.turns.append(text)

    def add_observation(self, part: MultiTurnCompletion, text: str, media: list) -> None:
        self.completion = concat_completions([self.completion, part])
        self.sampler_logprobs = torch.cat([self.sampler_logprobs, torch.zeros(part.length)])
        self.observations.append(text)
        self.media.extend(media)

    def finish(self, reason: str) -> None:
        assert reason in FINISH_REASONS, reason
        self.finish_reason = reason
        self.resume = None  # frees the backend's state (a KV cache) of a finished trajectory
        self.truncated_reason = None if reason in ("eos", "stop") else reason
