"""Generation backends behind one interface: one batched call per turn of the turn loop.

A backend answers ``generate(requests, n, params, *, generator=None, lockstep=None) -> list[Completion]``:
``n`` completions per request, prompt-major, each with the sampled token ids, the sampler's log-probs
and a finish reason ("eos", "stop" at one of the request's stop strings, or "length"). Turn 1 sends one
request per prompt with ``n = G``; later turns one request per still-active trajectory with ``n = 1``.

``collective``: whether the backend's forwards are collectives of a sharded training model (HF on
FSDP2 / ZeRO-3). The turn loop then keeps an idle rank decoding a dummy request in step; ``lockstep``
is passed down so the decode steps inside a call stay matched too.

Backends are chosen by name (``BACKENDS.get("hf")(policy, engine=...)``):

- ``hf``: generation with the training model itself (:meth:`vrft.policy.policy.Policy.generate`);
- ``vllm``: vrft's vLLM server (:mod:`vrft.serving.vllm_server`, its own process and environment),
  through :class:`vrft.rollout.vllm_client.VLLMClient`. Each request goes as its chat text so far
  with the media in placeholder order (the prompt's images, then every crop the tools returned; the
  prompt's video, then every clip); a multi-turn episode goes turn by turn (vLLM's prefix cache keeps
  later turns cheap). vLLM re-tokenizes that text, so the trainer scores every trajectory with its
  own tokens (old log-probs + truncated importance sampling);
- ``scripted``: :class:`vrft.rollout.scripted.ScriptedBackend` (tests, debugging).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np
import torch
from PIL import Image

from vrft.policy.hf_generator import Completion, _sharded
from vrft.policy.media import LoadedVideo
from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.sampling import SamplingParams
from vrft.policy.turn_cache import can_continue
from vrft.policy.unwrap import unwrap
from vrft.registry import Registry

Lockstep = Callable[[bool], bool]
"""``lockstep(this_rank_done) -> every_rank_done`` (sharded backends); None in a single process."""


@dataclass
class TurnRequest:
    """The sequence so far of one prompt (turn 1) or one trajectory (later turns)."""

    inputs: PromptInputs  # model inputs: the prompt plus every earlier turn and observation
    images: list[Image.Image] = field(default_factory=list)  # resized, in token order
    videos: list[LoadedVideo] = field(default_factory=list)  # in token order
    turn: int = 0  # 0-based index of the assistant turn being generated
    trajectories: list[int] = field(default_factory=list)  # the trajectory ids the n completions go to
    stop: list[str] = field(default_factory=list)  # stop strings of this request on top of params.stop
    multi_turn: bool = False  # the sequence may get another turn (a backend may keep its state)
    resume: Any = None  # backend state of the previous turn (HF: the KV cache row to continue)


class GenerationBackend(Protocol):
    collective: bool

    def generate(self, requests: Sequence[TurnRequest], n: int, params: SamplingParams, *,
                 generator: torch.Generator | None = None, lockstep: Lockstep | None = None) -> list[Completion]: ...


BACKENDS: Registry = Registry("rollout backend")
"""Factories ``(policy, *, engine=None, **kwargs) -> GenerationBackend`` by name."""


@BACKENDS.register("hf")
class HFBackend:
    """Generation with the training model itself; its forwards are collective under FSDP2 / ZeRO-3.

    ``keep_kv``: a multi-turn sequence's next turn continues the KV cache of its previous turn (only
    the new tokens and media pass through the model; :mod:`vrft.policy.turn_cache`) instead of
    re-prefilling the whole sequence. Unsharded models only (sharded ones always re-prefill)."""

    collective = True

    def __init__(self, policy, *, keep_kv: bool = True, **_unused) -> None:
        self.policy = policy
        self.keep_kv = keep_kv and not _sharded(unwrap(policy.model))

    def generate(self, requests, n, params, *, generator=None, lockstep=None):
        stops = [list(r.stop) for r in requests]
        kwargs = {"all_finished": lockstep} if lockstep is not None else {}
        if any(stops):
            kwargs["stops"] = stops
        inputs = [r.inputs for r in requests]
        if self.keep_kv and n == 1 and can_continue([r.resume for r in requests], inputs):
            return self.policy.continue_generate(inputs, [r.resume for r in requests], params, generator=generator,
                                                 **kwargs)
        keep = self.keep_kv and any(r.multi_turn and r.trajectories for r in requests)
        if keep:
            kwargs["keep_state"] = True
        return self.policy.generate(inputs, n, params, generator=generator, **kwargs)


@BACKENDS.register("vllm")
class VLLMServerBackend:
    """Rollouts through vrft's vLLM server (:mod:`vrft.serving.vllm_server`, its own process); not
    collective with the training ranks (``lockstep`` unused)."""

    collective = False
    exact_tokens = False  # the server re-tokenizes the request's text (no exact token-id prefix)

    def __init__(self, policy=None, *, engine=None, **_unused) -> None:
        """engine: a :class:`vrft.rollout.vllm_client.VLLMClient` (``rollout.backend: vllm`` makes it)."""
        if engine is None:
            raise ValueError("rollout backend 'vllm' needs a vLLM server client (set rollout.vllm.server_url)")
        self.engine, self.policy = engine, policy
        self.tokenizer = policy.tokenizer
        self.logit_bias = {int(i): -100.0 for i in policy.suppress_ids.tolist()}  # no vision special tokens

    @staticmethod
    def request(request: TurnRequest) -> dict:
        """The chat text so far with its images and clips (HWC / THWC uint8) in placeholder order."""
        return {"prompt": request.inputs.text,
                "images": [np.asarray(im.convert("RGB"), dtype=np.uint8) for im in request.images],
                "videos": [v.frames.permute(0, 2, 3, 1).to(torch.uint8).numpy() for v in request.videos],
                "video_fps": [float(v.sample_fps) for v in request.videos]}

    def params(self, params: SamplingParams, stop: Sequence[str], generator: torch.Generator | None) -> dict:
        seed = None if generator is None else int(torch.randint(0, 2**31 - 1, (), generator=generator,
                                                                device=generator.device))
        return {"temperature": params.temperature, "top_p": params.top_p, "top_k": params.top_k,
                "max_tokens": params.max_new_tokens, "min_tokens": params.min_new_tokens,
                "stop": list(dict.fromkeys([*params.stop, *stop])), "logit_bias": self.logit_bias, "seed": seed}

    def completion(self, k: int, out: dict) -> Completion:
        ids = torch.tensor(out["token_ids"], dtype=torch.long)
        eos = self.tokenizer.eos_token_id
        finished = "length" if out["finish_reason"] == "length" else (
            "eos" if len(ids) and int(ids[-1]) == eos else "stop")
        text_ids = ids[:-1] if finished == "eos" else ids
        return Completion(k, ids, torch.tensor(out["logprobs"], dtype=torch.float32),
                          self.tokenizer.decode(text_ids), finished)

    def generate(self, requests, n, params, *, generator=None, lockstep=None):
        # One server call per distinct stop set (plain and tool prompts stop differently), in order.
        out: list[Completion | None] = [None] * (len(requests) * n)
        groups: dict[tuple, list[int]] = {}
        for k, r in enumerate(requests):
            groups.setdefault(tuple(r.stop), []).append(k)
        for stop, idx in groups.items():
            answers = self.engine.generate([self.request(requests[k]) for k in idx], n,
                                           self.params(params, stop, generator))
            for k, comps in zip(idx, answers):
                for j, c in enumerate(comps):
                    out[k * n + j] = self.completion(k, c)
        return out
