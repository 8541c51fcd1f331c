"""What differs between Qwen2-VL, Qwen2.5-VL and Qwen3-VL, in one table.

Output frames were checked against each family's processor and grounding prompts: Qwen2-VL and
Qwen3-VL emit boxes normalised to 0-1000; Qwen2.5-VL emits absolute pixels of the resized image the
processor fed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewards.frames import NORM_1000, RESIZED_PIXELS
from vrft.policy.errors import UnsupportedModelError


@dataclass(frozen=True)
class Family:
    name: str
    model_type: str
    output_frame: str
    patch_size: int
    merge_size: int = 2

    @property
    def pixel_factor(self) -> int:
        """Side in pixels of one merged vision token; resized sides are multiples of it."""
        return self.patch_size * self.merge_size


FAMILIES = {
    "qwen2_vl": Family("qwen2_vl", "qwen2_vl", NORM_1000, 14),
    "qwen2_5_vl": Family("qwen2_5_vl", "qwen2_5_vl", RESIZED_PIXELS, 14),
    "qwen3_vl": Family("qwen3_vl", "qwen3_vl", NORM_1000, 16),
}


def family_of(config) -> Family:
    """The family of a loaded `transformers` config; an unknown one lists the supported ones."""
    model_type = getattr(config, "model_type", None)
    for fam in FAMILIES.values():
        if fam.model_type == model_type:
            return fam
    supported = ", ".join(f"{f.model_type}" for f in FAMILIES.values())
    raise UnsupportedModelError(
        f"unsupported model architecture {model_type!r} "
        f"({getattr(config, 'architectures', None)}); vrft supports: {supported}"
    )
