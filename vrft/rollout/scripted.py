"""A backend that emits given texts, turn by turn, as if the model had written them (tests,
debugging, forcing a first turn)."""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from vrft.policy.hf_generator import Completion
from vrft.policy.sampling import SamplingParams
from vrft.rollout.backends import BACKENDS


@BACKENDS.register("scripted")
class ScriptedBackend:
    """``script(trajectory_id, turn) -> str`` or a list of per-trajectory lists (a request without
    trajectory ids, e.g. a lockstep dummy, numbers its completions ``r * n + j``).

    A text ending with a stop string finishes "stop"; any other text gets ``<|im_end|>`` appended
    ("eos"), unless it is longer than ``params.max_new_tokens`` ("length", cut). Log-probs are 0.
    ``calls`` records ``(number of requests, n)`` per call; ``dummies`` how many were dummies."""

    collective = True  # behaves like HF: idle ranks are seen decoding dummies

    def __init__(self, tokenizer_or_policy, script: Callable[[int, int], str] | Sequence[Sequence[str]] = (),
                 **_unused) -> None:
        self.tokenizer = getattr(tokenizer_or_policy, "tokenizer", tokenizer_or_policy)
        self.script = script if callable(script) else (lambda i, t, s=script: s[i][t])
        self.eos_id = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.calls: list[tuple[int, int]] = []
        self.dummies = 0

    def generate(self, requests, n, params, *, generator=None, lockstep=None):
        self.calls.append((len(requests), n))
        out = []
        for r_i, req in enumerate(requests):
            if not req.trajectories:
                self.dummies += 1
            for j in range(n):
                traj = req.trajectories[j] if req.trajectories else r_i * n + j
                out.append(self.completion(self.script(traj, req.turn), params, r_i, req.stop))
        return out

    def completion(self, text: str, params: SamplingParams, prompt_index: int = 0,
                   stop: Sequence[str] = ()) -> Completion:
        ids = torch.tensor(self.tokenizer(text, add_special_tokens=False)["input_ids"], dtype=torch.long)
        stops = any(text.endswith(s) for s in [*params.stop, *stop])
        full = ids if stops else torch.cat([ids, torch.tensor([self.eos_id])])
        if len(full) > params.max_new_tokens:
            cut = full[:params.max_new_tokens]
            return Completion(prompt_index, cut, torch.zeros(len(cut)), self.tokenizer.decode(cut), "length")
        return Completion(prompt_index, full, torch.zeros(len(full)), text, "stop" if stops else "eos")
