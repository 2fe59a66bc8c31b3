"""The peer corpora (sqldef postgres/mysql, migra) as oracles on the real servers.

For each applicable case: load ``current`` into a target database and ``desired`` into a scratch
database on the same server, inspect both, draft the migration, run its up on the target and
compare the inspection with ``desired``, then run its down and compare with ``current``.
Features dbshift does not model are excluded by a named reason, never silently.

Run as a script, it runs the three corpora and writes ``docs/corpus-servers.md``::

    .venv/bin/python tests/servers/corpus.py [--postgres URL] [--mysql URL] [--out docs/corpus-servers.md]
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: tests/ holds the shared helpers (value_oracle)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbshift.dialects import open_database
from dbshift.drafting.draft import draft_schemas
from dbshift.errors import ConfigError
from dbshift.inspectors import inspect
from dbshift.urls import parse_url
from value_oracle import count_changed_values, differences, fill_schema, snapshot

NAME = r'(?:"([^"]+)"|`([^`]+)`|(\w+))'
RENAMED_TABLE = re.compile(
    r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\w+\.)?" + NAME + r"[^\n]*@renamed\s+from=" + NAME, re.IGNORECASE
)
RENAMED_COLUMN = re.compile(r"^\s*" + NAME + r"\s+[^\n]*--\s*@renamed\s+from=" + NAME)
CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\w+\.)?" + NAME, re.IGNORECASE)

#: Features dbshift's model does not cover: (pattern over current+desired SQL, reason).
POSTGRES_UNCOVERED = [
    (r"\bGRANT\b|\bREVOKE\b|\bCREATE\s+ROLE\b|\bOWNER\s+TO\b", "privileges and roles are not modelled"),
    (r"\bCREATE\s+SCHEMA\b|\bSEARCH_PATH\b", "other schemas are not managed"),
    (r"\b(?!public\b)[a-z_]+\.\"?[a-z_]+\"?\s*\(", None),  # placeholder, replaced below
    (
        r"\bCREATE\s+(OPERATOR|CAST|COLLATION|EVENT\s+TRIGGER|FOREIGN|SERVER|PUBLICATION|SUBSCRIPTION|STATISTICS|TEXT\s+SEARCH|CONVERSION|LANGUAGE)\b",
        "this kind of object is not modelled",
    ),
    (
        r"\bCREATE\s+TYPE\s+\S+\s+AS\s*\(|\bCREATE\s+TYPE\s+\S+\s+AS\s+RANGE\b",
        "composite and range types are not modelled",
    ),
    (r"\bUNLOGGED\b|\bTABLESPACE\b|\bWITH\s*\(\s*fillfactor", "storage parameters are not modelled"),
]
POSTGRES_UNCOVERED = [(p, r) for p, r in POSTGRES_UNCOVERED if r is not None]
QUALIFIED = re.compile(
    r"\b(CREATE|ALTER|TABLE|VIEW|INDEX|ON|REFERENCES|INTO|TYPE|DOMAIN)\s+\"?(?!public\b|mysqldef_test\b)(\w+)\"?\.\"?\w+",
    re.IGNORECASE,
)


@dataclass
class Outcome:
    """Counts and reasons of one corpus run."""

    passed: list[str] = field(default_factory=list)
    #: Up verified; the down is declared lossy by the plan, or its loss checks counted the values
    #: that did not come back (and at least as many as did not).
    lossy_down: dict[str, str] = field(default_factory=dict)
    #: Everything reached except where PostgreSQL put a column (it appends, it cannot reorder).
    column_order: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    #: dbshift refused to draft until the user gives a value for rows holding NULL (correct, not run).
    needs_value: dict[str, str] = field(default_factory=dict)
    #: The database refused the up for the edge-value rows (a new CHECK, UNIQUE, narrower type) and
    #: every value and the schema were as before afterwards: dbshift lost nothing.
    refused_by_rows: dict[str, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def applicable(self) -> int:
        """Cases run to a verdict (passed, lossy down, column order only, failed)."""
        return len(self.passed) + len(self.lossy_down) + len(self.column_order) + len(self.failed)

    def summary(self, label: str) -> str:
        """One line of counts."""
        return (
            f"{label}: {len(self.passed)} passed, {len(self.lossy_down)} up-only (down declared lossy), "
            f"{len(self.column_order)} column order only, {len(self.failed)} failed, "
            f"{len(self.needs_value)} refused until a value is given, "
            f"{len(self.refused_by_rows)} refused by the database for the rows (nothing changed), "
            f"{len(self.excluded)} excluded"
        )


def rename_hints(sql: str) -> list[str]:
    """sqldef's ``@renamed from=`` annotations as dbshift rename hints."""
    hints = []
    for match in RENAMED_TABLE.finditer(sql):
        new, old = _pick(match.groups()[:3]), _pick(match.groups()[3:])
        hints.append(f"{old}={new}")
    table = None
    for line in sql.splitlines():
        create = CREATE_TABLE.search(line)
        if create:
            table = _pick(create.groups())
            continue
        match = RENAMED_COLUMN.match(line)
        if match and table:
            hints.append(f"{table}.{_pick(match.groups()[3:])}={_pick(match.groups()[:3])}")
    return hints


