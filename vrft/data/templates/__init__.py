"""Prompt templates and ground-truth completions (see prompts.py and completions.py)."""

from vrft.data.templates.completions import GT_TEMPLATES, render_solution_completion, solution_answer
from vrft.data.templates.prompts import (
    FRAME_PHRASES, TEMPLATES, answer_format, register_template, render_prompt, template_text,
)

__all__ = [
    "FRAME_PHRASES", "GT_TEMPLATES", "TEMPLATES", "answer_format", "register_template",
    "render_prompt", "render_solution_completion", "solution_answer", "template_text",
]
