"""Collate encoded prompts (and completions) into padded batches.

Prompts are left-padded so every completion starts at the same column; completions are
right-padded after that. Vision tensors are concatenated in sequence order, which is the order the
model consumes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vrft.policy.prompt_inputs import MultiTurnCompletion, PromptInputs


@dataclass
class Batch:
    input_ids: torch.Tensor  # (B, L)
    attention_mask: torch.Tensor  # (B, L)
    mm_token_type_ids: torch.Tensor  # (B, L)
    image_grid_thw: torch.Tensor | None
    video_grid_thw: torch.Tensor | None
    second_per_grid_ts: torch.Tensor | None
    prompt_len: int  # column where completions start

    @property
    def has_media(self) -> bool:
        return self.image_grid_thw is not None or self.video_grid_thw is not None

    def model_kwargs(self) -> dict:
        kw = dict(input_ids=self.input_ids, attention_mask=self.attention_mask,
                  mm_token_type_ids=self.mm_token_type_ids)
        for name in ("image_grid_thw", "video_grid_thw", "second_per_grid_ts"):
            value = getattr(self, name)
            if value is not None:
                kw[name] = value
        if not self.has_media:
            # Without media the model would number positions 0..L-1 over the left padding (and
            # may reuse rope deltas of an earlier batch); count only real tokens instead, as
            # get_rope_index does for text rows of a media batch.
            pos_BL = (self.attention_mask.long().cumsum(-1) - 1).clamp(min=0)
            kw["position_ids"] = pos_BL[None].expand(3, -1, -1)
        return kw


def _cat(tensors: list[torch.Tensor | None]) -> torch.Tensor | None:
    present = [t for t in tensors if t is not None]
    return torch.cat(present, 0) if present else None


def collate(prompts: list[PromptInputs], pad_id: int,
            completions: list[torch.Tensor | MultiTurnCompletion] | None = None,
            device: torch.device | str = "cpu") -> Batch:
    """Left-pad prompts to a common length and append right-padded completions (if given).

    A :class:`MultiTurnCompletion` brings its own token types and media: each row's grids are its
    prompt's followed by its completion's, rows in order."""
    lp = max(p.length for p in prompts)
    lc = max((int(c.shape[0]) for c in completions), default=0) if completions else 0
    b = len(prompts)
    ids = torch.full((b, lp + lc), pad_id, dtype=torch.long)
    mask = torch.zeros((b, lp + lc), dtype=torch.long)
    mm = torch.zeros((b, lp + lc), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, lp - p.length:lp] = p.input_ids
        mask[i, lp - p.length:lp] = 1
        mm[i, lp - p.length:lp] = p.mm_token_type_ids
        if completions:
            c = completions[i]
            n = int(c.shape[0])
            if isinstance(c, MultiTurnCompletion):
                ids[i, lp:lp + n] = c.token_ids
                mm[i, lp:lp + n] = c.mm_token_type_ids
            else:
                ids[i, lp:lp + n] = c
            mask[i, lp:lp + n] = 1
    # Vision inputs in the order the tokens consume them: row by row, prompt media then completion media.
    rows: list = []
    for i, p in enumerate(prompts):
        rows.append(p)
        if completions and isinstance(completions[i], MultiTurnCompletion):
            rows.append(completions[i])
    spg = _cat([r.second_per_grid_ts for r in rows])
    return Batch(
        input_ids=ids.to(device), attention_mask=mask.to(device), mm_token_type_ids=mm.to(device),
        image_grid_thw=None if (g := _cat([r.image_grid_thw for r in rows])) is None else g.to(device),
        video_grid_thw=None if (g := _cat([r.video_grid_thw for r in rows])) is None else g.to(device),
        second_per_grid_ts=None if spg is None else spg.to(device),
        prompt_len=lp,
    )