def _pick(groups) -> str:
    return next(g for g in groups if g)


class Workbench:
    """A target and a scratch database on one server, emptied between cases."""

    def __init__(self, target_url: str, scratch_url: str):
        self.target = open_database(parse_url(target_url))
        self.scratch = open_database(parse_url(scratch_url))

    def close(self) -> None:
        self.target.close()
        self.scratch.close()

    def reset(self) -> None:
        for db in (self.target, self.scratch):
            db.rollback()
            empty(db)

    def run_case(self, case: dict, dialect: str) -> None:
        """Raises AssertionError (a failure) or SetupError (the case's SQL does not load here)."""
        self.reset()
        current_sql, desired_sql = case.get("current") or "", case.get("desired") or ""
        load(self.target, current_sql)
        load(self.scratch, desired_sql)
        current, desired = inspect(self.target), inspect(self.scratch)
        fill_schema(self.target, current)
        before = snapshot(self.target)
        try:
            draft = draft_schemas(current, desired, dialect, renames=rename_hints(desired_sql), live=_Live(self.target))
        except ConfigError as refusal:
            if "--default" not in (refusal.hint or "") and "--reverse" not in (refusal.hint or ""):
                raise
            raise NeedsValue(str(refusal)) from None
        # What the runner records before the up: the values the down will not give back.
        try:
            counted = sum(int(self.target.execute(check)[0][0] or 0) for check in draft.plan.loss_checks())
        except Exception as exc:  # noqa: BLE001 - as in the runner: the migration stops before its up
            if not self.target.is_driver_error(exc):
                raise
            self.target.rollback()
            raise RefusedByRows(f"a loss check failed on these rows: {self.target.describe_error(exc)}") from None
        try:
            run(self.target, draft.plan.up_statements(), "up")
        except UpFailed as failure:
            # The database refused the change for these rows (a new CHECK, UNIQUE, range...): fine
            # when the up left every value and the schema as they were.
            if inspect(self.target) == current and not differences(before, snapshot(self.target)):
                raise RefusedByRows(str(failure)) from None
            raise AssertionError(f"{failure}, and the database was left changed") from None
        after_up = inspect(self.target)
        order = []
        if after_up != desired and dialect == "postgresql" and by_column_name(after_up) == by_column_name(desired):
            order.append(f"up: {first_difference(after_up, desired)}")
        else:
            assert after_up == desired, f"up did not reach desired: {first_difference(after_up, desired)}"
        try:
            run(self.target, draft.plan.down_statements(), "down")
        except AssertionError as failure:
            if counted:  # the rollback is refused without --force, naming the count; forced, it stops here
                raise LossyDown(f"the loss checks counted {counted} value(s); the down stops on them: {failure}")
            raise
        after_down = inspect(self.target)
        if after_down != current and any(op.lossy_reverse for op in draft.plan.operations):
            raise LossyDown("; ".join(op.lossy_reverse for op in draft.plan.operations if op.lossy_reverse))
        if after_down != current and dialect == "postgresql" and by_column_name(after_down) == by_column_name(current):
            order.append(f"down: {first_difference(after_down, current)}")
        else:
            assert after_down == current, f"down did not get back to current: {first_difference(after_down, current)}"
        after = snapshot(self.target)
        lost = differences(before, after)
        if lost and draft.plan.destructive:
            raise LossyDown("values did not all come back, as the plan says: " + "; ".join(lost)[:300])
        if lost and counted:
            changed = count_changed_values(before, after)
            assert changed <= counted, (
                f"the loss checks counted {counted} value(s) but {changed} row(s) changed: " + "; ".join(lost)
            )
            raise LossyDown(f"the loss checks counted {counted} value(s) that do not come back, and they did not")
        assert not lost, "values did not come back, yet the down is not marked lossy: " + "; ".join(lost)
        if order:
            raise ColumnOrderOnly("; ".join(order))


