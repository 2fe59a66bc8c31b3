"""Fuzzing the command line: whatever a user feeds dbshift, it answers with an exit code from 0 to 4
and at most an error line with a hint, never a traceback, and it never changes the user's data on
the way to an error.

Each input is a copy of one small project (two applied migrations, a few rows of every kind of
value) with one thing made odd: a mutated migration file (truncated, random bytes, NUL, bad UTF-8,
BOM, huge lines, odd flags and statements, ``-- lint:ignore`` comments, duplicate versions, odd
file names), a mutated ``dbshift.toml`` (odd ``[lint]`` tables among them), an odd database URL,
or odd command-line arguments. ``dbshift lint`` (``--all``, ``--pending``, files, ``--format``,
``--fix``, ``--diff``, ``--no-cache``, ``--observe``) runs on mutated migrations too, in the project
and in a folder with no database (``--dialect``): it exits 0, 1 (an error finding) or 2, its JSON
and SARIF parse and agree with the exit code, ``--diff`` writes nothing and ``--fix`` never makes a
migration PostgreSQL's parser could read unreadable. The CLI runs in this process
through its entry point :func:`dbshift.cli.main`. The seed is fixed; ``DBSHIFT_FUZZ_INPUTS=N`` runs
more inputs (``DBSHIFT_FUZZ_SEED`` another seed). An "internal error" (the CLI's last-resort
guard) counts as a failure like a traceback.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cli_inprocess import run_dbshift
from conftest import write_migration
from fuzz_lint import LINT_LINES, NO_DATABASE_TOML, PENDING_PG_SQL, judge_lint, lint_table, mutate_lines

INPUTS = int(os.environ.get("DBSHIFT_FUZZ_INPUTS", "1000"))
SEED = int(os.environ.get("DBSHIFT_FUZZ_SEED", "20261206"))
EXIT_CODES = {0, 1, 2, 3, 4}

#: Commands that must never change the user's data, whatever their exit code.
READ_ONLY = {"status", "history", "inspect", "verify", "rollback-plan", "plan", "report", "backups", "rehearse", "lint"}

SHOP_UP = """\
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance REAL, photo BLOB, note TEXT);
INSERT INTO customers VALUES (1, 'Ada', 12.5, X'00FF10', NULL), (2, 'Zoë 🎉', -0.1, NULL, 'line1
line2'), (3, 'O''Brien', 9007199254740993, X'', '');
"""
ORDERS_UP = """\
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), cents INTEGER NOT NULL);
CREATE INDEX orders_customer ON orders(customer_id);
INSERT INTO orders VALUES (1, 1, 1999), (2, 2, 250), (3, 1, -5);
"""
PENDING_SQL = b"""\
-- description: add a phone column
-- migrate:up
ALTER TABLE customers ADD COLUMN phone TEXT;
UPDATE customers SET phone = '555-' || id;
-- migrate:down
ALTER TABLE customers DROP COLUMN phone;
"""
PENDING_PY = b'''\
"""Raise every balance by one."""

DESCRIPTION = "raise balances"


def up(ctx):
    ctx.execute("UPDATE customers SET balance = balance + 1")


def down(ctx):
    ctx.execute("UPDATE customers SET balance = balance - 1")
'''
#: Statements written into migrations (COMMIT, END and ROLLBACK among them: the runner refuses a
#: migration holding one before anything runs).
SQL_LINES = [
    "SELECT 1;",
    "INSERT INTO nowhere VALUES (1);",
    "CREATE TABLE customers (x);",
    "DELETE FROM orders;",
    "UPDATE customers SET name = 'x';",
    "DROP TABLE orders;",
    "INSERT INTO orders VALUES (9, 99, NULL);",
    "'unclosed",
    "/* unclosed comment",
    "CREATE TRIGGER t AFTER INSERT ON orders BEGIN SELECT 1;",
    ";;;",
    "BEGIN;",
    "SAVEPOINT s;",
    "PRAGMA foreign_keys = ON;",
    "VACUUM;",
    "SELECT zeroblob(10);",
    "SELECT char(0);",
    "CREATE VIEW v AS SELECT * FROM nowhere;",
    "SELECT",
    "ALTER TABLE orders RENAME TO orders2;",
    "CREATE INDEX i ON customers(nothere);",
    "\t",
    "\r",
    "$$",
    "END;",
    "INSERT INTO orders SELECT * FROM orders;",
    "DETACH DATABASE main;",
    "SELECT load_extension('x');",
    "COMMIT;",
    "ROLLBACK;",
    "ROLLBACK TO s;",
    "RELEASE s;",
    "END TRANSACTION;",
]
FLAG_LINES = [
    "-- depends: 20260101000001",
    "-- depends: 20991231235959",
    "-- depends: nope",
    "-- depends:",
    "-- depends: 20260102000000",
    "-- destructive",
    "-- risky",
    "-- risky: yes",
    "-- no-transaction",
    "-- lossless-down",
    "-- description:",
    "-- description: ünïcode ✓",
    "-- unknownflag",
    "-- migrate:up",
    "-- migrate:down",
    "-- migrate:sideways",
    "-- migrate:up transaction:false",
    "-- migrate:up nope:1",
    "-- MIGRATE:UP",
    "--",
    "-- destructive: yes",
    "SELECT 1;",
]
PY_LINES = [
    "raise RuntimeError('boom')",
    "1/0",
    "DEPENDS = object()",
    "DEPENDS = [20991231235959]",
    "DEPENDS = 'x'",
    "TRANSACTION = 'no'",
    "TRANSACTION = False",
    "DESTRUCTIVE = True",
    "RISKY = 1",
    "def up(ctx):\n    ctx.nothing()",
    "def up(ctx):\n    ctx.execute('SELECT * FROM nowhere')",
    "def up(ctx):\n    ctx.execute(123)",
    "def down(ctx):\n    raise ValueError('no way back')",
    "def up(ctx)",
    "up = 5",
    "import nosuchmodule",
    "def up(ctx):\n    ctx.executescript('DELETE FROM orders; INSERT INTO nowhere VALUES (1);')",
    "DEPENDS = 1.5",
    "DEPENDS = None",
    "DEPENDS = [[1]]",
    "DESCRIPTION = b'x'",
    "DEPENDS = {1: 2}",
    "RISKY = None",
    "DEPENDS = [" * 50 + "]" * 50,
    "DESCRIPTION = 'x' * 10",
    "up = lambda ctx: None",
    "class up: pass",
]
SUM_LINES = ["<<<<<<< HEAD", "=======", ">>>>>>> branch", "total sha256:", "x sha256:y", "sha256:", "", "no separator"]
#: The template's dbshift.sum, set when the template is built.
TEMPLATE_SUM: bytes | None = None
BAD_UTF8 = [b"\xff", b"\xe9", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xfe\xff", b"\x80"]
MIGRATION_NAMES = [
    "20260102000000_change",
    "20260102_000000_change",
    "20260101000001_duplicate",
    "20260101_000002_duplicate",
    "20261301000000_month",
    "99999999999999_year",
    "00000000000000_zero",
    "2026_short",
    "20260102000000_",
    "20260102000000_näme",
    "20260102000000_a b",
    "20260102000000_" + "n" * 230,
    "20260102000000_-dash",
    " 20260102000000_space",
    "20260102000000_x.sql",
    "120260102000000_long",
    "20260102000000_change.sql.bak",
]


@dataclass
class Case:
    """One generated input: files written into a copy of the project, then one command."""

    number: int
    kind: str
    argv: list[str]
    files: dict[str, bytes | None] = field(default_factory=dict)  # None: a folder of that name
    env: dict[str, str] = field(default_factory=dict)
    odd_folder: bool = False

    def describe(self) -> str:
        """What to look at when this input fails: argv, environment and files (shortened)."""
        files = {
            name: (None if data is None else data[:300] + (b"..." if len(data) > 300 else b""))
            for name, data in self.files.items()
        }
        return f"input {self.number} ({self.kind}{', odd folder' if self.odd_folder else ''}): dbshift {' '.join(map(repr, self.argv))} env={self.env} files={files}"


# -- the project every input starts from --------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A project with two applied migrations over customers and orders, and its dbshift.sum."""
    from dbshift import Project

    root = tmp_path_factory.mktemp("fuzz-template")
    saved = os.environ.pop("DATABASE_URL", None)
    try:
        project = Project.init(root, "sqlite:///app.db")
        write_migration(project, 20260101000001, "shop", SHOP_UP, "DROP TABLE customers;")
        write_migration(project, 20260101000002, "orders", ORDERS_UP, "DROP TABLE orders;")
        global TEMPLATE_SUM
        TEMPLATE_SUM = project.hash().read_bytes()
        project.apply()
    finally:
        if saved is not None:
            os.environ["DATABASE_URL"] = saved
    return root


