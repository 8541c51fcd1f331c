"""`vrft vllm-serve --model DIR [--port 8765 ...]`: start vrft's vLLM rollout server.

A thin launcher: it runs :mod:`vrft.serving.vllm_server` with the python of the separate vLLM
environment (vLLM pins transformers<5.21, vrft needs >=5.23), built by ``scripts/vllm_env.sh`` into
``--env`` (default ``$VRFT_VLLM_ENV`` or ``~/.cache/vrft/vllm-env``; ``--build`` builds it when
missing). Every other argument goes to the server (``--model``, ``--port``, ``--dtype``,
``--max-model-len``, ``--gpu-memory-utilization``, ...). The trainer then runs with
``rollout.backend=vllm rollout.vllm.server_url=http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import vrft.serving.vllm_server as server

ROOT = Path(server.ROOT)
DEFAULT_ENV = os.environ.get("VRFT_VLLM_ENV", str(Path.home() / ".cache/vrft/vllm-env"))


def add_arguments(parser) -> None:
    parser.add_argument("--env", default=DEFAULT_ENV, help="the vLLM environment (scripts/vllm_env.sh builds it)")
    parser.add_argument("--build", action="store_true", help="build the environment first when it is missing")
    server.add_arguments(parser)


def command(env: str, server_args: list[str]) -> list[str]:
    return [str(Path(env) / "bin/python"), server.__file__, *server_args]


def run(args) -> int:
    env = Path(args.env)
    if not (env / ".vrft-ok").exists():
        script = ROOT / "scripts/vllm_env.sh"
        if not args.build:
            raise SystemExit(f"no vLLM environment at {env}: build it with `bash {script} {env}` "
                             "(or pass --build)")
        subprocess.run(["bash", str(script), str(env)], check=True)
    cmd = command(str(env), server.argv_of(args))
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # the engine in the server's process
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    print("[vrft] " + " ".join(cmd), flush=True)
    os.execv(cmd[0], cmd)
    return 0
