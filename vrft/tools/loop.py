"""The multi-turn tool loop: every rollout of every prompt advances one assistant turn per batched
generate call, tools answer between turns, observations come back as new chat turns.

Turn 1 generates G completions per prompt (each prompt prefilled once). Generation stops at
``</tool_call>``; a turn with a tool call gets the tool's observation appended in the model's own
chat format (a ``role: tool`` message rendered by the processor's template, holding the new image
or clip and a line of text) followed by a new assistant header; then all still-active trajectories
generate their next turn together (one request each). A turn without a tool call is the final
answer. Limits end a trajectory early and mark it truncated (``Trajectory.truncated_reason``):

- ``max_turns``: assistant turns per trajectory (a tool call on the last allowed turn is not run);
- ``max_images``: images / clips the tools may add to one trajectory;
- ``max_total_tokens``: tokens after the initial prompt (generated + observations);
- a turn that reaches ``params.max_new_tokens`` ends the trajectory ("length").

Sharded backends (FSDP2, ZeRO-3) pass ``all_finished(local_done) -> global_done``: the loop then
runs as many turns as the busiest rank, an idle rank decoding a dummy request so every forward
stays collective.

Example::

    trajs = collect_tool_rollouts(policy, [(sample, cfg)], n=8, params=SamplingParams(max_new_tokens=256))
    out = trajectory_logprobs(policy, trajs)          # per-token log-probs + loss masks after the prompt
    ctxs = [trajectory_reward_context(sample, t) for t in trajs]   # score t.final_text with these
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import torch

from rewards.context import RewardContext
from vrft.data.mixture_config import DatasetConfig
from vrft.data.sample import Sample
from vrft.data.templates import render_prompt
from vrft.policy.logprobs import LogprobOutput
from vrft.policy.media import settings_from, LoadedImage, LoadedVideo, VisionSettings
from vrft.policy.messages import build_messages
from vrft.policy.multiturn import encode_observation, extend_prompt, observation_turn_text
from vrft.policy.prompt_inputs import PromptInputs, encode_prompt
from vrft.policy.sampling import SamplingParams
from vrft.tools.backend import HFBackend, TurnBackend, TurnRequest
from vrft.tools.parse import TOOL_CALL_CLOSE, has_tool_call
from vrft.tools.prompts import tools_system_prompt
from vrft.tools.registry import check_tools
from vrft.tools.runner import run_tool_call
from vrft.tools.trajectory import Trajectory
from vrft.tools.types import ToolContext

DEFAULT_MAX_IMAGES = 8
DEFAULT_MAX_TOTAL_TOKENS = 4096


@dataclass
class ToolEpisode:
    """One prompt ready for the tool loop."""

    prompt: PromptInputs
    context: ToolContext
    tool_names: list[str]
    max_turns: int
    images: list[LoadedImage]  # the prompt's resized images (for backends that take pixels)
    video: LoadedVideo | None = None


def run_tool_loop(backend: TurnBackend, processor, episodes: Sequence[ToolEpisode], n: int, params: SamplingParams,
                  *, max_images: int = DEFAULT_MAX_IMAGES, max_total_tokens: int = DEFAULT_MAX_TOTAL_TOKENS,
                  all_finished: Callable[[bool], bool] | None = None) -> list[Trajectory]:
    """``n`` trajectories per episode, prompt-major (trajectory i belongs to episode ``i // n``)."""
    if n < 1 or max_images < 0 or max_total_tokens < 1:
        raise ValueError(f"need n >= 1, max_images >= 0 and max_total_tokens >= 1; got {n}, {max_images}, "
                         f"{max_total_tokens}")
    params = replace(params, stop=list(dict.fromkeys([*params.stop, TOOL_CALL_CLOSE])))
    trajs = [Trajectory(p, ep.prompt) for p, ep in enumerate(episodes) for _ in range(n)]
    requests = [TurnRequest(ep.prompt, [im.image for im in ep.images], [ep.video] if ep.video else [], 0,
                            list(range(p * n, (p + 1) * n))) for p, ep in enumerate(episodes)]
    comps = backend.generate(requests, n, params, all_finished=all_finished)
    pending = list(enumerate(comps))
    turn = 0
    while True:
        for i, comp in pending:
            _advance(trajs[i], episodes[trajs[i].prompt_index], comp, processor, max_images, max_total_tokens)
        active = [i for i, t in enumerate(trajs) if not t.done]
        if not (active if all_finished is None else not all_finished(not active)):
            return trajs
        turn += 1
        if active:
            reqs = [_request(trajs[i], episodes[trajs[i].prompt_index], turn, i) for i in active]
            pending = list(zip(active, backend.generate(reqs, 1, params, all_finished=all_finished)))
        else:  # other ranks are still generating: decode a dummy row to keep forwards collective
            idle_turn(backend, replace(requests[0], turn=turn, trajectories=[]), params, all_finished)
            pending = []


def idle_turn(backend: TurnBackend, request: TurnRequest, params: SamplingParams,
              all_finished: Callable[[bool], bool]) -> None:
    """Decode `request` (output dropped) only to keep this rank's forwards collective while other
    ranks are still generating (sharded backends)."""
    backend.generate([request], 1, params, all_finished=lambda _local: all_finished(True))


def idle_tool_loop(backend: TurnBackend, request: TurnRequest, params: SamplingParams,
                   all_finished: Callable[[bool], bool]) -> None:
    """Take part in other ranks' tool loop with no trajectories of one's own: the calls
    :func:`run_tool_loop` makes on a rank whose trajectories are all done, from the first turn on.
    ``request``: any prompt, with media like the other ranks' prompts so the vision forwards match."""
    idle_turn(backend, request, params, all_finished)
    while not all_finished(True):
        idle_turn(backend, request, params, all_finished)


def idle_request(policy, sample: Sample, cfg: DatasetConfig) -> TurnRequest:
    """A turn request for :func:`idle_tool_loop` from any sample (no tools, no trajectories)."""
    ep = prepare_episode(policy, sample, cfg, tool_names=[], max_turns=1)
    return TurnRequest(ep.prompt, [im.image for im in ep.images], [ep.video] if ep.video else [], 0, [])


def _request(traj: Trajectory, ep: ToolEpisode, turn: int, index: int) -> TurnRequest:
    return TurnRequest(
        inputs=extend_prompt(ep.prompt, traj.completion, traj.text),
        images=[im.image for im in ep.images] + [im.image for im in traj.images],
        videos=([ep.video] if ep.video else []) + traj.videos,
        turn=turn, trajectories=[index],
    )


def _advance(traj: Trajectory, ep: ToolEpisode, comp, processor, max_images: int, max_total_tokens: int) -> None:
    """Append one generated turn; run its tool call and append the observation, or finish."""
    ids, logps, text, reason = comp.token_ids, comp.logprobs, comp.text, comp.finish_reason
    room = max_total_tokens - traj.length
    if len(ids) > room:
        ids, logps, reason = ids[:room], logps[:room], "max_total_tokens"
        text = processor.tokenizer.decode(ids)
    traj.add_turn(ids, logps, text)
    if reason in ("length", "max_total_tokens"):
        return traj.finish(reason)
    if not has_tool_call(text):
        return traj.finish("stop" if reason == "stop" else "eos")
    if len(traj.turns) >= ep.max_turns:
        return traj.finish("max_turns")
    obs, call = run_tool_call(text, ep.context, ep.tool_names)
    traj.tool_calls.append(call)
    if obs.media and len(traj.media) + len(obs.media) > max_images:
        return traj.finish("max_images")
    glue = observation_turn_text(processor, obs.text, len(obs.images), 1 if obs.video is not None else 0,
                                 after_end_of_turn=reason == "eos")
    part = encode_observation(processor, glue, obs.images, [obs.video] if obs.video is not None else [])
    if traj.length + part.length >= max_total_tokens:  # no room left for even one generated token
        return traj.finish("max_total_tokens")
    traj.add_observation(part, glue, obs.media)


# ---- entry points for the engine and evaluation ------------------------------------------------
def vision_settings_for(cfg: DatasetConfig) -> VisionSettings:
    """A dataset's vision settings (the same mapping the engine's rollouts use)."""
    return settings_from(cfg.vision)


def prepare_episode(policy, sample: Sample, cfg: DatasetConfig, *, tool_names: Sequence[str] | None = None,
                    max_turns: int | None = None, think: bool = True) -> ToolEpisode:
    """Encode `sample` with the tools' system prompt (``cfg.tools.system_prompt`` or the default
    for the tools) and gather what the tools need. Tools default to ``cfg.tools.enabled`` and
    turns to ``cfg.tools.max_turns``."""
    names = list(cfg.tools.enabled if tool_names is None else tool_names)
    check_tools(names)
    settings = vision_settings_for(cfg)
    text = render_prompt(sample, cfg.prompt_template, policy.output_frame, think=think)
    system = tools_system_prompt(cfg.tools.system_prompt, names, policy.output_frame)
    return episode_for_prompt(policy, sample, text, settings, names,
                              cfg.tools.max_turns if max_turns is None else max_turns, system=system)


def episode_for_prompt(policy, sample: Sample, text: str | list[dict], settings: VisionSettings,
                       tool_names: Sequence[str], max_turns: int, *, system: str | None = None) -> ToolEpisode:
    """An episode from prompt text of your own (e.g. a benchmark's): `text` is the user text (or full
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
    return ToolEpisode(prompt, ctx, names, max_turns, images, video)


def collect_tool_rollouts(policy, items: Sequence[tuple[Sample, DatasetConfig]], n: int, params: SamplingParams,
                          *, generator: torch.Generator | None = None, tool_names: Sequence[str] | None = None,
                          max_turns: int | None = None, max_images: int = DEFAULT_MAX_IMAGES,
                          max_total_tokens: int = DEFAULT_MAX_TOTAL_TOKENS, backend: TurnBackend | None = None,
                          all_finished: Callable[[bool], bool] | None = None) -> list[Trajectory]:
    """``n`` tool-using trajectories per item, prompt-major. ``tool_names`` / ``max_turns`` of None
    take each dataset's ``tools`` config; ``backend`` defaults to HF generation on the policy."""
    episodes = [prepare_episode(policy, s, cfg, tool_names=tool_names, max_turns=max_turns) for s, cfg in items]
    return run_tool_loop(backend or HFBackend(policy, generator), policy.processor, episodes, n, params,
                         max_images=max_images, max_total_tokens=max_total_tokens, all_finished=all_finished)


def collect_tool_rollout(policy, sample: Sample, cfg: DatasetConfig, params: SamplingParams, **kwargs) -> Trajectory:
    """One trajectory for one sample (evaluation: usually greedy ``params``)."""
    return collect_tool_rollouts(policy, [(sample, cfg)], 1, params, **kwargs)[0]


def trajectory_reward_context(sample: Sample, trajectory: Trajectory) -> RewardContext:
    """The reward context of a trajectory: the prompt's media frames and the tool-call trace.
    Score ``trajectory.final_text`` (the last assistant turn) with it."""
    prompt = trajectory.prompt
    return RewardContext(solution=sample.solution, task=sample.task, dataset=sample.dataset, sample_id=sample.id,
                         images=list(prompt.image_frames), video=prompt.video_info,
                         tool_calls=list(trajectory.tool_calls), meta=dict(sample.meta))


def trajectory_inputs(trajectories: Sequence[Trajectory]):
    """``(prompts, seq_prompt, completions)`` for :meth:`Policy.logprobs` (distinct prompts once)."""
    prompts: list[PromptInputs] = []
    index: dict[int, int] = {}
    seq = []
    for t in trajectories:
        if id(t.prompt) not in index:
            index[id(t.prompt)] = len(prompts)
            prompts.append(t.prompt)
        seq.append(index[id(t.prompt)])
    return prompts, seq, [t.completion for t in trajectories]


def trajectory_logprobs(policy, trajectories: Sequence[Trajectory], **kwargs) -> LogprobOutput:
    """Per-token log-probs of everything after each trajectory's prompt (0 off the loss mask) and the
    loss masks (``out.loss_masks``); kwargs as :func:`vrft.policy.logprobs.completion_logprobs`."""
    prompts, seq, comps = trajectory_inputs(trajectories)
    return policy.logprobs(prompts, seq, comps, **kwargs)
