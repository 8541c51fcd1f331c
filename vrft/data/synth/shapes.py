"""Shapes with exact pixel masks, saturated colours, non-overlapping placement, noisy backgrounds.

Shapes are painted from a binary mask (no anti-aliasing), so every pixel of a shape has exactly its
colour and its tight box is known to the pixel. Backgrounds are low-saturation (the spread between
RGB channels stays <= `MAX_BACKGROUND_SPREAD`), while every shape colour has a spread >= 100: a
background pixel can never take a shape's colour, so scanning an image for a shape colour finds only
shapes of that colour.

Boxes are `[x1, y1, x2, y2]` in pixels, x right, y down, x2/y2 exclusive (x2 = x1 + width): the
project's original-frame convention with no -1 offset.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image, ImageDraw

from vrft.data.synth.common import lerp

# Ordered: the colour task uses the first k names, so easy runs get the most distinct ones.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 20),
    "orange": (240, 130, 10),
    "purple": (140, 50, 190),
    "pink": (235, 90, 170),
    "cyan": (20, 180, 200),
}
COLOR_NAMES = tuple(COLORS)

SHAPES = ("circle", "square", "triangle", "star", "diamond", "hexagon", "cross")

MAX_BACKGROUND_SPREAD = 40


def _regular_polygon(n: int, size: int, inner: float | None = None, rot: float = -math.pi / 2):
    c = (size - 1) / 2
    pts = []
    for k in range(n * (2 if inner else 1)):
        r = c if (inner is None or k % 2 == 0) else c * inner
        a = rot + k * math.pi / (n if inner else n / 2)
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    return pts


@functools.lru_cache(maxsize=2048)
def _mask(shape: str, size: int) -> np.ndarray:
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {SHAPES}")
    img = Image.new("1", (size, size), 0)
    draw = ImageDraw.Draw(img)
    s = size - 1
    if shape == "circle":
        draw.ellipse([0, 0, s, s], fill=1)
    elif shape == "square":
        draw.rectangle([0, 0, s, s], fill=1)
    elif shape == "triangle":
        draw.polygon([(s / 2, 0), (s, s), (0, s)], fill=1)
    elif shape == "diamond":
        draw.polygon([(s / 2, 0), (s, s / 2), (s / 2, s), (0, s / 2)], fill=1)
    elif shape == "star":
        draw.polygon(_regular_polygon(5, size, inner=0.45), fill=1)
    elif shape == "hexagon":
        draw.polygon(_regular_polygon(6, size, rot=0.0), fill=1)
    elif shape == "cross":
        t = max(1, round(size * 0.32))
        a = (size - t) // 2
        draw.rectangle([a, 0, a + t - 1, s], fill=1)
        draw.rectangle([0, a, s, a + t - 1], fill=1)
    m = np.array(img, dtype=bool)
    m.setflags(write=False)
    return m


def shape_mask(shape: str, size: int) -> np.ndarray:
    """A read-only (size, size) bool mask of the shape, drawn to fill the square as far as it can."""
    return _mask(shape, int(size))


def mask_box(mask: np.ndarray) -> list[int] | None:
    """Tight `[x1, y1, x2, y2]` (exclusive x2/y2) of the True pixels, or None when there are none."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if len(xs) == 0:
        return None
    return [int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1]


def paint(arr: np.ndarray, shape: str, size: int, x: int, y: int, color) -> list[int]:
    """Paint a shape with its top-left square corner at (x, y); return its exact tight box."""
    m = shape_mask(shape, size)
    arr[y : y + size, x : x + size][m] = color
    x1, y1, x2, y2 = mask_box(m)
    return [x + x1, y + y1, x + x2, y + y2]


def place_squares(
    rng: np.random.Generator, width: int, height: int, sizes: list[int], gap: int = 3, tries: int = 60,
) -> list[tuple[int, int] | None]:
    """Random top-left corners for squares of `sizes` that do not touch (at least `gap` px apart).

    Squares are placed in the given order; one that cannot be placed after `tries` attempts gets
    None (callers drop it), so the first square, usually the target, is the one most surely placed.
    """
    placed: list[tuple[int, int, int]] = []
    out: list[tuple[int, int] | None] = []
    for s in sizes:
        pos = None
        if s + 2 <= width and s + 2 <= height:
            for _ in range(tries):
                x = int(rng.integers(1, width - s))
                y = int(rng.integers(1, height - s))
                if all(
                    x + s + gap <= px or px + ps + gap <= x or y + s + gap <= py or py + ps + gap <= y
                    for px, py, ps in placed
                ):
                    pos = (x, y)
                    placed.append((x, y, s))
                    break
        out.append(pos)
    return out


def background(rng: np.random.Generator, width: int, height: int, d: float) -> np.ndarray:
    """A light, low-saturation textured background; texture and noise grow with difficulty `d`.

    Built from a grey level, a small fixed tint, a low-frequency texture and per-pixel noise, all
    added equally to the three channels except the tint, so the channel spread stays small.
    """
    grey = float(rng.uniform(175, 235))
    tint = rng.uniform(-12, 12, size=3)
    cells = int(rng.integers(3, 9))
    coarse = rng.uniform(-1, 1, size=(cells, cells)).astype(np.float32)
    texture = np.asarray(
        Image.fromarray(coarse, mode="F").resize((width, height), Image.BILINEAR), dtype=np.float32
    ) * lerp(8, 30, d)
    sigma = lerp(2, 14, d)
    noise = np.clip(rng.standard_normal((height, width), dtype=np.float32), -2.5, 2.5) * sigma
    lum = grey + texture + noise
    out = lum[..., None] + tint[None, None, :].astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def plain_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    grey = int(rng.integers(200, 250))
    return np.full((height, width, 3), grey, dtype=np.uint8)
