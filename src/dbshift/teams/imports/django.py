"""Django, through its own migration machinery: one ``manage.py shell -c`` run (the project's Python)
loads Django's MigrationLoader, walks the plan of every app in dependency order and prints, per
migration, the SQL ``sqlmigrate`` writes for it both ways (``--backwards`` for the down), as JSON:
one process, not one per migration. The history is ``django_migrations`` (app, name, applied).

Operations Django cannot write as SQL (``RunPython``) are kept as a comment in the file, with a
warning naming the migration: the database being imported already ran them, but a database built
from the imported files will not (``RunPython.noop`` says nothing). A migration Django cannot
reverse gets no down. Django writes the SQL of the database its settings name, which must be
dbshift's dialect."""

from __future__ import annotations

import json
from pathlib import Path

from dbshift.errors import CheckFailed, ConfigError
from dbshift.teams.imports import ImportedMigration, Reading, ToolApplied
from dbshift.teams.imports.toolsql import run_tool, tool_command

HISTORY_TABLE = "django_migrations"
FORMAT_HINT = "give the Django project's folder (the one holding manage.py)"
INSTALL_HINT = (
    "install Django where the project's settings import (`pip install django`), or set DBSHIFT_DJANGO_PYTHON "
    "to the Python that runs the project (e.g. `.venv/bin/python` or `poetry run python`)"
)
#: The line before the JSON the script prints (anything else the project prints is ignored).
MARKER = "DBSHIFT-DJANGO-PLAN:"

#: Run inside ``manage.py shell -c``: the plan with each migration's SQL both ways, as sqlmigrate writes it.
SCRIPT = """
import json
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RunPython
from django.db.migrations.state import ProjectState

connection = connections[DEFAULT_DB_ALIAS]
executor = MigrationExecutor(connection)
loader = executor.loader
plan = executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True)
state = ProjectState(real_apps=loader.unmigrated_apps)
out = []


def python_ops(migration, backwards):
    found = []
    for op in migration.operations:
        if op.reduces_to_sql:
            continue
        code = op.reverse_code if backwards and isinstance(op, RunPython) else getattr(op, "code", None)
        if not (isinstance(op, RunPython) and code is RunPython.noop):
            found.append(op.describe())
    return found


for migration, _ in plan:
    before = state.clone()
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        state = migration.apply(state, editor, collect_sql=True)
    up = list(editor.collected_sql)
    try:
        with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
            migration.unapply(before, editor, collect_sql=True)
        down = list(editor.collected_sql)
    except IrreversibleError:
        down = None
    out.append({
        "app": migration.app_label, "name": migration.name, "atomic": bool(migration.atomic),
        "replaces": ["%s.%s" % key for key in (migration.replaces or [])],
        "up": up, "down": down,
        "python_up": python_ops(migration, False), "python_down": python_ops(migration, True),
    })
print(%(marker)r + json.dumps({"vendor": connection.vendor, "migrations": out}))
""".replace("%(marker)r", repr(MARKER))


def looks_like(path: Path) -> bool:
    """Whether ``path`` holds ``manage.py``."""
    return (path / "manage.py").is_file()


def plan(path: Path) -> dict:
    """What the script printed: Django's database vendor and its migrations in plan order."""
    python = tool_command("DBSHIFT_DJANGO_PYTHON", None, "django", INSTALL_HINT)
    try:
        done = run_tool(
            [*python, "manage.py", "shell", "-c", SCRIPT],
            path,
            "`manage.py shell` (reading the migration plan)",
            hint="run `python manage.py sqlmigrate APP MIGRATION` yourself in that folder to see the whole message",
        )
    except CheckFailed as exc:
        if "import Django" in exc.message or "named 'django'" in exc.message:  # this Python lacks Django
            raise ConfigError(exc.message, hint=INSTALL_HINT) from None
        raise
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise CheckFailed("`manage.py shell -c` printed no migration plan", hint=INSTALL_HINT)


def read(path: Path, dialect: str) -> Reading:
    """Every migration of every app in Django's plan order, with the SQL sqlmigrate writes for it both ways."""
    found = plan(path)
    if found["vendor"] != dialect:
        raise ConfigError(
            f"{path}: Django's settings name a {found['vendor']} database, this dbshift project a {dialect} one",
            hint="import with --db (DATABASE_URL) pointing at the database Django manages",
        )
    migrations, warnings = [], []
    for item in found["migrations"]:
        origin = f"{item['app']}.{item['name']}"
        for direction, ops in (("up", item["python_up"]), ("down", item["python_down"] if item["down"] else [])):
            if ops:
                warnings.append(
                    f"{origin}: {ops[0]} cannot be written as SQL; its {direction} keeps it as a comment "
                    "(the database already ran it; a new database built from the files will not)"
                )
        migrations.append(
            ImportedMigration(
                origin=origin,
                name=f"{item['app']}_{item['name']}",
                description=f"Django {origin}",
                up=_sql(item["up"], up=True),
                down=None if item["down"] is None else _sql(item["down"]),
                transaction=item["atomic"],
                source=f"django migration {origin}",
                extra={"replaces": item["replaces"]},
            )
        )
    return Reading(migrations, warnings)


#: The up of a migration Django writes no statement for (state-only operations, RunPython): dbshift runs
#: an up only when it holds a statement.
NOTHING = "-- Django writes no SQL for this migration's operations\nSELECT 1;"


def _sql(lines: list[str], up: bool = False) -> str:
    """Django's collected SQL (its ``--`` comment lines and statements) as one script."""
    if up and all(line.startswith("--") for line in lines):
        lines = [*lines, NOTHING]
    return "\n".join(lines) + "\n" if lines else ""


def applied(db, table: str, migrations: list[ImportedMigration]) -> dict[str, ToolApplied]:
    """The (app, name) rows of ``django_migrations``; a squashed migration counts as applied when every
    migration it replaces is, and the replaced ones then map onto it."""
    rows = db.execute(f"SELECT {db.quote('app')}, {db.quote('name')}, {db.quote('applied')} FROM {db.quote(table)}")
    found = {f"{app}.{name}": ToolApplied(f"{app}.{name}", installed_on=str(when)) for app, name, when in rows}
    for migration in migrations:
        replaces = migration.extra.get("replaces") or []
        if replaces and all(r in found for r in replaces):
            found.setdefault(migration.origin, ToolApplied(migration.origin, found[replaces[-1]].installed_on))
        if migration.origin in found:
            for replaced in replaces:
                found.pop(replaced, None)
    return found