def by_column_name(schema):
    """``schema`` with every table's columns sorted by name: equal when only the column order differs."""
    tables = [replace(t, columns=tuple(sorted(t.columns, key=lambda c: c.name))) for t in schema.tables]
    return replace(schema, tables=tuple(tables))


class ColumnOrderOnly(Exception):
    """Up and down reached their schemas except for the column order (PostgreSQL appends added columns)."""


class UpFailed(AssertionError):
    """A statement of the up failed (the runner rolls back)."""


class RefusedByRows(Exception):
    """The database refused the up for the rows it holds, and the up left everything as it was."""


class NeedsValue(Exception):
    """dbshift refused to draft: rows of the case need a value (a NOT NULL column over NULLs)."""


class _Live:
    """The target database as the live one a draft checks for rows (``draft_schemas(live=...)``)."""

    def __init__(self, db):
        self.db = db

    @contextmanager
    def connect(self, readonly: bool = False):
        yield self.db


class LossyDown(Exception):
    """The up reached ``desired``; the down, declared lossy by the plan, did not get all the way back."""


class SetupError(Exception):
    """The case's own SQL does not run on this server."""


def load(db, sql: str) -> None:
    """Run a case's schema SQL; a failure is a SetupError.

    sqldef runs its MySQL cases in a database called ``mysqldef_test``; names it qualifies with it
    mean the case's own database, here the one ``db`` is connected to.
    """
    if db.dialect == "mysql":
        sql = re.sub(r"\bmysqldef_test\.", db.quote(db.url.database) + ".", sql)
    for statement in db.split_script(sql):
        try:
            db.execute(statement.sql)
        except Exception as exc:  # noqa: BLE001 - any driver error
            if not db.is_driver_error(exc):
                raise
            db.rollback()
            # The scratch database's random name would change the report on every run.
            raise SetupError(db.describe_error(exc).replace(db.url.database, "<database>")) from None


def run(db, statements: list[str], direction: str) -> None:
    """Run generated statements; a failure is an AssertionError naming the statement."""
    if db.transactional_ddl:
        db.begin()
    for sql in statements:
        try:
            db.execute(sql)
        except Exception as exc:  # noqa: BLE001 - any driver error
            if not db.is_driver_error(exc):
                raise
            db.rollback()
            failed = UpFailed if direction == "up" else AssertionError
            raise failed(f"{direction} failed: {db.describe_error(exc)} in {' '.join(sql.split())[:160]}") from None
    db.commit()


def empty(db) -> None:
    """Drop everything in the database (PostgreSQL: its non-system schemas; MySQL: every object)."""
    if db.dialect == "postgresql":
        schemas = [
            r[0]
            for r in db.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
            )
        ]
        for name in schemas:
            db.execute(f"DROP SCHEMA {db.quote(name)} CASCADE")
        db.execute("CREATE SCHEMA public")
        return
    db._drop_everything()
    for (name,) in db.execute("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"):
        db.execute(f"DROP EVENT {db.quote(name)}")


def first_difference(left, right) -> str:
    """A short description of where two schemas differ."""
    for kind in ("tables", "views", "triggers"):
        a = {o.name: o for o in getattr(left, kind)}
        b = {o.name: o for o in getattr(right, kind)}
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                return f"{kind[:-1]} {name}: {_differing_part(a.get(name), b.get(name))}"
    if left.options != right.options:
        keys = [k for k in set(left.options) | set(right.options) if left.options.get(k) != right.options.get(k)]
        return f"schema options {keys}: got {[left.options.get(k) for k in keys]!r:.300} want {[right.options.get(k) for k in keys]!r:.300}"
    return "unknown"


def _differing_part(got, want) -> str:
    """The first field (a column, a key list, the options...) where two objects differ."""
    if got is None or want is None:
        return f"got {got!r:.300} want {want!r:.300}"
    for f in fields(got):
        left, right = getattr(got, f.name), getattr(want, f.name)
        if left == right:
            continue
        if f.name == "columns" and len(left) == len(right):
            pair = next((l, r) for l, r in zip(left, right) if l != r)
            return f"column {pair[1].name}: got {pair[0]!r:.300} want {pair[1]!r:.300}"
        return f"{f.name}: got {left!r:.300} want {right!r:.300}"
    return "unknown"


