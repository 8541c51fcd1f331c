"""PNG plots of a run from its metrics.jsonl: rewards per dataset, completion length, mixture weights,
held-out scores, warm-up loss, tool use."""

from __future__ import annotations

import json
import os


def _read(run_dir: str) -> list[dict]:
    path = os.path.join(run_dir, "metrics.jsonl")
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    # Records of one step merge (the last warm-up step and the evaluation after it share step 0);
    # a resumed run appends again the steps after its checkpoint: the later values win.
    by_step: dict[int, dict] = {}
    for r in rows:
        by_step.setdefault(r["step"], {}).update(r)
    return [by_step[s] for s in sorted(by_step)]


def _plot(rows, keys: list[str], title: str, path: str, ylabel: str) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in keys if any(k in r for r in rows)]
    if not keys:
        return False
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for k in keys:
        pts = [(r["step"], r[k]) for r in rows if k in r]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=k, linewidth=1.2)
    ax.set_title(title)
    ax.set_xlabel("step (the supervised warm-up's are <= 0)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_run(run_dir: str) -> list[str]:
    """Write the plots into `run_dir/plots/`; returns the files written."""
    rows = _read(run_dir)
    out_dir = os.path.join(run_dir, "plots")
    os.makedirs(out_dir, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    reward_keys = ["reward/mean"] + [k for k in keys if k.startswith("reward/") and k.endswith("/mean")
                                     and k != "reward/mean"]
    eval_keys = [k for k in keys if k.startswith("eval/") and k.endswith("/score")]
    plots = [
        (reward_keys, "Training reward per dataset", "rewards.png", "reward"),
        (["rollout/completion_len"], "Completion length", "completion_length.png", "tokens"),
        ([k for k in keys if k.startswith("mixture/weight/")], "Mixture weights", "mixture_weights.png", "weight"),
        (eval_keys, "Held-out score per dataset", "eval.png", "score"),
        (["sft/loss"] + [k for k in keys if k.startswith("sft/") and k.endswith("/loss") and k != "sft/loss"],
         "Supervised warm-up loss per dataset", "warmup_loss.png", "mean token NLL"),
        (["tools/call_rate", "tools/valid_call_rate"], "Tool use (episodes calling a tool; valid calls)",
         "tool_use.png", "fraction"),
        (["tools/turns_per_episode"], "Assistant turns per episode", "tool_turns.png", "turns"),
    ]
    written = []
    for ks, title, name, ylabel in plots:
        path = os.path.join(out_dir, name)
        if _plot(rows, ks, title, path, ylabel):
            written.append(path)
    return written
