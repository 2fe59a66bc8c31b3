"""One-line answers for git hooks: ``status --brief`` and ``hash --check``."""

from __future__ import annotations

from dbshift.errors import CheckFailed


def brief_line(status) -> str:
    """Where the database stands, in one line: what needs doing, and the command that does it."""
    problems = []
    if status.dirty:
        problems.append(f"{len(status.dirty)} dirty (dbshift repair)")
    if status.changed:
        problems.append(f"{len(status.changed)} changed since applied (restore them, or dbshift repair)")
    if status.inside_squash:
        problems.append("stopped inside a squash (dbshift status)")
    if status.missing_files:
        problems.append(f"{len(status.missing_files)} applied from another branch (dbshift sync)")
    if status.out_of_order:
        problems.append(f"{len(status.out_of_order)} out of order")
    if status.pending:
        problems.append(f"{len(status.pending)} pending (dbshift apply)")
    if not status.sum_check.ok:
        problems.append("dbshift.sum out of date (dbshift hash)")
    where = f"version {status.current_version}" if status.current_version else "no migration applied"
    return f"dbshift: {where}; " + ("; ".join(problems) if problems else "up to date")


def check_sum(project) -> dict:
    """Raise CheckFailed naming the first file when ``dbshift.sum`` does not match the files."""
    from dbshift import sumfile

    folder = project.config.migrations_dir
    check = sumfile.check(folder, project.migrations())
    if not check.ok:
        kinds = [("changed", check.changed), ("not in the sum", check.missing_from_sum)]
        kinds.append(("in the sum but gone", check.missing_files))
        first_kind, files = next((kind, files) for kind, files in kinds if files)
        total = len(check.changed) + len(check.missing_from_sum) + len(check.missing_files)
        more = f" (and {total - 1} more)" if total > 1 else ""
        raise CheckFailed(
            f"{folder / sumfile.SUM_NAME} is out of date: {files[0]} {first_kind}{more}",
            hint="review the migrations, then `dbshift hash` rewrites it (commit it with them)",
        )
    return {"path": str(folder / sumfile.SUM_NAME), "current": True}