def uncovered_reason(case: dict, patterns: list[tuple[str, str]]) -> str | None:
    """Why a case's features are outside dbshift's model, or None."""
    text = (case.get("current") or "") + "\n" + (case.get("desired") or "")
    for pattern, reason in patterns:
        if re.search(pattern, text, re.IGNORECASE):
            return reason
    if QUALIFIED.search(text):
        return "objects outside the current schema are not managed"
    return None


def version_excluded(case: dict, server: tuple[int, ...]) -> str | None:
    """The case's version range or flavour does not match this server."""

    def parse(text):
        return tuple(int(re.match(r"\d+", part).group()) for part in str(text).split("."))

    for key, compare in (
        ("min_version", lambda v: server[: len(v)] < v),
        ("max_version", lambda v: server[: len(v)] > v),
    ):
        if key in case and compare(parse(case[key])):
            return f"{key} {case[key]} excludes server {'.'.join(map(str, server))}"
    return None


def sqldef_cases(folder: Path):
    """(name, case) of every sqldef YAML file in ``folder``."""
    import yaml

    for path in sorted(folder.glob("tests*.yml")):
        for name, case in (yaml.safe_load(path.read_text()) or {}).items():
            yield f"{path.stem}/{name}", case


def sqldef_exclusion(case: dict, flavour: str, server: tuple[int, ...], patterns) -> str | None:
    """Why a sqldef case is not run, or None."""
    if "error" in case:
        return "expects sqldef's own error message"
    if case.get("offline"):
        return "offline text comparison (no database)"
    for key in ("user", "managed_roles", "manage"):
        if key in case:
            return f"sqldef option `{key}` (roles/privileges/managed objects)"
    wanted = case.get("flavor")
    if wanted and (
        wanted.startswith("!") and wanted[1:] == flavour or not wanted.startswith("!") and wanted != flavour
    ):
        return f"flavour {wanted}"
    return version_excluded(case, server) or uncovered_reason(case, patterns)


def run_corpus(bench: Workbench, cases, dialect: str, exclusion) -> Outcome:
    """Run every case, sorting each into passed, failed or excluded (with its reason)."""
    outcome = Outcome()
    for name, case in cases:
        reason = exclusion(case)
        if reason:
            outcome.excluded[name] = reason
            continue
        try:
            bench.run_case(case, dialect)
            outcome.passed.append(name)
        except LossyDown as exc:
            outcome.lossy_down[name] = str(exc)
        except ColumnOrderOnly as exc:
            outcome.column_order[name] = str(exc)
        except NeedsValue as exc:
            outcome.needs_value[name] = str(exc)
        except RefusedByRows as exc:
            outcome.refused_by_rows[name] = str(exc)
        except SetupError as exc:
            outcome.excluded[name] = f"its SQL does not load on this server: {exc}"
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            outcome.failed[name] = f"{type(exc).__name__}: {str(exc)[:400]}"
    return outcome


def migra_cases(folder: Path):
    """(name, case) for each migra fixture folder: a.sql is current, b.sql desired."""
    for case in sorted(p for p in folder.iterdir() if p.is_dir()):
        yield f"migra/{case.name}", {"current": (case / "a.sql").read_text(), "desired": (case / "b.sql").read_text()}


MYSQL_UNCOVERED = [
    (r"\bCREATE\s+(DEFINER\s*=\s*\S+\s+)?(PROCEDURE|FUNCTION)\b", "stored routines are not modelled"),
    (r"\bGRANT\b|\bREVOKE\b", "privileges are not modelled"),
    (r"\bSPATIAL\b|\bGEOMETRY\b|\bPOINT\b|\bPOLYGON\b|\bSRID\b", "spatial types are not modelled"),
    (r"\bCREATE\s+TABLE\b[^;]*\bLIKE\b|\bTEMPORARY\b|\bSEQUENCE\b", "this kind of object is not modelled"),
]


# -- the three corpora, as the tests and the report run them ---------------------------------------------
def postgres_version(bench: Workbench) -> tuple[int, int]:
    """(major, minor) of the PostgreSQL server."""
    number = int(bench.target.execute("SHOW server_version_num")[0][0])
    return number // 10000, number % 10000


