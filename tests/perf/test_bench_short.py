"""The CI-sized benchmark (`vrft bench --short`) runs both sides and prints the table.

No speed threshold: CI machines are shared and small; the figures live in docs/performance.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_short_benchmark_prints_both_sides(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, "-m", "vrft", "bench", "--short", "--cache-dir", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    number = r"\s+\d+\.\d+"
    for side in ("vrft", "trl"):
        assert re.search(rf"^image\s+off\s+{side}{number}\s+\[{number[3:]}, {number[3:]}\]", out, re.M), out
    assert re.search(r"^image\s+off\s+ratio\s+\d+\.\d+x faster", out, re.M), out
    assert "s/step" in out and "peak RSS GB" in out
