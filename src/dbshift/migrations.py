"""Migration files: discovery, parsing, checksums, dependencies and templates.

Two file-name forms are accepted, ``YYYYMMDDHHMMSS_name.{sql,py}`` and
``YYYYMMDD_HHMMSS_name.{sql,py}``; the version is the 14-digit integer. Files that do not
start with a digit are ignored; a file that starts with a digit and ends in ``.sql``/``.py``
but does not fit the pattern is an error, so a typo never silently skips a migration.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dbshift.errors import MigrationFileError

FILE_NAME = re.compile(r"^(?P<date>\d{8})_?(?P<time>\d{6})_(?P<name>[A-Za-z0-9][A-Za-z0-9_\-]*)\.(?P<ext>sql|py)$")
MARKER = re.compile(r"^--\s*migrate:(?P<section>\S+)(?P<options>.*)$", re.IGNORECASE)
FLAG = re.compile(r"^--\s*(?P<flag>[a-z][a-z0-9_-]*)\s*(?::\s*(?P<value>.*?))?\s*$")
VERSION = re.compile(r"^(\d{14}|\d{8}_\d{6})$")

SQL_FLAGS = {"description", "depends", "destructive", "risky", "no-transaction", "lossless-down", "loss-check"}
VALUE_FLAGS = {"description", "depends", "loss-check"}
PY_CONSTANTS = {"DESCRIPTION", "DEPENDS", "DESTRUCTIVE", "RISKY", "TRANSACTION"}


@dataclass
class Migration:
    """One migration file, parsed. SQL bodies keep the line where their section starts."""

    version: int
    name: str
    path: Path
    kind: str  # "sql" or "py"
    checksum: str
    description: str = ""
    depends: tuple[int, ...] = ()
    destructive: bool = False
    risky: bool = False
    transaction: bool = True
    #: The down's table rebuilds copy every row and column back (dbshift drafted and vouches for them).
    lossless_down: bool = False
    #: ``-- loss-check: SQL`` lines: queries counting the values the down would not give back (run
    #: before the up, in its transaction; the total is recorded in the history).
    loss_checks: list[str] = field(default_factory=list)
    up_sql: str = ""
    up_line: int = 0
    down_sql: str | None = None
    down_line: int = 0
    has_down: bool = False
    extras: dict = field(default_factory=dict)
    #: The whole file's text (a Python migration from a git revision runs from it; sync stores it).
    text: str = ""

    @property
    def label(self) -> str:
        """``version_name``, as the user sees it."""
        return f"{self.version}_{self.name}"

    @property
    def file(self) -> str:
        """The file name inside the migrations directory."""
        return self.path.name


def file_checksum(path: Path) -> str:
    """sha256 of the file's bytes, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_version(text: str) -> int:
    """Accept ``20261121093000``, ``20261121_093000`` or ``0``; raise otherwise."""
    text = text.strip()
    if text == "0":
        return 0
    if not VERSION.match(text):
        raise MigrationFileError(
            f"not a migration version: {text!r}",
            hint="versions look like 20261121093000 (or 20261121_093000); 0 means before any",
        )
    return int(text.replace("_", ""))


class MigrationSource:
    """Where migration files come from: their names and bytes (a folder, memory, a git revision).

    ``names()`` lists the files of the migrations folder (the sum file included, when there is
    one); ``read(name)`` gives a file's bytes, or None; ``origin(name)`` is how errors name it.
    """

    label = "migrations"

    def names(self) -> list[str]:
        """The file names in the folder, sorted."""
        raise NotImplementedError

    def read(self, name: str) -> bytes | None:
        """The bytes of file ``name``, or None when there is no such file."""
        raise NotImplementedError

    def origin(self, name: str) -> Path:
        """How messages name file ``name`` (a path, or ``git:REV:path``)."""
        return Path(name)

    def is_candidate(self, name: str) -> bool:
        """Whether ``name`` is meant as a migration: starts with a digit, ends in .sql or .py."""
        return name[:1].isdigit() and os.path.splitext(name)[1] in (".sql", ".py")


