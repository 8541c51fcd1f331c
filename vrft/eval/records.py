"""Prediction records and the resumable ``predictions.jsonl`` store.

One record per sample (one JSON line), written as soon as its batch finishes::

    {"id": "refcoco/r0", "dataset": "refcoco", "task": "grounding", "question": "the red cup",
     "solution": {"boxes": [[10, 20, 50, 60]]}, "meta": {...}, "image_size": [640, 480],
     "completion": "<think>...</think><answer>{\"bbox_2d\": [...]}</answer>", "finish_reason": "eos",
     "answer": [11.0, 19.5, 52.0, 61.0], "score": 0.91, "correct": true, "unparseable": false,
     "reason": null, "extras": {"iou": 0.91}, "samples": [...]}

``answer`` is in the original frame (pixels of the original image, seconds of the original video).
With several completions per prompt (``n`` > 1), ``samples`` holds each completion's text and
judgement and the top-level fields repeat the first one's. With Avg@k samples
(``samples_per_prompt`` k > 1) the top level is the main (greedy) completion and ``samples`` the k
sampled ones.
"""

from __future__ import annotations

import json
import os
from typing import Any

from rewards.context import RewardContext
from vrft.data.sample import Sample
from vrft.data.templates.prompts import question_text
from vrft.eval.judges import Judgement

PREDICTIONS = "predictions.jsonl"


def make_record(sample: Sample, ctx: RewardContext, texts: list[str], finish_reasons: list[str],
                judgements: list[Judgement], traces: list[str] | None = None) -> dict[str, Any]:
    """The record of one sample from its completions (in order) and their judgements. With tools,
    ``texts`` are the final answer turns, ``traces`` the whole trajectories and ``ctx`` carries the
    first trajectory's tool calls."""
    first = judgements[0]
    record: dict[str, Any] = {
        "id": sample.id, "dataset": sample.dataset, "task": sample.task, "question": question_text(sample),
        "solution": sample.solution, "meta": sample.meta,
        "image_size": list(ctx.images[0].original_size) if ctx.images else None,
        "duration": ctx.video.duration if ctx.video is not None else sample.meta.get("duration"),
        "completion": texts[0], "finish_reason": finish_reasons[0], **first.to_dict(),
    }
    if traces is not None:
        record["trajectory"] = traces[0]
        record["tool_calls"] = [{"name": c.name, "valid": c.valid, "error": c.error} for c in ctx.tool_calls]
    if len(texts) > 1:
        record["samples"] = [{"completion": t, "finish_reason": f, **j.to_dict()}
                             for t, f, j in zip(texts, finish_reasons, judgements)]
        if traces is not None:
            for s, trace in zip(record["samples"], traces):
                s["trajectory"] = trace
    return record


class PredictionStore:
    """``OUT/predictions.jsonl``: read finished records, append a batch (flushed and synced)."""

    def __init__(self, out_dir: str) -> None:
        self.path = os.path.join(out_dir, PREDICTIONS)

    def read(self) -> dict[str, dict[str, Any]]:
        """Finished records by id (the last line of an id wins; a torn last line is ignored)."""
        out: dict[str, dict[str, Any]] = {}
        if not os.path.exists(self.path):
            return out
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by an interruption: that sample runs again
                if isinstance(record, dict) and "id" in record:
                    out[record["id"]] = record
        return out

    def repair(self) -> None:
        """Drop a torn last line (an interrupted write), so appends start on a fresh line."""
        if not os.path.exists(self.path):
            return
        with open(self.path, "rb") as f:
            data = f.read()
        if not data or data.endswith(b"\n"):
            return
        keep = data[: data.rfind(b"\n") + 1]
        with open(self.path, "wb") as f:
            f.write(keep)

    def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def clear(self) -> None:
        if os.path.exists(self.path):
            os.remove(self.path)
