"""The one turn loop: every trajectory of every prompt advances one assistant turn per batched
generate call, tools answer between turns, observations come back as new chat turns. A plain prompt
is an episode without tools: one turn, no ``</tool_call>`` stop.

Turn 1 generates G completions per prompt (each prompt prefilled once). Tool prompts stop at
``</tool_call>``; a turn with a tool call gets the tool's observation appended in the model's own
chat format (a ``role: tool`` message rendered by the processor's template, holding the new image
or clip and a line of text) followed by a new assistant header; then all still-active trajectories
generate their next turn together (one request each). A turn without a tool call is the final
answer. Limits end a tool trajectory early and mark it truncated (``Trajectory.truncated_reason``):

- ``max_turns``: assistant turns per trajectory (a tool call on the last allowed turn is not run);
- ``max_images``: images / clips the tools may add to one trajectory;
- ``max_total_tokens``: tokens after the initial prompt (generated + observations);
- a turn that reaches ``params.max_new_tokens`` ends the trajectory ("length").

Lockstep (sharded backends, FSDP2 / ZeRO-3, whose every forward is a collective): ``lockstep(done)``
is asked once per turn, on every rank, whether every rank is done, and is handed to the backend for
its per-decode-step agreement. A rank whose own trajectories are all finished keeps decoding a dummy
request (its first prompt, output dropped) until every rank is done. Non-collective backends (vLLM)
skip the dummy decode but still take part in the per-turn agreement.
"""

from __future__ import annotations

from typing import Sequence

from vrft.policy.multiturn import encode_observation, extend_prompt, observation_turn_text
from vrft.policy.sampling import SamplingParams
from vrft.rollout.backends import GenerationBackend, Lockstep, TurnRequest
from vrft.rollout.episode import DEFAULT_MAX_IMAGES, DEFAULT_MAX_TOTAL_TOKENS, Episode
from vrft.rollout.trajectory import Trajectory
from vrft.tools.parse import TOOL_CALL_CLOSE, has_tool_call
from vrft.tools.runner import run_tool_call


def run_turn_loop(backend: GenerationBackend, processor, episodes: Sequence[Episode], n: int,
                  params: SamplingParams, *, generator=None, max_images: int = DEFAULT_MAX_IMAGES,
                  max_total_tokens: int = DEFAULT_MAX_TOTAL_TOKENS,
                  lockstep: Lockstep | None = None) -> list[Trajectory]:
    """``n`` trajectories per episode, prompt-major (trajectory i belongs to episode ``i // n``)."""
    if n < 1 or max_images < 0 or max_total_tokens < 1:
        raise ValueError(f"need n >= 1, max_images >= 0 and max_total_tokens >= 1; got {n}, {max_images}, "
                         f"{max_total_tokens}")
    if not episodes:
        raise ValueError("the turn loop needs at least one episode (a rank without prompts rolls out a "
                         "throw-away one to stay in lockstep)")
    trajs = [Trajectory(p, ep.prompt) for p, ep in enumerate(episodes) for _ in range(n)]
    requests = [ep.request(list(range(p * n, (p + 1) * n))) for p, ep in enumerate(episodes)]
    pending = list(enumerate(backend.generate(requests, n, params, generator=generator, lockstep=lockstep)))
    turn = 0
    while True:
        for i, comp in pending:
            _advance(trajs[i], episodes[trajs[i].prompt_index], comp, processor, max_images, max_total_tokens)
        active = [i for i, t in enumerate(trajs) if not t.done]
        if not (active if lockstep is None else not lockstep(not active)):
            return trajs
        turn += 1
        if active:
            reqs = [_request(trajs[i], episodes[trajs[i].prompt_index], turn, i) for i in active]
            pending = list(zip(active, backend.generate(reqs, 1, params, generator=generator, lockstep=lockstep)))
        else:  # other ranks are still generating: decode a dummy row to keep forwards collective
            if backend.collective:
                dummy = episodes[0].request([])
                dummy.turn = turn
                backend.generate([dummy], 1, params, generator=generator, lockstep=lambda _local: lockstep(True))
            pending = []


def _request(traj: Trajectory, ep: Episode, turn: int, index: int) -> TurnRequest:
    return TurnRequest(
        inputs=extend_prompt(ep.prompt, traj.completion, traj.text),
        images=[im.image for im in ep.images] + [im.image for im in traj.images],
        videos=([ep.video] if ep.video else []) + traj.videos,
        turn=turn, trajectories=[index], stop=[TOOL_CALL_CLOSE] if ep.uses_tools else [],
        multi_turn=len(traj.turns) + 1 < ep.max_turns, resume=traj.resume,
    )


def _advance(traj: Trajectory, ep: Episode, comp, processor, max_images: int, max_total_tokens: int) -> None:
    """Append one generated turn; run its tool call and append the observation, or finish."""
    ids, logps, text, reason = comp.token_ids, comp.logprobs, comp.text, comp.finish_reason
    traj.resume = getattr(comp, "resume", None)  # the backend's state to continue from (dropped when done)
    if not ep.uses_tools:  # a plain prompt: the turn is the answer, as generated
        traj.add_turn(ids, logps, text)
        return traj.finish(reason)
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
