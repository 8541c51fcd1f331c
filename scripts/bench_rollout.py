"""A 3-turn zoom-in episode against a single-turn rollout of the same total length (tiny Qwen-VL).

    python scripts/bench_rollout.py                          # qwen2_5_vl, P=2, G=4, final turn 64 tokens
    python scripts/bench_rollout.py --family qwen3_vl --size hidden=256,layers=4,intermediate=512
    python scripts/bench_rollout.py --no-keep-kv             # re-prefill every turn (the old path)

Turns 1 and 2 are forced to be zoom_in calls (their tokens still go through the model and get the
model's log-probs), turn 3 is sampled at exactly ``--final-tokens``. The single-turn rollout then
generates as many tokens as the episode's completion holds (turns + observations), so both produce
sequences of the same length; the ratio is episode time / single-turn time (target <= 1.3: with
the KV cache kept across turns, a later turn only prefills its observation and encodes its crop).
Each phase runs once to warm up, then ``--repeats`` times; medians are reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ZOOMS = ['<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [10, 20, 200, 180]}}</tool_call>',
         '<tool_call>{"name": "zoom_in", "arguments": {"bbox_2d": [40, 40, 120, 100]}}</tool_call>']


def force_first_turns(policy, zooms: list[str]):
    """Make decode call k (k < len(zooms)) of each episode start with zooms[k]'s tokens. Returns
    ``reset()`` to call before an episode and ``off()`` to restore sampling."""
    import torch

    import vrft.policy.hf_generator as hf_generator
    import vrft.policy.turn_cache as turn_cache

    forced = [torch.tensor(policy.tokenizer(z, add_special_tokens=False)["input_ids"]) for z in zooms]
    state = {"turn": -1, "step": 0, "on": True}
    real_decode, real_sample = hf_generator.decode, hf_generator.sample_step

    def decode(*args, **kwargs):
        state["turn"], state["step"] = state["turn"] + 1, 0
        return real_decode(*args, **kwargs)

    def sample(logits, params, generator):
        step = state["step"]
        state["step"] += 1
        if state["on"] and state["turn"] < len(forced) and step < len(forced[state["turn"]]):
            tok = forced[state["turn"]][step].expand(logits.shape[0]).to(logits.device)
            logp = torch.log_softmax(logits.float() / max(params.temperature, 1e-6), -1)
            return tok, logp.gather(-1, tok[:, None])[:, 0]
        return real_sample(logits, params, generator)

    hf_generator.decode = turn_cache.decode = decode
    hf_generator.sample_step = sample

    def reset(on: bool = True):
        state.update(turn=-1, step=0, on=on)

    def off():
        hf_generator.decode = turn_cache.decode = real_decode
        hf_generator.sample_step = real_sample

    return reset, off, max(len(f) for f in forced)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="qwen2_5_vl", choices=("qwen2_vl", "qwen2_5_vl", "qwen3_vl"))
    ap.add_argument("--size", default="", help="TinySize fields, e.g. hidden=256,layers=4,intermediate=512")
    ap.add_argument("--prompts", type=int, default=2, help="P: prompts (default 2)")
    ap.add_argument("--generations", "-G", type=int, default=4, help="G: samples per prompt (default 4)")
    ap.add_argument("--final-tokens", type=int, default=64, help="tokens of the sampled last turn (default 64)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats after a warm-up (default 3)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-keep-kv", action="store_true", help="re-prefill every turn (the path before the KV cache)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import torch

    from bench_policy import parse_size, write_media
    from vrft.data.mixture_config import DatasetConfig, ToolsConfig
    from vrft.data.sample import Sample
    from vrft.policy.loading import LoadSettings
    from vrft.policy.policy import Policy
    from vrft.policy.sampling import SamplingParams
    from vrft.policy.tiny_model import build_tiny_model
    from vrft.rollout import HFBackend, prepare_episode, run_turn_loop

    if args.threads:
        torch.set_num_threads(args.threads)
    sync = (lambda: torch.cuda.synchronize()) if args.device.startswith("cuda") else (lambda: None)
    tmp = tempfile.TemporaryDirectory(prefix="bench_rollout_")
    model_dir = str(build_tiny_model(os.path.join(tmp.name, "model"), args.family, parse_size(args.size),
                                     seed=args.seed))
    policy = Policy.from_pretrained(model_dir, LoadSettings(), device=torch.device(args.device))
    images, _ = write_media(tmp.name, 1, False, args.seed)
    samples = [Sample(id=f"b/{i}", dataset="b", task="vqa", prompt=f"What is in the picture? (prompt {i})",
                      solution={"answer": "x"}, images=images) for i in range(args.prompts)]
    tools = DatasetConfig(name="b", format="jsonl", files=["b.jsonl"], task="vqa", rewards=[],
                          tools=ToolsConfig(enabled=["zoom_in"], max_turns=3))
    plain = DatasetConfig(name="b", format="jsonl", files=["b.jsonl"], task="vqa", rewards=[])
    reset, off, longest_zoom = force_first_turns(policy, ZOOMS)
    final = max(args.final_tokens, longest_zoom)
    backend = HFBackend(policy, keep_kv=not args.no_keep_kv)

    def episode():
        reset(True)
        eps = [prepare_episode(policy, s, tools) for s in samples]
        return run_turn_loop(backend, policy.processor, eps, args.generations,
                             SamplingParams(max_new_tokens=final, min_new_tokens=final),
                             generator=torch.Generator().manual_seed(args.seed))

    def timed(fn):
        out = fn()
        sync()
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = fn()
            sync()
            times.append(time.perf_counter() - t0)
        return statistics.median(times), out

    t_episode, trajs = timed(episode)
    assert all(len(t.turns) == 3 and t.n_calls == 2 for t in trajs), [t.finish_reason for t in trajs]
    total = round(statistics.mean(t.length for t in trajs))

    def single():
        reset(False)
        eps = [prepare_episode(policy, s, plain) for s in samples]
        return run_turn_loop(backend, policy.processor, eps, args.generations,
                             SamplingParams(max_new_tokens=total, min_new_tokens=total),
                             generator=torch.Generator().manual_seed(args.seed))

    t_single, singles = timed(single)
    off()
    prompt = statistics.mean(prepare_episode(policy, s, tools).prompt.length for s in samples)
    print(f"family={args.family} P={args.prompts} G={args.generations} prompt={prompt:.0f} tok "
          f"keep_kv={not args.no_keep_kv}")
    print(f"3-turn zoom episode: {t_episode:.3f} s  ({total} tokens after the prompt: turns + observations)")
    print(f"single turn:         {t_single:.3f} s  ({round(statistics.mean(t.length for t in singles))} tokens)")
    print(f"ratio episode / single-turn: {t_episode / t_single:.2f}x (target <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
