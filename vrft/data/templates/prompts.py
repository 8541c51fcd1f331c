"""Prompt templates: the task text wrapped with the answer format the rewards parse, in the model's
coordinate frame, and the ``<think>`` / ``<answer>`` instruction. The task's lead-in and answer
format come from its :class:`~vrft.tasks.Task`.

A dataset's ``prompt_template`` is a registered name (``default``, ``no_think``, ``r1``) or inline
text using the placeholders ``{question}`` (required), ``{format}`` (the task's answer format),
``{instruction}`` (think / answer tags) and ``{frame}`` (how coordinates are given). Other braces
are left alone, so inline text may contain JSON examples.
"""

from __future__ import annotations

import re

from rewards.frames import NORM_1000, ORIGINAL_PIXELS, RESIZED_PIXELS
from vrft.data.sample import Sample
from vrft.registry import Registry
from vrft.tasks import sample_task

FRAME_PHRASES = {
    NORM_1000: "coordinates normalised to 0-1000 (0 is the left / top edge of the image, 1000 the "
               "right / bottom edge)",
    RESIZED_PIXELS: "absolute pixel coordinates of the image you see",
    ORIGINAL_PIXELS: "absolute pixel coordinates of the original image",
}
THINK = ("First think step by step inside <think> </think> tags, then give the final answer inside "
         "<answer> </answer> tags.")
ANSWER_ONLY = "Give only the final answer inside <answer> </answer> tags."

TEMPLATES: Registry[str] = Registry("prompt template", plural="templates")
TEMPLATES.register("default", "{question}\n{format}\n{instruction}")
TEMPLATES.register("no_think", "{question}\n{format}\n" + ANSWER_ONLY)
TEMPLATES.register("r1", "{question} {format} Output the thinking process in <think> </think> and the final "
                         "answer in <answer> </answer> tags.")
PLACEHOLDERS = ("question", "format", "instruction", "frame")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def register_template(name: str, text: str, *, override: bool = False) -> None:
    check_template(text)
    TEMPLATES.register(name, text, override=override)


def template_text(template: str) -> str:
    """The text of a named template, or the inline text itself; ValueError for an unknown name."""
    if template in TEMPLATES:
        return TEMPLATES.get(template)
    if "{" not in template:
        raise ValueError(TEMPLATES.unknown_message(template) + " (or write inline text containing {question})")
    check_template(template)
    return template


def check_template(text: str) -> None:
    if "{question}" not in text:
        raise ValueError(f"prompt template must contain {{question}}: {text[:80]!r}")


def question_text(sample: Sample) -> str:
    """The task text: the prompt string, or the text of the user turns of a chat prompt."""
    if isinstance(sample.prompt, str):
        return sample.prompt
    parts = []
    for msg in sample.prompt:
        if msg.get("role", "user") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text"]
    return "\n".join(p for p in parts if p)


def task_question(sample: Sample) -> str:
    """The task text as a request: the task may add a short lead-in (``Task.question``)."""
    return sample_task(sample).question(question_text(sample).strip())


def answer_format(sample: Sample, output_frame: str) -> str:
    """The sentence saying what goes inside <answer> (``Task.answer_format``), in the model's frame."""
    return sample_task(sample).answer_format(sample, FRAME_PHRASES[output_frame])


def render_prompt(sample: Sample, template: str, output_frame: str, think: bool = True) -> str:
    """The user text for one sample: its task text with the answer format and tag instructions.

    ``think=False`` asks for the answer tags only (with the ``default`` template or inline text
    that uses ``{instruction}``).
    """
    if output_frame not in FRAME_PHRASES:
        raise ValueError(f"unknown output frame {output_frame!r}; expected one of {list(FRAME_PHRASES)}")
    values = {
        "question": task_question(sample),
        "format": answer_format(sample, output_frame),
        "instruction": THINK if think else ANSWER_ONLY,
        "frame": FRAME_PHRASES[output_frame],
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template_text(template)).strip()
