"""Per-token log-probs (and entropy) of completions given their prompts and media.

Memory-lean: logits are computed only for completion positions (`logits_to_keep`), one
micro-batch at a time, and reduced with `logsumexp` instead of a stored full-vocabulary
log-softmax. The same vision tokens the sampler suppresses are masked here, so at temperature 1
the result equals the sampler's log-probs (see `vrft.policy.sampling`). Logits are divided by the
sampling temperature, as the sampler did.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vrft.policy.batching import collate
from vrft.policy.prompt_inputs import MultiTurnCompletion, PromptInputs
from vrft.policy.shared_prefix import model_rope_index, pack, packed_logprobs
from vrft.policy.shared_prefix import supported as shared_prefix_supported
from vrft.policy.token_logprobs import token_logprobs_from_logits
from vrft.policy.vision_features import EncodedMedia, encode_media, encoder_outputs_for


@dataclass
class LogprobOutput:
    logprobs: list[torch.Tensor]  # one (T_i,) tensor per sequence
    entropy: list[torch.Tensor] | None = None
    loss_masks: list[torch.Tensor] | None = None  # one (T_i,) float tensor per sequence: 1 where the model generated


def completion_logprobs(model, prompts: list[PromptInputs], seq_prompt: list[int],
                        completions: list[torch.Tensor | MultiTurnCompletion],
                        *, pad_id: int, suppress_ids: torch.Tensor | None = None, temperature: float = 1.0,
                        micro_batch: int = 8, with_entropy: bool = False,
                        encoded: list[EncodedMedia] | None = None, share_vision: bool = True,
                        shared_prefix: bool = False) -> LogprobOutput:
    """Log-probs of `completions[i]` given prompt `prompts[seq_prompt[i]]`.

    With `share_vision`, each prompt's media is encoded once for all its sequences (pass `encoded`
    to reuse the prompts' features computed earlier in the same step). A completion's own media (a
    MultiTurnCompletion's crops and clips) is encoded in the same vision call as the prompts'.
    With `shared_prefix`, each micro-batch is scored packed, one row per prompt holding the prompt
    once (see `vrft.policy.shared_prefix`; same result, the prompt's tokens run once per group).
    Gradients flow when grad is enabled.
    """
    device = next(model.parameters()).device
    own: dict[int, int] = {}  # completion index -> its entry in `encoded` (MultiTurnCompletion media)
    if share_vision:
        # One vision call per modality for all prompts and completions (sharded backends need every
        # rank to make the same calls; fewer calls also means fewer all-gathers).
        rows_with_media = [i for i, c in enumerate(completions) if isinstance(c, MultiTurnCompletion) and c.has_media]
        extra = [completions[i] for i in rows_with_media]
        if encoded is None:
            encoded = encode_media(model, list(prompts) + extra)
        elif extra:
            encoded = list(encoded) + encode_media(model, extra)
        own = {i: len(prompts) + k for k, i in enumerate(rows_with_media)}
    out_lp: list[torch.Tensor] = []
    out_ent: list[torch.Tensor] = []
    out_mask: list[torch.Tensor] = []
    for s in range(0, len(completions), micro_batch):
        idx = list(range(s, min(s + micro_batch, len(completions))))
        rows = [prompts[seq_prompt[i]] for i in idx]
        comps = [c if isinstance(c := completions[i], MultiTurnCompletion) else c.to(torch.long) for i in idx]
        if shared_prefix and shared_prefix_supported(model, comps):
            lps, ents = _packed(model, prompts, [seq_prompt[i] for i in idx], comps, encoded if share_vision else None,
                                pad_id, temperature, suppress_ids, with_entropy, device)
            out_lp += lps
            out_ent += ents or []
            out_mask += [torch.ones(int(c.shape[0]), dtype=torch.float32) for c in comps]
            continue
        batch = collate(rows, pad_id, completions=comps, device=device)
        t_max = max(int(c.shape[0]) for c in comps)
        kwargs = batch.model_kwargs()
        if share_vision:
            # Features in token order: each row's prompt media, then its completion's own media.
            order = [j for i in idx for j in ([seq_prompt[i], own[i]] if i in own else [seq_prompt[i]])]
            kwargs["mm_encoder_outputs"] = encoder_outputs_for(encoded, order)
        else:
            kwargs.update(_pixels([x for r, c in zip(rows, comps) for x in (r, c) if isinstance(x, PromptInputs)
                                   or (isinstance(x, MultiTurnCompletion) and x.has_media)], device))
        # Logits at the last t_max + 1 positions; the final one predicts past the sequence.
        logits = model(**kwargs, use_cache=False, logits_to_keep=t_max + 1).logits[:, :-1]
        targets = batch.input_ids[:, batch.prompt_len:]
        lp, ent = token_logprobs_from_logits(logits, targets, temperature, suppress_ids, with_entropy)
        for j, c in enumerate(comps):
            n = int(c.shape[0])
            if isinstance(c, MultiTurnCompletion):
                keep = c.loss_mask.to(device=lp.device, dtype=torch.bool)
                out_lp.append(torch.where(keep, lp[j, :n], torch.zeros_like(lp[j, :n])))
                if ent is not None:
                    out_ent.append(torch.where(keep, ent[j, :n], torch.zeros_like(ent[j, :n])))
                out_mask.append(c.loss_mask.to(torch.float32))
            else:
                out_lp.append(lp[j, :n])
                if ent is not None:
                    out_ent.append(ent[j, :n])
                out_mask.append(torch.ones(n, dtype=torch.float32))
    return LogprobOutput(out_lp, out_ent if with_entropy else None, out_mask)


def _packed(model, prompts, seq_prompt, comps, encoded, pad_id, temperature, suppress_ids, with_entropy, device):
    """One micro-batch through the shared-prefix path (`encoded` None: raw pixels)."""
    packed = pack(prompts, seq_prompt, comps, pad_id, model_rope_index(model))
    if encoded is not None:
        vision = {"mm_encoder_outputs": encoder_outputs_for(encoded, packed.row_prompt)}
    else:
        vision = _pixels([prompts[p] for p in packed.row_prompt], device)
    return packed_logprobs(model, packed, vision, temperature, suppress_ids, with_entropy, device)


def _pixels(rows: list, device) -> dict:
    """Raw pixel inputs for a batch (the unshared path, used to check sharing is exact); `rows` are
    PromptInputs / MultiTurnCompletions in token order."""
    kw = {}
    if any(r.pixel_values is not None for r in rows):
        kw["pixel_values"] = torch.cat([r.pixel_values for r in rows if r.pixel_values is not None]).to(device)
    if any(r.pixel_values_videos is not None for r in rows):
        kw["pixel_values_videos"] = torch.cat(
            [r.pixel_values_videos for r in rows if r.pixel_values_videos is not None]).to(device)
    return kw
