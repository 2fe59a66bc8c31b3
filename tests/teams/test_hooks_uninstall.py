"""A developer takes dbshift's git hooks out again: `hooks uninstall` removes only the hooks dbshift
wrote, gives a hook it had chained its name back (byte for byte, still executable, run by git
again), and leaves any hook the developer wrote as it is. Real git runs the hooks."""

import json
import subprocess

from cli_inprocess import run_dbshift

HOOKS = ["post-checkout", "post-merge", "pre-commit"]
MINE = (
    '#!/bin/sh\n# my hook: "quotes", ünïcode\necho "my pre-commit ran" >> "$(git rev-parse --show-toplevel)/ran.txt"\n'
)


def git(repo, *args: str) -> subprocess.CompletedProcess:
    """Run git as the developer would (hooks included)."""
    return subprocess.run(["git", *args], cwd=repo.root, capture_output=True, text=True, check=False)


def _customers(repo) -> None:
    repo.migration(
        20260101000000, "customers", "CREATE TABLE customers (id INTEGER PRIMARY KEY);", "DROP TABLE customers;"
    )
    repo.commit("customers")


def _folder(repo) -> dict:
    """The hooks folder's files (git's samples included) with their bytes and modes."""
    hooks = repo.root / ".git" / "hooks"
    return {p.name: (p.read_bytes(), p.stat().st_mode) for p in sorted(hooks.iterdir())}


def test_uninstall_removes_dbshifts_hooks_and_git_runs_none_of_them(repo):
    _customers(repo)
    before = _folder(repo)  # git's *.sample files
    assert run_dbshift("-C", str(repo.root), "hooks", "install").returncode == 0
    assert "dbshift:" in git(repo, "checkout", "-b", "other").stderr  # installed: the hook speaks

    done = run_dbshift("-C", str(repo.root), "hooks", "uninstall")
    assert done.returncode == 0, done.output
    assert "removed post-checkout, post-merge, pre-commit" in done.stdout
    assert _folder(repo) == before  # exactly what git had: the samples untouched
    switched = git(repo, "checkout", "main")
    assert switched.returncode == 0 and "dbshift:" not in switched.stderr

    again = run_dbshift("-C", str(repo.root), "hooks", "uninstall")  # nothing left: says so, exit 0
    assert again.returncode == 0 and "no dbshift hooks in" in again.stdout


def test_a_chained_hook_gets_its_name_back_and_runs_again(repo):
    hooks = repo.root / ".git" / "hooks"
    mine = hooks / "pre-commit"
    mine.write_text(MINE, encoding="utf-8")
    mine.chmod(0o750)
    assert run_dbshift("-C", str(repo.root), "hooks", "install", "--chain").returncode == 0
    assert (hooks / "pre-commit.local").read_text(encoding="utf-8") == MINE

    done = run_dbshift("-C", str(repo.root), "--json", "hooks", "uninstall")
    assert done.returncode == 0, done.output
    result = json.loads(done.stdout)
    assert result["restored"] == [str(mine)] and result["kept"] == []
    assert mine.read_text(encoding="utf-8") == MINE and mine.stat().st_mode & 0o777 == 0o750
    assert not (hooks / "pre-commit.local").exists()
    assert not (hooks / "post-checkout").exists() and not (hooks / "post-merge").exists()

    (repo.root / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    committed = git(repo, "commit", "-q", "-m", "a")
    assert committed.returncode == 0, committed.stderr
    assert (repo.root / "ran.txt").read_text() == "my pre-commit ran\n"  # git runs the developer's hook again


def test_a_hook_the_developer_put_in_place_of_dbshifts_is_left_alone(repo):
    hooks = repo.root / ".git" / "hooks"
    assert run_dbshift("-C", str(repo.root), "hooks", "install").returncode == 0
    (hooks / "post-merge").write_text("#!/bin/sh\necho mine\n")  # replaced by hand later
    stray = hooks / "post-checkout.local"  # a .local dbshift's hook did not chain: not dbshift's to move
    stray.write_text("#!/bin/sh\necho stray\n")

    done = run_dbshift("-C", str(repo.root), "hooks", "uninstall")
    assert done.returncode == 0, done.output
    assert "dbshift did not write it" in done.stdout
    assert (hooks / "post-merge").read_text() == "#!/bin/sh\necho mine\n"
    assert stray.read_text() == "#!/bin/sh\necho stray\n" and not (hooks / "post-checkout").exists()
    assert not (hooks / "pre-commit").exists()


def test_uninstall_looks_where_core_hooks_path_points(repo):
    repo.git("config", "core.hooksPath", "team hooks")
    assert run_dbshift("-C", str(repo.root), "hooks", "install").returncode == 0
    done = run_dbshift("-C", str(repo.root), "--json", "hooks", "uninstall")
    assert done.returncode == 0, done.output
    assert json.loads(done.stdout)["folder"] == str(repo.root / "team hooks")
    assert list((repo.root / "team hooks").iterdir()) == []
