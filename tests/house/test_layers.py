"""The house rules, read from the source: imports go downwards only, no import circles, and no
module outside a dialect's own files branches on a dialect name.

Layers, top to bottom: the CLI and commands; project; capabilities (drafting, safety, backups,
the runner...); planners and inspectors; schema (the neutral model and differ) and analysis;
dialects. A module may import its own layer or any layer below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "dbshift"

#: Package (or module) prefix -> layer; the longest matching prefix wins. Higher imports lower.
LAYERS = {
    "dbshift.cli": 7,
    "dbshift.commands": 7,
    "dbshift.__main__": 7,
    "dbshift.demo": 7,
    "dbshift.project": 6,
    # What an apply or rollback runs and refuses, and the status it starts from (Project, sync, squash, apply --schema).
    "dbshift.run_plan": 5,
    "dbshift.status": 5,
    # Teams orchestrate a Project (sync rolls back and applies under its lock, with its safety rules).
    "dbshift.teams": 6,
    "dbshift.drafting": 5,
    "dbshift.safety": 5,
    "dbshift.backup": 5,
    "dbshift.runner": 5,
    "dbshift.history": 5,
    "dbshift.migrations": 5,
    "dbshift.sumfile": 5,
    "dbshift.config": 5,
    "dbshift.lint": 5,
    "dbshift.gitignore": 5,
    "dbshift.interrupts": 5,
    "dbshift.teams.gitsource": 5,
    # Read by Project.status: which history rows a squashed file accepts.
    "dbshift.teams.squash_records": 5,
    "dbshift.planners": 4,
    "dbshift.inspectors": 4,
    "dbshift.schema": 3,
    "dbshift.analysis": 3,
    "dbshift.dialects": 2,
    "dbshift.urls": 1,
    # Descriptions hold no connection and import nothing but errors: every layer may read them.
    "dbshift.dialects.description": 0,
    "dbshift.dialects.sqlite_description": 0,
    "dbshift.dialects.postgresql_description": 0,
    "dbshift.dialects.mysql_description": 0,
    # Differ hooks: a dialect's own typed changes for the objects only it has, made with schema's ObjectChange.
    "dbshift.dialects.postgresql_differ": 3,
    "dbshift.dialects.mysql_differ": 3,
    # The root package only names its version and, lazily, the Project.
    "dbshift": 0,
    "dbshift.errors": 0,
}

#: Where a dialect's name may be compared: its own files, and the registry of descriptions.
DIALECT_FILES = (
    "dialects/sqlite",
    "dialects/postgresql",
    "dialects/mysql",
    "dialects/description.py",
    "planners/sqlite",
    "planners/postgresql",
    "planners/mysql",
    "inspectors/sqlite",
    "inspectors/postgresql",
    "inspectors/mysql",
    "analysis/sqlite",
    "analysis/postgresql",
    "analysis/mysql",
)
DIALECT_NAMES = {"sqlite", "postgresql", "mysql", "mariadb"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    # The root package counts for itself only: every new module must be given its layer here.
    best = max(
        (p for p in LAYERS if module == p or (p != "dbshift" and module.startswith(p + "."))), key=len, default=None
    )
    return LAYERS[best] if best else None


def _imports(path: Path, module: str) -> set[str]:
    """Every dbshift module ``path`` imports (at module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for n in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: never imported at run time
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("dbshift")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.startswith("dbshift"):
                found.add(base)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    return {
        name: {i for i in _imports(path, name) if i in modules or any(m.startswith(i + ".") for m in modules)}
        for name, path in modules.items()
    }


def test_every_module_has_a_layer():
    assert [m for m in _graph() if _layer(m) is None] == []


def test_imports_go_downwards_only():
    # The root package is the public facade: it names the Project lazily, on first use.
    upward = sorted(
        f"{m} imports {i}"
        for m, imports in _graph().items()
        for i in imports
        if m != "dbshift" and _layer(i) is not None and _layer(i) > _layer(m)
    )
    assert upward == [], "\n".join(upward)


def test_no_import_circles():
    graph = _graph()
    # Module-level circles only matter between modules; a package's __init__ importing its own
    # submodule is not one.
    circles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target.startswith(node + ".") or node.startswith(target + "."):
                continue
            if state.get(target) == 1:
                circles.append(" -> ".join(stack[stack.index(target) :] + [target]))
            elif not state.get(target):
                visit(target)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if not state.get(module):
            visit(module)
    assert circles == [], "\n".join(circles)


def _dialect_comparisons(path: Path) -> list[str]:
    """``x == "mysql"``, ``x in ("sqlite", ...)``, ``{"postgresql": ...}`` lookups: a branch on a dialect."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        constants = []
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                if isinstance(operand, ast.Constant):
                    constants.append(operand.value)
                elif isinstance(operand, (ast.Tuple, ast.List, ast.Set)):
                    constants += [e.value for e in operand.elts if isinstance(e, ast.Constant)]
        elif isinstance(node, ast.Dict):
            constants = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            if len(set(constants) & DIALECT_NAMES) < 2:  # a table keyed by dialect names
                constants = []
        if set(c for c in constants if isinstance(c, str)) & DIALECT_NAMES:
            found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_no_module_outside_a_dialect_branches_on_a_dialect_name():
    rel = lambda p: str(p.relative_to(SRC))  # noqa: E731
    branches = [
        hit
        for p in sorted(SRC.rglob("*.py"))
        if not rel(p).startswith(DIALECT_FILES)
        for hit in _dialect_comparisons(p)
    ]
    assert branches == [], "\n".join(branches)
