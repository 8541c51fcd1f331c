"""RolloutBatch: one step's scored rollouts, prompt-major (row i belongs to prompt ``seq_prompt[i]``).

Every field says once, in its metadata, whether it holds one value per prompt (``per_prompt``) or
one per row (``per_row``); :meth:`RolloutBatch.select` and :meth:`RolloutBatch.concat` walk the
dataclass fields with that, so a new field needs no constructor edits anywhere. A per-row field may
be a list, a tensor whose first dimension is the row, a dict of such tensors (reward components),
or None (not filled yet); a list left empty stays empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Sequence

import torch

from rewards.context import RewardContext
from vrft.data.sample import Sample
from vrft.policy.prompt_inputs import MultiTurnCompletion, PromptInputs

PER = "per"

POLICY, OLD, EXPERT = "policy", "old", "expert"
BEHAVIOURS = (POLICY, OLD, EXPERT)
"""The behaviour policy of a row: ``policy`` sampled by the policy being trained (this step's
weights: on-policy), ``old`` sampled by an earlier policy whose token log-probs are stored in
``behaviour_logprobs`` (a replay buffer), ``expert`` written by an expert with probability 1
(injected ground truth, demonstrations). The update treats each kind explicitly
(:mod:`vrft.grpo.offpolicy`)."""


def per_prompt(**kwargs) -> Any:
    return field(metadata={PER: "prompt"}, **kwargs)


def per_row(**kwargs) -> Any:
    return field(metadata={PER: "row"}, **kwargs)


@dataclass
class RolloutBatch:
    samples: list[Sample] = per_prompt()  # P
    prompts: list[PromptInputs] = per_prompt()  # P
    seq_prompt: list[int] = per_row()  # B, the prompt of each row (renumbered by select / concat)
    completions: list[torch.Tensor | MultiTurnCompletion] = per_row()  # B: token ids, or turns + observations
    sampler_logprobs: list[torch.Tensor | None] = per_row()  # B (None for injected ground truth)
    texts: list[str] = per_row()  # B, the text scored (the last assistant turn with tools)
    finish_reasons: list[str] = per_row()  # B
    behaviour: list[str] = per_row()  # B, who wrote the row: one of BEHAVIOURS (see below)
    contexts: list[RewardContext] = per_row(default_factory=list)  # B
    traces: list[str] = per_row(default_factory=list)  # B, everything after the prompt as text
    multi_turn: list[bool] = per_prompt(default_factory=list)  # P, the prompt ran with tools
    rewards: torch.Tensor | None = per_row(default=None)  # (B,)
    valid: torch.Tensor | None = per_row(default=None)  # (B,) bool: False when the reward errored
    components: dict[str, torch.Tensor] = per_row(default_factory=dict)  # name -> (B,)
    behaviour_logprobs: list[torch.Tensor | None] = per_row(default_factory=list)  # B: stored for "old" rows
    # B: (T,) bool per row, True on the completion tokens an expert wrote inside a row the policy
    # continued (prefix sampling, vrft.rollout.prefix); None: the row's behaviour holds for every token
    expert_tokens: list[torch.Tensor | None] = per_row(default_factory=list)

    @property
    def injected(self) -> list[bool]:
        """Per row: written by an expert (the rendered ground truth), not sampled."""
        return [b == EXPERT for b in self.behaviour]

    @property
    def group_ids(self) -> torch.Tensor:
        return torch.tensor(self.seq_prompt, dtype=torch.long)

    def rows_of(self, p: int) -> list[int]:
        return [i for i, q in enumerate(self.seq_prompt) if q == p]

    def select(self, prompt_indices: Sequence[int]) -> "RolloutBatch":
        """A new batch holding only prompts ``prompt_indices`` (renumbered in that order)."""
        groups = list(prompt_indices)
        by_prompt: dict[int, list[int]] = {}
        for i, q in enumerate(self.seq_prompt):
            by_prompt.setdefault(q, []).append(i)
        rows = [i for p in groups for i in by_prompt.get(p, [])]
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "seq_prompt":
                remap = {p: k for k, p in enumerate(groups)}
                out[f.name] = [remap[value[i]] for i in rows]
            else:
                out[f.name] = _take(value, groups if f.metadata[PER] == "prompt" else rows)
        return replace(self, **out)

    @classmethod
    def concat(cls, batches: Sequence["RolloutBatch"]) -> "RolloutBatch":
        """One batch with the prompts of ``batches`` in order (prompt indices offset)."""
        assert batches, "nothing to concatenate"
        out = {}
        for f in fields(cls):
            values = [getattr(b, f.name) for b in batches]
            if f.name == "seq_prompt":
                offsets = [0]
                for b in batches[:-1]:
                    offsets.append(offsets[-1] + len(b.samples))
                out[f.name] = [p + off for v, off in zip(values, offsets) for p in v]
            else:
                per_prompt_field = f.metadata[PER] == "prompt"
                out[f.name] = _join(values, [len(b.seq_prompt) for b in batches],
                                    [len(b.samples) if per_prompt_field else len(b.seq_prompt) for b in batches])
        return cls(**out)


def _take(value, index: list[int]):
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value[index]
    if isinstance(value, dict):
        return {k: _take(v, index) for k, v in value.items()}
    if not value:  # a list left empty stays empty
        return []
    return [value[i] for i in index]


def _join(values: list, n_rows: list[int], n_items: list[int]):
    """``n_items``: how many entries each batch holds of this field; batches holding none (no
    prompts) are left out, so an empty selection joins with anything."""
    kept = [(v, r) for v, r, n in zip(values, n_rows, n_items) if n] or [(values[0], n_rows[0])]
    values, n_rows = [v for v, _ in kept], [r for _, r in kept]
    first = values[0]
    if any(v is None for v in values):
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(values)
    if isinstance(first, dict):  # reward components: NaN where a batch lacks one
        keys = sorted({k for v in values for k in v})
        return {k: torch.cat([v.get(k, torch.full((n,), float("nan"))) for v, n in zip(values, n_rows)])
                for k in keys}
    if any(not v for v in values) and not all(not v for v in values):
        # a list filled in some batches only: cannot line up with the rows
        raise ValueError("cannot concatenate batches where a list field is filled in some and empty in others")
    return [x for v in values for x in v]


def group_has_signal(batch: RolloutBatch, p: int) -> bool:
    """A group teaches something only if its (valid) rewards differ."""
    rows = [i for i in batch.rows_of(p) if bool(batch.valid[i])]
    r = batch.rewards[rows]
    return r.numel() > 1 and float(r.max() - r.min()) > 1e-9
