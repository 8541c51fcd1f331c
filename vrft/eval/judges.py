"""Judges: one completion -> its parsed answer in the original media frame, score and correctness.

A judge is registered per task (``@register_judge("grounding")``) and called with the completion
text and the sample's :class:`~rewards.context.RewardContext` (built by
:func:`vrft.grpo.rollout.reward_context`, so it carries each image's frame and the video's clip).
It parses with the shared parsers of :mod:`rewards` and maps coordinates to the original frame with
:mod:`rewards.frames` (through the helpers the built-in rewards use); the per-sample score is the
task's built-in reward with its default settings, so evaluation and training agree on what a
sample is worth. Like rewards, judges never raise on model output: an answer that cannot be parsed
gives ``unparseable=True`` with the reason, and scores 0.

What ``correct`` means per task (pass@k and the accuracy metrics count it):

| task      | answer (original frame)                          | score (reward)   | correct                   |
|-----------|--------------------------------------------------|------------------|---------------------------|
| grounding | ``[x1, y1, x2, y2]`` pixels, clipped             | ``iou`` (best)   | IoU > 0.5                 |
| detection | ``[{"bbox", "label", "confidence"}]``, clipped   | ``detection``    | all gt matched, no extra  |
| chart     | the answer text                                  | ``chart_answer`` | score == 1                |
| vqa       | the answer text                                  | ``answer_match`` | score == 1                |
| mcq       | the option letter                                | ``answer_match`` | score == 1                |
| gui       | ``{"action": "click", "point": [x, y]}`` pixels  | ``gui_action``   | score == 1                |
|           | (or ``{"action": "type", "text": ...}``, scroll) |                  |                           |
| temporal  | ``[start, end]`` seconds of the original video   | ``temporal_iou`` | IoU >= 0.5                |
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from rewards.builtin._helpers import box_to_image, image_frame, point_to_image
from rewards.builtin.temporal_iou import video_duration
from rewards.context import RewardContext
from rewards.frames import segment_to_original
from rewards.geometry import box_center, clip_segment
from rewards.parse_gui import parse_gui_action
from rewards.parse_spatial import parse_box, parse_detections
from rewards.parse_temporal import parse_segment
from rewards.parse_text import parse_choice
from rewards.parsing import ParseError, extract_answer
from rewards.registry import get_reward


@dataclass
class Judgement:
    """The verdict on one completion (stored in ``predictions.jsonl``)."""

    answer: Any = None
    """The parsed answer in the original frame (None when unparseable)."""
    score: float = 0.0
    """The task reward's score, in [0, 1]."""
    correct: bool = False
    """Whether the answer counts as right for accuracy and pass@k (see the module table)."""
    unparseable: bool = False
    """The answer could not be parsed (no single <answer> block, malformed box, ...)."""
    reason: str | None = None
    """Why it could not be parsed, or why the reward gave 0 to a parsed answer."""
    extras: dict[str, float] = field(default_factory=dict)
    """Task values the metrics use (``iou`` for grounding and temporal)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


JudgeFn = Callable[..., Judgement]
_JUDGES: dict[str, JudgeFn] = {}


def register_judge(task: str):
    """Decorator registering the judge of ``task``."""

    def deco(fn: JudgeFn) -> JudgeFn:
        if task in _JUDGES:
            raise ValueError(f"judge {task!r} is already registered")
        _JUDGES[task] = fn
        return fn

    return deco


def get_judge(task: str) -> JudgeFn:
    try:
        return _JUDGES[task]
    except KeyError:
        raise ValueError(f"no judge for task {task!r}; judged tasks: {sorted(_JUDGES)}") from None


def judge(task: str, completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
    """Judge one completion of a sample of ``task``."""
    return get_judge(task)(completion, ctx, require_answer_tag=require_answer_tag)


def _reward(name: str, completion: str, ctx: RewardContext, require_answer_tag: bool, **kwargs):
    return get_reward(name).score(completion, ctx, require_answer_tag=require_answer_tag, **kwargs)


def _parsed(parse: Callable[[str], Any], completion: str, require_answer_tag: bool) -> tuple[Any, str | None]:
    """(parsed value, None) or (None, reason)."""
    try:
        return parse(extract_answer(completion, required=require_answer_tag)), None
    except ParseError as e:
        return None, str(e)


def _unparseable(reason: str) -> Judgement:
    return Judgement(unparseable=True, reason=reason)


@register_judge("grounding")
def judge_grounding(completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
    box, err = _parsed(parse_box, completion, require_answer_tag)
    if err:
        return _unparseable(err)
    iou = _reward("iou", completion, ctx, require_answer_tag).score
    return Judgement(answer=box_to_image(box, image_frame(ctx)), score=iou, correct=iou > 0.5,
                     extras={"iou": iou})


@register_judge("detection")
def judge_detection(completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
    dets, err = _parsed(parse_detections, completion, require_answer_tag)
    if err:
        return _unparseable(err)
    frame = image_frame(ctx)
    answer = [{"bbox": box_to_image(list(d.box), frame), "label": d.label, "confidence": d.confidence}
              for d in dets]
    result = _reward("detection", completion, ctx, require_answer_tag)
    c = result.components
    correct = c.get("precision", 0.0) == 1.0 and c.get("recall", 0.0) == 1.0
    return Judgement(answer=answer, score=result.score, correct=correct, reason=result.reason,
                     extras={k: float(v) for k, v in c.items()})


def _text_judge(reward: str, **kwargs):
    def fn(completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
        text, err = _parsed(lambda a: a, completion, require_answer_tag)
        if err:
            return _unparseable(err)
        result = _reward(reward, completion, ctx, require_answer_tag, **kwargs)
        return Judgement(answer=text, score=result.score, correct=result.score >= 1.0, reason=result.reason)

    return fn


register_judge("chart")(_text_judge("chart_answer"))
register_judge("vqa")(_text_judge("answer_match"))


@register_judge("mcq")
def judge_mcq(completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
    letter, err = _parsed(parse_choice, completion, require_answer_tag)
    if err:
        return _unparseable(err)
    result = _reward("answer_match", completion, ctx, require_answer_tag, mode="choice")
    return Judgement(answer=letter, score=result.score, correct=result.score >= 1.0, reason=result.reason)


@register_judge("gui")
def judge_gui(completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
    action, err = _parsed(parse_gui_action, completion, require_answer_tag)
    if err:
        return _unparseable(err)
    answer: dict[str, Any] = {"action": action.action}
    if action.action == "click":
        frame = image_frame(ctx)
        answer["point"] = (point_to_image(list(action.point), frame) if action.point is not None
                           else box_center(box_to_image(list(action.box), frame, clip=False)))
    elif action.action == "type":
        answer["text"] = action.text
    elif action.action == "scroll":
        answer["direction"] = action.direction
    result = _reward("gui_action", completion, ctx, require_answer_tag)
    return Judgement(answer=answer, score=result.score, correct=result.score >= 1.0, reason=result.reason,
                     extras={k: float(v) for k, v in result.components.items()})


@register_judge("temporal")
def judge_temporal(completion: str, ctx: RewardContext, *, require_answer_tag: bool = True) -> Judgement:
    seg, err = _parsed(parse_segment, completion, require_answer_tag)
    if err:
        return _unparseable(err)
    clip_start = ctx.video.clip_start if ctx.video is not None else 0.0
    answer = clip_segment(segment_to_original(seg, clip_start), 0.0, video_duration(ctx))
    result = _reward("temporal_iou", completion, ctx, require_answer_tag)
    iou = float(result.components.get("iou", 0.0))
    return Judgement(answer=answer, score=result.score, correct=iou >= 0.5, reason=result.reason,
                     extras={"iou": iou})
