"""Engine fixtures shared with tests/grpo (tiny mixture, run-config builder)."""

from tests.grpo.conftest import run_overrides, small_mixture  # noqa: F401
