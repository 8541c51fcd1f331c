"""Shared-prefix packing: score a group's G completions in one row that holds the prompt once.

A GRPO group is G completions of one prompt. The usual log-prob forward runs G rows of
``prompt + completion_i``, so the prompt (often mostly vision tokens) goes through the language
model G times, in the forward and again in the backward. Packed, one row per prompt reads

    [prompt | completion_1 | completion_2 | ... | completion_k]

with a block attention mask: the prompt is causal as usual, and each completion sees the prompt
and its own earlier tokens, never another completion. Each completion token gets the 3D (mrope)
position it has in the unpacked sequence, so every completion token sees exactly the keys, values
and positions it sees unpacked: log-probs and gradients are the same up to floating-point
summation order (``tests/perf/test_shared_prefix.py``). The prompt's hidden states are computed
once, and the backward sums the G completions' gradients into them once.

Logits are taken only where they are needed (``logits_to_keep`` as per-row positions): the prompt's
last position, which predicts every completion's first token, then each completion position but
its last.

Needs a custom 4D mask, so it runs with ``sdpa`` and ``eager`` attention (flash-attention kernels
take no such mask: those models use the unpacked path), and on plain, non-empty completion tensors
(multi-turn completions with their own media use the unpacked path).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vrft.policy.batching import collate
from vrft.policy.prompt_inputs import MultiTurnCompletion, PromptInputs
from vrft.policy.token_logprobs import token_logprobs_from_logits
from vrft.policy.unwrap import core, unwrap

MASK_IMPLEMENTATIONS = ("sdpa", "eager")
GRID_KEYS = ("image_grid_thw", "video_grid_thw", "second_per_grid_ts")


def supported(model, completions: list) -> bool:
    """Whether `completions` can be scored packed with this model's attention kernel."""
    if any(isinstance(c, MultiTurnCompletion) or int(c.shape[0]) == 0 for c in completions):
        return False
    impl = getattr(unwrap(model).config.get_text_config(), "_attn_implementation", None)
    return impl in MASK_IMPLEMENTATIONS


@dataclass
class PackedBatch:
    """Packed rows, one per distinct prompt (R rows of length L; N kept logit columns per row)."""

    input_ids: torch.Tensor  # (R, L)
    mm_token_type_ids: torch.Tensor  # (R, L)
    position_ids: torch.Tensor  # (3, R, L)
    allowed: torch.Tensor  # (R, 1, L, L) bool: query q may attend key k
    keep: torch.Tensor  # (R, N) positions whose logits are computed; column 0 is the prompt's last token
    targets: torch.Tensor  # (R, N) the token each kept column predicts (column 0 and padding: dummy)
    first: torch.Tensor  # (R, K) each segment's first token (predicted by column 0); padding: dummy
    seqs: list[tuple[int, int, int, int]]  # per input sequence: (row, segment, first column, length)
    row_prompt: list[int]  # the prompt index of each row
    grids: dict  # image / video grids and second_per_grid_ts of the rows' prompts, in row order


