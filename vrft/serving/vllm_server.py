"""vrft's vLLM rollout server: vLLM's own engine behind a small JSON-over-HTTP API, plus a worker
extension that receives the trainer's weights after every optimizer step.

Runs in its own environment (vLLM pins transformers<5.21, vrft needs >=5.23; ``scripts/vllm_env.sh``
builds it), so this module is self-contained: it imports vllm, torch, numpy and the standard library,
never another vrft module. Start it with one command, from the vLLM environment::

    VLLM_ENABLE_V1_MULTIPROCESSING=0 python vrft/serving/vllm_server.py --model DIR --port 8765

(``vrft vllm-serve`` prints that command for the cached environment). The trainer is the client
(:mod:`vrft.rollout.vllm_client`). Endpoints, all JSON (arrays as ``{"shape", "dtype", "b64"}``):

- ``GET /health``: ``{"ok": true, "model": ..., "sleep_mode": bool, "sleeping": level or 0}``;
- ``POST /generate``: ``{"requests": [{"prompt": text, "images": [HWC uint8], "videos": [THWC uint8],
  "video_fps": [float]}], "n", "params": {temperature, top_p, top_k, max_tokens, min_tokens, stop, logit_bias, seed}}`` ->
  ``{"outputs": [[{"token_ids", "logprobs", "finish_reason", "stop_reason"}] * n]}`` prompt-major;
  the media go in the order of their placeholders in the text;
- ``POST /score``: ``{"requests": [{"prompt", "images", "videos", "continuation": [ids]}]}`` ->
  ``{"logprobs": [[float] per continuation token]}`` (vLLM's prompt log-probs, temperature 1);
- ``POST /init_weight_sync``: ``{"host", "port", "world_size", "rank", "backend"}``: join a process
  group (TCPStore + gloo on CPU, NCCL on GPU) made for the sync only; the trainer is rank 0;
- ``POST /update_weights``: ``{"params": [[name, dtype, shape], ...]}``: receive each tensor by
  broadcast from rank 0 (Hugging Face names) and load it with the model's own ``load_weights``;
- ``POST /load_weights_file``: ``{"path": file.safetensors}``: the fallback through a shared file;
- ``POST /close_weight_sync``;
- ``POST /sleep``: ``{"level": 1 | 2}``: vLLM's ``LLM.sleep`` (1: weights offloaded to host memory and
  the KV cache dropped; 2: both dropped, so the trainer's weight sync after waking restores them);
- ``POST /wake_up``: ``{"tags": ["weights"] | ["kv_cache"] | null}``: vLLM's ``LLM.wake_up`` (null: all).

Sleep needs ``--sleep-mode`` (vLLM's ``enable_sleep_mode``), which vLLM supports on CUDA / ROCm only:
asked for on another platform (CPU) the server refuses to start, saying so; a server started
without it answers ``/sleep`` and ``/wake_up`` with 409 and that reason. While asleep, ``/generate``
and ``/score`` answer 409 (wake it first) instead of running on dropped weights.

Every weight update resets the prefix, encoder and media caches (nothing computed with the old
weights may be reused).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import torch
from PIL import Image  # vLLM's own dependencies, as numpy
from safetensors.torch import load_file

EXTENSION = "vrft.serving.vllm_server.VrftWorkerExtension"
"""How vLLM's workers import the extension (main puts the repository root on their path)."""
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def decode_array(obj: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(obj["b64"]), dtype=obj["dtype"]).reshape(obj["shape"])


def encode_array(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "b64": base64.b64encode(a.tobytes()).decode()}