def user_data(database: Path) -> list | None:
    """Every user table's definition and rows (dbshift's bookkeeping tables aside); None when the
    file is missing."""
    if not database.exists():
        return None
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        objects = conn.execute(
            "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'dbshift%' ORDER BY type, name"
        ).fetchall()
        rows = [
            conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            for kind, name, _ in objects
            if kind == "table" and not name.startswith("sqlite_")
        ]
        return [objects, rows]
    finally:
        conn.close()


def dirty_versions(database: Path) -> set[int]:
    """Versions recorded as half-applied: a failed no-transaction migration says so, by design."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT version FROM dbshift_history WHERE status != 'applied'")}
    except sqlite3.Error:
        return set()
    finally:
        conn.close()


# -- generators -----------------------------------------------------------------------------------


def mutate_bytes(rng: random.Random, data: bytes, extra_lines: list[str]) -> bytes:
    """One to three of: truncate, random bytes, NUL, bad UTF-8, BOM, a huge line, an odd line, CRLF."""
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(data))
        operator = rng.randrange(9)
        if operator == 0:
            data = data[:at]
        elif operator == 1:
            data = data[:at] + rng.randbytes(rng.randint(1, 40)) + data[at:]
        elif operator == 2:
            data = data[:at] + b"\x00" + data[at:]
        elif operator == 3:
            data = data[:at] + rng.choice(BAD_UTF8) + data[at:]
        elif operator == 4:
            data = b"\xef\xbb\xbf" + data
        elif operator == 5:
            data = _insert_line(rng, data, rng.choice(["-- ", "SELECT '", "x"]) + "y" * rng.choice([5_000, 200_000]))
        elif operator == 6:
            data = data.replace(b"\n", b"\r\n")
        else:
            data = _insert_line(rng, data, rng.choice(extra_lines))
    return data


def _insert_line(rng: random.Random, data: bytes, line: str) -> bytes:
    lines = data.split(b"\n")
    lines.insert(rng.randint(0, len(lines)), line.encode("utf-8"))
    return b"\n".join(lines)


def migration_case(rng: random.Random, number: int) -> Case:
    """A pending (or an applied) migration file mutated, then apply, a dry run, status, diff..."""
    python = rng.random() < 0.25
    base = PENDING_PY if python else PENDING_SQL
    data = mutate_bytes(rng, base, PY_LINES if python else SQL_LINES + FLAG_LINES) if rng.random() < 0.9 else base
    name = rng.choice(MIGRATION_NAMES) if rng.random() < 0.3 else "20260102000000_change"
    files: dict[str, bytes | None] = {f"migrations/{name}.{'py' if python else 'sql'}": data}
    if rng.random() < 0.1:  # edit an applied migration instead
        files = {"migrations/20260101000002_orders.sql": mutate_bytes(rng, ORDERS_UP.encode(), SQL_LINES)}
    if rng.random() < 0.05:
        files["migrations/20260103000000_folder.sql"] = None  # a folder named like a migration
    if rng.random() < 0.1:
        sum_file = TEMPLATE_SUM or b"total sha256:0\n"
        files["migrations/dbshift.sum"] = mutate_bytes(rng, sum_file, SUM_LINES)
    command = rng.choice(
        [
            ["apply"],
            ["apply"],
            ["apply", "--dry-run"],
            ["status"],
            ["apply", "--atomic"],
            ["rollback", "--dry-run"],
            ["hash"],
            ["diff", "--from", "db", "--to", "migrations"],
            ["rehearse"],
            ["apply", "--to", "20260102000000"],
            ["rollback-plan"],
            ["rollback"],
            ["repair"],
            ["verify"],
            ["plan", "--from", "migrations", "--to", "db"],
        ]
    )
    return Case(number, "migration file", command + rng.choice([[], [], ["--json"], ["-y"]]), files)


def lint_case(rng: random.Random, number: int) -> Case:
    """A mutated migration (SQLite or PostgreSQL statements, lint:ignore comments), then lint: on
    the project's database, or in a folder with no database given --dialect (where --fix and
    --diff rewrite PostgreSQL)."""
    fixing = rng.random() < 0.3
    postgres = rng.random() < (0.85 if fixing else 0.4)
    base = PENDING_PG_SQL if postgres else PENDING_SQL
    extra = SQL_LINES + FLAG_LINES + LINT_LINES
    roll = rng.random()
    data = mutate_bytes(rng, base, extra) if roll < 0.2 else mutate_lines(rng, base, extra) if roll < 0.9 else base
    name = rng.choice(MIGRATION_NAMES) if rng.random() < 0.1 else "20260102000000_change"
    files: dict[str, bytes | None] = {f"migrations/{name}.sql": data}
    if rng.random() < 0.1:
        files["migrations/20260101000002_orders.sql"] = mutate_lines(rng, ORDERS_UP.encode(), SQL_LINES + LINT_LINES)
    if fixing:
        files["dbshift.toml"] = NO_DATABASE_TOML
        command = ["lint", rng.choice(["--fix", "--fix", "--diff"])]
        command += ["--dialect", "postgresql" if rng.random() < 0.9 else rng.choice(["sqlite", "mysql"])]
        if rng.random() < 0.2:
            command.append("{root}/" + f"migrations/{name}.sql")
        return Case(number, "lint", command, files)
    command = rng.choice(
        [
            ["lint"],
            ["lint", "--all"],
            ["lint", "--pending"],
            ["lint", "{root}/" + f"migrations/{name}.sql"],
            ["lint", "--format", "json"],
            ["lint", "--format", "sarif"],
            ["lint", "--format", "github"],
            ["lint", "--format", rng.choice(["xml", "", "JSON"])],
            ["lint", "--no-cache", "--all"],
            ["lint", "--observe"],
            ["lint", "--fix", "--dialect", "postgresql"],
            ["lint", rng.choice(["--fix", "--diff"]), "{root}/migrations/20260101000002_orders.sql"],  # applied
            ["lint", "{root}/" + f"migrations/{name}.sql", "{root}/migrations/../" + f"migrations/{name}.sql"],
            ["lint", "{root}/" + rng.choice(["migrations", "dbshift.toml", "nothere.sql", "app.db", ""])],
            ["lint", "{root}/migrations/20260101000001_shop.sql", "{root}/" + f"migrations/{name}.sql"],
        ]
    )
    if rng.random() < 0.1:  # a lint cache cut short or edited by hand
        files[".dbshift_cache/lint.json"] = rng.choice([b"", b"{", b"[]", b'{"scope": 1, "entries": []}', b"\xff"])
    if rng.random() < 0.3:  # a folder with no database: lint needs --dialect
        files["dbshift.toml"] = NO_DATABASE_TOML
        dialect = "postgresql" if postgres else rng.choice(["sqlite", "sqlite", "mysql", "oracle"])
        command = command + ["--dialect", dialect] if "--dialect" not in command else command
    return Case(number, "lint", command + rng.choice([[], [], ["--json"], ["--format", "json"]]), files)


CONFIG_VALUES = [
    '"abc"',
    "inf",
    "-inf",
    "nan",
    "1e300",
    "-5",
    "0",
    "3.5",
    "true",
    "[]",
    '["a"]',
    "{x = 1}",
    "1979-05-27",
    '""',
    '"\\u0000"',
    "99999999999999999999",
    '"sqlite:///other.db"',
    '"postgresql://u@[::1"',
    '"backups"',
    '"migrations"',
    '"../elsewhere"',
    "0.001",
    '"."',
]
CONFIG_LINES = [
    "[database]",
    "url = 5",
    "[environments.dev]",
    "url = 1",
    "[environments]",
    "dev = 1",
    "[migrations]",
    "dir = 5",
    "keep = 1e9",
    "[[database]]",
    "database = 1",
    "x = ",
    "= 1",
    "[backups]\ndir = []",
    "lock_timeout = 'x'",
    '[environments.odd]\nurl = "sqlite:///%00"',
]


def config_case(rng: random.Random, number: int, template: Path) -> Case:
    """dbshift.toml with a setting given an odd value, or odd lines or bytes."""
    text = (template / "dbshift.toml").read_text()
    lines = text.splitlines()
    if rng.random() < 0.3:  # an odd [lint] table, read by lint and by apply's lint gate
        data = (text + lint_table(rng)).encode()
        command = rng.choice([["lint"], ["lint", "--all"], ["lint", "--format", "sarif"], ["apply"], ["status"]])
        files = {"dbshift.toml": data, "migrations/20260102000000_change.sql": PENDING_SQL}
        return Case(number, "lint table", command + rng.choice([[], ["--json"]]), files)
    if rng.random() < 0.6:
        settings = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
        index = rng.choice(settings)
        lines[index] = lines[index].split("=")[0] + "= " + rng.choice(CONFIG_VALUES)
        data = ("\n".join(lines) + "\n").encode()
    else:
        data = mutate_bytes(rng, text.encode(), CONFIG_LINES)
    command = rng.choice(
        [
            ["status"],
            ["apply"],
            ["history"],
            ["backup"],
            ["verify"],
            ["--env", "dev", "status"],
            ["hash"],
            ["rollback", "--dry-run"],
            ["backups"],
        ]
    )
    files = {"dbshift.toml": data, "migrations/20260102000000_change.sql": PENDING_SQL}
    return Case(number, "dbshift.toml", command + rng.choice([[], ["--json"]]), files)


URL_SCHEMES = [
    "sqlite",
    "SQLite",
    "sqlite3",
    "postgresql",
    "postgres",
    "mysql",
    "mariadb",
    "mysql+pymysql",
    "oracle",
    "",
    "postgresql+psycopg",
]
URL_USERS = ["", "u@", "u:p@", "@", ":@", "%ff@", "%00@", "u:p:q@", "u@v@", "ü:ß@"]
#: Addresses and localhost only: a name that needs DNS could wait for a resolver's timeout.
URL_HOSTS = [
    "127.0.0.1",
    "[127.0.0.1]",
    "[::1",
    "[::1]",
    "::1",
    "localhost",
    "",
    "[]",
    "[v1.x]",
    "127.0.0.1]",
    "[::1]]",
]
URL_PORTS = ["", ":1", ":99999", ":abc", ":", ":-1", ":0", ":1:2"]
URL_PATHS = [
    "/nodb_fuzz",
    "/",
    "",
    "/%00",
    "/a%2fb",
    "/nodb_fuzz?sslmode=bogus",
    "/nodb_fuzz?password=x",
    "/nodb_fuzz#frag",
    "/nodb_fuzz?charset=nope",
    "/nodb_fuzz?&&=",
    "/%ff",
]
#: Not a file that is not a database (dbshift.toml): that is the `runtime` branch's part of issue 11.
SQLITE_PATHS = [
    "app.db",
    "other.db",
    "%00",
    "%ff.db",
    "a b.db",
    "../outside.db",
    "no/such/dir/x.db",
    ":memory:",
    "app.db?mode=ro",
    "",
    "/",
    "x" * 300 + ".db",
    "app.db%00x",
    "migrations",
    "%2e%2e",
]


def url_case(rng: random.Random, number: int) -> Case:
    """An odd database URL given with --db or DATABASE_URL; servers only on port 1 or unknown databases."""
    scheme = rng.choice(URL_SCHEMES)
    if scheme.lower().startswith("sqlite") and rng.random() < 0.8:
        # always relative to the project (sqlite:/// + a relative path) or malformed: never a file elsewhere
        url = f"{scheme}:" + rng.choice(["///", "///", "//", "/", ""]) + rng.choice(SQLITE_PATHS).lstrip("/")
        commands = [
            ["status"],
            ["history"],
            ["apply", "--dry-run"],
            ["inspect"],
            ["verify"],
            ["lint"],
            ["lint", "--all"],
        ]
    else:
        port = rng.choice(URL_PORTS)
        port = ":1" if port in ("", ":0") and rng.random() < 0.9 else port  # never a real server's test database
        url = f"{scheme}://{rng.choice(URL_USERS)}{rng.choice(URL_HOSTS)}{port}{rng.choice(URL_PATHS)}"
        commands = [["status"], ["history"], ["lint"]]
    command = rng.choice(commands)
    if rng.random() < 0.3:
        return Case(number, "url", command, env={"DATABASE_URL": url})
    return Case(number, "url", ["--db", url, *command])


ODD_VALUES = [
    "",
    "-1",
    "0",
    "abc",
    "nan",
    "inf",
    "1e999",
    "20260101000001",
    "20260101_000001",
    "20991231235959",
    "99999999999999",
    "x" * 500,
    "\x00",
    "é",
    "--json",
    "-",
    "..",
    "../../x",
    "2026010100000Z",
    " 1",
]


def argument_case(rng: random.Random, number: int) -> Case:
    """A real command with odd option values."""
    value = rng.choice(ODD_VALUES)
    templates = [
        ["rollback", "--steps", value],
        ["rollback", "--to", value],
        ["apply", "--to", value],
        ["repair", "--dirty", value],
        ["report", value],
        ["new", value],
        ["--lock-timeout", value, "apply"],
        ["--env", value, "status"],
        ["inspect", "-f", value],
        ["inspect", "--source", value],
        ["diff", "--from", "db", "--to", "migrations", "--rename", value],
        ["diff", "--from", "db", "--to", "migrations", "--convert", value],
        ["diff", "--from", "db", "--to", "migrations", "--map", value],
        ["diff", "--from", "db", "--to", "migrations", "--default", value],
        ["restore", value],
        ["verify", "--against", value],
        ["rollback-plan", "--to", value],
        ["history", "--limit", value],
        ["backup", "--csv", value],
        ["status", value],
        [value],
        ["restore", "--expect-version", value, "nothere.db"],
    ]
    files = {"migrations/20260102000000_change.sql": PENDING_SQL} if rng.random() < 0.5 else {}
    return Case(number, "arguments", rng.choice(templates) + rng.choice([[], ["--json"], ["--force"]]), files)


def generate(rng: random.Random, number: int, template: Path) -> Case:
    """One input of a kind chosen by weight."""
    roll, odd_folder = rng.random(), rng.random() < 0.1
    if roll < 0.35:
        case = migration_case(rng, number)
    elif roll < 0.5:
        case = lint_case(rng, number)
    elif roll < 0.7:
        case = config_case(rng, number, template)
    elif roll < 0.85:
        case = url_case(rng, number)
    else:
        case = argument_case(rng, number)
    case.odd_folder = odd_folder
    return case


# -- running one input ------------------------------------------------------------------------------


def run_case(case: Case, template: Path, work: Path) -> str | None:
    """Run one input in a fresh copy of the template; a description of what went wrong, or None."""
    root = work / f"case{case.number}"
    if case.odd_folder:  # a project path that reads like Rich markup: `[/x]`
        root = root / "shop [" / "x] [bold]"
    shutil.copytree(template, root)
    for name, data in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            path.mkdir()
        else:
            path.write_bytes(data)
    database = root / "app.db"
    before = user_data(database)
    migrations_before = migration_files(root)
    saved = {key: os.environ.get(key) for key in case.env}
    os.environ.update(case.env)
    try:
        result = run_dbshift("-C", str(root), *(word.replace("{root}", str(root)) for word in case.argv))
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    problem = judge(case, result, before, database)
    if problem is None and "lint" in case.argv:
        problem = judge_lint(case.argv, result, migrations_before, migration_files(root))
    shutil.rmtree(work / f"case{case.number}", ignore_errors=True)
    return problem


def migration_files(root: Path) -> dict[str, bytes]:
    """The SQL migration files of a case's project and their bytes."""
    folder = root / "migrations"
    return {p.name: p.read_bytes() for p in folder.glob("*.sql") if p.is_file()} if folder.is_dir() else {}


def judge(case: Case, result, before, database: Path) -> str | None:
    """The promise: an exit code from 0 to 4, no traceback, no internal error, data unchanged on failure."""
    output = result.stdout + result.stderr
    if result.returncode not in EXIT_CODES:
        return f"exit code {result.returncode}: {output[-400:]}"
    if "Traceback" in output or "internal error" in output:
        return f"traceback or internal error: {output[-600:]}"
    read_only = any(word in READ_ONLY for word in case.argv) or "--dry-run" in case.argv
    if (result.returncode != 0 or read_only) and not dirty_versions(database) and user_data(database) != before:
        return f"exit {result.returncode} but the user's data changed: {output[-400:]}"
    return None


def test_no_input_gives_a_traceback_or_changes_data_on_failure(template, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    rng = random.Random(SEED)
    failures = []
    for number in range(INPUTS):
        case = generate(rng, number, template)
        problem = run_case(case, template, tmp_path)
        if problem:
            failures.append(f"{case.describe()}\n    -> {problem}")
    assert not failures, f"{len(failures)} of {INPUTS} inputs broke the promise (seed {SEED}):\n" + "\n".join(
        failures[:15]
    )
