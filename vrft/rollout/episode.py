"""One prompt ready for the turn loop, and the one place a sample becomes model inputs.

A sample is rendered with its dataset's prompt template, the tools' system prompt (a dataset's own
``tools.system_prompt``, else the default for its enabled tools; none without tools) and its vision
budget, then encoded once. Training rollouts, evaluation and the SFT warm-up all encode here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.data.templates import render_prompt
from vrft.policy.media import LoadedImage, LoadedVideo, VisionSettings, settings_from
from vrft.policy.messages import build_messages
from vrft.policy.prompt_inputs import PromptInputs, encode_prompt
from vrft.rollout.backends import TurnRequest
from vrft.tools.parse import TOOL_CALL_CLOSE
from vrft.tools.prompts import tools_system_prompt
from vrft.tools.registry import check_tools
from vrft.tools.types import ToolContext

DEFAULT_MAX_IMAGES = 8
DEFAULT_MAX_TOTAL_TOKENS = 4096


@dataclass
class Episode:
    """One prompt for the turn loop. Without tools it is a plain prompt: one turn, no tool stop."""

    prompt: PromptInputs
    context: ToolContext
    tool_names: list[str]
    max_turns: int
    images: list[LoadedImage]  # the prompt's resized images (for backends that take pixels)
    video: LoadedVideo | None = None

    @property
    def uses_tools(self) -> bool:
        return bool(self.tool_names)

    def request(self, trajectories: list[int]) -> TurnRequest:
        """The first turn's request (``trajectories``: the ids its completions go to; [] for a dummy)."""
        return TurnRequest(self.prompt, [im.image for im in self.images], [self.video] if self.video else [], 0,
                           list(trajectories), [TOOL_CALL_CLOSE] if self.uses_tools else [],
                           multi_turn=self.uses_tools and self.max_turns > 1)


def vision_settings_for(cfg: DatasetConfig) -> VisionSettings:
    """A dataset's vision settings."""
    return settings_from(cfg.vision)


def prepare_episode(policy, sample: Sample, cfg: DatasetConfig, *, tool_names: Sequence[str] | None = None,
                    max_turns: int | None = None, think: bool = True) -> Episode:
    """Encode ``sample`` for ``cfg``. Tools default to ``cfg.tools.enabled`` and turns to
    ``cfg.tools.max_turns`` (1 without tools)."""
    names = list(cfg.tools.enabled if tool_names is None else tool_names)
    text = render_prompt(sample, cfg.prompt_template, policy.output_frame, think=think)
    system = tools_system_prompt(cfg.tools.system_prompt, names, policy.output_frame) if names else None
    turns = (cfg.tools.max_turns if names else 1) if max_turns is None else max_turns
    return episode_for_prompt(policy, sample, text, vision_settings_for(cfg), names, turns, system=system)


def episode_for_prompt(policy, sample: Sample, text: str | list[dict], settings: VisionSettings,
                       tool_names: Sequence[str], max_turns: int, *, system: str | None = None) -> Episode:
    """An episode from prompt text of your own (e.g. a benchmark's): ``text`` is the user text (or full
    chat messages) for ``sample``'s images / video; ``system`` as from :func:`tools_system_prompt`."""
    names = list(tool_names)
    check_tools(names)
    images = [policy.load_image(im, settings, sample.id) for im in sample.images]
    video = policy.load_video(sample.video, settings, sample.id) if sample.video is not None else None
    messages = text if isinstance(text, list) else build_messages(text, len(images), video is not None, system)
    prompt = encode_prompt(policy.processor, policy.family, messages, images, video)
    ctx = ToolContext(images=list(sample.images), image_frames=list(prompt.image_frames), settings=settings,
                      family=policy.family, video=sample.video, video_info=prompt.video_info,
                      video_fps=float(video.meta["fps"]) if video is not None else None, sample_id=sample.id)
    return Episode(prompt, ctx, names, max_turns, images, video)


def encode_sample(policy, sample: Sample, cfg: DatasetConfig, *, think: bool = True) -> PromptInputs:
    """The model inputs of ``sample``'s prompt, exactly as its rollouts see it."""
    return prepare_episode(policy, sample, cfg, think=think).prompt