def mysql_server(bench: Workbench) -> tuple[str, tuple[int, ...], str]:
    """(flavour, version, version text) of the MySQL/MariaDB server."""
    text = bench.target.execute("SELECT VERSION()")[0][0]
    flavour = "mariadb" if "mariadb" in text.lower() else "mysql"
    return flavour, tuple(int(part) for part in re.findall(r"\d+", text)[:2]), text


def run_sqldef_postgres(bench: Workbench, corpus: Path) -> Outcome:
    """sqldef's PostgreSQL cases on the server of ``bench``."""
    version = postgres_version(bench)
    cases = list(sqldef_cases(corpus / "sqldef" / "postgres"))
    return run_corpus(
        bench, cases, "postgresql", lambda case: sqldef_exclusion(case, "postgres", version, POSTGRES_UNCOVERED)
    )


def run_migra(bench: Workbench, corpus: Path) -> Outcome:
    """migra's fixtures (a.sql -> b.sql) on the PostgreSQL server of ``bench``."""
    return run_corpus(
        bench,
        list(migra_cases(corpus / "migra")),
        "postgresql",
        lambda case: uncovered_reason(case, POSTGRES_UNCOVERED),
    )


def run_sqldef_mysql(bench: Workbench, corpus: Path) -> Outcome:
    """sqldef's MySQL cases (MariaDB flavour where marked) on the server of ``bench``."""
    flavour, version, _ = mysql_server(bench)
    cases = list(sqldef_cases(corpus / "sqldef" / "mysql"))
    return run_corpus(bench, cases, "mysql", lambda case: sqldef_exclusion(case, flavour, version, MYSQL_UNCOVERED))


# -- the report --------------------------------------------------------------------------------------------
INTRO = """# Peer corpora on the real servers

Generated by `.venv/bin/python tests/servers/corpus.py` (the same code as `tests/servers/test_corpus_*.py`) against
the servers on this machine; do not edit by hand. For each applicable case, `current` is loaded into a target database
and `desired` into a scratch database on the same server; both are inspected, dbshift drafts the migration, the up
must turn the target into `desired` and the down must turn it back into `current`, compared by inspection (never by
SQL text). Before the up, every table holds rows of edge values for its column types (`tests/value_oracle.py`:
2^53 + 1, the integer limits, 0.1, 1e308, -0.0, '007', '1.0', '', unicode, quotes, NULL...); after the down every
value must be back with its type, unless the plan declares its down lossy.

Two outcomes are correct refusals, not run to the end and not counted as applicable:

- **refused until a value is given**: a column becomes NOT NULL over rows holding NULL; `dbshift diff` asks for
  `--default` instead of drafting a migration that fails.
- **refused by the database for the rows**: the edge values break the new schema (a CHECK, a UNIQUE, a narrower
  type); the up failed, and every value and the schema were exactly as before afterwards.

Two kinds of cases reach their schemas and are still not counted as passes:

- **up-only**: the up is verified and the plan itself declares its down lossy (a dropped column comes back empty,
  PostgreSQL cannot remove an enum value), or its loss checks counted, before the up, the values the down would
  not give back (as `apply` records them and `rollback` names them), and the down did not restore everything.
- **column order only**: everything matches except where PostgreSQL put a column. PostgreSQL appends an added
  column at the end and cannot move one; dbshift does not rewrite a table to reorder its columns (MySQL/MariaDB
  reorders with `MODIFY ... AFTER`).
"""

NOT_MODELLED = """## Excluded (by reason, not counted)

A case is excluded when it uses something dbshift does not model, is written for another server flavour or version,
relies on a sqldef-specific option (roles, managed objects, offline text comparison, sqldef's own error messages),
or its own SQL does not load on the server. Reasons over the three corpora (each corpus lists its cases below):
"""


