"""The code a workflow step runs: the import closure of its step function, computed.

A rule runs `python -m mfh <rule name> ...`, which calls the step function of that name
(`mfh.cli.STEPS`, in `mfh.steps`). Its code is every `mfh` module that running it may import:

- the entry modules (`mfh.__main__`, `mfh.cli` and the step modules `mfh.steps.*`) contribute
  only their module-level imports and the imports inside the step function — and inside the
  entry-module functions it calls, followed by name — so that a step does not depend on every
  other step's code;
- every other module contributes all its `mfh` imports, at module level or inside functions (a
  conservative closure: a function-level import may run);
- importing `mfh.a.b` runs `mfh/__init__.py` and `mfh/a/__init__.py` too.

Both Snakemake (rule inputs: an edited module reruns the jobs whose step imports it, on any
clone) and DVC (stage deps, `mfh.pipeline.dvc_stages`) take their code dependencies from here;
`tests/test_code_deps.py` checks the closure against the modules a real run of each step loads.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from pathlib import Path

PACKAGE = "mfh"
ROOT = Path(__file__).resolve().parents[1]  # the mfh package folder
ENTRY_MODULES = (
    "mfh.__main__",
    "mfh.cli",
    "mfh.steps",
    *sorted(f"mfh.steps.{path.stem}" for path in (ROOT / "steps").glob("[!_]*.py")),
)


@functools.cache
def module_file(module: str) -> Path | None:
    """mfh.a.b -> mfh/a/b.py or mfh/a/b/__init__.py (absolute), None if no such module."""
    parts = module.split(".")[1:]
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(node: ast.AST, module: str) -> set[str]:
    """The mfh modules named by one import statement inside `module`."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            raise ValueError(f"{module}: relative imports are not used in mfh (line {node.lineno})")
        base = node.module or ""
        # `from mfh.studies import gauss` imports the module mfh.studies.gauss
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    else:
        return found
    for name in names:
        if name.split(".")[0] == PACKAGE and module_file(name):
            found.add(name)
    return found


@functools.cache
def _tree(module: str) -> ast.Module:
    return ast.parse(module_file(module).read_text(encoding="utf-8"))


@functools.cache
def _imports_anywhere(module: str) -> frozenset[str]:
    tree = _tree(module)
    return frozenset(m for node in ast.walk(tree) for m in _imported(node, module))


@functools.cache
def _module_level_imports(module: str) -> frozenset[str]:
    tree = _tree(module)
    return frozenset(m for node in tree.body for m in _imported(node, module))


def _with_packages(modules: set[str]) -> set[str]:
    """Add the packages whose __init__ runs when a module is imported."""
    out = set(modules)
    for module in modules:
        parts = module.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return out


@functools.cache
def closure(modules: frozenset[str]) -> frozenset[str]:
    """Every mfh module reachable from `modules` (outside the entry modules: all imports)."""
    seen: set[str] = set()
    todo = list(_with_packages(set(modules)))
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        if module in ENTRY_MODULES:
            continue  # their functions' imports count only where a step calls them
        todo.extend(_with_packages(_imports_anywhere(module)) - seen)
    return frozenset(seen)


def _entry_function(module: str, name: str) -> ast.FunctionDef | None:
    for node in _tree(module).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
        if isinstance(node, ast.ImportFrom) and node.module in ENTRY_MODULES:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _entry_function(node.module, alias.name)
    return None


def _step_imports(module: str, function: ast.FunctionDef, seen: set[str]) -> set[str]:
    """Imports inside `function` and inside the entry-module functions it calls by name."""
    found: set[str] = set()
    for node in ast.walk(function):
        found |= _imported(node, module)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in seen:
                continue
            seen.add(name)
            callee = _entry_function(module, name)
            if callee is not None:
                found |= _step_imports(_defining_module(module, name), callee, seen)
    return found


def _defining_module(module: str, name: str) -> str:
    """The entry module that defines `name` as seen from `module` (itself or an import)."""
    for node in _tree(module).body:
        if isinstance(node, ast.ImportFrom) and node.module in ENTRY_MODULES:
            if any((alias.asname or alias.name) == name for alias in node.names):
                return _defining_module(node.module, name)
    return module


@functools.cache
def step_modules(step: str) -> frozenset[str]:
    """The mfh modules that `python -m mfh <step>` may import."""
    from mfh.cli import handler

    function = handler(step)
    source = ast.parse(textwrap.dedent(inspect.getsource(function)))
    seeds = set(ENTRY_MODULES)
    for entry in ENTRY_MODULES:
        seeds |= _module_level_imports(entry)
    seeds |= _step_imports(function.__module__, source.body[0], set())
    return closure(frozenset(seeds))


def step_files(step: str) -> list[str]:
    """The source files of `step_modules(step)`, relative to the repository, sorted."""
    files = {module_file(m).relative_to(ROOT.parent).as_posix() for m in step_modules(step)}
    return sorted(files)
