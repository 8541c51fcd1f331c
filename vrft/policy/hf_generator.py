"""Batched rollouts with the training model (the HF backend).

Each prompt is prefilled once (vision encoded once), its KV cache is copied for its G samples,
and all P*G rows decode together. This is the same computation as `generate` with
`num_return_sequences=G`, minus G-1 redundant prefills and vision encodings per prompt.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Callable

import torch

from vrft.policy.batching import collate
from vrft.policy.kv_cache import reserve
from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.sampling import SamplingParams, mask_tokens, sample_step
from vrft.policy.unwrap import core
from vrft.policy.vision_features import encode_media, encoder_outputs_for


@dataclass
class Completion:
    prompt_index: int
    token_ids: torch.Tensor  # (T,), including the end-of-turn token when one was produced
    logprobs: torch.Tensor  # (T,), the sampler's log-probs
    text: str  # decoded, without the end-of-turn token
    finish_reason: str  # "eos" | "stop" | "length"
    resume: Any = None  # (DecodeState, row): the KV cache to continue this sequence from (keep_state)


@dataclass
class DecodeState:
    """A finished decode's KV cache, kept so a later turn can continue its rows without re-prefilling.

    ``real[i, c]``: cache column c holds a token of row i (0: left padding, or a pad fed after the row
    ended). ``ids[i]``: the real tokens of row i in the cache, in order (a later turn checks that its
    sequence starts with them); ``n_images[i]`` / ``n_videos[i]``: the media they hold."""

    cache: Any
    real: torch.Tensor  # (B, L) long
    ids: list[torch.Tensor]
    n_images: list[int]
    n_videos: list[int]
    n_fed: int = 0  # generated tokens fed back into the cache (the last one sampled never is)


INFERENCE_MODE = True  # decode under torch.inference_mode (no autograd bookkeeping); False: no_grad only
RESERVE_KV = True  # decode into a preallocated KV cache (vrft.policy.kv_cache) instead of growing it by cat


def _sharded(model) -> bool:
    """FSDP2 (DTensor) and DeepSpeed ZeRO parameters: their gathers are kept out of inference mode."""
    return any(type(p).__name__ == "DTensor" or hasattr(p, "ds_id") for p in model.parameters())


def _decoding_mode(fn):
    """Run `fn` under inference mode (no grad otherwise) and return ordinary tensors: inference
    tensors could not be saved for backward or changed in place later."""
    @functools.wraps(fn)
    def wrapper(model, *args, **kwargs):
        fast = INFERENCE_MODE and not _sharded(model)
        # Not `inference_mode(fast)`: inference_mode(False) turns grad mode back on.
        with torch.inference_mode() if fast else torch.no_grad():
            completions = fn(model, *args, **kwargs)
        if fast:
            completions = [replace(c, token_ids=c.token_ids.clone(), logprobs=c.logprobs.clone()) for c in completions]
        return completions

    return wrapper


@_decoding_mode
def hf_generate(model, tokenizer, prompts: list[PromptInputs], n: int, params: SamplingParams, *,
                suppress_ids: torch.Tensor, eos_ids: list[int], pad_id: int,
                generator: torch.Generator | None = None,
                all_finished: Callable[[bool], bool] | None = None,
                stops: list[list[str]] | None = None, keep_state: bool = False) -> list[Completion]:
    """`n` completions for each prompt, ordered prompt-major (prompt 0's n samples first).

    `all_finished(local_done)` lets sharded backends (FSDP2, ZeRO-3), whose every forward is a
    collective, keep decoding until all ranks are done. `stops[p]`: stop strings of prompt p on top
    of `params.stop` (the turn loop stops tool prompts at `</tool_call>`, plain ones not).
    `keep_state`: each completion's `resume` holds the KV cache to continue it from (a later turn)."""
    device = next(model.parameters()).device
    batch = collate(prompts, pad_id, device=device)
    encoded = encode_media(model, prompts)
    out = model(**batch.model_kwargs(), mm_encoder_outputs=encoder_outputs_for(encoded, list(range(len(prompts)))),
                use_cache=True, logits_to_keep=1)
    cache = out.cache if hasattr(out, "cache") else out.past_key_values
    if batch.has_media:
        rope_deltas = core(model).rope_deltas.repeat_interleave(n, 0)  # (B, 1), set by this prefill
    else:  # text-only: plain positions (the model's stored deltas belong to an earlier batch)
        rope_deltas = torch.zeros((len(prompts) * n, 1), dtype=torch.long, device=device)
    cache.batch_repeat_interleave(n)
    logits = out.logits[:, -1].repeat_interleave(n, 0)
    mask = batch.attention_mask.repeat_interleave(n, 0)
    results, state = decode(model, tokenizer, cache, logits, mask, rope_deltas, params, suppress_ids=suppress_ids,
                            eos_ids=eos_ids, pad_id=pad_id, generator=generator, all_finished=all_finished,
                            row_stops=[list(params.stop) + list(stops[i // n] if stops else [])
                                       for i in range(len(prompts) * n)], keep_state=keep_state)
    results = [replace(c, prompt_index=i // n) for i, c in enumerate(results)]
    if state is not None:
        prefix = [p.input_ids for p in prompts for _ in range(n)]
        media = [(0 if p.image_grid_thw is None else len(p.image_grid_thw),
                  0 if p.video_grid_thw is None else len(p.video_grid_thw)) for p in prompts for _ in range(n)]
        finish_state(state, results, prefix, media)
    return results


def finish_state(state: "DecodeState", results: list[Completion], prefix: list[torch.Tensor],
                 media: list[tuple[int, int]]) -> None:
    """Record each row's cached tokens (its prefix and the generated tokens fed back) and media."""
    for i, c in enumerate(results):
        state.ids.append(torch.cat([prefix[i].cpu(), c.token_ids[:state.n_fed].cpu()]))
        state.n_images.append(media[i][0])
        state.n_videos.append(media[i][1])
        results[i] = replace(c, resume=(state, i))


def decode(model, tokenizer, cache, logits, mask, rope_deltas, params: SamplingParams, *, suppress_ids, eos_ids,
           pad_id, generator=None, all_finished=None, row_stops: list[list[str]], keep_state: bool = False):
    """Sample from ``logits`` (B, V) on, feeding tokens back through ``cache``; ``mask`` (B, L) covers
    the cache, ``rope_deltas`` (B, 1) offsets text positions. Returns (completions, DecodeState or None)."""
    device = logits.device
    if RESERVE_KV:  # room for the whole generation: each step writes in place instead of copying the cache
        reserve(cache, mask.shape[1] + params.max_new_tokens)
    b = mask.shape[0]
    real = mask.clone() if keep_state else None
    suppress = suppress_ids.to(device)
    eos = torch.tensor(eos_ids, device=device)
    with_eos = torch.cat([suppress, eos])
    tokens, logps = [], []
    done = torch.zeros(b, dtype=torch.bool, device=device)
    reason = ["length"] * b
    stop_at = [None] * b
    n_fed = 0
    for t in range(params.max_new_tokens):
        was_done = done.clone()
        logits = mask_tokens(logits, with_eos if t < params.min_new_tokens else suppress)
        tok, lp = sample_step(logits, params, generator)
        tok = torch.where(done, torch.full_like(tok, pad_id), tok)
        tokens.append(tok)
        logps.append(torch.where(done, torch.zeros_like(lp), lp))
        newly = ~done & torch.isin(tok, eos)
        for i in newly.nonzero()[:, 0].tolist():
            reason[i], stop_at[i] = "eos", t + 1
        done |= newly
        if any(row_stops):
            for i in (~done).nonzero()[:, 0].tolist():
                if not row_stops[i]:
                    continue
                tail = tokenizer.decode(torch.stack(tokens[-8:])[:, i])
                if any(s in tail for s in row_stops[i]):
                    text = tokenizer.decode(torch.stack(tokens)[:, i])
                    if any(s in text for s in row_stops[i]):
                        reason[i], stop_at[i] = "stop", t + 1
                        done[i] = True
        finished = bool(done.all())
        if all_finished is not None:
            finished = all_finished(finished)
        if finished or t == params.max_new_tokens - 1:
            break
        mask = torch.cat([mask, torch.ones((b, 1), dtype=mask.dtype, device=device)], 1)
        if keep_state:
            real = torch.cat([real, (~was_done).to(real.dtype)[:, None]], 1)
        n_fed += 1
        position_ids = (mask.sum(-1, keepdim=True) - 1 + rope_deltas)[None]  # (1, B, 1)
        out = model(input_ids=tok[:, None], attention_mask=mask, position_ids=position_ids, cache=cache,
                    use_cache=True)
        cache = out.cache if hasattr(out, "cache") else out.past_key_values
        logits = out.logits[:, -1]
    tok_TB, lp_TB = torch.stack(tokens), torch.stack(logps)
    results = []
    for i in range(b):
        end = stop_at[i] or tok_TB.shape[0]
        ids = tok_TB[:end, i].cpu()
        text_ids = ids[:-1] if reason[i] == "eos" else ids
        results.append(Completion(i, ids, lp_TB[:end, i].cpu(), tokenizer.decode(text_ids), reason[i]))
    return results, (DecodeState(cache, real, [], [], [], n_fed) if keep_state else None)
