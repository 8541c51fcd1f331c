"""Rollouts with a colocated vLLM engine (the `vllm` extra; GPU only).

Same interface as the HF backend (`generate(prompts, n, params) -> list[Completion]`). Prompts go
to vLLM as their chat text with `multi_modal_data` (the already resized images / sampled frames,
so vLLM sees exactly what the trainer scores); the vision special tokens are suppressed with a
logit bias. After each optimizer step the trainer's weights are pushed into the engine
(`sync_weights`); between rollouts the engine sleeps to give its memory back to training.

The sampler's log-probs are vLLM's: they differ slightly from the trainer's (other kernels,
bf16), which is why the engine computes old log-probs with the trainer and corrects with
truncated importance sampling when this backend is used.

Not exercised in CI (no GPU there); `tests/policy/test_vllm_generator.py` runs where vLLM and
CUDA are present.
"""

from __future__ import annotations

import torch

from vrft.policy.hf_generator import Completion
from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.sampling import SamplingParams
from vrft.policy.unwrap import unwrap


def _inner_model(llm):
    """The engine's torch model (its location moved between vLLM versions)."""
    paths = ("llm_engine.model_executor.driver_worker.model_runner.model",
             "llm_engine.model_executor.driver_worker.worker.model_runner.model")
    for path in paths:
        obj = llm
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
            return obj
        except AttributeError:
            continue
    return None


class VLLMGenerator:
    def __init__(self, model_path: str, *, tokenizer, suppress_ids: torch.Tensor, gpu_memory_utilization: float = 0.3,
                 max_model_len: int | None = None, tensor_parallel_size: int = 1, enforce_eager: bool = False,
                 sleep_mode: bool = True, sleep_level: int = 1, seed: int = 0, max_images: int = 8,
                 max_videos: int = 1):
        if not torch.cuda.is_available():
            raise RuntimeError("rollout.backend=vllm needs a CUDA GPU; use rollout.backend=hf on CPU")
        try:
            from vllm import LLM
        except ImportError as exc:
            raise RuntimeError("rollout.backend=vllm needs the vllm extra (pip install 'vrft[vllm]', in an "
                               "environment with vLLM's own torch / transformers pins)") from exc
        self.tokenizer = tokenizer
        self.suppress_ids = [int(i) for i in suppress_ids.tolist()]
        self.sleep_mode, self.sleep_level = sleep_mode, sleep_level
        self.llm = LLM(model=model_path, gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                       tensor_parallel_size=tensor_parallel_size, enforce_eager=enforce_eager,
                       enable_sleep_mode=sleep_mode, seed=seed,
                       limit_mm_per_prompt={"image": max_images, "video": max_videos})
        self.asleep = False

    def _sampling(self, params: SamplingParams, n: int):
        from vllm import SamplingParams as VSP

        return VSP(n=n, temperature=params.temperature, top_p=params.top_p, top_k=params.top_k or -1,
                   max_tokens=params.max_new_tokens, min_tokens=params.min_new_tokens, logprobs=0,
                   stop=list(params.stop) or None, include_stop_str_in_output=True,
                   logit_bias={i: -100.0 for i in self.suppress_ids})

    def generate(self, prompts: list[PromptInputs], n: int, params: SamplingParams, media: list[dict],
                 **_unused) -> list[Completion]:
        """`media[i]`: {"image": [PIL, ...], "video": frames (T, C, H, W) or a list of them} of
        prompt i, as the trainer encoded it, in the order of the placeholders in its text."""
        self.wake()
        requests = []
        for p, m in zip(prompts, media):
            mm = {}
            if m.get("image"):
                mm["image"] = m["image"]
            clips = m.get("video")
            if clips is not None:  # one clip (frames (T, C, H, W)) or several (a tool loop's zoom-ins)
                arrays = [c.permute(0, 2, 3, 1).to(torch.uint8).numpy() for c in
                          ([clips] if torch.is_tensor(clips) else clips)]
                mm["video"] = arrays[0] if len(arrays) == 1 else arrays
            requests.append({"prompt": p.text, "multi_modal_data": mm} if mm else {"prompt": p.text})
        outputs = self.llm.generate(requests, sampling_params=self._sampling(params, n), use_tqdm=False)
        results = []
        eos = self.tokenizer.eos_token_id
        for i, out in enumerate(outputs):
            for comp in out.outputs:
                ids = torch.tensor(list(comp.token_ids), dtype=torch.long)
                lps = torch.tensor([float(step[tok].logprob) for step, tok in zip(comp.logprobs, comp.token_ids)])
                finished = "length" if comp.finish_reason == "length" else (
                    "eos" if len(ids) and int(ids[-1]) == eos else "stop")
                text_ids = ids[:-1] if finished == "eos" else ids
                results.append(Completion(i, ids, lps, self.tokenizer.decode(text_ids), finished))
        return results

    @torch.no_grad()
    def sync_weights(self, model) -> None:
        """Push the trainer's current weights into the engine (names as in the HF checkpoint)."""
        self.wake()
        state = unwrap(model).state_dict()
        weights = list(state.items())
        inner = _inner_model(self.llm)
        if inner is not None:
            inner.load_weights(weights)
        else:  # newer vLLM: run the load inside the engine's workers
            self.llm.apply_model(lambda m: m.load_weights(weights))
        if hasattr(self.llm, "reset_prefix_cache"):
            self.llm.reset_prefix_cache()  # cached KV of the old weights must not be reused

    def sleep(self) -> None:
        if self.sleep_mode and not self.asleep:
            self.llm.sleep(level=self.sleep_level)
            self.asleep = True

    def wake(self) -> None:
        if self.asleep:
            self.llm.wake_up()
            self.asleep = False
