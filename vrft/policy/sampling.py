"""Sampling parameters and the per-step token sampler.

What the sampler's log-probs mean: the log-probability of the chosen token under the distribution
it was actually drawn from, i.e. `log_softmax(mask(logits) / temperature)` restricted by top-k and
top-p. At temperature 1 without top-k/top-p this equals the policy's log-prob as computed by
:func:`vrft.policy.logprobs.completion_logprobs` (both exclude the suppressed vision tokens, which
are outside the policy's action space). Under top-k/top-p the sampler's values are those of the
truncated distribution and are larger than the policy's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class SamplingParams:
    """How completions are drawn."""

    max_new_tokens: int = 64
    """Upper bound on generated tokens per turn."""
    temperature: float = 1.0
    """Softmax temperature; 0 means greedy."""
    top_p: float = 1.0
    """Nucleus sampling mass (1 disables)."""
    top_k: int = 0
    """Keep the k most likely tokens (0 disables)."""
    min_new_tokens: int = 0
    """End-of-sequence is suppressed before this many tokens (benchmarks force full length)."""
    stop: list[str] = field(default_factory=list)
    """Strings that end a completion (kept in the text), e.g. `</tool_call>` in the tool loop."""

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")


def mask_tokens(logits: torch.Tensor, token_ids: torch.Tensor | None) -> torch.Tensor:
    if token_ids is None or token_ids.numel() == 0:
        return logits
    logits = logits.clone()
    logits[..., token_ids] = float("-inf")
    return logits


def sample_step(logits_BV: torch.Tensor, params: SamplingParams, generator: torch.Generator | None):
    """Draw one token per row; return (tokens (B,), log-probs of the drawn tokens (B,))."""
    if params.temperature == 0:
        logp_BV = torch.log_softmax(logits_BV.float(), -1)
        tok_B = logp_BV.argmax(-1)
        return tok_B, logp_BV.gather(-1, tok_B[:, None])[:, 0]
    logits_BV = logits_BV.float() / params.temperature
    if params.top_k and params.top_k < logits_BV.shape[-1]:
        kth = torch.topk(logits_BV, params.top_k, dim=-1).values[:, -1:]
        logits_BV = logits_BV.masked_fill(logits_BV < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_logits, order = torch.sort(logits_BV, descending=True, dim=-1)
        cum = torch.softmax(sorted_logits, -1).cumsum(-1)
        drop_sorted = (cum - torch.softmax(sorted_logits, -1)) >= params.top_p  # keep the first past p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits_BV = logits_BV.masked_fill(drop, float("-inf"))
    logp_BV = torch.log_softmax(logits_BV, -1)
    tok_B = torch.multinomial(logp_BV.exp(), 1, generator=generator)[:, 0]
    return tok_B, logp_BV.gather(-1, tok_B[:, None])[:, 0]
