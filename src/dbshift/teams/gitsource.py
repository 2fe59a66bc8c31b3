"""Reading files at a git revision with git itself (``git show``, ``git ls-tree``).

The user's work tree and index are never touched: only objects are read.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from dbshift.errors import ConfigError
from dbshift.migrations import MemorySource

PREFIX = "git:"


def run_git(cwd: Path, *args: str, binary: bool = False):
    """Run ``git args`` in ``cwd``; the completed process (stdout bytes when ``binary``)."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=not binary, check=False)
    except FileNotFoundError:
        raise ConfigError(
            "git is not installed (needed for git: sources)", hint="install git, or name a file"
        ) from None


def repository_root(start: Path) -> Path:
    """The top folder of the git work tree holding ``start``; a clear error outside a repository."""
    done = run_git(start, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise ConfigError(
            f"{start} is not in a git repository",
            hint="git: sources, check, squash and hooks work on the project's git repository: run dbshift "
            "inside it (or `git init` first)",
        )
    return Path(done.stdout.strip())


def resolve_revision(root: Path, revision: str) -> str:
    """The commit id ``revision`` names; a clear error for an unknown one."""
    if not revision or revision.startswith("-"):
        raise ConfigError(f"not a git revision: {revision!r}", hint="e.g. git:HEAD~1, git:main or git:v1.2")
    done = run_git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    if done.returncode != 0:
        raise ConfigError(
            f"unknown git revision {revision!r}",
            hint="`git log --oneline` lists commits; branches and tags work too (git:main)",
        )
    return done.stdout.strip()


class GitRevision:
    """One revision of the repository holding a project folder."""

    def __init__(self, project_root: Path, revision: str):
        self.project_root = Path(project_root).resolve()
        self.root = repository_root(self.project_root).resolve()
        self.revision = revision
        self.commit = resolve_revision(self.root, revision)

    def repo_path(self, path: Path) -> str:
        """``path`` (relative to the project, or absolute) as a path inside the repository."""
        path = Path(path)
        absolute = path if path.is_absolute() else self.project_root / path
        try:
            return absolute.resolve().relative_to(self.root).as_posix()
        except ValueError:
            raise ConfigError(f"{path} is outside the git repository at {self.root}") from None

    def origin(self, repo_path: str) -> str:
        """How messages name a file at this revision."""
        return f"{PREFIX}{self.revision}:{repo_path}"

    def read(self, repo_path: str) -> bytes | None:
        """The bytes of ``repo_path`` at this revision, or None when it has no such file."""
        done = run_git(self.root, "cat-file", "blob", f"{self.commit}:{repo_path}", binary=True)
        return done.stdout if done.returncode == 0 else None

    def read_required(self, repo_path: str) -> bytes:
        """The bytes of ``repo_path``; a clear error when the revision has no such file."""
        data = self.read(repo_path)
        if data is None:
            raise ConfigError(
                f"{self.origin(repo_path)}: no such file at that revision",
                hint=f"`git ls-tree -r --name-only {self.revision}` lists its files",
            )
        return data

    def folder(self, folder: Path) -> MemorySource:
        """The files directly inside ``folder`` at this revision, as a migrations source."""
        inside = self.repo_path(folder).rstrip("/")
        done = run_git(self.root, "ls-tree", "-z", f"{self.commit}", "--", f"{inside}/", binary=True)
        blobs: dict[str, bytes] = {}  # file name -> object id
        for entry in done.stdout.split(b"\0"):
            if not entry:
                continue
            meta, name = entry.split(b"\t", 1)
            if meta.split()[1] == b"blob":
                blobs[name.decode("utf-8", "surrogateescape").rsplit("/", 1)[-1]] = meta.split()[2]
        files = dict(zip(blobs, self._read_objects(list(blobs.values()))))
        return MemorySource(files, label=self.origin(inside), prefix=self.origin(inside) + "/")

    def _read_objects(self, object_ids: list[bytes]) -> list[bytes]:
        """The contents of many blobs in one ``git cat-file --batch`` call."""
        if not object_ids:
            return []
        done = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.root,
            input=b"\n".join(object_ids) + b"\n",
            capture_output=True,
            check=True,
        )
        out, position, contents = done.stdout, 0, []
        for _ in object_ids:
            header_end = out.index(b"\n", position)
            size = int(out[position:header_end].split()[2])
            contents.append(out[header_end + 1 : header_end + 1 + size])
            position = header_end + 1 + size + 1
        return contents


def split_spec(spec: str) -> tuple[str, str | None]:
    """``git:REV`` -> (REV, None); ``git:REV:path`` -> (REV, path)."""
    rest = spec[len(PREFIX) :]
    revision, _, path = rest.partition(":")
    return revision, (path or None)


def migrations_at(project, revision: str) -> list:
    """The project's migrations as they were at ``revision`` (parsed with every usual check)."""
    from dbshift.migrations import discover_source

    return discover_source(GitRevision(project.config.root, revision).folder(project.config.migrations_dir))


def schema_at(project, spec: str, dialect: str, server=None):
    """The schema ``git:REV`` (the migrations' end state at REV) or ``git:REV:path.sql`` names."""
    from dbshift.drafting import sources
    from dbshift.migrations import migration_text

    revision, path = split_spec(spec)
    if path is None:
        return sources.schema_from_migrations(migrations_at(project, revision), dialect, server)
    at = GitRevision(project.config.root, revision)
    inside = at.repo_path(Path(path))
    origin = Path(at.origin(inside))
    return sources.schema_from_sql(migration_text(origin, at.read_required(inside)), dialect, str(origin), server)