def pack(prompts: list[PromptInputs], seq_prompt: list[int], completions: list[torch.Tensor], pad_id: int,
         rope_index) -> PackedBatch:
    """Lay out `completions[i]` (of prompt `prompts[seq_prompt[i]]`) one row per distinct prompt.

    `rope_index(input_ids, mm_token_type_ids, attention_mask, grids)` returns the model's
    (3, R, Lp) prompt positions and (R, 1) deltas (Qwen's `get_rope_index`)."""
    row_prompt = list(dict.fromkeys(seq_prompt))  # distinct prompts, first-seen order
    row_of = {p: r for r, p in enumerate(row_prompt)}
    segs: list[list[int]] = [[] for _ in row_prompt]
    for i, p in enumerate(seq_prompt):
        segs[row_of[p]].append(i)
    pb = collate([prompts[p] for p in row_prompt], pad_id)
    lp = pb.prompt_len
    grids = {k: getattr(pb, k) for k in GRID_KEYS if getattr(pb, k) is not None}
    pos_prompt, delta = rope_index(pb.input_ids, pb.mm_token_type_ids, pb.attention_mask, grids)
    n_real = pb.attention_mask.sum(-1)  # (R,)
    lens = [[int(completions[i].shape[0]) for i in s] for s in segs]
    r_count, length = len(row_prompt), lp + max(sum(ls) for ls in lens)
    k_max = max(len(s) for s in segs)
    n_cols = 1 + max(sum(n - 1 for n in ls) for ls in lens)

    ids = torch.full((r_count, length), pad_id, dtype=torch.long)
    mm = torch.zeros((r_count, length), dtype=torch.long)
    pos = torch.zeros((3, r_count, length), dtype=torch.long)
    seg_id = torch.full((r_count, length), -1, dtype=torch.long)  # 0: prompt, k + 1: completion k, -1: padding
    keep = torch.full((r_count, n_cols), lp - 1, dtype=torch.long)
    targets = torch.zeros((r_count, n_cols), dtype=torch.long)
    first = torch.zeros((r_count, k_max), dtype=torch.long)
    ids[:, :lp], mm[:, :lp] = pb.input_ids, pb.mm_token_type_ids
    pos[:, :, :lp] = pos_prompt.to(torch.long)
    seg_id[:, :lp] = torch.where(pb.attention_mask.bool(), 0, -1)
    seqs: list[tuple[int, int, int, int]] = [None] * len(completions)  # type: ignore[list-item]
    for r, s in enumerate(segs):
        start, col = lp, 1
        for k, i in enumerate(s):
            c, n = completions[i].to(torch.long), lens[r][k]
            ids[r, start:start + n] = c
            # A completion token's position is its unpacked one: after the prompt's real tokens, plus
            # the prompt's mrope delta (as when decoding).
            pos[:, r, start:start + n] = n_real[r] + torch.arange(n) + delta[r].to(torch.long)
            seg_id[r, start:start + n] = k + 1
            first[r, k] = c[0]
            keep[r, col:col + n - 1] = torch.arange(start, start + n - 1)
            targets[r, col:col + n - 1] = c[1:]
            seqs[i] = (r, k, col, n)
            start, col = start + n, col + n - 1
    q_seg, k_seg = seg_id[:, :, None], seg_id[:, None, :]
    causal = torch.ones((length, length), dtype=torch.bool).tril()
    allowed = causal & (k_seg >= 0) & (q_seg >= 0) & ((k_seg == 0) | (k_seg == q_seg))
    allowed |= torch.eye(length, dtype=torch.bool)  # padding attends to itself: no empty softmax rows
    return PackedBatch(ids, mm, pos, allowed[:, None], keep, targets, first, seqs, row_prompt, grids)


def model_rope_index(model):
    """`rope_index` for :func:`pack` from the model's own `get_rope_index`."""
    inner = core(model)

    def rope_index(input_ids, mm_token_type_ids, attention_mask, grids):
        return inner.get_rope_index(input_ids, mm_token_type_ids=mm_token_type_ids, attention_mask=attention_mask,
                                    **grids)

    return rope_index


def attention_mask(allowed: torch.Tensor, model, dtype: torch.dtype) -> torch.Tensor:
    """The 4D mask in the format of the model's kernel: bool for sdpa, additive float for eager."""
    impl = unwrap(model).config.get_text_config()._attn_implementation
    if impl == "sdpa":
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)


def packed_logprobs(model, packed: PackedBatch, model_inputs: dict, temperature: float,
                    suppress_ids: torch.Tensor | None, with_entropy: bool, device):
    """Per-sequence log-probs (and entropies) of a packed batch; `model_inputs` adds the vision
    inputs (`mm_encoder_outputs` or pixels) of the rows' prompts."""
    dtype = next(model.parameters()).dtype
    kwargs = dict(input_ids=packed.input_ids.to(device), mm_token_type_ids=packed.mm_token_type_ids.to(device),
                  position_ids=packed.position_ids.to(device),
                  attention_mask=attention_mask(packed.allowed, model, dtype).to(device),
                  **{k: v.to(device) for k, v in packed.grids.items()}, **model_inputs)
    logits_RNV = model(**kwargs, use_cache=False, logits_to_keep=packed.keep.to(device)).logits
    r, k_max = packed.first.shape
    first_lp, first_ent = token_logprobs_from_logits(logits_RNV[:, :1].expand(r, k_max, -1), packed.first.to(device),
                                                     temperature, suppress_ids, with_entropy)
    rest_lp, rest_ent = token_logprobs_from_logits(logits_RNV[:, 1:], packed.targets[:, 1:].to(device), temperature,
                                                   suppress_ids, with_entropy)
    lps, ents = [], []
    for row, seg, col, n in packed.seqs:
        # Column `col` of `packed.keep` is rest column `col - 1`.
        lps.append(torch.cat([first_lp[row, seg:seg + 1], rest_lp[row, col - 1:col - 1 + n - 1]]))
        if with_entropy:
            ents.append(torch.cat([first_ent[row, seg:seg + 1], rest_ent[row, col - 1:col - 1 + n - 1]]))
    return lps, (ents if with_entropy else None)
