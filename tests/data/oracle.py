"""Oracle evaluation without a model: each sample's ground truth rendered as a completion in the
original frame (a model that sees the image unresized), judged by its task and scored by a benchmark."""

from __future__ import annotations

from PIL import Image

from rewards.context import RewardContext, VideoInfo
from rewards.frames import RESIZED_PIXELS, ImageFrame
from vrft.data.sample import Sample
from vrft.data.templates import render_solution_completion
from vrft.eval.records import make_record
from vrft.tasks import get_task


def oracle_record(sample: Sample, completion: str | None = None) -> dict:
    frames = []
    for path in sample.images:
        with Image.open(path) as im:
            frames.append(ImageFrame(im.size, im.size, RESIZED_PIXELS))
    video = VideoInfo(duration=float(sample.meta["duration"])) if sample.video is not None else None
    text = completion if completion is not None else render_solution_completion(sample, frames or None)
    ctx = RewardContext(solution=sample.solution, task=sample.task, dataset=sample.dataset, sample_id=sample.id,
                        images=frames, video=video, meta=dict(sample.meta))
    return make_record(sample, ctx, [text], ["eos"], [get_task(sample.task).judge(text, ctx)])


def oracle_records(samples: list[Sample]) -> list[dict]:
    return [oracle_record(s) for s in samples]
