"""Alembic, through its own offline mode: ``alembic history`` for the revisions, ``alembic upgrade
base:head --sql`` and ``alembic downgrade head:base --sql`` for their SQL, cut at the
``-- Running upgrade A -> B`` line Alembic writes before each revision; the history is
``alembic_version`` (the head the database is at). Alembic writes the SQL of the dialect its own
configuration (``alembic.ini``, ``env.py``) names."""

from __future__ import annotations

import re
from pathlib import Path

from dbshift.errors import CheckFailed, ConfigError, SafetyRefusal
from dbshift.teams.imports import ImportedMigration, Reading, ToolApplied
from dbshift.teams.imports.toolsql import BookkeepingFilter, run_tool, tool_command

HISTORY_TABLE = "alembic_version"
FORMAT_HINT = "give the folder that holds alembic.ini (the one you run `alembic` in)"
INSTALL_HINT = (
    "install Alembic where the project's env.py can import its models (`pip install alembic`), put `alembic` "
    "on PATH, or set DBSHIFT_ALEMBIC to the command that runs it (e.g. `poetry run alembic`)"
)
#: ``alembic history``: ``<base> -> ae1027a6acf (head), create account table``.
HISTORY_LINE = re.compile(r"^(?P<down>.+?) -> (?P<rev>[^\s,]+)(?P<flags>(?: \([a-z]+\))*), ?(?P<doc>.*)$")
#: The comment Alembic's offline mode writes before each revision's SQL.
RUNNING = re.compile(r"^-- Running (?P<direction>upgrade|downgrade) (?P<source>.*?)\s*->\s*(?P<target>\S*)$")


def looks_like(path: Path) -> bool:
    """Whether ``path`` holds ``alembic.ini``."""
    return (path / "alembic.ini").is_file()


def _alembic(path: Path, *args: str) -> str:
    command = tool_command("DBSHIFT_ALEMBIC", "alembic", "alembic", INSTALL_HINT)
    what = "`alembic " + " ".join(args) + "`"
    return run_tool([*command, *args], path, what, hint=_failure_hint(args), where=_last_revision).stdout


def _last_revision(output: str) -> str:
    """ " at revision X" for the last ``-- Running`` line Alembic wrote before it failed."""
    found = [m for line in output.splitlines() if (m := RUNNING.match(line.strip()))]
    if not found:
        return ""
    last = found[-1]
    return f" at revision {last['target'] if last['direction'] == 'upgrade' else last['source']}"


def _failure_hint(args) -> str:
    if "--sql" in args:
        return "Alembic must write each revision as SQL (offline mode); fix the revision it names so `--sql` works"
    return "run it yourself in that folder to see the whole message"


def revisions(path: Path) -> list[tuple[str, str]]:
    """(revision, message) oldest first; a history with branches or merges is refused."""
    chain: dict[str, tuple[str, str]] = {}  # down revision -> (revision, message)
    for line in _alembic(path, "history").splitlines():
        match = HISTORY_LINE.match(line.strip())
        if not match:
            continue
        down = match["down"]
        if down.startswith("(") or "," in down or "branchpoint" in match["flags"] or down in chain:
            raise ConfigError(
                f"{path}: Alembic history has branches or merges (at {match['rev']})",
                hint="dbshift imports a linear history; merge the branches into one line with Alembic first",
            )
        chain["" if down == "<base>" else down] = (match["rev"], match["doc"])
    ordered, current = [], ""
    while current in chain:
        ordered.append(chain[current])
        current = chain[current][0]
    return ordered


def _blocks(output: str, direction: str) -> tuple[str, dict[str, str]]:
    """The text before the first ``-- Running`` line, and each revision's SQL by revision."""
    preamble, blocks, current = [], {}, None
    for line in output.splitlines():
        match = RUNNING.match(line.strip())
        if match and match["direction"] == direction:
            current = match["target"] if direction == "upgrade" else match["source"]
            blocks[current] = []
        elif current is None:
            preamble.append(line)
        else:
            blocks[current].append(line)
    return "\n".join(preamble), {rev: "\n".join(lines) for rev, lines in blocks.items()}


def read(path: Path, dialect: str) -> Reading:
    """Every revision, oldest first, with the SQL Alembic writes for its upgrade and downgrade."""
    ordered = revisions(path)
    if not ordered:
        return Reading([])
    up_preamble, ups = _blocks(_alembic(path, "upgrade", "base:head", "--sql"), "upgrade")
    _, downs = _blocks(_alembic(path, "downgrade", "head:base", "--sql"), "downgrade")
    migrations = []
    with BookkeepingFilter(dialect, HISTORY_TABLE) as bookkeeping:
        if bookkeeping.clean(up_preamble).strip():
            raise CheckFailed(
                "`alembic upgrade --sql` wrote statements before the first revision",
                hint="dbshift cannot tell which revision they belong to; move them into a revision",
            )
        cleaned_ups = {rev: bookkeeping.clean(ups.get(rev, "")) for rev, _ in ordered}
        cleaned_downs = {rev: bookkeeping.clean(downs[rev]) for rev, _ in reversed(ordered) if rev in downs}
    for revision, message in ordered:
        if revision not in ups:
            raise CheckFailed(f"`alembic upgrade --sql` wrote nothing for revision {revision}", hint=FORMAT_HINT)
        migrations.append(
            ImportedMigration(
                origin=revision,
                name=message or revision,
                description=f"Alembic {revision}: {message}",
                up=cleaned_ups[revision],
                down=cleaned_downs.get(revision),
                source=f"alembic revision {revision}",
            )
        )
    return Reading(migrations)


def applied(db, table: str, migrations: list[ImportedMigration]) -> dict[str, ToolApplied]:
    """The revision ``alembic_version`` holds and every one before it."""
    heads = [row[0] for row in db.execute(f"SELECT version_num FROM {db.quote(table)}")]
    if len(heads) > 1:
        raise SafetyRefusal(
            f"{table} holds {len(heads)} heads ({', '.join(heads)})",
            hint="dbshift imports a linear history: `alembic merge` the heads and upgrade first",
        )
    order = [m.origin for m in migrations]
    if not heads:
        return {}
    if heads[0] not in order:
        return {heads[0]: ToolApplied(heads[0])}  # the driver names it: the folder lacks it
    return {origin: ToolApplied(origin) for origin in order[: order.index(heads[0]) + 1]}
