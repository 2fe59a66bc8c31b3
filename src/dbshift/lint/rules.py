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
