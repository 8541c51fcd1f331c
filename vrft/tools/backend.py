"""Generation backends for the tool loop: one batched call per turn.

A backend answers ``generate(requests, n, params, all_finished=None) -> list[Completion]``: ``n``
completions per request, prompt-major, each with the sampled token ids, the sampler's log-probs
and a finish reason ("eos", "stop" at ``</tool_call>``, or "length"). Turn 1 sends one request per
prompt with ``n = G``; later turns one request per still-active trajectory with ``n = 1``.

vLLM: :class:`vrft.tools.vllm_backend.VLLMBackend` sends each request as its chat text so far
with the media in placeholder order (the engine uses it when ``rollout.backend: vllm``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import torch
from PIL import Image

from vrft.policy.hf_generator import Completion
from vrft.policy.media import LoadedVideo
from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.sampling import SamplingParams


@dataclass
class TurnRequest:
    """The sequence so far of one prompt (turn 1) or one trajectory (later turns)."""

    inputs: PromptInputs  # model inputs: the prompt plus every earlier turn and observation
    images: list[Image.Image] = field(default_factory=list)  # resized, in token order
    videos: list[LoadedVideo] = field(default_factory=list)  # in token order
    turn: int = 0  # 0-based index of the assistant turn being generated
    trajectories: list[int] = field(default_factory=list)  # the trajectory ids the n completions go to


class TurnBackend(Protocol):
    def generate(self, requests: Sequence[TurnRequest], n: int, params: SamplingParams, *,
                 all_finished: Callable[[bool], bool] | None = None) -> list[Completion]: ...


class HFBackend:
    """Generation with the training model itself (:meth:`vrft.policy.policy.Policy.generate`)."""

    def __init__(self, policy, generator: torch.Generator | None = None) -> None:
        self.policy, self.generator = policy, generator

    def generate(self, requests, n, params, *, all_finished=None):
        kwargs = {"all_finished": all_finished} if all_finished is not None else {}
        return self.policy.generate([r.inputs for r in requests], n, params, generator=self.generator, **kwargs)


class ScriptedBackend:
    """Emits given texts, turn by turn, as if the model had written them (tests, debugging, and
    forcing a first turn). ``script(trajectory_id, turn) -> str`` or a list of per-trajectory lists.

    A text ending with a stop string finishes "stop"; any other text gets ``<|im_end|>`` appended
    ("eos"), unless it is longer than ``params.max_new_tokens`` ("length", cut). Log-probs are 0."""

    def __init__(self, tokenizer, script: Callable[[int, int], str] | Sequence[Sequence[str]]) -> None:
        self.tokenizer = tokenizer
        self.script = script if callable(script) else (lambda i, t, s=script: s[i][t])
        self.eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.calls: list[tuple[int, int]] = []  # (number of requests, n) per call

    def generate(self, requests, n, params, *, all_finished=None):
        self.calls.append((len(requests), n))
        out = []
        for r_i, req in enumerate(requests):
            for j in range(n):
                traj = req.trajectories[j] if req.trajectories else r_i * n + j
                out.append(self.completion(self.script(traj, req.turn), params, r_i))
        return out

    def completion(self, text: str, params: SamplingParams, prompt_index: int = 0) -> Completion:
        ids = torch.tensor(self.tokenizer(text, add_special_tokens=False)["input_ids"], dtype=torch.long)
        stop = _stops(text, params)
        full = ids if stop else torch.cat([ids, torch.tensor([self.eos_id])])
        if len(full) > params.max_new_tokens:
            cut = full[:params.max_new_tokens]
            return Completion(prompt_index, cut, torch.zeros(len(cut)), self.tokenizer.decode(cut), "length")
        return Completion(prompt_index, full, torch.zeros(len(full)), text, "stop" if stop else "eos")


def _stops(text: str, params: SamplingParams) -> bool:
    return any(text.endswith(s) for s in params.stop)
