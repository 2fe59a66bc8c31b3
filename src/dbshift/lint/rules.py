"""The lint rules every dialect shares: destructive and backward-incompatible changes, table
rebuilds, transaction misuse and type choices. Dialect rules live in ``lint/<dialect>.py``; each
rule reads the statement analysis (:mod:`dbshift.analysis`), never the SQL text.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbshift.lint.findings import LintScript, LintStatement, Rule

ALL_DIALECTS = frozenset({"sqlite", "postgresql", "mysql"})
SERVERS = frozenset({"postgresql", "mysql"})


def _not_analysed(script: LintScript) -> Iterator[tuple[LintStatement, str]]:
    for statement in script.statements:
        if statement.effects.unreadable:
            yield statement, statement.effects.unreadable


def _dropped_tables(script: LintScript):
    for statement in script.statements:
        for dropped in statement.effects.drops:
            created = script.created_before(dropped.table, statement.index - 1)
            if not created and not any((r.dropped or r.table) == dropped.table for r in script.rebuilds):
                yield statement, str(dropped.table)


def _dropped_columns(script: LintScript):
    for statement in script.statements:
        for column in statement.effects.drops_columns:
            if not script.created_before(column.table, statement.index):
                yield statement, str(column)


def _cascading_losses(script: LintScript):
    for statement in script.statements:
        for loss in statement.effects.other_losses:
            yield statement, loss


def _truncates(script: LintScript):
    for statement in script.statements:
        for table in statement.effects.truncates:
            yield statement, f"every row of {table}"
        for dropped in statement.effects.drops_partitions:
            yield statement, f"partitions {', '.join(dropped.partitions)} of {dropped.table}"


def _deletes_everything(script: LintScript):
    for statement in script.statements:
        for deletion in statement.effects.deletes:
            if (
                deletion.where is None
                and deletion.countable
                and deletion.by_trigger is None
                and not script.created_before(deletion.table, statement.index)
            ):
                yield statement, str(deletion.table)


def _renames(column: bool):
    def check(script: LintScript):
        """Renames of columns (``column``) or tables of tables that exist before the script."""
        for statement in script.statements:
            for rename in statement.effects.renames:
                if (rename.column is not None) == column and not script.created_before(rename.table, statement.index):
                    old = f"{rename.table}.{rename.column}" if column else str(rename.table)
                    yield statement, f"{old} -> {rename.new_name}"

    return check


def changes_of(script: LintScript, *kinds: str, existing_table: bool = True):
    """(statement, change) of the given kinds, on tables that exist before the script when
    ``existing_table`` (changes to a table the script creates are free)."""
    for statement in script.statements:
        for change in statement.changes:
            if change.kind in kinds and not (existing_table and script.created_before(change.table, statement.index)):
                yield statement, change


def _dropped_defaults(script: LintScript):
    for statement, change in changes_of(script, "drop_default"):
        yield statement, f"{change.table}.{change.name}"


def _required_columns(script: LintScript):
    for statement, change in changes_of(script, "add_column"):
        if change.has("not_null") and not change.has("default"):
            yield statement, f"{change.table}.{change.name}"


def _rebuilds(script: LintScript):
    by_sql = {s.effects.sql: s for s in script.statements}
    for rebuild in script.rebuilds:
        statement = by_sql.get(rebuild.statement)
        if statement is not None and not script.created_before(rebuild.live_name, 0):
            yield statement, str(rebuild.table)


def _rebuilds_losing_columns(script: LintScript):
    for statement, table in _rebuilds(script):
        rebuild = next(r for r in script.rebuilds if str(r.table) == table and r.statement == statement.effects.sql)
        if rebuild.lost_columns:
            yield statement, f"{', '.join(rebuild.lost_columns)} of {table}"


def _transaction_control(script: LintScript):
    if not script.transactional:
        return
    for statement, change in changes_of(script, "transaction", existing_table=False):
        yield statement, change.name.upper()


def _transaction_nesting(script: LintScript):
    if script.transactional:
        return
    for statement, change in changes_of(script, "transaction", existing_table=False):
        if change.has("begin") and statement.in_transaction:
            yield statement, "BEGIN while a transaction is already open"
        elif not change.has("begin") and not statement.in_transaction:
            yield statement, f"{change.name.upper()} with no transaction open"


def _uncommitted(script: LintScript):
    if not script.transactional and script.open_at_end and script.statements:
        begins = [s for s, c in changes_of(script, "transaction", existing_table=False) if c.has("begin")]
        if begins:
            yield begins[-1], "BEGIN"


def _not_rerunnable(script: LintScript):
    """Statements that fail when a file not run in one transaction is run again after failing
    halfway: those before the failure stay done. A statement inside an explicit BEGIN ... COMMIT
    is undone with its transaction (not on MySQL, whose DDL commits on its own). The last statement
    never runs again after succeeding (nothing after it can fail), unless it is a named CREATE
    INDEX CONCURRENTLY: when it fails it leaves an INVALID index of that name behind. (The lint
    engine has ``repeat_fails`` read only for a script outside one transaction: keep in step.)"""
    if script.transactional:
        return
    statements = [s for s in script.statements if not any(c.kind == "transaction" for c in s.changes)]
    if len(statements) < 2:
        return
    dropped_first: set[str] = set()  # indexes a DROP INDEX ... IF EXISTS removes before
    for statement in statements:
        creates = {c.name for c in statement.changes if c.kind == "create_index" and c.name}
        undone = statement.in_transaction and getattr(script.types, "TRANSACTIONAL_DDL", True)
        leaves_residue = any(c.kind == "create_index" and c.has("concurrently") for c in statement.changes)
        last = statement is statements[-1] and not leaves_residue
        if not undone and not last and not (creates and creates <= dropped_first):
            for reason in statement.effects.repeat_fails:
                yield statement, reason
        dropped_first |= {c.name for c in statement.changes if c.kind == "drop_index" and c.has("if_exists")}


def _data_changes(script: LintScript):
    """(statement, what, table) of the rows a section inserts, updates or deletes in tables that
    exist before it; an UPDATE that only fills columns the section added is left out (the down
    that drops them drops those values)."""
    added: set[tuple[str, str]] = set()
    for statement in script.statements:
        added |= {
            (c.table.name.lower(), c.name.lower()) for c in statement.changes if c.kind == "add_column" and c.table
        }
        found = [("DELETE", d.table) for d in statement.effects.deletes if d.by_trigger is None]
        found += [("INSERT", t) for t in statement.effects.inserts]
        for table in statement.effects.updates:
            columns = [c for c in statement.effects.updates_columns if c.table.name.lower() == table.name.lower()]
            if not columns or any((table.name.lower(), c.column.lower()) not in added for c in columns):
                found.append(("UPDATE", table))
        seen = set()
        for what, table in found:
            if (what, table) not in seen and not script.created_before(table, statement.index):
                seen.add((what, table))
                yield statement, what, table


def _writes_rows_of(script: LintScript, table) -> bool:
    """Whether a statement of ``script`` inserts, updates or deletes rows of ``table`` (or copies
    rows into it). Names are compared without regard to case (a match only silences the rule)."""
    name = table.name.lower()
    for statement in script.statements:
        effects = statement.effects
        tables = [*effects.inserts, *effects.updates, *(d.table for d in effects.deletes)]
        tables += [c.target for c in effects.copies]
        if any(t.name.lower() == name for t in tables):
            return True
    return False


def _data_changes_without_reverse(script: LintScript):
    """In a down: the data changes of its up (read just before) that it writes nothing back for.
    In an up whose file has no down, or an empty one: every data change of the up."""
    if script.section == "down" and script.up is not None and script.statements:
        first = script.statements[0]
        for statement, what, table in _data_changes(script.up):
            if not _writes_rows_of(script, table):
                yield (
                    first,
                    f"the up's {what} on {table} (line {statement.line}), and this down writes no row of {table},",
                )
    elif script.section == "up":
        changes = list(_data_changes(script))
        if changes and script.down_is_empty():
            for statement, what, table in changes:
                yield statement, f"{what} on {table}, and the migration has no down (or an empty one),"


def _column_types(script: LintScript):
    """(statement, change) of every column a statement defines or changes the type of."""
    yield from changes_of(script, "column", "add_column", "alter_column_type", existing_table=False)


def _is_key(change) -> bool:
    name = (change.name or "").lower()
    return (
        change.has("primary_key")
        or change.has("references")
        or change.has("unique")
        or name == "id"
        or name.endswith("_id")
    )


def _typed_keys(type_set: str):
    def check(script: LintScript):
        """Key columns whose type is in the dialect's ``type_set``."""
        types = getattr(script.types, type_set, frozenset())
        for statement, change in _column_types(script):
            if change.type_name in types and _is_key(change):
                yield statement, f"{change.table}.{change.name} {change.type_name}"

    return check


