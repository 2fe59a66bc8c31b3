"""``dbshift hooks install``: git hooks that keep the database and the migrations in step.

- post-checkout (branch switches only) and post-merge run ``dbshift status --brief``, or
  ``dbshift sync`` with ``--sync``; they never fail the checkout or merge.
- pre-commit runs ``dbshift hash --check`` and ``dbshift lint`` on the staged migrations, and
  stops the commit when either fails.

Hooks go where git looks for them: ``core.hooksPath`` when set, else the repository's hooks
folder. A hook dbshift did not write is never overwritten: the install refuses, or with
``--chain`` moves it to ``NAME.local`` and the dbshift hook runs it first.

``dbshift hooks uninstall`` removes only the hooks dbshift wrote, and puts a chained hook
(``NAME.local``, which the removed hook ran) back under its own name.
"""

from __future__ import annotations

import re
import shlex
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dbshift.errors import ConfigError, SafetyRefusal
from dbshift.teams.gitsource import repository_root, run_git

#: The line that marks a hook as written by dbshift (so a second install may rewrite it).
MARK = "# dbshift hook: written by `dbshift hooks install`"
HOOKS = ("post-checkout", "post-merge", "pre-commit")

PRELUDE = """\
#!/bin/sh
{mark}; rerun it to change it.
dbshift() {{
  if [ -x {python} ]; then {python} -m dbshift "$@"; else command dbshift "$@"; fi
}}
{chain}"""

CHAIN = """\
if [ -x "$0.local" ]; then "$0.local" "$@" || exit $?; fi
"""

AFTER = {
    "post-checkout": '[ "$3" = "1" ] || exit 0  # a branch switch, not a file checkout\n',
    "post-merge": "",
}

PRE_COMMIT = """\
staged=$(git diff --cached --name-only --diff-filter=ACMR -- {folder} | grep -E {pattern})
if [ -z "$staged" ] && git diff --cached --quiet -- {folder}; then exit 0; fi
dbshift -C {project} hash --check || exit 1
[ -z "$staged" ] && exit 0
set -f
IFS='
'
# shellcheck disable=SC2086
set -- $staged
dbshift -C {project} lint "$@" || exit 1
"""


@dataclass
class HooksResult:
    """The hooks written, and the user's own hooks chained (moved to ``NAME.local``)."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    chained: list[Path] = field(default_factory=list)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "folder": str(self.folder),
            "written": [str(p) for p in self.written],
            "chained": [str(p) for p in self.chained],
        }


def hooks_folder(start: Path) -> Path:
    """Where git runs hooks from for the repository holding ``start`` (``core.hooksPath`` respected)."""
    top = repository_root(start)
    configured = run_git(top, "config", "--get", "core.hooksPath")
    if configured.returncode == 0 and configured.stdout.strip():
        path = Path(configured.stdout.strip()).expanduser()
        return path if path.is_absolute() else top / path  # git reads a relative one from the top folder
    found = run_git(top, "rev-parse", "--git-path", "hooks")
    path = Path(found.stdout.strip())
    return path if path.is_absolute() else top / path


def hook_text(name: str, project: Path, folder: Path, top: Path, sync: bool, chain: bool) -> str:
    """The shell script of hook ``name`` for the project at ``project`` (paths relative to ``top``)."""
    where = shlex.quote(_relative(project, top))
    prelude = PRELUDE.format(mark=MARK, python=shlex.quote(sys.executable), chain=CHAIN if chain else "")
    if name == "pre-commit":
        inside = _relative(folder, top)
        pattern = shlex.quote("^" + re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", inside + "/") + r"[0-9][^/]*\.(sql|py)$")
        return prelude + PRE_COMMIT.format(folder=shlex.quote(inside), project=where, pattern=pattern)
    command = "sync" if sync else "status --brief"
    return prelude + AFTER[name] + f"dbshift -C {where} {command} || true\nexit 0\n"


def _relative(path: Path, top: Path) -> str:
    """``path`` relative to the repository's top folder (hooks run there), ``.`` for the top itself."""
    try:
        return Path(path).resolve().relative_to(top.resolve()).as_posix() or "."
    except ValueError:
        return str(Path(path).resolve())


def install(project, sync: bool = False, chain: bool = False) -> HooksResult:
    """Write the three hooks for ``project``'s repository; refuse to replace a hook dbshift did not write."""
    root = project.config.root
    top = repository_root(root)
    folder = hooks_folder(root)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder", hint="check core.hooksPath (`git config core.hooksPath`)")
    result = HooksResult(folder)
    foreign = [folder / name for name in HOOKS if _is_foreign(folder / name)]
    if foreign and not chain:
        raise SafetyRefusal(
            f"{foreign[0]} is a hook dbshift did not write; refusing to replace it",
            hint="pass --chain to keep it (moved to NAME.local, run first by the dbshift hook), or move it away",
        )
    clash = [p for p in foreign if p.with_name(p.name + ".local").exists()]
    if clash:
        raise SafetyRefusal(
            f"{clash[0]}.local already exists, so {clash[0].name} cannot be chained", hint="merge the two by hand"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for path in foreign:
        local = path.with_name(path.name + ".local")
        path.rename(local)
        result.chained.append(local)
    for name in HOOKS:
        path = folder / name
        chained = chain and path.with_name(name + ".local").exists()
        path.write_text(hook_text(name, root, project.config.migrations_dir, top, sync, chained), encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        result.written.append(path)
    return result


def _is_foreign(path: Path) -> bool:
    """A hook file there that dbshift did not write."""
    if not path.exists():
        return False
    try:
        return MARK not in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True


@dataclass
class UninstallResult:
    """The dbshift hooks removed, the chained hooks put back, and the hooks left (not dbshift's)."""

    folder: Path
    removed: list[Path] = field(default_factory=list)
    restored: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "folder": str(self.folder),
            "removed": [str(p) for p in self.removed],
            "restored": [str(p) for p in self.restored],
            "kept": [str(p) for p in self.kept],
        }


def uninstall(project) -> UninstallResult:
    """Remove the hooks dbshift wrote for ``project``'s repository; a hook it chained (``NAME.local``)
    goes back to ``NAME``. A hook dbshift did not write is left as it is (listed in ``kept``)."""
    folder = hooks_folder(project.config.root)
    result = UninstallResult(folder)
    for name in HOOKS:
        path = folder / name
        if not path.exists():
            continue
        if _is_foreign(path):
            result.kept.append(path)
            continue
        chained = CHAIN in path.read_text(encoding="utf-8", errors="replace")
        local = path.with_name(name + ".local")
        path.unlink()
        result.removed.append(path)
        if chained and local.exists():
            local.rename(path)
            result.restored.append(path)
    return result
