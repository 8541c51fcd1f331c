"""Typed parsing of plain YAML data into dataclasses, with errors that name the key path.

``parse_dataclass(DatasetConfig, data, "datasets[1]")`` checks every key against the dataclass's
fields and every value against the field's type hint, raising ValueError such as
``datasets[1].rewards[0].wieght: unknown key (did you mean 'weight'?)``.

Supported hints: str, int, float (ints accepted), bool, Any, X | None, list[X], dict[str, X],
nested dataclasses, and ``str | list[str]`` style unions. A dataclass may define a classmethod
``coerce(value, path)`` that turns a shorthand (e.g. a bare string) into a dict first.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, Union


def did_you_mean(key: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key_error(path: str, key: str, options: typing.Iterable[str]) -> ValueError:
    options = list(options)
    hint = did_you_mean(key, options) or f"; valid keys: {sorted(options)}"
    return ValueError(f"{_join(path, key)}: unknown key{hint}")


def parse_dataclass(cls: type, data: Any, path: str) -> Any:
    """Build ``cls`` from a dict, checking keys and types recursively."""
    if hasattr(cls, "coerce"):
        data = cls.coerce(data, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{path or '<top>'}: expected a mapping of {cls.__name__} settings, got {_show(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")}
    for key in data:
        if not isinstance(key, str) or key not in fields:
            raise unknown_key_error(path, str(key), fields)
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = parse_value(hints[name], data[name], _join(path, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{_join(path, name)}: required key is missing")
    return cls(**kwargs)


def parse_value(hint: Any, value: Any, path: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for a in options:
            try:
                return parse_value(a, value, path)
            except ValueError as e:
                errors.append(e)
        if len(options) == 1:
            raise errors[0]
        for a, e in zip(options, errors):  # a list / mapping value: the error from inside it
            if (isinstance(value, list) and typing.get_origin(a) is list) or (
                    isinstance(value, dict) and (dataclasses.is_dataclass(a) or typing.get_origin(a) is dict)):
                raise e
        raise ValueError(f"{path}: expected {' or '.join(_name(a) for a in options)}, got {_show(value)}")
    if dataclasses.is_dataclass(hint):
        return parse_dataclass(hint, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected a list, got {_show(value)}")
        return [parse_value(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected a mapping, got {_show(value)}")
        return {str(k): parse_value(args[1], v, _join(path, str(k))) for k, v in value.items()}
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is bool or hint is str:
        if isinstance(value, hint):
            return value
    else:
        raise TypeError(f"config_parse: unsupported type hint {hint!r} at {path}")
    raise ValueError(f"{path}: expected {_name(hint)}, got {_show(value)}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _name(hint: Any) -> str:
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    if typing.get_origin(hint) is list:
        return "a list"
    if typing.get_origin(hint) is dict:
        return "a mapping"
    return {float: "a number", int: "an integer", bool: "true/false", str: "a string"}.get(hint, str(hint))


def _show(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}{'...' if len(text) > 60 else ''} ({type(value).__name__})"
