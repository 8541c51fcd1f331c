"""Fixtures of the reward tests (constants and builders live in tests/rewards/helpers.py)."""

from __future__ import annotations

import pytest

from tests.rewards.helpers import GARBAGE_100KB


@pytest.fixture
def garbage() -> str:
    """100 KB of bracket-and-number garbage with an unclosed <answer> tag."""
    return GARBAGE_100KB
