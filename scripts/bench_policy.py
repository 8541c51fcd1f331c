"""Throughput of the policy wrapper on a tiny Qwen-VL model: rollouts, log-prob forward, forward+backward.

    python scripts/bench_policy.py                                  # qwen2_5_vl, one image, P=4, G=8
    python scripts/bench_policy.py --family qwen3_vl --media video --max-new-tokens 64
    python scripts/bench_policy.py --media multi --size hidden=256,layers=4,intermediate=512
    python scripts/bench_policy.py --model-dir /path/to/checkpoint --device cuda

A random-weight checkpoint is written to a temporary folder (sizes from `--size`, fields of
`vrft.policy.tiny_model.TinySize`), prompts get synthetic media (random PNGs, a generated mp4),
and each phase runs once to warm up and then `--repeats` times; the median is reported:

    rollouts/s       completions per second: P prompts x G samples, every completion forced to
                     --max-new-tokens tokens (min_new_tokens = max_new_tokens), prefill included
    logprob tok/s    completion tokens scored per second by Policy.logprobs under no_grad
    fwd+bwd tok/s    the same with gradients, plus backward of the mean log-prob
    peak RSS         the process's high-water resident memory (ru_maxrss), and CUDA peak on a GPU
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import fields

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MEDIA = ("image", "multi", "video")


def parse_size(text: str):
    """`hidden=256,layers=4` -> TinySize(hidden=256, layers=4)."""
    from vrft.policy.tiny_model import TinySize

    known = {f.name for f in fields(TinySize)}
    kwargs = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key not in known:
            raise SystemExit(f"--size: expected KEY=INT with KEY in {sorted(known)}, got {part!r}")
        kwargs[key] = int(value)
    return TinySize(**kwargs)


def write_media(folder: str, n_images: int, video: bool, seed: int = 0) -> tuple[list[str], str | None]:
    """Random PNGs of a few sizes and (with ``video``) a 5 s mp4 whose colour changes over time."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = []
    for i in range(n_images):
        w, h = [(320, 240), (200, 300), (448, 448)][i % 3]
        path = os.path.join(folder, f"img{i}.png")
        Image.fromarray((rng.random((h, w, 3)) * 255).astype("uint8")).save(path)
        images.append(path)
    video_path = None
    if video:
        import imageio_ffmpeg

        video_path = os.path.join(folder, "clip.mp4")
        w, h, n_frames = 128, 96, 40
        writer = imageio_ffmpeg.write_frames(video_path, (w, h), fps=8, codec="libx264", pix_fmt_out="yuv420p",
                                             macro_block_size=16, output_params=["-loglevel", "error"])
        writer.send(None)
        for t in range(n_frames):
            frame = (rng.random((h, w, 3)) * 64).astype("uint8")
            frame[:, :, 0] += np.uint8(4 * t)
            writer.send(frame.tobytes())
        writer.close()
    return images, video_path


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def timed(fn, repeats: int, sync) -> tuple[float, object]:
    """Median seconds of ``repeats`` calls after one warm-up call, and the last result."""
    out = fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="qwen2_5_vl", choices=("qwen2_vl", "qwen2_5_vl", "qwen3_vl"))
    ap.add_argument("--size", default="", help="TinySize fields, e.g. hidden=256,layers=4,intermediate=512")
    ap.add_argument("--model-dir", default=None, help="benchmark this checkpoint instead of a tiny one")
    ap.add_argument("--media", default="image", choices=MEDIA,
                    help="per prompt: one image (default), three images (multi), or one video")
    ap.add_argument("--prompts", type=int, default=4, help="P: prompts per batch (default 4)")
    ap.add_argument("--generations", "-G", type=int, default=8, help="G: samples per prompt (default 8)")
    ap.add_argument("--max-new-tokens", type=int, default=32, help="tokens per completion (default 32)")
    ap.add_argument("--micro-batch", type=int, default=8, help="sequences per log-prob forward (default 8)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per phase, after a warm-up (default 3)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if min(args.prompts, args.generations, args.max_new_tokens, args.repeats, args.micro_batch) < 1:
        raise SystemExit("--prompts, --generations, --max-new-tokens, --micro-batch and --repeats must be >= 1")

    import torch

    from vrft.policy.loading import LoadSettings
    from vrft.policy.policy import Policy
    from vrft.policy.sampling import SamplingParams
    from vrft.policy.tiny_model import build_tiny_model

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    tmp = tempfile.TemporaryDirectory(prefix="bench_policy_")
    size = parse_size(args.size)
    model_dir = args.model_dir or str(build_tiny_model(os.path.join(tmp.name, "model"), args.family, size,
                                                       seed=args.seed))
    policy = Policy.from_pretrained(model_dir, LoadSettings(dtype=args.dtype), device=device)
    n_params = sum(p.numel() for p in policy.model.parameters())
    images, video = write_media(tmp.name, {"image": 1, "multi": 3, "video": 0}[args.media],
                                args.media == "video", args.seed)
    question = "Describe the picture and give the answer in <answer></answer> tags."
    prompts = [policy.encode(f"{question} (prompt {i})", images=images, video=video) for i in range(args.prompts)]
    prompt_len = statistics.mean(p.length for p in prompts)
    vision_tok = statistics.mean(int((p.mm_token_type_ids > 0).sum()) for p in prompts)

    P, G, T = args.prompts, args.generations, args.max_new_tokens
    params = SamplingParams(max_new_tokens=T, temperature=1.0, min_new_tokens=T)
    gen = torch.Generator().manual_seed(args.seed)
    t_gen, comps = timed(lambda: policy.generate(prompts, G, params, generator=gen), args.repeats, sync)
    seq_prompt = [c.prompt_index for c in comps]
    tokens = [c.token_ids for c in comps]
    n_tok = sum(int(t.shape[0]) for t in tokens)

    def forward():
        with torch.no_grad():
            return policy.logprobs(prompts, seq_prompt, tokens, micro_batch=args.micro_batch)

    def forward_backward():
        policy.model.train()
        policy.model.zero_grad(set_to_none=True)
        out = policy.logprobs(prompts, seq_prompt, tokens, micro_batch=args.micro_batch)
        loss = -torch.cat(out.logprobs).mean()
        loss.backward()
        return float(loss.detach())

    t_fwd, _ = timed(forward, args.repeats, sync)
    t_bwd, _ = timed(forward_backward, args.repeats, sync)

    print(f"bench_policy: family={policy.family.name} "
          f"params={n_params / 1e6:.2f}M media={args.media} P={P} G={G} max_new_tokens={T} "
          f"device={device} dtype={next(policy.model.parameters()).dtype} threads={torch.get_num_threads()}")
    print(f"prompt tokens       {prompt_len:.0f} per prompt ({vision_tok:.0f} vision)")
    print(f"rollouts/s          {P * G / t_gen:.1f}  ({P * G} completions in {t_gen:.3f}s, "
          f"{n_tok / t_gen:.0f} generated tok/s)")
    print(f"logprob tok/s       {n_tok / t_fwd:.0f}  (forward, {n_tok} completion tokens in {t_fwd:.3f}s; "
          f"{(n_tok + P * G * prompt_len) / t_fwd:.0f} tok/s counting prompts)")
    print(f"fwd+bwd tok/s       {n_tok / t_bwd:.0f}  ({t_bwd:.3f}s; "
          f"{(n_tok + P * G * prompt_len) / t_bwd:.0f} tok/s counting prompts)")
    line = f"peak RSS MB         {peak_rss_mb():.0f}"
    if device.type == "cuda":
        line += f"  (CUDA peak allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} MB)"
    print(line, flush=True)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
