"""Tool-loop turns on the colocated vLLM engine (`rollout.backend: vllm`, GPU only).

Each turn request goes to :class:`vrft.policy.vllm_generator.VLLMGenerator` as its chat text so
far (the prompt, the earlier assistant turns and the observation turns, whose vision placeholders
vLLM expands itself) with the media in token order: the prompt's images, then every crop the tools
returned; the prompt's video, then every re-sampled clip. vLLM re-tokenizes that text, so the
tokens it conditions on can differ from the trainer's at turn boundaries; the trainer scores every
trajectory with its own tokens and log-probs (old log-probs + truncated importance sampling, as for
single-turn vLLM rollouts).

``all_finished`` is not consulted: vLLM's forwards are not collective with the training ranks.
The loop itself still calls it once per turn on every rank, so sharded training stays in step.

Not exercised on vLLM in CI (no GPU there); `tests/tools/test_vllm_backend.py` checks the requests
it builds against a stand-in engine.
"""

from __future__ import annotations

from vrft.tools.backend import TurnRequest


class VLLMBackend:
    def __init__(self, engine) -> None:
        """engine: a :class:`VLLMGenerator` (anything with its ``generate(prompts, n, params, media)``)."""
        self.engine = engine

    @staticmethod
    def media(request: TurnRequest) -> dict:
        """The request's images and video clips in the order their placeholders appear."""
        return {"image": list(request.images), "video": [v.frames for v in request.videos] or None}

    def generate(self, requests, n, params, *, all_finished=None):
        return self.engine.generate([r.inputs for r in requests], n, params, [self.media(r) for r in requests])
