"""Multi-turn sequences: observation turns in the model's own chat format, and the pieces after the
initial prompt as one :class:`MultiTurnCompletion`.

A tool-using rollout is the initial prompt followed by alternating pieces:

    assistant tokens (generated, loss 1) | observation turn (template + tool output, loss 0) | ...

Generated tokens are kept exactly as sampled (never re-tokenised from text), so the log-prob pass
sees the sampler's tokens. An observation turn is rendered by the processor's chat template (a
`role: tool` message after an assistant message), then encoded by the same processor call as a
prompt, so its images and clips expand to the right number of placeholder tokens and come with
their pixel values and grids.

Example (continue generation after one observation)::

    glue = observation_turn_text(processor, "Zoomed view.", n_images=1)
    part = encode_observation(processor, glue, images=[crop])          # loss_mask all 0
    seq = concat_completions([generated_part(turn1_ids), part])
    next_inputs = extend_prompt(prompt, seq)                            # a PromptInputs to generate from
    logps = policy.logprobs([prompt], [0], [seq])                        # 0 outside the loss mask
"""

from __future__ import annotations

import torch

from vrft.policy.media import LoadedImage, LoadedVideo
from vrft.policy.prompt_inputs import MultiTurnCompletion, PromptInputs, processor_kwargs

END_OF_TURN = "<|im_end|>"
_SENTINEL = "@@vrft-assistant-turn@@"

__all__ = ["END_OF_TURN", "MultiTurnCompletion", "concat_completions", "empty_completion", "encode_observation",
           "extend_prompt", "generated_part", "observation_turn_text"]


def observation_turn_text(processor, text: str, n_images: int = 0, n_videos: int = 0, *, role: str = "tool",
                          after_end_of_turn: bool = False) -> str:
    """The text between the end of an assistant turn's generated tokens and the next assistant
    turn's first generated token: the end of the assistant turn, the observation message (one
    image / video block per item, media first, then `text`) and the next assistant header.

    It is cut out of the processor's chat template rendered on
    `[user, assistant(<sentinel>), <role>(observation)]` with a generation prompt, so it follows
    whatever that template does with tool messages. With `after_end_of_turn` (the assistant turn
    already ended with its own end token) the template's leading end token is dropped."""
    content: list[dict] = [{"type": "image"} for _ in range(n_images)]
    content += [{"type": "video"} for _ in range(n_videos)]
    if text:
        content.append({"type": "text", "text": text})
    messages = [{"role": "user", "content": "."}, {"role": "assistant", "content": _SENTINEL},
                {"role": role, "content": content}]
    full = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    glue = full[full.index(_SENTINEL) + len(_SENTINEL):]
    if after_end_of_turn and glue.startswith(END_OF_TURN):
        glue = glue[len(END_OF_TURN):]
    return glue


def encode_observation(processor, glue_text: str, images: list[LoadedImage] = (),
                       videos: list[LoadedVideo] = ()) -> MultiTurnCompletion:
    """Encode an observation turn (from :func:`observation_turn_text`) with its media; loss mask 0."""
    enc = processor(**processor_kwargs(glue_text, list(images), list(videos)))
    ids = enc["input_ids"][0]
    mm = enc["mm_token_type_ids"][0] if "mm_token_type_ids" in enc else torch.zeros_like(ids)
    return MultiTurnCompletion(
        token_ids=ids, mm_token_type_ids=mm, loss_mask=torch.zeros_like(ids),
        pixel_values=enc.get("pixel_values"), image_grid_thw=enc.get("image_grid_thw"),
        pixel_values_videos=enc.get("pixel_values_videos"), video_grid_thw=enc.get("video_grid_thw"),
        second_per_grid_ts=enc.get("second_per_grid_ts"),
    )


def generated_part(token_ids: torch.Tensor) -> MultiTurnCompletion:
    """Tokens the model generated: text, loss mask 1."""
    ids = token_ids.to(torch.long)
    return MultiTurnCompletion(token_ids=ids, mm_token_type_ids=torch.zeros_like(ids), loss_mask=torch.ones_like(ids))


def empty_completion() -> MultiTurnCompletion:
    z = torch.zeros(0, dtype=torch.long)
    return MultiTurnCompletion(token_ids=z, mm_token_type_ids=z.clone(), loss_mask=z.clone())


def _cat(parts: list[torch.Tensor | None]) -> torch.Tensor | None:
    present = [p for p in parts if p is not None]
    return torch.cat(present, 0) if present else None


def concat_completions(parts: list[MultiTurnCompletion]) -> MultiTurnCompletion:
    """Pieces in sequence order -> one completion (media concatenated in the same order)."""
    if not parts:
        return empty_completion()
    return MultiTurnCompletion(
        token_ids=torch.cat([p.token_ids for p in parts]),
        mm_token_type_ids=torch.cat([p.mm_token_type_ids for p in parts]),
        loss_mask=torch.cat([p.loss_mask for p in parts]),
        pixel_values=_cat([p.pixel_values for p in parts]),
        image_grid_thw=_cat([p.image_grid_thw for p in parts]),
        pixel_values_videos=_cat([p.pixel_values_videos for p in parts]),
        video_grid_thw=_cat([p.video_grid_thw for p in parts]),
        second_per_grid_ts=_cat([p.second_per_grid_ts for p in parts]),
    )


def extend_prompt(prompt: PromptInputs, completion: MultiTurnCompletion, text: str = "") -> PromptInputs:
    """The prompt followed by `completion`: model inputs to generate the next assistant turn from.
    Image frames and video info stay the prompt's (they describe the media answers refer to)."""
    return PromptInputs(
        input_ids=torch.cat([prompt.input_ids, completion.token_ids.to(prompt.input_ids.dtype)]),
        mm_token_type_ids=torch.cat([prompt.mm_token_type_ids,
                                     completion.mm_token_type_ids.to(prompt.mm_token_type_ids.dtype)]),
        text=prompt.text + text,
        pixel_values=_cat([prompt.pixel_values, completion.pixel_values]),
        image_grid_thw=_cat([prompt.image_grid_thw, completion.image_grid_thw]),
        pixel_values_videos=_cat([prompt.pixel_values_videos, completion.pixel_values_videos]),
        video_grid_thw=_cat([prompt.video_grid_thw, completion.video_grid_thw]),
        second_per_grid_ts=_cat([prompt.second_per_grid_ts, completion.second_per_grid_ts]),
        image_frames=list(prompt.image_frames),
        video_info=prompt.video_info,
    )
