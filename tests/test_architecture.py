"""The shape of the code, checked from the source (AST only, nothing is imported):

(a) no import cycles between modules (module-level imports, with the package ``__init__`` files they
    run; ``if TYPE_CHECKING:`` blocks excluded), nor once function-local imports are counted too,
(b) the layering of docs/architecture.md, as one table of allowed dependencies (``ALLOWED``; a
    package-level cycle such as eval <-> grpo shows up here as a forbidden import),
(c) no file over ``MAX_LINES`` lines,
(d) function-local imports only of optional or heavy modules (``LOCAL_IMPORT_OK``).

Each check is a function returning its violations, so the checker itself is tested on a synthetic
package (``test_checker_finds_*``). Run ``python tests/test_architecture.py`` to print every violation.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("vrft", "rewards")
MAX_LINES = 400

# Which units a unit may import (its own unit always). A unit is a top-level module or subpackage of
# vrft ("vrft.grpo", "vrft.registry"), or the whole "rewards" package. None: anything. A unit absent
# from the table may import anything too; a unit named in a set may be imported whole, submodules
# included.
_BASE = {"rewards", "vrft.registry"}
ALLOWED: dict[str, set[str] | None] = {
    "rewards": set(),                                      # imports nothing of vrft
    "vrft.registry": {"rewards"},                          # re-exports rewards.name_registry
    "vrft.config": set(_BASE),                             # parses YAML, knows no engine
    "vrft.sysinfo": set(),                                 # process facts for the logs
    "vrft.serving": set(),                                 # runs in vLLM's environment: no vrft imports
    "vrft.parallel": set(_BASE),                           # backends and collectives: no model code
    "vrft.policy": _BASE | {"vrft.config"},                # a model and its inputs, nothing else
    "vrft.tasks": _BASE | {"vrft.data.sample"},            # task knowledge over the Sample schema (a leaf)
    "vrft.data": _BASE | {"vrft.config", "vrft.tasks"},    # loaders, samples, mixture: no model, no engine
    "vrft.tools": _BASE | {"vrft.config", "vrft.policy", "vrft.data"},
    "vrft.rollout": _BASE | {"vrft.config", "vrft.policy", "vrft.data", "vrft.tools", "vrft.tasks"},
    "vrft.eval": _BASE | {"vrft.config", "vrft.policy", "vrft.data", "vrft.tools", "vrft.tasks", "vrft.rollout",
                          "vrft.parallel"},                # benchmarks run the policy, never the trainer
    # the engine and the front ends may use everything below them
    "vrft.grpo": None,
    "vrft.mixsearch": None,
    "vrft.commands": None,
    "vrft.cli": None,
}

# Modules (and their submodules) a function may import locally: optional extras and heavy, rarely
# needed ones.
LOCAL_IMPORT_OK = {
    "vllm", "deepspeed", "wandb", "peft", "trl",  # optional extras (pyproject's extras, dev)
    "pyarrow", "av",                              # optional: parquet rows, synthetic video writing
    "imageio_ffmpeg",                             # writing synthetic videos only (carries an ffmpeg binary)
    "matplotlib",                                 # plotting only; heavy
    "torch.utils.tensorboard",                    # only with log.tensorboard; slow to import
}
# ... and per file, with the reason.
LOCAL_IMPORT_OK_IN = {
    "rewards/matching.py": {"numpy", "scipy"},    # only for the Hungarian solver: `import rewards` stays light
}


@dataclass
class Module:
    name: str
    path: Path
    """Relative to the scanned root."""
    lines: int
    imports: dict[str, int] = field(default_factory=dict)
    """Imported module (internal: the resolved module; external: as written) -> first line."""
    local_imports: list[tuple[str, int]] = field(default_factory=list)
    """(module, line) of imports inside functions."""


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(node: ast.AST, local: bool, out: list[tuple[ast.AST, bool]]) -> None:
    """Every import statement under ``node``, flagged local when inside a function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            out.append((child, local))
        elif isinstance(child, ast.If) and _is_type_checking(child):
            for sub in child.orelse:
                _imports(ast.Module(body=[sub], type_ignores=[]), local, out)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            _imports(child, True, out)
        else:
            _imports(child, local, out)


