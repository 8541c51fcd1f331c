"""Per-step tool-use metrics from a scripted rollout: call rate, valid-call rate, turns per episode."""

from __future__ import annotations

import json

import torch

from vrft.data.mixture_config import DatasetConfig, RewardSpec, ToolsConfig
from vrft.data.sample import Sample
from vrft.grpo.plots import plot_run
from vrft.grpo.step_stats import assistant_turns, tool_metrics
from vrft.parallel.dist import DistInfo
from vrft.policy.multiturn import concat_completions, empty_completion, generated_part
from vrft.policy.prompt_inputs import MultiTurnCompletion
from vrft.policy.sampling import SamplingParams
from vrft.rollout import RolloutCollector, ScriptedBackend

ZOOM = '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [98, 56, 196, 112]}}</tool_call>'
BAD = '<tool_call>{"name": "rotate", "arguments": {"angle": 90}}</tool_call>'  # not an enabled tool: invalid
ANSWER = "<answer>blue</answer>"

# trajectory -> its turns; prompt 0 (plain) rows 0-2, tool/0 rows 3-5, tool/1 rows 6-8 (the last
# row of each group is replaced by the ground truth: not the policy's tool use)
SCRIPT = {
    0: [ZOOM], 1: [ANSWER], 2: [ANSWER],      # plain: a tool call there is just text, not counted
    3: [ZOOM, ZOOM, ANSWER],                  # 3 turns, 2 valid calls
    4: [ANSWER],                              # 1 turn, no call
    5: [ZOOM, ANSWER],                        # injected: left out
    6: [BAD, BAD, ANSWER],                    # 3 turns, 2 invalid calls
    7: [ZOOM, ANSWER],                        # 2 turns, 1 valid call
    8: [ANSWER],
}


def test_tool_metrics_match_a_hand_count(tiny_policy, media_dir):
    policy = tiny_policy("qwen2_5_vl")
    rewards = [RewardSpec("answer_match")]
    configs = {"plain": DatasetConfig(name="plain", format="jsonl", files=["p.jsonl"], task="vqa", rewards=rewards),
               "tool": DatasetConfig(name="tool", format="jsonl", files=["t.jsonl"], task="vqa", rewards=rewards,
                                     tools=ToolsConfig(enabled=["zoom_in"], max_turns=3))}
    samples = [Sample(id=f"{d}/{k}", dataset=d, task="vqa", prompt="What colour is it?", solution={"answer": "red"},
                      images=[str(media_dir / "a.png")]) for d, k in (("plain", 0), ("tool", 0), ("tool", 1))]
    backend = ScriptedBackend(policy.tokenizer, lambda i, turn: SCRIPT[i][turn])
    batch = RolloutCollector(policy, configs, backend=backend).collect(
        samples, 3, SamplingParams(max_new_tokens=64), inject_per_group=1, score=False)
    assert [len(batch.contexts[i].tool_calls) for i in (3, 4, 6, 7)] == [2, 0, 2, 1]
    # episodes 3, 4, 6, 7: 3 of 4 call a tool; 3 of their 5 calls are valid; 3 + 1 + 3 + 2 turns
    assert tool_metrics(batch, DistInfo()) == {"tools/call_rate": 0.75, "tools/valid_call_rate": 0.6,
                                               "tools/turns_per_episode": 9 / 4}
    assert tool_metrics(batch.select([0]), DistInfo()) == {}  # no tool prompt: nothing to report


def test_turns_are_runs_of_generated_tokens():
    ids = torch.arange(3)
    obs = MultiTurnCompletion(token_ids=ids, mm_token_type_ids=torch.zeros(3, dtype=torch.long),
                              loss_mask=torch.zeros(3, dtype=torch.long))
    assert assistant_turns(concat_completions([generated_part(ids), obs, generated_part(ids), obs,
                                               generated_part(ids)])) == 3
    assert assistant_turns(generated_part(ids)) == 1 and assistant_turns(ids) == 1
    assert assistant_turns(empty_completion()) == 0


def test_tool_plots_are_drawn(tmp_path):
    rows = [{"step": s, "tools/call_rate": 1 / s, "tools/valid_call_rate": 0.5, "tools/turns_per_episode": 1 + 1 / s}
            for s in (1, 2)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert {p.rsplit("/", 1)[1] for p in plot_run(str(tmp_path))} == {"tool_use.png", "tool_turns.png"}
