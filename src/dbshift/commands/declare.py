"""``dbshift apply --schema FILE``: the declarative apply's command line (see dbshift.drafting.declarative)."""

from __future__ import annotations

from dbshift.commands import console, escape, print_json


def apply_schema_command(state, schema, save, force: bool, dry_run: bool, others: dict, drafting: dict) -> None:
    """Check the options, draft and apply ``schema``, and say what happened."""
    from dbshift.drafting.declarative import check_options
    from dbshift.schema.renames import terminal_questioner

    check_options(schema, save, force, drafting, **others)
    ask = None if state.json else terminal_questioner()
    result = state.project().apply_schema(
        schema, save=save, force=force, dry_run=dry_run, ask=ask, **{k: v or [] for k, v in drafting.items()}
    )
    if state.json:
        print_json(result.as_json())
        return
    _render(result)


def _render(result) -> None:
    out = console()
    target = escape(result.draft.target)
    for candidate in result.draft.diff.unconfirmed:
        out.print(
            f"[yellow]possible rename:[/yellow] {escape(candidate.question.removesuffix(' [y/N]'))} "
            f"Treated as drop + add. If it was, run again with [bold]{escape(candidate.hint)}[/bold]",
            soft_wrap=True,
        )
    for note in result.draft.plan.notes + [n for op in result.draft.plan.operations for n in op.notes]:
        out.print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)
    if result.empty:
        out.print(f"nothing to change: the database already matches {target}")
        return
    if result.dry_run:
        out.print(f"[bold]-- up: {escape(result.migration.label)} (the database -> {target})[/bold]")
        out.print(escape(result.draft.plan.up_sql()), soft_wrap=True)
        out.print("[bold]-- down[/bold]")
        down = result.draft.plan.down_sql() if result.draft.plan.reversible else "-- irreversible"
        out.print(escape(down), soft_wrap=True)
        out.print("[dim]dry run: nothing changed[/dim]")
        return
    out.print(f"applied {escape(result.migration.label)} (the database -> {target})")
    for backup in result.backups:
        out.print(f"backup: {escape(str(backup.path))}")
    if result.saved:
        out.print(f"wrote {escape(str(result.saved))} and updated dbshift.sum")
    else:
        out.print(
            "[dim]recorded in the history with its down (`dbshift rollback` reverts it); --save NAME keeps it as a file[/dim]"
        )
