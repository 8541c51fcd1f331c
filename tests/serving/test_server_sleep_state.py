"""The server's sleep bookkeeping, on vrft's real HTTP handler with a recording stand-in for vLLM's
``LLM`` (sleep mode itself needs a CUDA / ROCm GPU): /sleep and /wake_up reach ``LLM.sleep`` /
``LLM.wake_up``; rollouts are refused (409) until vLLM says every allocation is back."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

import pytest

from vrft.rollout.vllm_client import VLLMClient, VLLMServerError
from vrft.serving.vllm_server import Engine, make_handler


class RecordingLLM:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.asleep: set[str] = set()

    def sleep(self, level: int) -> None:
        self.calls.append(("sleep", level))
        self.asleep = {"weights", "kv_cache"}

    def wake_up(self, tags=None) -> bool:
        self.calls.append(("wake_up", tags))
        self.asleep -= set(tags) if tags is not None else self.asleep
        return not self.asleep  # vLLM: whether every allocation is resident again

    def generate(self, prompts, sampling_params=None, use_tqdm=False) -> list:
        self.calls.append(("generate",))
        return []


@pytest.fixture
def served():
    engine = Engine.__new__(Engine)  # everything but vLLM's own LLM
    engine.llm, engine.model, engine.sleep_mode, engine.sleeping = RecordingLLM(), "m", True, 0
    engine.lock = threading.Lock()
    engine.sampling = lambda body: None  # vLLM's SamplingParams is not in this environment
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(engine))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield engine, VLLMClient(f"http://127.0.0.1:{httpd.server_address[1]}", timeout_s=30, sync_backend="gloo")
    httpd.shutdown()
    httpd.server_close()


def _generate(client):
    return client.generate([{"prompt": "hi"}], 1, {"max_tokens": 2})


def test_rollouts_are_refused_until_fully_awake(served):
    engine, client = served
    client.sleep(2)
    assert client.health()["sleeping"] == 2
    with pytest.raises(VLLMServerError, match="409.*asleep.*wake_up"):
        _generate(client)
    client.wake_up(["weights"])  # the weight sync goes here; the KV cache is still asleep
    with pytest.raises(VLLMServerError, match="409.*asleep"):
        _generate(client)
    client.wake_up(["kv_cache"])  # vLLM now reports everything back: awake without a tag-less call
    assert client.health()["sleeping"] == 0 and _generate(client) == []
    client.sleep(1)
    client.wake_up()
    assert engine.llm.calls == [("sleep", 2), ("wake_up", ["weights"]), ("wake_up", ["kv_cache"]), ("generate",),
                                ("sleep", 1), ("wake_up", None)]


def test_without_sleep_mode_sleep_is_refused_and_rollouts_go_on(served):
    engine, client = served
    engine.sleep_mode = False
    for call in (lambda: client.sleep(1), lambda: client.wake_up()):
        with pytest.raises(VLLMServerError, match="409.*without --sleep-mode"):
            call()
    assert _generate(client) == [] and engine.llm.calls == [("generate",)]


def test_a_bad_level_is_an_error_naming_it(served):
    _, client = served
    with pytest.raises(VLLMServerError, match="500.*sleep level must be 1 or 2, got 3"):
        client.sleep(3)
