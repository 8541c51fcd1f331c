"""A byte-level BPE tokenizer with the Qwen special tokens, trained offline on a small corpus.

Real Qwen tokenizers cannot be downloaded here; this one has the same special tokens and
behaviour (byte-level, eos `<|im_end|>`, pad `<|endoftext|>`, left padding) so the real
processors and chat templates work unchanged.
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from vrft.policy.chat_template import QWEN_VL_CHAT_TEMPLATE

SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]
# Ordinary (non-special) added tokens, as in Qwen's tokenizers: they decode to text.
ADDED_TOKENS = ["<tool_call>", "</tool_call>", "<think>", "</think>", "<answer>", "</answer>",
                "<tool_response>", "</tool_response>"]
# Tokens a generator must never sample: vision placeholders and the structural ones.
VISION_SPECIAL_TOKENS = ["<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>",
                         "<|video_pad|>"]

_CORPUS_WORDS = (
    "the a an of to in is what which where how many click type scroll down up left right on at "
    "red green blue yellow purple orange black white gray cyan magenta small large big medium "
    "circle square triangle star rectangle shape object button field label save open cancel "
    "submit search name email password ok yes no answer think tool call zoom in image video "
    "second seconds frame chart bar line value maximum minimum difference total percent "
    "bbox_2d point_2d label confidence action text direction start end appears changes colour "
    "color moves region digit word please provide bounding box coordinate sentence describes "
    "system user assistant you are helpful first then json arguments name zoom_in zoom_in_video"
)


def _corpus() -> list[str]:
    words = _CORPUS_WORDS.split()
    lines = [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]
    lines += [f'{{"bbox_2d": [{i}, {i * 7 % 997}, {i * 13 % 991}, {i * 3 % 983}]}}' for i in range(200)]
    lines += [f"{i / 10:.2f} to {(i + 37) / 10:.2f}" for i in range(100)]
    lines += ['{"action": "click", "point_2d": [12, 34]}', '{"action": "type", "text": "hello"}',
              '{"name": "zoom_in", "arguments": {"bbox_2d": [1, 2, 3, 4]}}', "45% 1,234 $12.5 -3"]
    return lines * 3


def build_tokenizer(vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE of `vocab_size` (special and added tokens come on top)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:], padding_side="left",
        model_max_length=32768, clean_up_tokenization_spaces=False,
    )
    fast.add_tokens(ADDED_TOKENS)
    fast.chat_template = QWEN_VL_CHAT_TEMPLATE
    return fast