class DiskSource(MigrationSource):
    """The migrations folder on disk (what dbshift reads by default)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.label = str(directory)

    def names(self) -> list[str]:
        """The file names in the folder (none when there is no folder)."""
        if not self.directory.is_dir():
            return []
        with os.scandir(self.directory) as entries:  # one listing tells which are files: no stat each
            kinds = {entry.name: entry.is_file() for entry in entries}
        self._files = {name for name, is_file in kinds.items() if is_file}
        return sorted(kinds)

    def read(self, name: str) -> bytes | None:
        """A file's bytes, or None when it is missing (or not a file)."""
        try:
            with open(os.path.join(self.directory, name), "rb") as file:  # one open, not a stat first
                return file.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def origin(self, name: str) -> Path:
        """The file's path."""
        return self.directory / name

    def is_candidate(self, name: str) -> bool:
        """A migration-looking regular file (folders named like migrations are skipped)."""
        files = getattr(self, "_files", None)
        return super().is_candidate(name) and (
            name in files if files is not None else (self.directory / name).is_file()
        )


class MemorySource(MigrationSource):
    """Migration files held in memory: ``{name: bytes}`` (tests, git revisions read at once)."""

    def __init__(self, files: dict[str, bytes], label: str = "memory", prefix: str = ""):
        self.files = dict(files)
        self.label = label
        self.prefix = prefix

    def names(self) -> list[str]:
        """The file names, sorted."""
        return sorted(self.files)

    def read(self, name: str) -> bytes | None:
        """A file's bytes, or None."""
        return self.files.get(name)

    def origin(self, name: str) -> Path:
        """``prefix + name`` (e.g. ``git:HEAD~1:migrations/x.sql``)."""
        return Path(self.prefix + name)


def discover(directory: Path) -> list[Migration]:
    """All migrations in ``directory``, sorted by version, each parsed and checked."""
    return discover_source(DiskSource(directory))


def discover_source(source: MigrationSource) -> list[Migration]:
    """All migrations of ``source``, sorted by version, each parsed and checked."""
    migrations: dict[int, Migration] = {}
    for name in source.names():
        if not source.is_candidate(name):
            continue
        data = source.read(name)
        if data is None:
            continue
        migration = parse_migration(name, data, source.origin(name))
        if migration.version in migrations:
            other = migrations[migration.version].path.name
            raise MigrationFileError(
                f"{name}: duplicate version {migration.version} (also {other})",
                hint="give one of them a new timestamp; versions must be unique",
            )
        migrations[migration.version] = migration
    ordered = [migrations[v] for v in sorted(migrations)]
    check_dependencies(ordered)
    return ordered


def load_migration(path: Path) -> Migration:
    """Parse one migration file; raise MigrationFileError naming the file and line."""
    path = Path(path)
    if not FILE_NAME.match(path.name):
        if not path.exists():  # a typo in the path says so first, not that the name looks odd
            raise MigrationFileError(
                f"{path}: no such file", hint="check the path (migration files are in the migrations folder)"
            )
        _bad_file_name(path)
    return parse_migration(path.name, path.read_bytes(), path)


def chosen_files(known: list[Migration], files) -> tuple[list[Migration], list[Migration]]:
    """The migrations of ``files`` in version order (taken from ``known`` where one is that very
    file, so no file is read twice), and the ``known`` ones not among them."""
    by_name = {m.path.name: m for m in known}
    chosen, taken = [], set()
    for file in map(Path, files):
        same = by_name.get(file.name)  # only a file of the same name can be the same file
        if same is not None and _same_file(same.path, file):
            if id(same) not in taken:  # a file named twice is read once
                chosen.append(same)
                taken.add(id(same))
        else:
            chosen.append(load_migration(file))
    chosen.sort(key=lambda m: m.version)
    return chosen, [m for m in known if id(m) not in taken]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # b is missing or unreadable: load_migration says so
        return False