def render_report(runs: list[tuple[str, Outcome]]) -> str:
    """``docs/corpus-servers.md`` for ``runs``: (label, outcome) per corpus."""
    lines = [
        INTRO,
        "| corpus | passed | up-only | column order only | failed | applicable | pass rate "
        "| refused until a value is given | refused by the database for the rows | excluded |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, o in runs:
        lines.append(
            f"| {label} | {len(o.passed)} | {len(o.lossy_down)} | {len(o.column_order)} | {len(o.failed)} "
            f"| {o.applicable} | {_rate(len(o.passed), o.applicable)} | {len(o.needs_value)} "
            f"| {len(o.refused_by_rows)} | {len(o.excluded)} |"
        )
    passed, applicable = sum(len(o.passed) for _, o in runs), sum(o.applicable for _, o in runs)
    lines += [
        "",
        f"Combined over the three corpora: {passed} of {applicable} applicable cases pass "
        f"({_rate(passed, applicable)}); the target is 90%.",
        "",
        NOT_MODELLED,
    ]
    lines += _reasons_overall(runs)
    for label, o in runs:
        lines += _corpus_section(label, o)
    return "\n".join(lines).rstrip() + "\n"


def _reasons_overall(runs: list[tuple[str, Outcome]]) -> list[str]:
    counts: dict[str, int] = {}
    for _, o in runs:
        for reason in o.excluded.values():
            reason = "its SQL does not load on this server" if reason.startswith("its SQL does not load") else reason
            counts[reason] = counts.get(reason, 0) + 1
    return [f"- {n}: {r}" for r, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))] + [""]


def _rate(passed: int, total: int) -> str:
    return f"{100 * passed / total:.1f}%" if total else "n/a"


def _corpus_section(label: str, o: Outcome) -> list[str]:
    lines = [f"## {label}", "", "### Exclusions by reason", ""]
    reasons: dict[str, int] = {}
    for reason in o.excluded.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    lines += [f"- {n}: {r}" for r, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))]
    for title, found in (
        ("Failures (with the first error)", o.failed),
        ("Up-only (down declared lossy)", o.lossy_down),
        ("Column order only (PostgreSQL)", o.column_order),
        ("Refused until a value is given (rows hold NULL where NOT NULL is wanted)", o.needs_value),
        ("Refused by the database for the edge-value rows (rolled back, nothing changed)", o.refused_by_rows),
    ):
        if found:
            lines += ["", f"### {title}", ""] + [
                f"- `{name}`: {' '.join(text.split())[:300]}" for name, text in found.items()
            ]
    if not o.failed:
        lines += ["", "### Failures", "", "None."]
    lines += ["", "### Every excluded case", "", "<details><summary>list</summary>", ""]
    lines += [f"- `{name}`: {reason}" for name, reason in o.excluded.items()]
    return lines + ["", "</details>", ""]


def main(argv: list[str] | None = None) -> int:
    """Run the three corpora on the servers and write the report (scratch databases are dropped afterwards)."""
    import argparse
    import sys

    here = Path(__file__).resolve()
    sys.path.insert(0, str(here.parents[1]))
    from conftest import CORPUS, MYSQL_URL, POSTGRES_URL
    from servers.conftest import create_database, drop_database

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--postgres", default=POSTGRES_URL)
    parser.add_argument("--mysql", default=MYSQL_URL)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=here.parents[2] / "docs" / "corpus-servers.md")
    args = parser.parse_args(argv)
    runs = []
    for base, jobs in (
        (args.postgres, (("sqldef postgres", run_sqldef_postgres), ("migra", run_migra))),
        (args.mysql, (("sqldef mysql", run_sqldef_mysql),)),
    ):
        target, scratch = create_database(base), create_database(base)
        bench = Workbench(target, scratch)
        try:
            for name, job in jobs:
                outcome = job(bench, args.corpus)
                runs.append((_label(name, bench), outcome))
                print(outcome.summary(name))
        finally:
            bench.close()
            drop_database(base, target)
            drop_database(base, scratch)
    args.out.write_text(render_report(runs))
    print(f"wrote {args.out}")
    return 0


def _label(name: str, bench: Workbench) -> str:
    if name == "sqldef mysql":
        flavour, _, text = mysql_server(bench)
        server = ("MariaDB " if flavour == "mariadb" else "MySQL ") + ".".join(re.findall(r"\d+", text)[:2])
        return f"sqldef mysql (`../shared/corpus/sqldef/mysql`, {server}, flavour {flavour})"
    major, _ = postgres_version(bench)
    if name == "migra":
        return f"migra (`../shared/corpus/migra`, a.sql -> b.sql, PostgreSQL {major})"
    return f"sqldef postgres (`../shared/corpus/sqldef/postgres`, PostgreSQL {major})"


if __name__ == "__main__":
    raise SystemExit(main())
