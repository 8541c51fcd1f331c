"""The policy wrapper: a loaded Qwen-VL model plus everything needed to roll it out and score it.

Example::

    policy = Policy.from_pretrained("Qwen/Qwen2.5-VL-3B-Instruct")   # or a local folder
    prompt = policy.encode("What colour is the shape?", images=["shape.png"])
    completions = policy.generate([prompt], n=8, params=SamplingParams(max_new_tokens=64))
    logps = policy.logprobs([prompt], [c.prompt_index for c in completions],
                            [c.token_ids for c in completions]).logprobs
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from vrft.policy.families import Family
from vrft.policy.hf_generator import Completion, hf_generate
from vrft.policy.loading import LoadSettings, load_model
from vrft.policy.logprobs import LogprobOutput, completion_logprobs
from vrft.policy.media import LoadedImage, LoadedVideo, VideoClip, VisionSettings, load_image, load_video
from vrft.policy.media_cache import MediaCache
from vrft.policy.messages import build_messages
from vrft.policy.prompt_inputs import PromptInputs, encode_prompt
from vrft.policy.sampling import SamplingParams
from vrft.policy.tiny_tokenizer import VISION_SPECIAL_TOKENS
from vrft.policy.turn_cache import hf_continue
from vrft.policy.unwrap import strip_parallel, unwrap


class Policy:
    def __init__(self, model, processor, family: Family, *, media_cache_bytes: int = 512 * 2**20) -> None:
        self.model = model
        self.processor = processor
        self.family = family
        self.tokenizer = processor.tokenizer
        self.media_cache = MediaCache(media_cache_bytes)
        ids = [self.tokenizer.convert_tokens_to_ids(t) for t in VISION_SPECIAL_TOKENS]
        unk = self.tokenizer.unk_token_id
        ids = sorted({i for i in ids if i is not None and i != unk})
        # Ids past the tokenizer (embedding padding in real checkpoints) decode to nothing: suppress too.
        vocab = unwrap(model).config.get_text_config().vocab_size
        self.suppress_ids = torch.tensor(ids + list(range(len(self.tokenizer), vocab)), dtype=torch.long)
        self.eos_ids = sorted({self.tokenizer.convert_tokens_to_ids("<|im_end|>"),
                               self.tokenizer.convert_tokens_to_ids("<|endoftext|>")} - {None, unk})
        self.pad_id = self.tokenizer.pad_token_id

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, settings: LoadSettings | None = None,
                        device: str | torch.device = "cpu", **kwargs) -> "Policy":
        model, processor, family = load_model(str(name_or_path), settings or LoadSettings(), device)
        return cls(model, processor, family, **kwargs)

    @property
    def output_frame(self) -> str:
        return self.family.output_frame

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ---- media and prompts -------------------------------------------------------------------
    def load_image(self, source, settings: VisionSettings, sample_id: str | None = None) -> LoadedImage:
        key = MediaCache.key("image", source, settings.min_pixels, settings.max_pixels, self.family.pixel_factor)
        return self.media_cache.get_or_load(
            key, lambda: load_image(source, settings, self.family.pixel_factor, sample_id=sample_id))

    def load_video(self, ref: VideoClip, settings: VisionSettings, sample_id: str | None = None) -> LoadedVideo:
        key = MediaCache.key("video", ref.path, ref.start, ref.end, settings, self.family.pixel_factor)
        return self.media_cache.get_or_load(key, lambda: load_video(
            ref.path, settings, self.family.pixel_factor, start=ref.start, end=ref.end, sample_id=sample_id))

    def encode(self, text: str | list[dict], images=(), video: VideoClip | str | None = None,
               settings: VisionSettings | None = None, *, sample_id: str | None = None,
               system: str | None = None) -> PromptInputs:
        """Encode one prompt: `text` is the user text (or full chat messages), media from paths or PIL."""
        settings = settings or VisionSettings()
        loaded = [self.load_image(im, settings, sample_id) for im in images]
        if isinstance(video, str):
            video = VideoClip(video)
        vid = self.load_video(video, settings, sample_id) if video is not None else None
        messages = text if isinstance(text, list) else build_messages(text, len(loaded), vid is not None, system)
        return encode_prompt(self.processor, self.family, messages, loaded, vid)

    # ---- rollouts and log-probs --------------------------------------------------------------
    def generate(self, prompts: list[PromptInputs], n: int, params: SamplingParams,
                 generator: torch.Generator | None = None, all_finished=None,
                 stops: list[list[str]] | None = None, keep_state: bool = False) -> list[Completion]:
        """`keep_state`: each completion's `resume` can continue it (:meth:`continue_generate`)."""
        was_training = self.model.training
        self.model.eval()
        try:
            # Generation runs on the unwrapped model: no DDP bookkeeping for inference forwards.
            return hf_generate(unwrap(self.model), self.tokenizer, prompts, n, params,
                               suppress_ids=self.suppress_ids, eos_ids=self.eos_ids, pad_id=self.pad_id,
                               generator=generator, all_finished=all_finished, stops=stops, keep_state=keep_state)
        finally:
            self.model.train(was_training)

    def continue_generate(self, sequences: list[PromptInputs], resumes: list, params: SamplingParams,
                          generator: torch.Generator | None = None, all_finished=None,
                          stops: list[list[str]] | None = None) -> list[Completion]:
        """One completion per sequence, each continuing the KV cache of an earlier completion
        (``resume``) with only the tokens and media it does not hold yet (:mod:`vrft.policy.turn_cache`)."""
        was_training = self.model.training
        self.model.eval()
        try:
            return hf_continue(unwrap(self.model), self.tokenizer, sequences, resumes, params,
                               suppress_ids=self.suppress_ids, eos_ids=self.eos_ids, pad_id=self.pad_id,
                               generator=generator, all_finished=all_finished, stops=stops)
        finally:
            self.model.train(was_training)

    def logprobs(self, prompts: list[PromptInputs], seq_prompt: list[int], completions: list[torch.Tensor],
                 **kwargs) -> LogprobOutput:
        return completion_logprobs(self.model, prompts, seq_prompt, completions, pad_id=self.pad_id,
                                   suppress_ids=self.suppress_ids, **kwargs)

    # ---- saving ------------------------------------------------------------------------------
    def save(self, out_dir: str | Path, merge_lora: bool = False, state_dict: dict | None = None) -> None:
        """Hugging Face format that `from_pretrained` loads; LoRA adapters (optionally merged).
        `state_dict`: full weights gathered from a sharded model (FSDP2)."""
        model = strip_parallel(self.model)
        if state_dict is not None and not hasattr(model, "peft_config"):
            model.save_pretrained(out_dir, state_dict=state_dict)
            self.processor.save_pretrained(out_dir)
            return
        if hasattr(model, "peft_config"):
            if merge_lora:
                model = copy.deepcopy(model).merge_and_unload()  # the live model keeps its adapters
            else:
                model.save_pretrained(out_dir)
                self.processor.save_pretrained(out_dir)
                return
        model.save_pretrained(out_dir)
        self.processor.save_pretrained(out_dir)