def _bad_file_name(path: Path) -> None:
    raise MigrationFileError(
        f"{path}: file name does not fit YYYYMMDDHHMMSS_name.sql|py",
        hint="rename it (e.g. 20261121093000_add_phone.sql) or move it out of the migrations folder",
    )


def parse_migration(name: str, data: bytes, path: Path | None = None) -> Migration:
    """Parse migration ``name`` from its bytes; ``path`` is how errors name it (default: ``name``).

    The same checks as for a file on disk: the name's form and timestamp, UTF-8 (a BOM dropped),
    no NUL bytes, the sections and flags.
    """
    path = Path(name) if path is None else path if isinstance(path, Path) else Path(path)
    match = FILE_NAME.match(name)
    if not match:
        _bad_file_name(path)
    _check_timestamp(path, match["date"] + match["time"])
    migration = Migration(
        version=int(match["date"] + match["time"]),
        name=match["name"],
        path=path,
        kind=match["ext"],
        checksum=hashlib.sha256(data).hexdigest(),
    )
    text = migration_text(path, data)
    migration.text = text
    if migration.kind == "sql":
        _parse_sql(migration, text)
    else:
        _parse_python(migration, text)
    return migration


def migration_text(path: Path, data: bytes) -> str:
    """A migration file's text: UTF-8, a leading BOM dropped; other encodings and NUL bytes are
    errors naming the line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MigrationFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}: {exc.reason})",
            hint="save the file as UTF-8; from Latin-1: iconv -f latin1 -t utf-8 OLD > NEW",
        ) from None
    text = text.removeprefix("\ufeff")  # editors on Windows write a BOM before `-- migrate:up`
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise MigrationFileError(
            f"{path}:{line}: a NUL byte (\\x00) in the text",
            hint="remove it: SQL and Python text cannot hold NUL bytes (a file saved as UTF-16 has many)",
        )
    return text


def _check_timestamp(path: Path, digits: str) -> None:
    try:
        datetime(*(int(digits[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))))
    except ValueError:
        raise MigrationFileError(
            f"{path}: {digits} is not a valid timestamp",
            hint="the version is the creation time, YYYYMMDDHHMMSS",
        ) from None


def text_lines(text: str) -> list[str]:
    """``text`` split into the lines dbshift numbers: a line ends at ``\\n`` only (a CRLF's ``\\r``
    is dropped). ``str.splitlines`` also ends lines at form feeds, U+2028 and other characters a
    comment or a string literal may hold: the SQL run would change and every line number after
    them would shift."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _parse_sql(migration: Migration, text: str) -> None:
    path = migration.path
    lines = text_lines(text)
    sections: dict[str, tuple[int, int]] = {}  # name -> (marker line index, end index)
    current = None
    for index, line in enumerate(lines):
        marker = MARKER.match(line.strip()) if "--" in line else None
        if marker:
            section = marker["section"].lower()
            if section not in ("up", "down"):
                raise MigrationFileError(
                    f"{path}:{index + 1}: unknown section marker {line.strip()!r}",
                    hint="sections are `-- migrate:up` and `-- migrate:down`",
                )
            if section in sections:
                raise MigrationFileError(
                    f"{path}:{index + 1}: second `-- migrate:{section}` section",
                    hint="a migration has one `-- migrate:up` and at most one `-- migrate:down`; merge the two",
                )
            if section == "down" and "up" not in sections:
                raise MigrationFileError(
                    f"{path}:{index + 1}: `-- migrate:down` comes before `-- migrate:up`",
                    hint="put the up section first: `-- migrate:up`, its statements, then `-- migrate:down`",
                )
            if current is not None:
                sections[current] = (sections[current][0], index)
            sections[section] = (index, len(lines))
            current = section
            _apply_marker_options(migration, marker["options"], index + 1)
        elif current is None:
            _parse_header_line(migration, line, index + 1)
    if "up" not in sections:
        raise MigrationFileError(
            f"{path}: no `-- migrate:up` section",
            hint="a SQL migration needs `-- migrate:up` (and usually `-- migrate:down`); see `dbshift new`",
        )
    up_start, up_end = sections["up"]
    migration.up_sql = "\n".join(lines[up_start + 1 : up_end])
    migration.up_line = up_start + 2
    if "down" in sections:
        down_start, down_end = sections["down"]
        migration.down_sql = "\n".join(lines[down_start + 1 : down_end])
        migration.down_line = down_start + 2
        migration.has_down = True