def _targets(node: ast.AST, module: str, is_pkg: bool, known: set[str]) -> list[str]:
    """The modules an import statement loads: a submodule when ``from pkg import sub`` names one."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ""
    if node.level:
        pkg = module.split(".") if is_pkg else module.split(".")[:-1]
        pkg = pkg[:len(pkg) - (node.level - 1)]
        base = ".".join(pkg + ([base] if base else []))
    subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
    return subs if len(subs) == len(node.names) else [base, *subs]


def _resolve(target: str, known: set[str]) -> str:
    """The longest known module that ``target`` names or lies in (itself when external)."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return target


def scan(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Module]:
    """Parse every module of ``packages`` under ``root``; module name -> Module."""
    paths = {_module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    known = set(paths)
    modules: dict[str, Module] = {}
    for name, path in paths.items():
        text = path.read_text(encoding="utf-8")
        mod = Module(name, path.relative_to(root), len(text.splitlines()))
        found: list[tuple[ast.AST, bool]] = []
        _imports(ast.parse(text, filename=str(path)), False, found)
        for node, local in found:
            for target in _targets(node, name, path.name == "__init__.py", known):
                if local:
                    mod.local_imports.append((_resolve(target, known), node.lineno))
                else:
                    mod.imports.setdefault(_resolve(target, known), node.lineno)
        modules[name] = mod
    return modules


# ---- (a) cycles ----------------------------------------------------------------------------------

def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def import_graph(modules: dict[str, Module], include_local: bool = False) -> dict[str, list[str]]:
    """Module -> the internal modules its module-level imports run: the target, and the packages above
    it that Python initialises first (those not above the importer, whose ``__init__`` already runs).
    ``include_local`` adds function-local imports (dependencies, though not run at import time)."""
    graph = {}
    for m, mod in modules.items():
        own = set(_ancestors(m))
        targets = {t for t in mod.imports if t in modules}
        if include_local:
            targets |= {t for t, _ in mod.local_imports if t in modules}
        targets |= {p for t in list(targets) for p in _ancestors(t) if p in modules and p not in own}
        graph[m] = sorted(targets - {m})
    return graph


def find_cycles(modules: dict[str, Module], include_local: bool = False) -> list[list[str]]:
    """One cycle (a list of modules, first repeated last) per strongly connected component of the
    module-level import graph (with ``include_local``: function-local imports too) that has one
    (Tarjan's algorithm)."""
    graph = import_graph(modules, include_local)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    sccs: list[list[str]] = []

    def visit(v: str) -> None:  # recursion depth is bounded by the number of modules (~200)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(_cycle_in(comp, graph) for comp in sccs)


def _cycle_in(comp: list[str], graph: dict[str, list[str]]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected component (BFS)."""
    members, start = set(comp), comp[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in graph[v]:
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, v, start]
                if w in members and w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # an SCC always has one


# ---- (b) layering ----------------------------------------------------------------------------------

def unit_of(module: str) -> str:
    """``vrft.grpo.losses`` -> ``vrft.grpo``; ``rewards.spec`` -> ``rewards``; ``vrft`` -> ``vrft``."""
    parts = module.split(".")
    return parts[0] if parts[0] != "vrft" else ".".join(parts[:2])


def layer_violations(modules: dict[str, Module],
                     allowed: dict[str, set[str] | None] = ALLOWED) -> list[str]:
    """``"file:line: a.b imports c.d (layer a.b may import: ...)"`` for each import ``allowed`` forbids
    (function-local imports included: hiding an upward import in a function does not make it go away)."""
    out = []
    internal = {unit_of(m) for m in modules} | {m.split(".")[0] for m in modules}
    for name, mod in sorted(modules.items()):
        unit = unit_of(name)
        ok = allowed.get(unit)
        if ok is None:
            continue
        for target, line in sorted([*mod.imports.items(), *mod.local_imports], key=lambda t: t[1]):
            tunit = unit_of(target)
            if tunit == unit or tunit in ok or any(target == a or target.startswith(a + ".") for a in ok) \
                    or (tunit not in internal and target.split(".")[0] not in internal):
                continue
            out.append(f"{_rel(mod.path)}:{line}: {name} imports {target} "
                       f"(layer {unit} may import: {sorted(ok) or 'nothing internal'})")
    return out


# ---- (c) size, (d) local imports ---------------------------------------------------------------------

def long_files(modules: dict[str, Module], limit: int = MAX_LINES) -> list[str]:
    return [f"{_rel(m.path)}: {m.lines} lines (> {limit}; split it)"
            for m in sorted(modules.values(), key=lambda m: m.name) if m.lines > limit]


def local_import_violations(modules: dict[str, Module], ok: set[str] = LOCAL_IMPORT_OK,
                            ok_in: dict[str, set[str]] = LOCAL_IMPORT_OK_IN) -> list[str]:
    """Function-local imports of anything but an optional module: they hide a module's dependencies."""
    def allowed(target: str, names: set[str]) -> bool:
        return any(target == n or target.startswith(n + ".") for n in names)

    return [f"{_rel(m.path)}:{line}: function-local import of {target} (move it to the top of the module)"
            for m in sorted(modules.values(), key=lambda m: m.name)
            for target, line in m.local_imports
            if not allowed(target, ok | ok_in.get(_rel(m.path), set()))]


def _rel(path: Path) -> str:
    return path.as_posix()


# ---- the checks on vrft/ and rewards/ -----------------------------------------------------------------

@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return scan(ROOT)


def _report(title: str, items: list[str]) -> str:
    text = f"{len(items)} {title}:\n" + "\n".join(f"  {i}" for i in items)
    print(text)
    return text


def _cycle_text(cycles: list[list[str]]) -> list[str]:
    return [" -> ".join(c) for c in cycles]


def test_scan_sees_the_packages(modules):
    assert {"vrft.registry", "rewards.name_registry", "vrft.config", "rewards"} <= set(modules)
    assert "rewards.name_registry" in modules["vrft.registry"].imports


def test_no_import_cycles(modules):
    cycles = find_cycles(modules)
    assert not cycles, _report("import cycles", _cycle_text(cycles))


def test_no_dependency_cycles_through_function_local_imports(modules):
    cycles = find_cycles(modules, include_local=True)
    assert not cycles, _report("dependency cycles (function-local imports included)", _cycle_text(cycles))


def test_layering(modules):
    bad = layer_violations(modules)
    assert not bad, _report("imports against the layering", bad)


def test_rewards_imports_nothing_of_vrft(modules):
    bad = [v for v in layer_violations(modules) if v.startswith("rewards/")]
    assert not bad, _report("rewards -> vrft imports", bad)


def test_config_imports_only_the_registry(modules):
    bad = [v for v in layer_violations(modules) if v.startswith("vrft/config/")]
    assert not bad, _report("vrft/config imports of other vrft packages", bad)


def test_no_long_files(modules):
    bad = long_files(modules)
    assert not bad, _report(f"files over {MAX_LINES} lines", bad)


def test_function_local_imports_only_of_optional_modules(modules):
    bad = local_import_violations(modules)
    assert not bad, _report("function-local imports", bad)


# ---- the checker itself ---------------------------------------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


SYNTHETIC = {
    "vrft/__init__.py": "",
    "vrft/registry.py": "from rewards.name_registry import Registry\n",
    "vrft/config/__init__.py": "from vrft.config.typed import build\n",
    "vrft/config/typed.py": "import yaml\nfrom vrft.grpo.losses import LOSSES  # upward\n",
    "vrft/grpo/__init__.py": "",
    "vrft/grpo/losses.py": "from vrft.registry import Registry\nfrom . import kl\nLOSSES = Registry('loss')\n",
    "vrft/grpo/kl.py": "from vrft.grpo import losses  # cycle losses -> kl -> losses\n",
    "vrft/grpo/trainer.py": "from vrft.data import mix  # a cycle with mix's local import\n",
    "vrft/data/__init__.py": "",
    "vrft/data/mix.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from vrft.eval import report\n"
                         "def f():\n    import wandb\n    from vrft.grpo import trainer  # local, upward\n"),
    "rewards/__init__.py": "from rewards import name_registry\n",
    "rewards/name_registry.py": "import difflib\n" + "x = 1\n" * 9,
}


def test_checker_finds_cycles_and_upward_imports(tmp_path):
    _write(tmp_path, SYNTHETIC)
    mods = scan(tmp_path)
    assert mods["vrft.grpo.losses"].imports.keys() == {"vrft.registry", "vrft.grpo.kl"}  # `from . import kl`
    assert find_cycles(mods) == [["vrft.grpo.kl", "vrft.grpo.losses", "vrft.grpo.kl"]]
    assert find_cycles(mods, include_local=True) == [["vrft.data.mix", "vrft.grpo.trainer", "vrft.data.mix"],
                                                     ["vrft.grpo.kl", "vrft.grpo.losses", "vrft.grpo.kl"]]
    bad = layer_violations(mods)
    assert len(bad) == 2 and bad[0].startswith("vrft/config/typed.py:2: vrft.config.typed imports vrft.grpo.losses")
    assert bad[1].startswith("vrft/data/mix.py:6: vrft.data.mix imports vrft.grpo.trainer ")  # local, still upward
    assert "vrft.eval" not in " ".join(bad)  # the TYPE_CHECKING import is no dependency
    assert local_import_violations(mods) == [
        "vrft/data/mix.py:6: function-local import of vrft.grpo.trainer (move it to the top of the module)"]
    assert long_files(mods, limit=6) == ["rewards/name_registry.py: 10 lines (> 6; split it)"]
    assert long_files(mods) == []


def test_checker_accepts_a_clean_package(tmp_path):
    clean = {k: v for k, v in SYNTHETIC.items() if k not in ("vrft/grpo/kl.py", "vrft/config/typed.py")}
    clean["vrft/grpo/losses.py"] = "from vrft.registry import Registry\nfrom vrft.config import build\n"
    clean["vrft/data/mix.py"] = "from vrft.config import build\ndef f():\n    import wandb\n"
    _write(tmp_path, clean)
    mods = scan(tmp_path)
    assert find_cycles(mods) == [] and layer_violations(mods) == [] and local_import_violations(mods) == []


def test_a_cycle_through_a_package_init_is_found(tmp_path):
    # rewards/__init__ -> rewards.a -> vrft.x -> rewards.b, which first runs rewards/__init__
    _write(tmp_path, {"rewards/__init__.py": "from rewards import a\n", "rewards/a.py": "import vrft.x\n",
                      "rewards/b.py": "", "vrft/__init__.py": "", "vrft/x.py": "from rewards.b import z\n"})
    assert find_cycles(scan(tmp_path)) == [["rewards", "rewards.a", "vrft.x", "rewards"]]


def test_a_three_module_cycle_is_reported_in_order(tmp_path):
    _write(tmp_path, {"rewards/__init__.py": "", "rewards/a.py": "from rewards import b\n",
                      "rewards/b.py": "import rewards.c\n", "rewards/c.py": "from rewards.a import x\n"})
    assert find_cycles(scan(tmp_path)) == [["rewards.a", "rewards.b", "rewards.c", "rewards.a"]]


if __name__ == "__main__":
    mods = scan(ROOT)
    _report("import cycles", _cycle_text(find_cycles(mods)))
    _report("imports against the layering", layer_violations(mods))
    _report(f"files over {MAX_LINES} lines", long_files(mods))
    _report("function-local imports", local_import_violations(mods))
