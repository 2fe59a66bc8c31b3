"""``dbshift init`` in a git repository: keep the database, its lock file and backups out of git.

A SQLite database and its backups are data, often personal data; committing them by accident
is the kind of loss dbshift exists to prevent, so ``init`` adds them to the project's
``.gitignore`` (or, when it cannot write there, says which lines to add).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbshift.config import Config

#: The SQLite lock file is the database path plus this suffix (see dialects/sqlite.py).
SQLITE_LOCK_SUFFIX = ".dbshift-lock"
HEADER = "# dbshift: the database, its lock file and backups stay out of git"


@dataclass
class IgnoreResult:
    """What ``init`` did about ``.gitignore``: the lines it added, or the ones the user should add."""

    gitignore: Path | None = None
    added: list[str] = field(default_factory=list)
    to_add_by_hand: list[str] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        """One line for the user, or None when there is nothing to say."""
        if self.to_add_by_hand:
            return f"add to {self.gitignore or '.gitignore'} so that git leaves them out: " + ", ".join(
                self.to_add_by_hand
            )
        if self.added:
            return f"added {', '.join(self.added)} to {self.gitignore}"
        return None

    def as_json(self) -> dict | None:
        """A JSON-friendly dict (None outside a git repository)."""
        if self.gitignore is None and not self.to_add_by_hand:
            return None
        return {
            "path": str(self.gitignore) if self.gitignore else None,
            "added": self.added,
            "to_add_by_hand": self.to_add_by_hand,
        }


def git_repository_of(folder: Path) -> Path | None:
    """The top folder of the git repository holding ``folder`` (None outside one)."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def generated_paths(config: Config) -> list[Path]:
    """The files and folders dbshift writes that do not belong in version control."""
    paths = []
    if config.url is not None and config.url.path is not None:
        paths += [config.url.path, Path(str(config.url.path) + SQLITE_LOCK_SUFFIX)]
    paths.append(config.backups_dir)
    return paths


def ignore_generated_files(config: Config) -> IgnoreResult:
    """Add the database, lock file and backups folder to the project's ``.gitignore`` when the
    project is in a git repository; lines already there are not repeated."""
    if git_repository_of(config.root) is None:
        return IgnoreResult()
    gitignore = config.root / ".gitignore"
    root = config.root.resolve()
    patterns, outside = [], []
    for path in generated_paths(config):
        try:
            relative = path.resolve().relative_to(root).as_posix()
        except ValueError:  # a database outside the project: the user decides where to ignore it
            outside.append(str(path))
            continue
        patterns.append("/" + relative + ("/" if path == config.backups_dir else ""))
    existing = _read_lines(gitignore)
    wanted = [p for p in patterns if p not in existing and p.lstrip("/") not in existing]
    result = IgnoreResult(gitignore=gitignore)
    if wanted:
        try:
            _append(gitignore, wanted)
            result.added = wanted
        except OSError:
            result.to_add_by_hand = wanted
    result.to_add_by_hand += outside
    return result


def _read_lines(gitignore: Path) -> set[str]:
    try:
        return {line.strip() for line in gitignore.read_text(encoding="utf-8", errors="replace").splitlines()}
    except OSError:
        return set()


def _append(gitignore: Path, patterns: list[str]) -> None:
    before = gitignore.read_bytes() if gitignore.exists() else b""
    separator = b"" if not before or before.endswith(b"\n") else b"\n"
    text = "\n".join([HEADER, *patterns]) + "\n"
    with gitignore.open("ab") as out:
        out.write(separator + (b"\n" if before else b"") + text.encode("utf-8"))