def _apply_marker_options(migration: Migration, options: str, line: int) -> None:
    for option in options.split():
        if option.lower() == "transaction:false":
            migration.transaction = False
        else:
            raise MigrationFileError(
                f"{migration.path}:{line}: unknown section option {option!r}",
                hint="the only option is transaction:false (or the header flag `-- no-transaction`)",
            )


def _parse_header_line(migration: Migration, line: str, number: int) -> None:
    stripped = line.strip()
    if not stripped or stripped == "--":
        return
    if not stripped.startswith("--"):
        raise MigrationFileError(
            f"{migration.path}:{number}: SQL before `-- migrate:up`",
            hint="put statements inside the `-- migrate:up` section",
        )
    flag = FLAG.match(stripped)
    if not flag or stripped[2:].lstrip().startswith("lint:"):
        return  # a free-text comment, or lint's (`-- lint:ignore missing-down why`: lint reads it)
    name, value = flag["flag"], flag["value"]
    if name not in SQL_FLAGS:
        raise MigrationFileError(
            f"{migration.path}:{number}: unknown header flag {name!r}",
            hint="known flags: " + ", ".join(sorted(SQL_FLAGS)) + "; free comments need more than one word",
        )
    if (value is not None) != (name in VALUE_FLAGS) or (name in VALUE_FLAGS and not value):
        form = f"-- {name}: VALUE" if name in VALUE_FLAGS else f"-- {name}"
        raise MigrationFileError(
            f"{migration.path}:{number}: write the flag as `{form}`",
            hint="flags with a value: "
            + ", ".join(sorted(VALUE_FLAGS))
            + "; flags without: "
            + ", ".join(sorted(SQL_FLAGS - VALUE_FLAGS)),
        )
    if name == "description":
        migration.description = value
    elif name == "depends":
        migration.depends = _parse_depends(migration, re.split(r"[,\s]+", value.strip()), number)
    elif name == "destructive":
        migration.destructive = True
    elif name == "risky":
        migration.risky = True
    elif name == "no-transaction":
        migration.transaction = False
    elif name == "lossless-down":
        migration.lossless_down = True
    elif name == "loss-check":
        migration.loss_checks.append(value)


def _parse_depends(migration: Migration, items, line: int) -> tuple[int, ...]:
    versions = []
    for item in items:
        if not item:
            continue
        try:
            versions.append(parse_version(str(item)))
        except MigrationFileError:
            raise MigrationFileError(
                f"{migration.path}:{line}: depends names {item!r}, which is not a version",
                hint="depends takes versions such as 20261120110000, separated by commas",
            ) from None
    return tuple(versions)


def _parse_python(migration: Migration, text: str) -> None:
    import ast  # only Python migrations need it; keeps `dbshift status` quick

    path = migration.path
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise MigrationFileError(
            f"{path}:{exc.lineno}: Python syntax error: {exc.msg}", hint=f"check it with: python -m py_compile {path}"
        ) from None
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    if "up" not in functions:
        raise MigrationFileError(
            f"{path}: no `def up(ctx)` function", hint="a Python migration defines up(ctx) and usually down(ctx)"
        )
    migration.has_down = "down" in functions
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            _read_constant(migration, node.targets[0].id, node.value, node.lineno)


