"""Findings remembered between runs of ``dbshift lint``, in ``.dbshift_cache/lint.json`` beside
``dbshift.toml`` (like ``.ruff_cache`` or ``.pytest_cache``: it holds its own ``.gitignore``).

Without a database, what lint finds in a migration depends only on: the migration's bytes, every
migration before it (the SQLite analyser reads statements against the schema the earlier ones
built), the dialect, the ``[lint]`` settings, which sections are read, and the code that reads
them (dbshift's own files, the parsers', and for SQLite the library's version). An entry's key hashes all of these, so anything
that changes one of them misses and is linted again; the data-aware findings, which read a live
database, are never cached. Migrations are immutable once applied, so a project's old files hit.

The cache is an optimisation and never an error: an unreadable or corrupt file is ignored, a
folder that cannot be written is left alone, and the file is replaced atomically (two runs at
once at worst both write it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from dbshift.lint.findings import SEVERITIES, Finding

FOLDER = ".dbshift_cache"
FILE = "lint.json"
#: Bumped when the stored shape changes.
FORMAT = 1
#: Entries kept at most (the newest): a project's migrations, many times over.
MAX_ENTRIES = 50_000
FIELDS = ("code", "severity", "line", "statement", "problem", "fix", "section")


class FindingsCache:
    """The findings of migrations linted before, by key (see :meth:`key`)."""

    def __init__(self, path: Path, scope: str) -> None:
        self.path = path
        self.scope = scope
        self._entries: dict[str, list[list]] = _load(path, scope)
        self._changed = False

    @classmethod
    def for_project(cls, root: Path, dialect: str, settings, *, down: bool = True) -> FindingsCache:
        """The cache of the project in ``root`` for a lint in ``dialect`` with ``settings``."""
        from dbshift.dialects.description import describe

        scope = _digest(
            json.dumps(
                [
                    FORMAT,
                    code_fingerprint(),
                    dialect,
                    describe(dialect).analysis_stamp(),
                    sorted(settings.disabled),
                    sorted(settings.severities.items()),
                    settings.server_version,
                    down,
                ]
            )
        )
        return cls(Path(root) / FOLDER / FILE, scope)

    @staticmethod
    def chain(previous: str, checksum: str) -> str:
        """The key part naming every migration read so far (``previous``), then one more."""
        return _digest(previous + checksum)

    def key(self, chain: str, checksum: str) -> str:
        """The key of a migration whose file has ``checksum``, after the migrations ``chain`` names."""
        return _digest(f"{self.scope}:{chain}:{checksum}")

    def get(self, key: str, file: str) -> list[Finding] | None:
        """The findings stored under ``key`` (reported in ``file``), or None."""
        rows = self._entries.get(key)
        if rows is None:
            return None
        return [
            Finding(code, severity, file, line, statement, problem, fix, section)
            for code, severity, line, statement, problem, fix, section in rows
        ]

    def put(self, key: str, findings: list[Finding]) -> None:
        """Remember ``findings`` under ``key``."""
        self._entries[key] = [[getattr(f, name) for name in FIELDS] for f in findings]
        self._changed = True

    def save(self) -> None:
        """Write the entries when something was added; silently nothing when the folder cannot be written."""
        if not self._changed:
            return
        entries = self._entries
        if len(entries) > MAX_ENTRIES:
            entries = dict(list(entries.items())[-MAX_ENTRIES:])
        folder = self.path.parent
        temporary = folder / f"{FILE}.{os.getpid()}.tmp"
        try:
            folder.mkdir(exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# written by dbshift: the lint cache stays out of git\n*\n", encoding="utf-8")
            temporary.write_text(json.dumps({"scope": self.scope, "entries": entries}), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:  # a read-only checkout: lint without remembering
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
        self._changed = False


def code_fingerprint() -> str:
    """What changes when the code that reads migrations changes: the size and modification time
    of every file of dbshift, and of the parsers' packages (a reinstall rewrites them)."""
    import importlib.util

    package = Path(__file__).resolve().parent.parent
    parts = [_tree_stamp(package)]
    for name in ("pglast", "sqlglot"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            stat = os.stat(spec.origin)
            parts.append(f"{spec.origin}:{stat.st_mtime_ns}:{stat.st_size}")
    return _digest("\n".join(parts))


def _tree_stamp(folder: Path) -> str:
    stamps = []
    pending = [str(folder)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    stat = entry.stat()
                    stamps.append(f"{entry.path}:{stat.st_mtime_ns}:{stat.st_size}")
    return "\n".join(sorted(stamps))


def _load(path: Path, scope: str) -> dict[str, list[list]]:
    try:
        stored = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict) or stored.get("scope") != scope or not isinstance(stored.get("entries"), dict):
        return {}
    return {
        key: rows
        for key, rows in stored["entries"].items()
        if isinstance(rows, list) and all(_valid_row(row) for row in rows)
    }


def _valid_row(row) -> bool:
    """A stored finding of the right shape (a file edited by hand or cut short is not trusted; a
    severity the formats do not know made SARIF and GitHub output an internal error)."""
    return (
        isinstance(row, list)
        and len(row) == len(FIELDS)
        and isinstance(row[2], int)
        and all(isinstance(value, str) for index, value in enumerate(row) if index != 2)
        and row[1] in SEVERITIES
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
