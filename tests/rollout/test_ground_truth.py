"""Ground-truth injection writes what the expert wrote: no placeholder reasoning for the think style,
and the rows it replaces become expert rows."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from vrft.data.sample import Sample
from vrft.rollout.ground_truth import ground_truth_tokens


class _Tok:
    def __call__(self, text, add_special_tokens=False, return_tensors="pt"):
        return {"input_ids": torch.tensor([[ord(c) for c in text]])}

    def convert_tokens_to_ids(self, token):
        return 0


def _sample(meta):
    return Sample(id="a", dataset="color", task="vqa", prompt="what colour?", solution={"answer": "red"}, meta=meta)


def test_think_style_has_no_placeholder_reasoning():
    policy, prompt = SimpleNamespace(tokenizer=_Tok()), SimpleNamespace(video_info=None, image_frames=[])
    think = SimpleNamespace(gt_template="think")
    _, text = ground_truth_tokens(policy, _sample({}), prompt, think)
    assert "<think>" not in text and text.startswith("<answer>")
    _, text = ground_truth_tokens(policy, _sample({"reasoning": "The ball is red."}), prompt, think)
    assert text.startswith("<think>The ball is red.</think>")