def _read_constant(migration: Migration, name: str, value_node, line: int) -> None:
    import ast

    if name not in PY_CONSTANTS:
        return
    try:
        value = ast.literal_eval(value_node)
    except ValueError:
        raise MigrationFileError(
            f"{migration.path}:{line}: {name} must be a literal value",
            hint=f"write {name} as a plain value (a string, number, list or True/False), not an expression",
        ) from None
    if name == "DESCRIPTION":
        migration.description = str(value)
    elif name == "DEPENDS":
        if not isinstance(value, (str, int, list, tuple)) or isinstance(value, bool):
            raise MigrationFileError(
                f"{migration.path}:{line}: DEPENDS must be a list of versions, not {value!r}",
                hint='e.g. DEPENDS = ["20261120110000"]',
            )
        items = [value] if isinstance(value, (str, int)) else list(value)
        migration.depends = _parse_depends(migration, [str(i) for i in items], line)
    elif name in ("DESTRUCTIVE", "RISKY", "TRANSACTION"):
        if not isinstance(value, bool):
            raise MigrationFileError(f"{migration.path}:{line}: {name} must be True or False", hint=f"{name} = True")
        setattr(migration, name.lower(), value)


def check_dependencies(migrations: list[Migration]) -> None:
    """Unknown or cyclic ``depends`` are errors naming the file."""
    by_version = {m.version: m for m in migrations}
    for migration in migrations:
        for dependency in migration.depends:
            if dependency not in by_version:
                raise MigrationFileError(
                    f"{migration.path}: depends on {dependency}, which no migration has",
                    hint="fix the version in `depends`, or add the missing migration",
                )
            if dependency == migration.version:
                raise MigrationFileError(
                    f"{migration.path}: depends on itself", hint="remove its own version from `depends`"
                )
    _check_cycles(migrations, by_version)


def _check_cycles(migrations: list[Migration], by_version: dict[int, Migration]) -> None:
    state: dict[int, int] = {}  # 1 = visiting, 2 = done

    def visit(version: int, trail: list[int]) -> None:
        if state.get(version) == 2:
            return
        if state.get(version) == 1:
            cycle = " -> ".join(str(v) for v in trail[trail.index(version) :] + [version])
            raise MigrationFileError(
                f"{by_version[version].path}: dependency cycle {cycle}",
                hint="remove one of the `depends` entries in the cycle",
            )
        state[version] = 1
        for dependency in by_version[version].depends:
            visit(dependency, trail + [version])
        state[version] = 2

    for migration in migrations:
        visit(migration.version, [])


def order_for_apply(pending: list[Migration]) -> list[Migration]:
    """Pending migrations in version order, moved later only where a dependency needs it."""
    pending_versions = {m.version for m in pending}
    placed: set[int] = set()
    result: list[Migration] = []
    remaining = sorted(pending, key=lambda m: m.version)
    while remaining:
        for index, migration in enumerate(remaining):
            waits_for = [d for d in migration.depends if d in pending_versions and d not in placed]
            if not waits_for:
                result.append(migration)
                placed.add(migration.version)
                del remaining[index]
                break
        else:  # pragma: no cover - cycles are rejected by check_dependencies
            raise MigrationFileError("dependency cycle among pending migrations")
    return result


def out_of_order(migrations: list[Migration], applied) -> list[Migration]:
    """Pending migrations older than an applied one they do not depend on (a branch merged late).

    A migration that declares ``depends`` on a newer one is meant to run after it, so that newer
    one does not make it out of order.
    """
    by_version = {m.version: m for m in migrations}
    late = []
    for migration in migrations:
        if migration.version in applied:
            continue
        newer = {v for v in applied if v > migration.version}
        if newer - _all_dependencies(migration, by_version):
            late.append(migration)
    return late


def _all_dependencies(migration: Migration, by_version: dict[int, Migration]) -> set[int]:
    found: set[int] = set()
    waiting = list(migration.depends)
    while waiting:
        version = waiting.pop()
        if version not in found:
            found.add(version)
            waiting.extend(by_version[version].depends if version in by_version else ())
    return found


# -- writing new migrations -------------------------------------------------------------

