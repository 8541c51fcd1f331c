"""The one generic Registry (rewards/name_registry.py, re-exported as vrft.registry)."""

from __future__ import annotations

import pytest

from rewards.name_registry import Registry as LowRegistry
from vrft.registry import Registry


class UnknownThing(KeyError):
    pass


def test_vrft_registry_is_the_rewards_one():
    assert Registry is LowRegistry


def test_decorator_and_direct_forms():
    reg: Registry = Registry("widget")

    @reg.register("a")
    def a():
        return 1

    obj = object()
    assert reg.register("b", obj) is obj and a() == 1
    assert reg.get("a") is a and reg.get("b") is obj and reg.find("c") is None
    assert reg.names() == ["a", "b"] and list(reg) == ["a", "b"] and len(reg) == 2
    assert reg.items() == [("a", a), ("b", obj)] and "a" in reg and "c" not in reg


def test_taken_name_needs_override():
    reg: Registry = Registry("widget")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="widget 'a' is already registered \\(pass override=True"):
        reg.register("a", 2)
    reg.register("a", 3, override=True)
    assert reg.get("a") == 3
    reg.unregister("a")
    reg.unregister("never there")
    assert reg.names() == []


def test_unknown_name_error_names_the_closest_and_lists_all():
    reg: Registry = Registry("mixture strategy", plural="strategies")
    for name in ("fixed", "bandit", "exp_grad"):
        reg.register(name, name)
    with pytest.raises(ValueError) as e:
        reg.get("bandti")
    assert str(e.value) == ("unknown mixture strategy 'bandti' (did you mean 'bandit'?); "
                            "valid strategies: ['bandit', 'exp_grad', 'fixed']")
    with pytest.raises(ValueError, match=r"unknown mixture strategy 'zzz'; valid strategies"):
        reg.get("zzz")
    assert "'extra'" in reg.unknown_message("x", extra_names=("extra",))


def test_custom_error_type_and_unhashable_names():
    reg: Registry = Registry("thing", error=UnknownThing)
    with pytest.raises(UnknownThing):
        reg.get("x")
    with pytest.raises(UnknownThing):
        reg.get(["not", "hashable"])  # e.g. a list written where a name was expected in a config
    assert ["x"] not in reg and reg.find(["x"]) is None
