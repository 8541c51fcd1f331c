"""Path expansion for config files: ``${VAR}`` / ``${VAR:-default}``, ``~``, and paths relative to
the config file's folder."""

from __future__ import annotations

import os
import re

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str, key_path: str = "", env: dict[str, str] | None = None) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}`` (default when VAR is unset or empty, as in sh).

    An unset variable without a default raises ValueError naming the key and the variable.
    """
    env = os.environ if env is None else env

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        where = f"{key_path}: " if key_path else ""
        raise ValueError(f"{where}environment variable {name} is not set "
                         f"(export {name}=/path, or write ${{{name}:-/default/path}})")

    return _VAR.sub(sub, text)


def resolve_path(text: str, base_dir: str, key_path: str = "") -> str:
    """Env-expand, expand ``~``, and make absolute relative to ``base_dir``."""
    path = os.path.expanduser(expand_env(text, key_path))
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base_dir, path))