SQL_TEMPLATE = """\
-- description: {description}
{flags}-- migrate:up
{up}
-- migrate:down
{down}
"""

PY_TEMPLATE = '''\
"""{description}"""

DESCRIPTION = {description!r}
DEPENDS: list[str] = []
DESTRUCTIVE = False
RISKY = False
TRANSACTION = True


def up(ctx):
    """Apply the change. ctx.execute(sql, params) runs a statement in the migration's transaction."""
    ctx.execute("SELECT 1")


def down(ctx):
    """Revert the change made by up()."""
    ctx.execute("SELECT 1")
'''


def new_version(now: datetime | None = None, taken: set[int] | None = None) -> int:
    """A version from the current UTC time, bumped by a second until it is free."""
    moment = now or datetime.now(timezone.utc)
    version = int(moment.strftime("%Y%m%d%H%M%S"))
    taken = taken or set()
    while version in taken:
        version = _next_second(version)
    return version


def _next_second(version: int) -> int:
    from datetime import timedelta

    moment = datetime.strptime(str(version), "%Y%m%d%H%M%S") + timedelta(seconds=1)
    return int(moment.strftime("%Y%m%d%H%M%S"))


#: The longest migration name: the file name (version, name, extension) must fit in 255 bytes.
MAX_NAME = 200


def slug(name: str) -> str:
    """A file-name-safe form of a migration name."""
    cleaned = re.sub(r"[^A-Za-z0-9_\-]+", "_", name.strip()).strip("_-")
    if not cleaned:
        raise MigrationFileError(f"not a usable migration name: {name!r}", hint="use letters, digits and _")
    if len(cleaned) > MAX_NAME:
        raise MigrationFileError(
            f"migration name too long: {len(cleaned)} characters ({cleaned[:30]}...)",
            hint=f"a name of at most {MAX_NAME} characters; the description can say more",
        )
    return cleaned.lower()


def write_sql_migration(
    directory: Path,
    name: str,
    up: str,
    down: str | None,
    description: str = "",
    depends: tuple[int, ...] = (),
    destructive: bool = False,
    risky: bool = False,
    transaction: bool = True,
    version: int | None = None,
    lossless_down: bool = False,
    loss_checks: list[str] | tuple[str, ...] = (),
) -> Path:
    """Write a SQL migration in the standard format and return its path.

    ``down=None`` writes no down section (the migration cannot be rolled back).
    """
    directory.mkdir(parents=True, exist_ok=True)
    taken = {m.version for m in discover(directory)}
    version = version or new_version(taken=taken)
    flags = ""
    if depends:
        flags += "-- depends: " + ", ".join(str(v) for v in depends) + "\n"
    if destructive:
        flags += "-- destructive\n"
    if risky:
        flags += "-- risky\n"
    if not transaction:
        flags += "-- no-transaction\n"
    if lossless_down:
        flags += "-- lossless-down\n"
    flags += "".join(f"-- loss-check: {' '.join(check.splitlines())}\n" for check in loss_checks)
    text = SQL_TEMPLATE.format(
        description=description or name.replace("_", " "),
        flags=flags,
        up=up.rstrip(),
        down="" if down is None else down.rstrip(),
    )
    if down is None:
        text = text.replace("-- migrate:down\n", "")
    path = directory / f"{version}_{slug(name)}.sql"
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    return path


def write_python_migration(directory: Path, name: str, text: str) -> Path:
    """Write a Python migration's ``text`` under a new version and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    version = new_version(taken={m.version for m in discover(directory)})
    path = directory / f"{version}_{slug(name)}.py"
    path.write_text(text, encoding="utf-8")
    return path


def write_template(directory: Path, name: str, python: bool = False) -> Path:
    """Write an empty migration from the template (``dbshift new``)."""
    description = name.replace("_", " ")
    if not python:
        return write_sql_migration(
            directory, name, up="-- write the change here", down="-- write its reverse here", description=description
        )
    return write_python_migration(directory, name, PY_TEMPLATE.format(description=description))
