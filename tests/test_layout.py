"""The package's shape: one installed name, subpackages by role, imports that only go down.

Read from the source with :mod:`ast` (every ``import``, also those inside functions), so a
lazy import cannot hide a cycle. The layers, lowest first, as each subpackage's docstring
states them:

    dingdian.models                      formulations
    dingdian.errors / result / geometry / coords  shared leaves
    dingdian.scenario                    reading and validating inputs
    dingdian.run                         solvers, engines, decomposition, explanation
    dingdian.planners                    plans beside the site model (beds, nursing, rules)
    dingdian.write                       output files, tables, maps, reports
    dingdian.check                       residual checks and the audit
    dingdian.pipeline                    the composed job (solve, sweep, tools)
    dingdian                             the public API (solver/__init__.py)
    dingdian.cli                         the command line, on the public API only
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"dingdian": ROOT / "solver", "dingdian.models": ROOT / "models"}
LAYERS = ["dingdian.models", "leaves", "dingdian.scenario", "dingdian.run", "dingdian.planners",
          "dingdian.write", "dingdian.check", "dingdian.pipeline", "dingdian", "dingdian.cli",
          "dingdian.__main__"]
LEAVES = {"dingdian.errors", "dingdian.result", "dingdian.geometry", "dingdian.coords"}
MAX_LINES = 400  # per module, not counting its docstring (where the formulations' maths lives)


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """The dingdian modules ``path`` imports (a name imported from a package that is itself
    a module counts as that module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "dingdian":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "dingdian"}
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _layer(name: str) -> int:
    if name in LEAVES:
        return LAYERS.index("leaves")
    for i in range(len(LAYERS) - 1, -1, -1):
        layer = LAYERS[i]
        if layer != "leaves" and (name == layer or name.startswith(layer + ".")) \
                and layer != "dingdian":
            return i
    return LAYERS.index("dingdian")


def test_every_module_is_found():
    assert "dingdian.pipeline.solving" in MODULES
    assert "dingdian.models.site" in MODULES
    assert _layer("dingdian.models.site") == 0
    assert _layer("dingdian") == LAYERS.index("dingdian")
    assert _layer("dingdian.cli.solve") == LAYERS.index("dingdian.cli")


def test_imports_only_go_down():
    up = [f"{a} (layer {LAYERS[_layer(a)]}) imports {b} (layer {LAYERS[_layer(b)]})"
          for a, targets in GRAPH.items() for b in targets
          if b in MODULES and _layer(b) > _layer(a)]
    assert up == []


def test_no_import_cycles():
    """Tarjan's strongly connected components over the module graph: all of size one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in MODULES:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    assert cycles == []


def test_cli_uses_the_public_api():
    """The command line imports the library only through ``dingdian`` (plus its own modules
    and the shared leaves for constants and result types)."""
    allowed = {"dingdian", "dingdian.models.data", *LEAVES}
    bad = {name: sorted(b for b in targets if b not in allowed and not b.startswith("dingdian.cli"))
           for name, targets in GRAPH.items() if name.startswith("dingdian.cli")}
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_short(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    doc = tree.body[0] if tree.body and isinstance(tree.body[0], ast.Expr) \
        and isinstance(getattr(tree.body[0], "value", None), ast.Constant) else None
    doc_lines = doc.end_lineno - doc.lineno + 1 if doc is not None else 0
    assert lines - doc_lines <= MAX_LINES, f"{MODULES[name].relative_to(ROOT)}: {lines} lines"


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if p.name == "__init__.py"
                                        and n not in ("dingdian", "dingdian.models")))
def test_subpackages_say_what_they_own_and_may_import(name):
    doc = ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8")))
    assert doc and "May import" in doc, name


def test_every_module_has_a_docstring():
    missing = [n for n, p in MODULES.items()
               if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert missing == []


def test_installed_packages_are_listed():
    """Each folder with an ``__init__.py`` is a package of the distribution (pyproject.toml)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    assert config["tool"]["setuptools"]["package-dir"] == {"dingdian": "solver",
                                                          "dingdian.models": "models"}
    present = {n for n, p in MODULES.items() if p.name == "__init__.py"}
    assert listed == present


def test_installed_under_one_name(tmp_path):
    """From another folder, ``import dingdian`` works and ``solver``/``models`` do not exist."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import importlib.util, dingdian, dingdian.models.site;"
            "print(importlib.util.find_spec('solver'), importlib.util.find_spec('models'),"
            " sorted(dingdian.__all__)[:3])")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("None None "), run.stdout
