"""Continue sequences from the KV cache of their previous turn (the HF backend of the turn loop).

A tool trajectory's next turn is its previous sequence plus the tokens not yet in the cache: the last
sampled token (never fed back), the observation turn (template text, the crop's or clip's tokens)
and the next assistant header. Only those pass through the model, and only the new crops / clips
go through the vision tower; the prompt and earlier turns stay in the cache, their media encoded
once. Rows of the previous decode are selected (finished trajectories dropped), the new chunks are
appended left-padded (padding in the middle is masked), and positions are given explicitly: each
row's 3D rope index computed on its whole unpadded sequence, sliced to the chunk. Same tokens, same
positions, same masks as re-prefilling the whole sequence, so the sampled tokens and their log-probs
match it (up to floating-point summation order).

For unsharded models only: a sharded model's (FSDP2, ZeRO-3) forwards are collectives and ranks
would disagree on whether this turn runs the vision tower; those re-prefill.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from vrft.policy.hf_generator import Completion, DecodeState, _decoding_mode, decode, finish_state
from vrft.policy.prompt_inputs import PromptInputs
from vrft.policy.sampling import SamplingParams
from vrft.policy.unwrap import core


def _count(grid: torch.Tensor | None) -> int:
    return 0 if grid is None else int(grid.shape[0])


def _patches(grid: torch.Tensor | None, k: int) -> int:
    return 0 if grid is None or k == 0 else int(grid[:k].prod(-1).sum())


def can_continue(resumes: list, inputs: list[PromptInputs]) -> bool:
    """All rows come from one previous decode and each sequence starts with its cached tokens."""
    if not resumes or any(r is None for r in resumes):
        return False
    state = resumes[0][0]
    if state.cache is None or any(r[0] is not state for r in resumes):
        return False
    for (_, row), p in zip(resumes, inputs):
        ids = state.ids[row]
        if p.length <= len(ids) or not torch.equal(p.input_ids[:len(ids)].cpu(), ids):
            return False
    return True


def _positions(model, p: PromptInputs) -> tuple[torch.Tensor, int]:
    """(3, L) rope positions of a whole sequence and its delta (0 for text only)."""
    if p.image_grid_thw is None and p.video_grid_thw is None:
        return torch.arange(p.length).expand(3, -1), 0
    pos, delta = core(model).get_rope_index(
        p.input_ids[None], mm_token_type_ids=p.mm_token_type_ids[None], image_grid_thw=p.image_grid_thw,
        video_grid_thw=p.video_grid_thw, second_per_grid_ts=p.second_per_grid_ts)
    return pos[:, 0], int(delta.reshape(-1)[0])


@_decoding_mode
def hf_continue(model, tokenizer, inputs: list[PromptInputs], resumes: list, params: SamplingParams, *,
                suppress_ids: torch.Tensor, eos_ids: list[int], pad_id: int, generator=None, all_finished=None,
                stops: list[list[str]] | None = None) -> list[Completion]:
    """One completion per sequence ``inputs[i]``, continuing row ``resumes[i]`` of a previous decode."""
    device = next(model.parameters()).device
    state: DecodeState = resumes[0][0]
    rows = [r for _, r in resumes]
    cache, state.cache = state.cache, None  # selected in place: the old rows cannot be continued again
    cache.batch_select_indices(torch.tensor(rows, device=device))
    real = state.real[rows]
    b = len(inputs)
    chunks = [p.input_ids[len(state.ids[r]):] for p, r in zip(inputs, rows)]
    width = max(len(c) for c in chunks)
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    mm = torch.zeros((b, width), dtype=torch.long)
    chunk_mask = torch.zeros((b, width), dtype=real.dtype)
    pos = torch.zeros((3, b, width), dtype=torch.long)
    deltas = torch.zeros((b, 1), dtype=torch.long)
    pixels, grids, vpixels, vgrids, spg = [], [], [], [], []
    for i, (p, r, c) in enumerate(zip(inputs, rows, chunks)):
        start = width - len(c)
        ids[i, start:] = c
        mm[i, start:] = p.mm_token_type_ids[len(state.ids[r]):]
        chunk_mask[i, start:] = 1
        full, deltas[i, 0] = _positions(model, p)
        pos[:, i, start:] = full[:, len(state.ids[r]):]
        ni, nv = state.n_images[r], state.n_videos[r]
        if _count(p.image_grid_thw) > ni:
            pixels.append(p.pixel_values[_patches(p.image_grid_thw, ni):])
            grids.append(p.image_grid_thw[ni:])
        if _count(p.video_grid_thw) > nv:
            vpixels.append(p.pixel_values_videos[_patches(p.video_grid_thw, nv):])
            vgrids.append(p.video_grid_thw[nv:])
            if p.second_per_grid_ts is not None:
                spg.append(p.second_per_grid_ts[nv:])
    mask = torch.cat([real, chunk_mask.to(device)], 1)
    kwargs = dict(input_ids=ids.to(device), mm_token_type_ids=mm.to(device), attention_mask=mask,
                  position_ids=pos.to(device), cache=cache, use_cache=True, logits_to_keep=1)
    if pixels:
        kwargs.update(pixel_values=torch.cat(pixels).to(device), image_grid_thw=torch.cat(grids).to(device))
    if vpixels:
        kwargs.update(pixel_values_videos=torch.cat(vpixels).to(device), video_grid_thw=torch.cat(vgrids).to(device))
        if spg:
            kwargs["second_per_grid_ts"] = torch.cat(spg).to(device)
    out = model(**kwargs)
    cache = out.cache if hasattr(out, "cache") else out.past_key_values
    # positions of later tokens: (real tokens so far) - 1 + delta, as in the first turn's decode
    row_stops = [list(params.stop) + list(stops[i] if stops else []) for i in range(b)]
    results, new = decode(model, tokenizer, cache, out.logits[:, -1], mask, deltas.to(device), params,
                          suppress_ids=suppress_ids, eos_ids=eos_ids, pad_id=pad_id, generator=generator,
                          all_finished=all_finished, row_stops=row_stops, keep_state=True)
    results = [replace(c, prompt_index=i) for i, c in enumerate(results)]
    finish_state(new, results, [p.input_ids for p in inputs],
                 [(_count(p.image_grid_thw), _count(p.video_grid_thw)) for p in inputs])
    return results
