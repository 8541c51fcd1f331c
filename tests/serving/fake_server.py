"""A stand-in for vrft's vLLM server that records every call, for the trainer's side of the protocol
(the order of sleep, wake, weight sync and rollouts) where the real server cannot go: vLLM's sleep
mode needs a CUDA / ROCm GPU. It answers as the real server does, including its refusals: 409 for a
rollout while asleep, or for a weight load while a level-2 sleep has the weights dropped. A rollout
that arrives before the first weight load finished, or during one, is recorded in ``violations``
(``load_delay_s`` makes every load take that long, so a rank that does not wait is caught)."""

from __future__ import annotations

import threading
import time
from http.server import ThreadingHTTPServer

from safetensors import safe_open

from vrft.serving.vllm_server import JsonHandler


class FakeServer:
    """``calls``: (method path, body without the media) in arrival order. ``completion``: the token ids
    every generated sample gets (set it before the first rollout)."""

    def __init__(self, *, sleep_mode: bool = True, load_delay_s: float = 0.0) -> None:
        self.sleep_mode = sleep_mode
        self.load_delay_s = load_delay_s
        self.loading = False
        self.loads_done = 0
        self.violations: list[str] = []
        self.sleeping = 0
        self.weights_awake = True
        self.completion: list[int] = []
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        """The calls' paths with runs of rollouts (one per rank and turn) collapsed into one."""
        out: list[str] = []
        for path, body in self.calls:
            name = f"{path}{body.get('tags')}" if path == "/wake_up" else path
            if not (out and out[-1] == name == "/generate"):
                out.append(name)
        return out

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        if path == "/generate":
            if self.loading or not self.loads_done:
                self.violations.append("a rollout before the weights were loaded")
            if self.sleeping:
                return 409, {"error": "asleep"}
            comp = {"token_ids": self.completion, "logprobs": [-1.0] * len(self.completion),
                    "finish_reason": "length", "stop_reason": None}
            return 200, {"outputs": [[comp] * int(body["n"]) for _ in body["requests"]]}
        if path == "/load_weights_file":
            if not self.weights_awake:
                return 409, {"error": "weights asleep"}
            with safe_open(body["path"], "pt") as f:
                return 200, {"loaded": [len(list(f.keys()))]}
        if path in ("/sleep", "/wake_up") and not self.sleep_mode:
            return 409, {"error": "started without --sleep-mode"}
        if path == "/sleep":
            self.sleeping, self.weights_awake = int(body["level"]), int(body["level"]) < 2
            return 200, {"ok": True}
        if path == "/wake_up":
            self.weights_awake = self.weights_awake or body.get("tags") is None or "weights" in body["tags"]
            self.sleeping = 0 if body.get("tags") is None else self.sleeping
            return 200, {"ok": True}
        return 404, {"error": f"no POST {path}"}

    def _handler(self):
        fake = self

        class Handler(JsonHandler):  # the real server's framing
            def do_GET(self) -> None:
                with fake.lock:
                    fake.calls.append((self.path, {}))
                self._send(200, {"ok": True, "model": "fake", "sleep_mode": fake.sleep_mode,
                                 "sleeping": fake.sleeping})

            def do_POST(self) -> None:
                body = self._body()
                with fake.lock:
                    fake.calls.append((self.path, {k: v for k, v in body.items() if k != "requests"}))
                    code, out = fake.answer(self.path, body)
                    loaded = self.path == "/load_weights_file" and code == 200
                    fake.loading = fake.loading or loaded
                if loaded:  # outside the lock: a rollout arriving meanwhile must see it loading
                    time.sleep(fake.load_delay_s)
                    with fake.lock:
                        fake.loading, fake.loads_done = False, fake.loads_done + 1
                self._send(code, out)

        return Handler
