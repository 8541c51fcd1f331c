"""The one YAML -> typed dataclass parser (run config and mixture config alike), plus dotted overrides
and field docstrings.

``build(Config, data)`` checks every key against the dataclass fields (unknown keys get a "did you
mean" from difflib, with the dotted key to write) and every value against the type hint, raising
:class:`ConfigError` that names the dotted key, e.g.
``datasets[1].rewards[0].wieght: unknown key (did you mean 'datasets[1].rewards[0].weight'?)``.
Supported hints: ``str``, ``int``, ``float`` (ints and strings such as ``"1e-4"`` accepted, because
YAML 1.1 reads ``1e-4`` as a string), ``bool``, ``Any``, ``Literal[...]``, ``X | None``, unions,
``list[X]``, ``dict[str, X]`` and nested dataclasses. A field without a default is required; a field
with ``metadata={"internal": True}`` is not a key. A dataclass may define a classmethod
``coerce(value, key)`` that turns a shorthand (e.g. a bare string) into a mapping first.

Field documentation lives in attribute docstrings (a string literal right after the field), read
from the source with :func:`field_docs`.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import difflib
import functools
import inspect
import re
import textwrap
import types
import typing
from typing import Any, Literal, Union

import yaml


class ConfigError(ValueError):
    """A bad config value or combination; ``key`` is the dotted key at fault."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _show(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}{'...' if len(text) > 60 else ''} ({type(value).__name__})"


def did_you_mean(word: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def type_name(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return " | ".join(str(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join("null" if a is type(None) else type_name(a) for a in args)
    if origin is list:
        return f"list[{type_name(args[0])}]"
    if origin is dict:
        return "mapping"
    if dataclasses.is_dataclass(hint):
        return "section"
    return {float: "float", int: "int", bool: "bool", str: "str"}.get(hint, str(hint))


def unknown_key(prefix: str, key: str, options: typing.Iterable[str]) -> ConfigError:
    """The error for ``key`` under ``prefix`` that is none of ``options``: the closest dotted key, or
    the valid ones."""
    options = list(options)
    close = difflib.get_close_matches(str(key), options, n=1, cutoff=0.6)
    hint = f" (did you mean {_join(prefix, close[0])!r}?)" if close else f"; valid keys here: {sorted(options)}"
    return ConfigError(_join(prefix, str(key)), f"unknown key{hint}")


def expected(hint: Any) -> str:
    """What a value of type ``hint`` looks like, for error messages: "a number", "a list", ..."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join("null" if a is type(None) else expected(a) for a in args)
    if origin is list:
        return "a list"
    if origin is dict or dataclasses.is_dataclass(hint):
        return "a mapping"
    return {float: "a number", int: "an integer", bool: "true/false", str: "a string"}.get(hint, str(hint))


def build(cls: type, data: Any, prefix: str = "") -> Any:
    """An instance of dataclass ``cls`` from a (possibly partial) dict; missing keys take defaults,
    a missing key without a default is an error."""
    coerce_shorthand = getattr(cls, "coerce", None)
    if coerce_shorthand is not None:
        data = coerce_shorthand(data, prefix)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(prefix or "<top>", f"expected a mapping of {cls.__name__} settings, got {_show(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")}
    for key in data:
        if not isinstance(key, str) or key not in fields:
            raise unknown_key(prefix, str(key), fields)
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = coerce(hints[name], data[name], _join(prefix, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(_join(prefix, name), "required key is missing")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except ValueError as e:  # the dataclass's own check (__post_init__): same error type, key kept
        raise _as_config_error(prefix, str(e)) from None


def _as_config_error(prefix: str, text: str) -> ConfigError:
    """``"difficulty.hi: must be ..."`` raised under ``difficulty`` keeps its key; a message without
    one gets ``prefix``."""
    head, sep, rest = text.partition(": ")
    if sep and (head == prefix or head.startswith((prefix + ".", prefix + "[")) if prefix else sep):
        return ConfigError(head, rest)
    return ConfigError(prefix or "<top>", text)


def coerce(hint: Any, value: Any, key: str) -> Any:
    """``value`` checked (and converted where lossless) against type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if dataclasses.is_dataclass(hint):
        return build(hint, value, key)
    if origin is Literal:
        for a in args:
            if value == a and type(value) is type(a):
                return value
        hint_text = did_you_mean(str(value), [str(a) for a in args])
        raise ConfigError(key, f"expected one of {list(args)}, got {_show(value)}{hint_text}")
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for a in options:
            try:
                return coerce(a, value, key)
            except ConfigError as e:
                errors.append((a, e))
        if len(options) == 1:
            raise errors[0][1]
        for a, e in errors:  # a list / mapping value: the error from inside it is the useful one
            if (isinstance(value, list) and typing.get_origin(a) is list) or (
                    isinstance(value, dict) and (dataclasses.is_dataclass(a) or typing.get_origin(a) is dict)):
                raise e
        raise ConfigError(key, f"expected {expected(hint)}, got {_show(value)}")
    if origin is list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list such as [a, b], got {_show(value)}")
        return [coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {_show(value)}")
        return {str(k): coerce(args[1], v, _join(key, str(k))) for k, v in value.items()}
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _FLOAT_RE.match(value.strip()):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is str:
        if isinstance(value, str):
            return value
    else:
        raise TypeError(f"config: unsupported type hint {hint!r} at {key}")
    raise ConfigError(key, f"expected {expected(hint)}, got {_show(value)}")


# ---- dotted overrides ---------------------------------------------------------------------------

def parse_override(text: str) -> tuple[str, Any]:
    """``"train.lr=1e-4"`` -> ``("train.lr", 1e-4)``; the value is read as a YAML scalar / list."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_\w][\w]*)*", key):
        raise ConfigError(key or text, f"override {text!r} is not of the form key.sub=value "
                                       f"(e.g. train.lr=1e-4)")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as e:
        raise ConfigError(key, f"cannot read the value {raw!r} as YAML: {e}") from None
    return key, value


def set_dotted(data: dict, key: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"``, creating missing sections."""
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise ConfigError(".".join(parts[:i + 1]), f"is a value ({_show(child)}), not a section, "
                                                       f"so {key} cannot be set")
        node = child
    node[parts[-1]] = value


def apply_overrides(data: dict, overrides: typing.Iterable[str]) -> dict:
    """A copy of ``data`` with every ``key.sub=value`` override applied, in order."""
    out = copy.deepcopy(data)
    for text in overrides:
        key, value = parse_override(text)
        set_dotted(out, key, value)
    return out


# ---- documentation --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of dataclass ``cls``: field name -> the string literal after it."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def iter_fields(cls: type, prefix: str = ""):
    """(dotted key, type hint, default, doc) for every leaf field of ``cls``, depth first."""
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    default_obj = cls()
    for f in dataclasses.fields(cls):
        key, hint = _join(prefix, f.name), hints[f.name]
        if dataclasses.is_dataclass(hint):
            yield from iter_fields(hint, key)
        else:
            yield key, hint, getattr(default_obj, f.name), docs.get(f.name, "")


def describe(cls: type) -> str:
    """Every key with its type, default and doc: the text for ``--help-config`` and docs."""
    lines = []
    for key, hint, default, doc in iter_fields(cls):
        lines.append(f"{key} ({type_name(hint)}, default {default!r})")
        lines.extend("    " + line for line in doc.splitlines())
    return "\n".join(lines)
