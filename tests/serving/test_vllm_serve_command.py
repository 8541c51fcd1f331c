"""`vrft vllm-serve`: the launcher's command line (no vLLM needed)."""

from __future__ import annotations

import pytest

from vrft.cli import build_parser
from vrft.commands import vllm_serve
from vrft.serving.vllm_server import argv_of, parse_args


def test_server_arguments_round_trip():
    argv = ["--model", "/m", "--port", "9000", "--dtype", "float32", "--enforce-eager"]
    args = parse_args(argv)
    assert parse_args(argv_of(args)) == args


def test_launcher_runs_the_server_file_with_the_envs_python(tmp_path):
    argv = ["vllm-serve", "--env", str(tmp_path / "env"), "--model", "/m", "--port", "9000"]
    args = build_parser(argv).parse_args(argv)
    cmd = vllm_serve.command(args.env, argv_of(args))
    assert cmd[0] == str(tmp_path / "env/bin/python") and cmd[1].endswith("vrft/serving/vllm_server.py")
    assert cmd[cmd.index("--port") + 1] == "9000"
    with pytest.raises(SystemExit, match="scripts/vllm_env.sh"):
        vllm_serve.run(args)  # no environment there, and no --build