def _typed_columns(type_set: str):
    def check(script: LintScript):
        """Columns whose type is in the dialect's ``type_set``."""
        types = getattr(script.types, type_set, frozenset())
        for statement, change in _column_types(script):
            if change.type_name in types:
                yield statement, f"{change.table}.{change.name} {change.type_name}"

    return check


COMMON_RULES = [
    Rule(
        "not-analysed",
        "warning",
        ALL_DIALECTS,
        "Statement not analysed",
        "dbshift cannot read this statement, so none of its risks are checked ({detail})",
        "rewrite it in plain SQL the parser reads, or review it by hand and suppress with a reason",
        _not_analysed,
    ),
    Rule(
        "drop-table",
        "error",
        ALL_DIALECTS,
        "Table dropped",
        "DROP TABLE {detail} deletes every row, and the running application fails on its next query to it",
        "stop using the table in the application first, back it up, and drop it in a later release",
        _dropped_tables,
        destructive=True,
    ),
    Rule(
        "drop-column",
        "error",
        ALL_DIALECTS,
        "Column dropped",
        "dropping {detail} deletes its values, and the running application still selects or inserts it",
        "deploy code that no longer reads or writes the column first, then drop it in a later migration",
        _dropped_columns,
        destructive=True,
    ),
    Rule(
        "drop-schema",
        "error",
        ALL_DIALECTS,
        "Schema, database or cascading drop",
        "this drops {detail}",
        "drop the objects one by one, each after the application stopped using it",
        _cascading_losses,
        destructive=True,
    ),
    Rule(
        "truncate",
        "error",
        ALL_DIALECTS,
        "Truncate",
        "TRUNCATE removes {detail} at once, with no WHERE and no row-by-row triggers",
        "DELETE the rows you mean with a WHERE, in batches, after a backup",
        _truncates,
        destructive=True,
    ),
    Rule(
        "delete-all-rows",
        "error",
        ALL_DIALECTS,
        "DELETE without WHERE",
        "DELETE without a WHERE empties {detail}",
        "add the WHERE that names the rows to remove (WHERE true if every row really must go)",
        _deletes_everything,
        destructive=True,
    ),
    Rule(
        "rename-table",
        "warning",
        ALL_DIALECTS,
        "Table renamed",
        "renaming {detail} breaks every query of the running application that uses the old name",
        "create the new table (or a view with the new name), move the application, drop the old one later",
        _renames(column=False),
        destructive=True,
    ),
    Rule(
        "rename-column",
        "warning",
        ALL_DIALECTS,
        "Column renamed",
        "renaming {detail} breaks every query of the running application that uses the old name",
        "add the new column, write both, backfill, move reads, then drop the old column in a later release",
        _renames(column=True),
        destructive=True,
    ),
    Rule(
        "drop-default",
        "warning",
        SERVERS,
        "Default dropped",
        "dropping the default of {detail} makes inserts of the running application that leave it out "
        "store NULL or fail",
        "drop the default only after every insert names the column",
        _dropped_defaults,
        destructive=True,
    ),
    Rule(
        "add-not-null-without-default",
        "error",
        SERVERS,
        "NOT NULL column without a default",
        "adding {detail} NOT NULL without a default fails on a table with rows, and the running "
        "application's inserts that leave it out fail",
        "add it nullable (or with a default), backfill, then add NOT NULL",
        _required_columns,
    ),
    Rule(
        "table-rebuild",
        "warning",
        ALL_DIALECTS,
        "Table rebuilt",
        "{detail} is rebuilt: every row is copied while writes wait",
        "rebuild in a quiet window, or change the table in place when the database allows it",
        _rebuilds,
    ),
    Rule(
        "rebuild-loses-columns",
        "error",
        ALL_DIALECTS,
        "Rebuild leaves columns out",
        "the rebuild's copy leaves out {detail}: their values are lost when the old table is dropped",
        "copy every column into the new table (or drop the column on purpose, in its own reviewed migration)",
        _rebuilds_losing_columns,
        destructive=True,
    ),
    Rule(
        "transaction-control",
        "error",
        ALL_DIALECTS,
        "BEGIN/COMMIT in a transactional migration",
        "{detail} inside a migration dbshift already runs in a transaction: what follows runs outside it "
        "and is not rolled back on failure",
        "remove it; mark the file `-- no-transaction` if it must manage its own transactions",
        _transaction_control,
    ),
    Rule(
        "transaction-nesting",
        "error",
        ALL_DIALECTS,
        "Transaction nesting",
        "{detail}: the statements do not run in the transactions the file suggests",
        "pair every BEGIN with one COMMIT or ROLLBACK",
        _transaction_nesting,
    ),
    Rule(
        "uncommitted-transaction",
        "error",
        ALL_DIALECTS,
        "Transaction left open",
        "a {detail} is never committed: the changes are lost or held open with their locks",
        "end the transaction with COMMIT",
        _uncommitted,
    ),
    Rule(
        "not-rerunnable",
        "warning",
        ALL_DIALECTS,
        "Statement that fails when the file runs again",
        "{detail}: this file does not run in one transaction, so when a later statement fails the ones "
        "before it stay done, and running the file again fails here",
        "make each statement safe to run twice (CREATE ... IF NOT EXISTS, DROP ... IF EXISTS, ADD COLUMN IF "
        "NOT EXISTS); for CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY IF EXISTS first (a failed build "
        "leaves an INVALID index of that name, which IF NOT EXISTS would keep); or give each statement its "
        "own migration",
        _not_rerunnable,
    ),
    Rule(
        "data-change-without-reverse",
        "warning",
        ALL_DIALECTS,
        "Data change the down does not reverse",
        "{detail} so a rollback restores the schema but not the rows' values",
        "write the down's reverse (UPDATE back from a kept copy, DELETE the inserted rows, INSERT the "
        "deleted ones from a backup table), or say in the down why the values need not come back",
        _data_changes_without_reverse,
    ),
    Rule(
        "int-key",
        "warning",
        SERVERS,
        "32-bit integer key",
        "{detail}: a 32-bit key runs out at 2,147,483,647 rows, and changing it later rewrites the table",
        "use bigint (bigserial / GENERATED ... AS IDENTITY on bigint) for keys",
        _typed_keys("INT_KEY_TYPES"),
    ),
    Rule(
        "smallint-key",
        "warning",
        SERVERS,
        "16-bit integer key",
        "{detail}: a 16-bit key runs out at 32,767 rows",
        "use bigint for keys",
        _typed_keys("SMALL_INT_KEY_TYPES"),
    ),
    Rule(
        "timestamp-without-time-zone",
        "warning",
        frozenset({"postgresql"}),
        "timestamp without time zone",
        "{detail} stores a wall-clock time without its zone: values mean different instants on servers or "
        "sessions with another time zone",
        "use timestamptz (timestamp with time zone)",
        _typed_columns("LOCAL_TIME_TYPES"),
    ),
    Rule(
        "char-type",
        "warning",
        SERVERS,
        "char(n)",
        "{detail} pads values with spaces (and char without a length keeps one character)",
        "use text or varchar, with a CHECK on the length if one is needed",
        _typed_columns("CHAR_TYPES"),
    ),
]
