"""The trainer's side of the vLLM rollout server (:mod:`vrft.serving.vllm_server`, its own process and
environment): generation requests over HTTP and exact weight sync after every optimizer step.

Every request has a timeout; a server that died or stopped answering raises :class:`VLLMServerError`
naming the URL, never hangs. Weight sync: ``init_sync`` makes a process group for the sync only
(a TCPStore on the trainer, gloo on CPU or NCCL on GPU; the trainer is rank 0, the server's workers
the other ranks) and ``push_weights`` broadcasts every tensor of a full Hugging Face state dict (the
training backend gathers it from FSDP2 shards / ZeRO-3 partitions; LoRA merged before). Fallback:
``push_weights_file`` writes one safetensors file on a path both processes see, and the server loads it.
Sleep mode (a server started with ``--sleep-mode``, GPU only): ``sleep(level)`` after the rollouts frees
the server's GPU memory for the update; ``wake_up(["weights"])``, the weight sync, then ``wake_up()``
before the next rollout (level 2 drops the weights: the sync is what restores them).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Iterable

import numpy as np
import torch
from safetensors.torch import save_file


class VLLMServerError(RuntimeError):
    """The vLLM server could not be reached, timed out, or answered with an error."""


def encode_array(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "b64": base64.b64encode(a.tobytes()).decode()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class VLLMClient:
    """HTTP client of one vLLM server (``url``, e.g. ``http://127.0.0.1:8765``)."""

    def __init__(self, url: str, *, timeout_s: float = 600.0, sync_backend: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.sync_backend = sync_backend or ("nccl" if torch.cuda.is_available() else "gloo")
        self._pg = None
        self._store = None

    # ---- HTTP ------------------------------------------------------------------------------------
    def request(self, path: str, body: dict | None = None, *, timeout_s: float | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s or self.timeout_s) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                msg = json.loads(exc.read()).get("error", "")
            except ValueError:
                msg = ""
            raise VLLMServerError(f"vLLM server {self.url}{path} answered {exc.code}: {msg}") from exc
        except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout) as exc:
            raise VLLMServerError(f"vLLM server {self.url} did not answer {path} ({exc}); is it running? "
                                  f"Start it with `vrft vllm-serve --model ...` (docs/vllm.md)") from exc

    def health(self, timeout_s: float = 5.0) -> dict:
        return self.request("/health", timeout_s=timeout_s)

    def wait_ready(self, timeout_s: float = 600.0, proc=None) -> None:
        """Poll /health until the server answers; ``proc`` (a Popen): fail at once if it exited."""
        deadline = time.time() + timeout_s
        while True:
            if proc is not None and proc.poll() is not None:
                raise VLLMServerError(f"vLLM server process exited with code {proc.returncode} before {self.url} "
                                      "answered")
            try:
                self.health(timeout_s=2.0)
                return
            except VLLMServerError:
                if time.time() > deadline:
                    raise VLLMServerError(f"vLLM server {self.url} not ready after {timeout_s:.0f} s") from None
                time.sleep(0.5)

    # ---- rollouts --------------------------------------------------------------------------------
    def generate(self, requests: list[dict], n: int, params: dict) -> list[list[dict]]:
        """``requests``: [{"prompt", "images": [HWC uint8], "videos": [THWC uint8]}] -> n outputs each."""
        body = {"requests": [_encode_media(r) for r in requests], "n": n, "params": params}
        return self.request("/generate", body)["outputs"]

    def score(self, requests: list[dict]) -> list[list[float]]:
        """Log-probs (temperature 1) of each request's fixed ``continuation`` token ids after its prompt."""
        return self.request("/score", {"requests": [_encode_media(r) for r in requests]})["logprobs"]

    # ---- sleep mode (GPU) ---------------------------------------------------------------------------
    def sleep(self, level: int = 1) -> None:
        """Free the server's GPU memory (1: weights to host memory, KV cache dropped; 2: both dropped)."""
        self.request("/sleep", {"level": int(level)})

    def wake_up(self, tags: list[str] | None = None) -> None:
        """Re-allocate ``tags`` (``["weights"]``, ``["kv_cache"]``) or everything (None) and resume."""
        self.request("/wake_up", {"tags": tags})

    # ---- weight sync -----------------------------------------------------------------------------
    def init_sync(self, *, host: str = "127.0.0.1", port: int | None = None, timeout_s: float = 600.0) -> None:
        """Make the sync's process group: this process is rank 0 of 2 (a server with one worker).
        A server that does not answer fails here at once (the group would wait ``timeout_s``)."""
        self.health(timeout_s=min(10.0, self.timeout_s))
        port = port or free_port()
        timeout = datetime.timedelta(seconds=timeout_s)
        self._store = torch.distributed.TCPStore(host, port, 2, is_master=True, timeout=timeout, wait_for_workers=False)
        body = {"host": host, "port": port, "world_size": 2, "rank": 1, "backend": self.sync_backend,
                "timeout_s": timeout_s}
        answer: dict = {}
        joiner = threading.Thread(target=lambda: answer.update(self._call("/init_weight_sync", body)), daemon=True)
        joiner.start()
        if self.sync_backend == "nccl":
            opts = torch.distributed.ProcessGroupNCCL.Options()
            opts._timeout = timeout
            self._pg = torch.distributed.ProcessGroupNCCL(self._store, 0, 2, opts)
        else:
            self._pg = torch.distributed.ProcessGroupGloo(self._store, 0, 2, timeout)
        joiner.join(timeout_s)
        _raise_from(answer)

    def _call(self, path: str, body: dict) -> dict:
        try:
            return self.request(path, body)
        except VLLMServerError as exc:
            return {"__error__": exc}

    @torch.no_grad()
    def push_weights(self, named: Iterable[tuple[str, torch.Tensor]]) -> int:
        """Broadcast every (Hugging Face name, full tensor) to the server, which loads them; returns the count."""
        if self._pg is None:
            self.init_sync(timeout_s=self.timeout_s)
        device = torch.device("cuda", torch.cuda.current_device()) if self.sync_backend == "nccl" else torch.device("cpu")
        tensors = [(k, v.detach().to(device).contiguous()) for k, v in named]
        meta = [[k, str(v.dtype).removeprefix("torch."), list(v.shape)] for k, v in tensors]
        answer: dict = {}
        receiver = threading.Thread(target=lambda: answer.update(self._call("/update_weights", {"params": meta})),
                                    daemon=True)
        receiver.start()
        opts = torch.distributed.BroadcastOptions()
        opts.rootRank = 0
        for _, t in tensors:
            self._pg.broadcast([t], opts).wait()
        receiver.join(self.timeout_s)
        if receiver.is_alive():
            raise VLLMServerError(f"vLLM server {self.url} did not confirm the weight update in {self.timeout_s:.0f} s")
        _raise_from(answer)
        return len(tensors)

    @torch.no_grad()
    def push_weights_file(self, named: Iterable[tuple[str, torch.Tensor]], path: str) -> int:
        """The fallback: one safetensors file on a path the server can read, loaded there."""
        state = {k: v.detach().to("cpu").contiguous() for k, v in named}
        tmp = path + ".tmp"
        save_file(state, tmp)
        os.replace(tmp, path)
        return int(self.request("/load_weights_file", {"path": os.path.abspath(path)})["loaded"][0])

    def close(self) -> None:
        if self._pg is not None:
            try:
                self.request("/close_weight_sync", {}, timeout_s=10.0)
            except VLLMServerError:
                pass
            self._pg = None


def _raise_from(answer: dict) -> None:
    if "__error__" in answer:
        raise answer["__error__"]


def _encode_media(r: dict) -> dict:
    out = {k: v for k, v in r.items() if k not in ("images", "videos")}
    out["images"] = [encode_array(np.asarray(a, dtype=np.uint8)) for a in r.get("images") or []]
    out["videos"] = [encode_array(np.asarray(a, dtype=np.uint8)) for a in r.get("videos") or []]
    return out
