"""Temporal grounding: find the moment of a video a sentence describes (Charades-STA-style).

Solution ``{"segment": [start_s, end_s]}`` in seconds of the original video, with a positive
``meta.duration``; the model answers ``12.50 to 20.10`` in seconds from the start of the clip it saw.
Judged by the ``temporal_iou`` reward; correct when IoU >= 0.5. Held-out splits report R1@{0.3, 0.5,
0.7} and mIoU (the headline).
"""

from __future__ import annotations

from typing import Any

from rewards.builtin.temporal_iou import video_duration
from rewards.context import RewardContext
from rewards.frames import ImageFrame, segment_from_original, segment_to_original
from rewards.geometry import clip_segment
from rewards.parse_temporal import parse_segment
from vrft.data.sample import Sample
from vrft.tasks.base import Judgement, SolutionError, Task, parsed, register_task, reward, unparseable
from vrft.tasks.checks import finite_number
from vrft.tasks.metrics import Record, base_metrics, mean, record_iou

TEMPORAL_THRESHOLDS = (0.3, 0.5, 0.7)


def temporal_metrics(records: list[Record]) -> dict[str, float]:
    """Charades-STA / ActivityNet: ``R1@m`` (top-1 IoU >= m) for m in 0.3, 0.5, 0.7 and ``miou``;
    headline ``miou`` (smoother than R1@0.5 for small evaluations)."""
    out = base_metrics(records)
    for m in TEMPORAL_THRESHOLDS:
        out[f"R1@{m}"] = mean(float(record_iou(r) >= m) for r in records)
    out["miou"] = mean(record_iou(r) for r in records)
    out["score"] = out["miou"]
    return out


def clip_duration(sample: Sample) -> float | None:
    """Seconds the model sees: the clip when the sample has one, else meta.duration."""
    duration = sample.meta.get("duration")
    video = sample.video
    if video is not None and (video.start is not None or video.end is not None):
        end = video.end if video.end is not None else duration
        if end is None:
            return None
        return float(end) - float(video.start or 0.0)
    return float(duration) if duration else None


@register_task("temporal")
class Temporal(Task):
    benchmark = "charades_sta"
    headline = "miou"

    def check_solution(self, solution: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        seg = solution.get("segment")
        duration = meta.get("duration")
        if not isinstance(seg, list) or len(seg) != 2 or not all(finite_number(v) for v in seg):
            raise SolutionError(f"temporal solution needs 'segment': [start, end] seconds, got {seg!r}")
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
            raise SolutionError(f"temporal samples need a positive meta.duration, got {duration!r}")
        if not 0 <= seg[0] < seg[1] <= duration:
            raise SolutionError(f"segment {seg} must satisfy 0 <= start < end <= duration ({duration})")
        solution["segment"] = [float(seg[0]), float(seg[1])]
        return solution

    def question(self, text: str) -> str:
        return f'Find the moment in the video when: "{text}".'

    def answer_format(self, sample: Sample, frame: str) -> str:
        text = ('Answer with the start and end of the moment in seconds from the start of the video, '
                'as "12.50 to 20.10".')
        duration = clip_duration(sample)
        return text + (f" The video is {duration:.2f} seconds long." if duration else "")

    def render_answer(self, sample: Sample, frames: list[ImageFrame] | None, clip_start: float = 0.0) -> str:
        s, e = segment_from_original(sample.solution["segment"], clip_start)
        return f"{max(s, 0.0):.2f} to {max(e, 0.0):.2f}"

    def judge(self, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        seg, err = parsed(parse_segment, completion, require_answer_tag)
        if err:
            return unparseable(err)
        clip_start = ctx.video.clip_start if ctx.video is not None else 0.0
        answer = clip_segment(segment_to_original(seg, clip_start), 0.0, video_duration(ctx))
        result = reward("temporal_iou", completion, ctx, require_answer_tag)
        iou = float(result.components.get("iou", 0.0))
        return Judgement(answer=answer, score=result.score, correct=iou >= 0.5, reason=result.reason,
                         extras={"iou": iou})

    def metrics(self, records: list[Record]) -> dict[str, float]:
        return temporal_metrics(records)