class VrftWorkerExtension:
    """Mixed into every vLLM worker (``worker_extension_cls``); called by ``LLM.collective_rpc``."""

    def vrft_init_sync(self, host: str, port: int, world_size: int, rank: int, backend: str,
                       timeout_s: float = 600.0) -> None:
        store = torch.distributed.TCPStore(host, port, world_size, is_master=False,
                                           timeout=datetime.timedelta(seconds=timeout_s))
        timeout = datetime.timedelta(seconds=timeout_s)
        if backend == "nccl":
            opts = torch.distributed.ProcessGroupNCCL.Options()
            opts._timeout = timeout
            self.vrft_pg = torch.distributed.ProcessGroupNCCL(store, rank, world_size, opts)
        else:
            self.vrft_pg = torch.distributed.ProcessGroupGloo(store, rank, world_size, timeout)
        self.vrft_device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" \
            else torch.device("cpu")

    def vrft_receive(self, params: list) -> int:
        """Receive ``params`` ([name, dtype, shape] in the trainer's broadcast order, Hugging Face
        names) and reload them in place. vLLM's ``reload_weights`` (not ``model.load_weights``: after
        loading, kernels may have repacked a layer's parameters, e.g. on CPU) restores the checkpoint
        layout, loads, and re-processes; the tensors stream in as it asks for them. Every tensor is
        received even when loading fails, so the trainer never blocks on a half-finished broadcast."""
        received = 0

        def stream():
            nonlocal received
            for name, dtype, shape in params:
                t = torch.empty(shape, dtype=getattr(torch, dtype), device=self.vrft_device)
                opts = torch.distributed.BroadcastOptions()
                opts.rootRank = 0
                self.vrft_pg.broadcast([t], opts).wait()
                received += 1
                yield name, t

        it = stream()
        try:
            self.model_runner.reload_weights(weights_iterator=it, is_checkpoint_format=True)
        finally:
            for _ in it:  # drain what the loader did not ask for (or all of it after an error)
                pass
        return received

    def vrft_load_file(self, path: str) -> int:
        state = load_file(path)
        self.model_runner.reload_weights(weights_iterator=iter(state.items()), is_checkpoint_format=True)
        return len(state)

    def vrft_close_sync(self) -> None:
        pg = getattr(self, "vrft_pg", None)
        if pg is not None and hasattr(pg, "shutdown"):
            pg.shutdown()
        self.vrft_pg = None


class Refused(RuntimeError):
    """A request this server cannot serve in its state (answered 409 with the reason)."""


