"""Small pieces every built-in reward shares: failure results, solution checks, frame mapping."""

from __future__ import annotations

import math
from typing import Any

from rewards.context import RewardContext, RewardResult
from rewards.frames import ImageFrame, box_to_original, point_to_original
from rewards.geometry import clip_box, sort_box


class SolutionError(ValueError):
    """A sample's solution (dataset data, not model output) that a reward cannot use."""


def fail(reason: str, score: float = 0.0, **components: float) -> RewardResult:
    """The result for a completion that could not be scored: ``score`` (0) and the reason."""
    return RewardResult(score=score, components=dict(components), reason=reason)


def bad_solution(ctx: RewardContext, message: str) -> SolutionError:
    return SolutionError(f"sample {ctx.sample_id!r} (dataset {ctx.dataset!r}): {message}")


def solution_value(ctx: RewardContext, *keys: str) -> Any:
    """The first of ``keys`` present in ``ctx.solution``; SolutionError naming the sample otherwise."""
    sol = ctx.solution
    if isinstance(sol, dict):
        for k in keys:
            if k in sol:
                return sol[k]
    raise bad_solution(ctx, f"solution needs one of {list(keys)}, got {str(sol)[:200]}")


def solution_numbers(ctx: RewardContext, value: Any, n: int, what: str) -> list[float]:
    """A list of ``n`` finite numbers from a solution, or SolutionError."""
    if (not isinstance(value, (list, tuple)) or len(value) != n
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       for v in value)):
        raise bad_solution(ctx, f"{what} must be {n} finite numbers, got {str(value)[:120]}")
    return [float(v) for v in value]


def image_frame(ctx: RewardContext, index: int = 0) -> ImageFrame | None:
    """The frame of image ``index`` (None when the context has no images: coordinates are then
    taken as original pixels and nothing is clipped)."""
    return ctx.images[index] if len(ctx.images) > index else None


def box_to_image(box: list[float], frame: ImageFrame | None, *, clip: bool = True) -> list[float]:
    """A box in the model's output frame -> sorted original pixels, clipped to the image."""
    if frame is None:
        return sort_box(box)
    b = sort_box(box_to_original(box, frame))
    if clip:
        w, h = frame.original_size
        b = clip_box(b, float(w), float(h))
    return b


def point_to_image(point: list[float], frame: ImageFrame | None) -> list[float]:
    """A point in the model's output frame -> original pixels (not clipped)."""
    return list(point) if frame is None else point_to_original(point, frame)
