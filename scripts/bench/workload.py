"""The benchmark workload, identical for vrft and TRL: checkpoint, media, prompts, reward, settings.

Everything is built once into a cache folder (`prepare`) and described by a `Spec`, a plain JSON
dict that the per-side runners (`run_vrft.py`, `run_trl.py`) read in their own subprocesses.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

VARIANTS = ("image", "multi_image", "video")
QUESTION = "What colour is the large shape in the picture? Answer with one word."


@dataclass
class ModelSize:
    """The random Qwen2.5-VL of the benchmark (`vrft tiny-model` sizes)."""

    hidden: int = 256
    intermediate: int = 704
    layers: int = 4
    heads: int = 8
    kv_heads: int = 4
    vision_depth: int = 4
    vision_hidden: int = 128
    vision_intermediate: int = 256
    vision_heads: int = 4
    image_max_pixels: int = 448 * 448  # a 448x448 image is 32x32 patches = 256 merged tokens

    def tag(self) -> str:
        return "-".join(str(v) for v in asdict(self).values())


@dataclass
class Spec:
    """One benchmark configuration; both sides run exactly this."""

    variant: str = "image"
    prompts: int = 2  # P per step
    generations: int = 8  # G per prompt
    new_tokens: int = 64  # forced: min = max new tokens
    image_size: int = 448
    video_size: int = 224  # 8 frames of 224x224 = 4 x 16 x 16 patches = 256 merged tokens
    video_frames: int = 8
    steps: int = 6
    warmup: int = 2
    grad_ckpt: bool = False
    threads: int = 2
    seed: int = 0
    lr: float = 1e-6
    clip: float = 0.2
    model: ModelSize = field(default_factory=ModelSize)
    ablate: list[str] = field(default_factory=list)  # vrft optimisations to turn off (see run_vrft.ABLATIONS)
    # Filled by `prepare`:
    checkpoint: str = ""
    data_dir: str = ""

    @property
    def images_per_prompt(self) -> int:
        return {"image": 1, "multi_image": 2, "video": 0}[self.variant]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Spec":
        d = json.loads(text)
        d["model"] = ModelSize(**d["model"])
        return cls(**d)


def short_spec(variant: str) -> Spec:
    """The CI-sized form: a much smaller model, small images, 2 steps, 4 x 4 x 16 tokens."""
    small = ModelSize(hidden=64, intermediate=128, layers=2, heads=4, kv_heads=2, vision_depth=2, vision_hidden=64,
                      vision_intermediate=128, vision_heads=4, image_max_pixels=112 * 112)
    return Spec(variant=variant, prompts=2, generations=4, new_tokens=16, image_size=112, video_size=56,
                video_frames=4, steps=2, warmup=1, model=small)


def default_cache() -> Path:
    return Path(os.environ.get("VRFT_CACHE", "~/.cache/vrft")).expanduser() / "bench"


def build_checkpoint(size: ModelSize, cache: Path, seed: int = 0) -> str:
    """The random Qwen2.5-VL checkpoint (built once per size; written atomically)."""
    from vrft.policy.tiny_model import TinySize, build_tiny_model

    out = cache / "models" / f"qwen2_5_vl-{size.tag()}-seed{seed}"
    if not (out / "config.json").exists():
        d = asdict(size)
        tiny = TinySize(**d)
        if tiny.image_min_pixels > tiny.image_max_pixels:
            tiny.image_min_pixels = tiny.image_max_pixels
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        build_tiny_model(tmp, "qwen2_5_vl", tiny, seed=seed)
        os.replace(tmp, out)
    return str(out)


def _image(path: Path, size: int, seed: int) -> None:
    """A noisy background with one large coloured square (a real PNG, decoded on every load)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    a = (rng.random((size, size, 3)) * 80).astype("uint8")
    colour = [(220, 30, 30), (30, 200, 40), (40, 60, 220), (230, 220, 40)][seed % 4]
    lo, hi = size // 4, 3 * size // 4
    a[lo:hi, lo:hi] = colour
    Image.fromarray(a).save(path)


def _video(path: Path, size: int, seed: int, n_frames: int = 16, fps: int = 8) -> None:
    import imageio_ffmpeg
    import numpy as np

    rng = np.random.default_rng(seed)
    writer = imageio_ffmpeg.write_frames(str(path), (size, size), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=16, output_params=["-loglevel", "error"])
    writer.send(None)
    for i in range(n_frames):
        frame = (rng.random((size, size, 3)) * 60).astype("uint8")
        frame[:, :, 0] = np.minimum(255, frame[:, :, 0] + 12 * i)
        writer.send(frame.tobytes())
    writer.close()


def build_data(spec: Spec, cache: Path, n_rows: int = 32) -> str:
    """Media, a native jsonl (`task: vqa`) and the vrft mixture YAML for `spec.variant`."""
    media = f"img{spec.image_size}" if spec.variant != "video" else f"vid{spec.video_size}"
    out = cache / "data" / f"{spec.variant}-{media}"
    if (out / "mixture.yaml").exists():
        return str(out)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_rows):
        row = {"id": f"q{i}", "task": "vqa", "prompt": QUESTION, "solution": {"answer": "red"}}
        if spec.variant == "video":
            _video(tmp / f"v{i}.mp4", spec.video_size, i)
            row["video"] = f"v{i}.mp4"
        else:
            names = [f"i{i}_{k}.png" for k in range(spec.images_per_prompt)]
            for k, name in enumerate(names):
                _image(tmp / name, spec.image_size, 7 * i + k)
            row["images"] = names
        rows.append(row)
    with open(tmp / "train.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    vision = (f"{{nframes: {spec.video_frames}}}" if spec.variant == "video"
              else f"{{max_pixels: {spec.image_size ** 2}, min_pixels: 3136}}")
    (tmp / "mixture.yaml").write_text(
        "# Written by scripts/bench/workload.py: the benchmark's one dataset.\n"
        "mixture: {strategy: fixed}\n"
        "difficulty: {enabled: false}\n"
        "datasets:\n"
        "  - name: bench\n"
        "    format: jsonl\n"
        "    task: vqa\n"
        f"    files: {out / 'train.jsonl'}\n"
        "    prompt_template: \"{question}\"\n"
        "    rewards: [{name: bench_letters, weight: 1.0}]\n"
        f"    vision: {vision}\n")
    if not out.exists():
        os.replace(tmp, out)
    return str(out)


def prepare(spec: Spec, cache: Path | None = None) -> Spec:
    cache = Path(cache or default_cache())
    spec.checkpoint = build_checkpoint(spec.model, cache, spec.seed)
    spec.data_dir = build_data(spec, cache)
    return spec


def letters_score(text: str) -> float:
    """The benchmark reward: the fraction of ASCII letters in a completion. Cheap, deterministic,
    and it varies across a random model's samples, so advantages are non-zero on both sides."""
    return sum(c.isascii() and c.isalpha() for c in text) / max(len(text), 1)


def register_bench_reward() -> None:
    """Register `bench_letters` with vrft's reward registry (in the vrft runner's process)."""
    from rewards.registry import get_reward, register_reward

    try:
        get_reward("bench_letters")
        return
    except KeyError:
        pass

    @register_reward("bench_letters", score_range=(0.0, 1.0))
    def bench_letters(completion: str, ctx, **_kwargs) -> float:
        """Fraction of ASCII letters in the completion (the benchmark's reward)."""
        return letters_score(completion)


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