class Engine:
    """The vLLM ``LLM`` and the conversions between JSON requests and vLLM's inputs / outputs."""

    def __init__(self, args) -> None:
        from vllm import LLM
        from vllm.platforms import current_platform

        if args.sleep_mode and not current_platform.is_sleep_mode_available():
            # vLLM would only say "not supported on current platform" deep in its config checks.
            raise SystemExit(f"--sleep-mode: vLLM's sleep mode needs a CUDA or ROCm GPU; this platform is "
                             f"{current_platform.device_type or 'unknown'}. Start the server without --sleep-mode "
                             "(and train with rollout.vllm.sleep_mode=false).")

        kwargs = dict(model=args.model, dtype=args.dtype, max_model_len=args.max_model_len,
                      enforce_eager=args.enforce_eager, seed=args.seed, worker_extension_cls=EXTENSION,
                      limit_mm_per_prompt={"image": args.max_images, "video": args.max_videos},
                      enable_prefix_caching=True, logprobs_mode="processed_logprobs")
        if args.gpu_memory_utilization is not None:
            kwargs["gpu_memory_utilization"] = args.gpu_memory_utilization
        if args.tensor_parallel_size > 1:
            kwargs["tensor_parallel_size"] = args.tensor_parallel_size
        if args.sleep_mode:
            kwargs["enable_sleep_mode"] = True
        self.llm = LLM(**kwargs)
        self.model = args.model
        self.sleep_mode = bool(args.sleep_mode)
        self.sleeping = 0  # the level slept at; 0 when awake
        self.lock = threading.Lock()  # one engine call at a time (LLM is not thread-safe)

    @staticmethod
    def prompt(req: dict, ids: list[int] | None = None) -> dict:
        mm = {}
        if req.get("images"):
            mm["image"] = [_image(decode_array(a)) for a in req["images"]]
        if req.get("videos"):
            # Frames already sampled by the trainer: vLLM must not resample them; fps sets the
            # time-aware rope (Qwen2.5-VL's second_per_grid_ts) as in the trainer's processor.
            fps = req.get("video_fps") or [2.0] * len(req["videos"])
            clips = [decode_array(a) for a in req["videos"]]
            mm["video"] = [(c, {"fps": float(f), "total_num_frames": len(c), "frames_indices": list(range(len(c))),
                                "duration": len(c) / float(f), "do_sample_frames": False, "video_backend": "vrft"})
                           for c, f in zip(clips, fps)]
        out = {"prompt_token_ids": ids} if ids is not None else {"prompt": req["prompt"]}
        if mm:
            out["multi_modal_data"] = mm
        return out

    @staticmethod
    def sampling(body: dict):
        from vllm import SamplingParams

        p = body.get("params", {})
        return SamplingParams(n=int(body.get("n", 1)), temperature=p.get("temperature", 1.0),
                              top_p=p.get("top_p", 1.0), top_k=int(p.get("top_k") or 0),
                              max_tokens=p.get("max_tokens", 64), min_tokens=p.get("min_tokens", 0), logprobs=0,
                              stop=p.get("stop") or None, include_stop_str_in_output=True, seed=p.get("seed"),
                              logit_bias={int(k): v for k, v in (p.get("logit_bias") or {}).items()} or None)

    def awake(self) -> None:
        if self.sleeping:
            raise Refused(f"the engine is asleep (level {self.sleeping}): POST /wake_up first")

    def sleep(self, level: int) -> None:
        if not self.sleep_mode:
            raise Refused("this server was started without --sleep-mode (vLLM's sleep mode, CUDA / ROCm only)")
        if level not in (1, 2):
            raise ValueError(f"sleep level must be 1 or 2, got {level}")
        with self.lock:
            if not self.sleeping:
                self.llm.sleep(level=level)
                self.sleeping = level

    def wake_up(self, tags: list[str] | None) -> None:
        if not self.sleep_mode:
            raise Refused("this server was started without --sleep-mode (vLLM's sleep mode, CUDA / ROCm only)")
        with self.lock:
            if self.sleeping:
                # vLLM resumes scheduling only once every allocation is back (it returns whether it is)
                fully = self.llm.wake_up(tags)
                if tags is None or fully is True:
                    self.sleeping = 0

    def generate(self, body: dict) -> dict:
        sp = self.sampling(body)
        with self.lock:
            self.awake()
            outs = self.llm.generate([self.prompt(r) for r in body["requests"]], sampling_params=sp, use_tqdm=False)
        result = []
        for out in outs:
            comps = []
            for c in out.outputs:
                ids = list(c.token_ids)
                lps = [float(step[t].logprob) for step, t in zip(c.logprobs or [], ids)]
                comps.append({"token_ids": ids, "logprobs": lps, "finish_reason": c.finish_reason,
                              "stop_reason": c.stop_reason if isinstance(c.stop_reason, (str, int)) else None})
            result.append(comps)
        return {"outputs": result}

    def score(self, body: dict) -> dict:
        from vllm import SamplingParams

        tok = self.llm.get_tokenizer()
        prompts, tails = [], []
        for r in body["requests"]:
            cont = [int(t) for t in r["continuation"]]
            ids = tok(r["prompt"], add_special_tokens=False)["input_ids"] + cont
            prompts.append(self.prompt(r, ids))
            tails.append(cont)
        sp = SamplingParams(max_tokens=1, temperature=1.0, prompt_logprobs=0)
        with self.lock:
            self.awake()
            outs = self.llm.generate(prompts, sampling_params=sp, use_tqdm=False)
        result = []
        for out, cont in zip(outs, tails):
            steps = out.prompt_logprobs[len(out.prompt_token_ids) - len(cont):]
            result.append([float(s[t].logprob) for s, t in zip(steps, cont)])
        return {"logprobs": result}

    def rpc(self, method: str, *args) -> list:
        with self.lock:
            out = self.llm.collective_rpc(method, args=args)
            if method in ("vrft_receive", "vrft_load_file"):
                # Nothing computed with the old weights may be reused: cached KV, vision encoder
                # outputs; the reload cleared the workers' media cache, so the sender's goes too.
                self.llm.reset_prefix_cache()
                self.llm.llm_engine.reset_encoder_cache()
                self.llm.reset_mm_cache()
        return out


