"""Operations: what a planner turns changes into. Each carries its SQL, its reverse and flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbshift.schema import diff as d
from dbshift.schema.model import NO_ACTION, ForeignKey


@dataclass
class Operation:
    """One step of a plan: SQL statements, the statements that undo them, and what it risks."""

    description: str
    sql: list[str]
    #: Statements that undo this operation; None when it cannot be undone (see ``irreversible``).
    reverse: list[str] | None
    #: Loses data when run (a dropped table or column, a conversion that cannot be undone).
    destructive: bool = False
    #: Copies the whole table (time and disk space scale with its size).
    rewrites_table: bool = False
    #: Why the reverse cannot restore everything (the down is lossy), or "".
    lossy_reverse: str = ""
    transactional: bool = True
    #: Where the data decides whether the reverse restores every value (a BIGINT that fits in a
    #: REAL's 53 bits, text that is a canonical number): queries, each returning one integer, the
    #: number of current values that the up's conversion followed by the reverse would NOT give back
    #: (a second column, when present, names what it counts: ``'table.column'``).
    #: They run inside the up's transaction before its statements; the total is recorded in the
    #: history, and a non-zero total makes the rollback lossy. Empty when no check is needed.
    loss_checks: list[str] = field(default_factory=list)
    #: Extra lines to show the user (rename candidates, warnings).
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "description": self.description,
            "sql": self.sql,
            "reverse": self.reverse,
            "destructive": self.destructive,
            "rewrites_table": self.rewrites_table,
            "lossy_reverse": self.lossy_reverse,
            "transactional": self.transactional,
            "loss_checks": self.loss_checks,
            "notes": self.notes,
        }


@dataclass
class Plan:
    """Operations in the order they run; the down runs their reverses in the opposite order."""

    operations: list[Operation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to do."""
        return not self.operations

    @property
    def destructive(self) -> bool:
        """Some step loses data, or the down cannot bring everything back."""
        return any(op.destructive or op.lossy_reverse for op in self.operations)

    @property
    def rewrites_tables(self) -> bool:
        """Some step copies a whole table."""
        return any(op.rewrites_table for op in self.operations)

    def loss_checks(self) -> list[str]:
        """Every operation's loss check, in order (see :attr:`Operation.loss_checks`)."""
        return [check for op in self.operations for check in op.loss_checks]

    def up_statements(self) -> list[str]:
        """Every statement of the up, in order."""
        return [s for op in self.operations for s in op.sql]

    def down_statements(self) -> list[str]:
        """Every statement of the down: reverses in reverse order (lossy ones included)."""
        return [s for op in reversed(self.operations) for s in (op.reverse or [])]

    def up_sql(self) -> str:
        """The up as a script."""
        return _script(self.up_statements())

    def down_sql(self) -> str:
        """The down as a script, lossy steps marked with a comment."""
        lines = [f"-- lossy: {op.lossy_reverse}" for op in self.operations if op.lossy_reverse]
        return "\n".join(lines + ([_script(self.down_statements())] if self.down_statements() else []))

    @property
    def reversible(self) -> bool:
        """Every operation has a reverse."""
        return all(op.reverse is not None for op in self.operations)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "operations": [op.as_json() for op in self.operations],
            "destructive": self.destructive,
            "rewrites_tables": self.rewrites_tables,
            "notes": self.notes,
        }


def _script(statements: list[str]) -> str:
    return "\n".join(s.rstrip().rstrip(";") + ";" for s in statements)


def plan_view_or_trigger(change, quote) -> Operation:
    """Create or drop a view or trigger with its stored SQL (SQLite, MySQL; PostgreSQL overrides)."""
    if isinstance(change, d.CreateView):
        return Operation(f"create view {change.view.name}", [change.view.sql], [f"DROP VIEW {quote(change.view.name)}"])
    if isinstance(change, d.DropView):
        return Operation(f"drop view {change.view.name}", [f"DROP VIEW {quote(change.view.name)}"], [change.view.sql])
    if isinstance(change, d.CreateTrigger):
        return Operation(
            f"create trigger {change.trigger.name}",
            [change.trigger.sql],
            [f"DROP TRIGGER {quote(change.trigger.name)}"],
        )
    if isinstance(change, d.DropTrigger):
        return Operation(
            f"drop trigger {change.trigger.name}", [f"DROP TRIGGER {quote(change.trigger.name)}"], [change.trigger.sql]
        )
    raise TypeError(f"unknown change {change!r}")


# -- SQL pieces the ANSI-quoting planners (SQLite, PostgreSQL) write alike ----------------------
def foreign_key_actions(key: ForeignKey) -> str:
    """`` ON UPDATE ... ON DELETE ... DEFERRABLE ...``: the clauses that differ from the defaults ("" if none)."""
    text = ""
    if key.on_update != NO_ACTION:
        text += f" ON UPDATE {key.on_update}"
    if key.on_delete != NO_ACTION:
        text += f" ON DELETE {key.on_delete}"
    if key.deferrable:
        text += " " + key.deferrable
    return text


def foreign_key_sql(key: ForeignKey, quote) -> str:
    """``CONSTRAINT name FOREIGN KEY (...) REFERENCES t [(...)] [actions] [DEFERRABLE ...]``, names quoted by
    ``quote``; without referenced columns the key points at the parent's primary key."""
    sql = f"CONSTRAINT {quote(key.name)} " if key.name else ""
    sql += f"FOREIGN KEY ({', '.join(quote(c) for c in key.columns)}) REFERENCES {quote(key.ref_table)}"
    if key.ref_columns:
        sql += f" ({', '.join(quote(c) for c in key.ref_columns)})"
    return sql + foreign_key_actions(key)


def rename_table_operation(change: d.RenameTable, quote) -> Operation:
    """``ALTER TABLE old RENAME TO new`` and back."""
    return Operation(
        f"rename table {change.old} to {change.new}",
        [f"ALTER TABLE {quote(change.old)} RENAME TO {quote(change.new)}"],
        [f"ALTER TABLE {quote(change.new)} RENAME TO {quote(change.old)}"],
    )
