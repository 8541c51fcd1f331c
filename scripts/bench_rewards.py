"""Completions scored per second by each built-in reward, on one core, in this process.

    python scripts/bench_rewards.py                 # every built-in, a mix of typical completions
    python scripts/bench_rewards.py --reward iou --seconds 2
    python scripts/bench_rewards.py --runner        # also the RewardRunner overhead (iou + format)

Each reward is timed on a fixed mix of realistic completions (well-formed, Qwen ```json fenced,
malformed, several answer blocks, 100 KB of garbage in 1 of 100) in its task's context; the goal
for ``iou`` is >= 20,000 completions/s on one core.
"""

from __future__ import annotations

import argparse
import time

from rewards import RewardRunner, get_reward
from rewards.context import RewardContext, ToolCall, VideoInfo
from rewards.frames import NORM_1000, RESIZED_PIXELS, ImageFrame

QWEN25 = ImageFrame((1000, 500), (448, 224), RESIZED_PIXELS)
NORM = ImageFrame((1000, 500), (448, 224), NORM_1000)
THINK = "<think>The object on the left is the red car next to the tree, so I box it.</think>"
GARBAGE = ("x[1, 2, {" * 12_500)[:100_000]


def _mix(good: list[str], bad: list[str]) -> list[str]:
    """98 good-ish completions, 1 malformed mix, 1 x 100 KB garbage per 100."""
    out = [THINK + f"<answer>{g}</answer>" for g in good]
    out = (out * (98 // len(out) + 1))[:98]
    out += [bad[0], GARBAGE]
    return out + [THINK + f"<answer>{b}</answer>" for b in bad[1:]]


CASES = {
    "iou": (RewardContext(solution={"boxes": [[100, 100, 300, 200]]}, images=[QWEN25]), {},
            _mix(['{"bbox_2d": [44, 45, 134, 90]}', "[90, 44, 180, 90]",
                  '```json\n[{"bbox_2d": [44, 45, 134, 90], "label": "car"}]\n```'],
                 ["<answer>[1,2,3,4]</answer><answer>[1,2,3,4]</answer>", "[NaN, 1, 2, 3]"])),
    "format": (RewardContext(solution={}), {}, _mix(["B"], ["<answer>B</answer>"])),
    "detection": (RewardContext(solution={"objects": [{"bbox": [0, 0, 100, 100], "label": "cat"},
                                                      {"bbox": [200, 200, 300, 300], "label": "dog"}]},
                                images=[NORM]), {},
                  _mix(['[{"bbox_2d": [0, 0, 100, 200], "label": "cat", "confidence": 0.9}, '
                        '{"bbox_2d": [200, 400, 300, 600], "label": "dog", "confidence": 0.8}, '
                        '{"bbox_2d": [500, 500, 600, 600], "label": "cat", "confidence": 0.1}]'],
                       ["cats", '[{"bbox_2d": [0, 0, 1, NaN]}]'])),
    "chart_answer": (RewardContext(solution={"answer": "45%"}), {}, _mix(["45", "0.45", "$1,234", "twelve"], ["x", "Yes"])),
    "gui_click": (RewardContext(solution={"action": "click", "bbox": [100, 100, 200, 200]}, images=[NORM]), {},
                  _mix(['{"action": "click", "point_2d": [150, 300]}', "[150, 300]"], ["here", "[1, 2"])),
    "gui_action": (RewardContext(solution={"action": "type", "text": "hello world"}, images=[QWEN25]), {},
                   _mix(['{"action": "type", "text": "hello world"}'], ["x", '{"action": "jump"}'])),
    "temporal_iou": (RewardContext(solution={"segment": [10, 20]}, video=VideoInfo(duration=60)), {},
                     _mix(["12.50 to 20.10", "12.5 - 20.1"], ["soon", "1 to 2 and 3 to 4"])),
    "answer_match": (RewardContext(solution={"answer": "B"}), {}, _mix(["B", "(B)", "B) a car"], ["A, B", "A or C"])),
    "tool_use": (RewardContext(solution={"answer": "B"}, tool_calls=[ToolCall("zoom_in", {}, True)]),
                 {"accuracy": "answer_match"}, _mix(["B"], ["C"])),
}


def bench(name: str, seconds: float) -> float:
    ctx, kwargs, completions = CASES[name]
    fn = get_reward(name).fn
    for c in completions:  # warm-up (regex caches, lazy imports)
        fn(c, ctx, **kwargs)
    n, start = 0, time.perf_counter()
    while True:
        for c in completions:
            fn(c, ctx, **kwargs)
        n += len(completions)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def bench_runner(seconds: float, batch: int = 256) -> float:
    ctx, _, completions = CASES["iou"]
    comps = (completions * (batch // len(completions) + 1))[:batch]
    runner = RewardRunner([{"name": "iou", "weight": 1.0}, {"name": "format", "weight": 0.5}])
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        runner.score(comps, [ctx] * batch)
        n += batch
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reward", action="append", choices=sorted(CASES), help="reward(s) to time (default: all)")
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent per reward")
    parser.add_argument("--runner", action="store_true", help="also time RewardRunner(iou + format)")
    args = parser.parse_args()
    print(f"{'reward':<14} {'completions/s':>14}")
    for name in args.reward or list(CASES):
        print(f"{name:<14} {bench(name, args.seconds):>14,.0f}")
    if args.runner:
        print(f"{'runner(iou+format)':<14} {bench_runner(args.seconds):>10,.0f}")


if __name__ == "__main__":
    main()