def _image(a: np.ndarray):
    return Image.fromarray(a)


class JsonHandler(BaseHTTPRequestHandler):
    """The protocol's framing: a JSON body in, a JSON reply out, no log line per request."""

    def log_message(self, *_args) -> None:  # quiet: one line per request is noise in the trainer's log
        pass

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def _send(self, code: int, obj) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def make_handler(engine: Engine):
    class Handler(JsonHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"ok": True, "model": engine.model, "sleep_mode": engine.sleep_mode,
                                 "sleeping": engine.sleeping})
            else:
                self._send(404, {"error": f"no GET {self.path}"})

        def do_POST(self) -> None:
            body = self._body()
            try:
                if self.path == "/generate":
                    out = engine.generate(body)
                elif self.path == "/score":
                    out = engine.score(body)
                elif self.path == "/init_weight_sync":
                    engine.rpc("vrft_init_sync", body["host"], int(body["port"]), int(body["world_size"]),
                               int(body["rank"]), body.get("backend", "gloo"), float(body.get("timeout_s", 600)))
                    out = {"ok": True}
                elif self.path == "/update_weights":
                    out = {"loaded": engine.rpc("vrft_receive", body["params"])}
                elif self.path == "/load_weights_file":
                    out = {"loaded": engine.rpc("vrft_load_file", body["path"])}
                elif self.path == "/close_weight_sync":
                    engine.rpc("vrft_close_sync")
                    out = {"ok": True}
                elif self.path == "/sleep":
                    engine.sleep(int(body.get("level", 1)))
                    out = {"ok": True}
                elif self.path == "/wake_up":
                    engine.wake_up(body.get("tags"))
                    out = {"ok": True}
                else:
                    return self._send(404, {"error": f"no POST {self.path}"})
            except Refused as exc:
                return self._send(409, {"error": str(exc)})
            except Exception as exc:  # the client raises it with the server's message
                return self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
            self._send(200, out)

    return Handler


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--model", required=True, help="Hugging Face checkpoint folder (the trainer's starting weights)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--max-model-len", type=int, default=4096)
    ap.add_argument("--max-images", type=int, default=16)
    ap.add_argument("--max-videos", type=int, default=9)
    ap.add_argument("--gpu-memory-utilization", type=float, default=None,
                    help="GPU: fraction of its memory; CPU: fraction of RAM for the KV cache (small, e.g. 0.1)")
    ap.add_argument("--tensor-parallel-size", type=int, default=1)
    ap.add_argument("--enforce-eager", action="store_true")
    ap.add_argument("--sleep-mode", action="store_true",
                    help="allow /sleep and /wake_up (frees GPU memory during the trainer's update; CUDA / ROCm only)")
    ap.add_argument("--seed", type=int, default=0)


def argv_of(args: argparse.Namespace) -> list[str]:
    """The command line that ``parse_args`` turns back into ``args`` (for launchers)."""
    ap = argparse.ArgumentParser()
    add_arguments(ap)
    out = []
    for action in ap._actions:
        value = getattr(args, action.dest, None)
        if not action.option_strings or value is None or value is False:
            continue
        out += [action.option_strings[0]] + ([] if value is True else [str(value)])
    return out


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(ap)
    return ap.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    # vLLM's workers import the extension by module name: put vrft's root on their path (vrft's
    # package __init__ files import nothing, so this needs none of vrft's dependencies).
    sys.path.insert(0, ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join([ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])
    engine = Engine(args)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(engine))
    print(f"[vrft-vllm] serving {args.model} on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
