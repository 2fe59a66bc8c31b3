"""PostgreSQL lint rules: locks and rewrites (index builds without ``CONCURRENTLY``, constraints
without ``NOT VALID``, ``SET NOT NULL`` without a validated check, volatile defaults, type
changes), ``CONCURRENTLY`` inside a transaction and DDL without ``lock_timeout``; and the type
names the shared type rules look for.
"""

from __future__ import annotations

from dbshift.lint.findings import LintScript, Rule
from dbshift.lint.rules import changes_of

DIALECT = frozenset({"postgresql"})
#: dbshift runs a PostgreSQL migration in a transaction (unless it is marked ``-- no-transaction``).
TRANSACTIONAL_DDL = True
INT_KEY_TYPES = frozenset({"int4", "serial", "serial4"})
SMALL_INT_KEY_TYPES = frozenset({"int2", "smallserial", "serial2"})
LOCAL_TIME_TYPES = frozenset({"timestamp"})
CHAR_TYPES = frozenset({"bpchar", "char"})
#: The module that counts the values a column type change would not keep (data-aware lint).
TYPE_CHANGE_DATA = "dbshift.lint.data_postgresql"
#: What happens to rows a new NOT NULL rejects, besides the ALTER failing.
NULLS_NOTE = ""
#: The first version where SET NOT NULL uses a validated ``CHECK (col IS NOT NULL)`` instead of scanning.
SET_NOT_NULL_USES_CHECK = 12
#: The first version where ADD COLUMN with a constant default does not rewrite the table.
CONSTANT_DEFAULT_IS_FREE = 11
#: The module that rewrites findings into the safe form (`dbshift lint --fix`).
FIXER = "dbshift.lint.postgresql_fix"


def _index_builds(script: LintScript):
    for statement, change in changes_of(script, "create_index"):
        if not change.has("concurrently"):
            yield statement, f"{change.name or 'an index'} on {change.table}"


def _index_drops(script: LintScript):
    for statement, change in changes_of(script, "drop_index", existing_table=False):
        if not change.has("concurrently"):
            yield statement, change.name


def _concurrently_in_transaction(script: LintScript):
    for statement, change in changes_of(script, "create_index", "drop_index", existing_table=False):
        if change.has("concurrently") and statement.in_transaction:
            yield statement, f"{change.name or 'an index'}"


def _constraints_validated_at_once(script: LintScript):
    for statement, change in changes_of(script, "add_constraint"):
        if (change.has("foreign_key") or change.has("check")) and not change.has("not_valid"):
            kind = "FOREIGN KEY" if change.has("foreign_key") else "CHECK"
            yield statement, f"{kind} {change.name or ''} on {change.table}".replace("  ", " ")


def _validated_in_same_transaction(script: LintScript):
    added = {}
    for statement in script.statements:
        for change in statement.changes:
            if change.kind == "add_constraint" and change.has("not_valid"):
                added[(change.table, change.name)] = statement.transaction
            elif (
                change.kind == "validate_constraint"
                and statement.transaction is not None
                and added.get((change.table, change.name)) == statement.transaction
            ):
                yield statement, f"{change.name} on {change.table}"


def _unique_without_index(script: LintScript):
    for statement, change in changes_of(script, "add_constraint", "add_column"):
        if change.has("unique") and not change.has("using_index"):
            yield statement, f"{change.table}"


def _primary_key_without_index(script: LintScript):
    for statement, change in changes_of(script, "add_constraint", "add_column"):
        if change.has("primary_key") and not change.has("using_index"):
            yield statement, f"{change.table}"


def _set_not_null(script: LintScript):
    checked: set = set()  # (table, column or None) proven NOT NULL by a validated check
    for statement in script.statements:
        for change in statement.changes:
            if change.kind == "validate_constraint":
                checked.add((change.table, None))
            elif change.kind == "add_constraint" and change.has("check") and not change.has("not_valid"):
                checked.update((change.table, column) for column in change.columns)
            elif change.kind == "set_not_null" and not script.created_before(change.table, statement.index):
                proven = (change.table, None) in checked or (change.table, change.name) in checked
                if not proven or script.server_version < SET_NOT_NULL_USES_CHECK:
                    yield statement, f"{change.table}.{change.name}"


def _rewriting_defaults(script: LintScript):
    for statement, change in changes_of(script, "add_column"):
        constant_rewrites = script.server_version < CONSTANT_DEFAULT_IS_FREE and change.has("default")
        if (change.has("volatile_default") or constant_rewrites) and not change.has("stored_generated"):
            yield statement, f"{change.table}.{change.name}"


def _stored_generated(script: LintScript):
    for statement, change in changes_of(script, "add_column"):
        if change.has("stored_generated"):
            yield statement, f"{change.table}.{change.name}"


def _type_changes(script: LintScript):
    for statement, change in changes_of(script, "alter_column_type"):
        yield statement, f"{change.table}.{change.name} to {change.type_name}"
    for statement, change in changes_of(script, "table_option"):
        yield statement, f"{change.table} ({change.name})"


def _missing_lock_timeout(script: LintScript):
    for statement in script.statements:
        if any(change.kind == "set" and change.name == "lock_timeout" for change in statement.changes):
            return
        tables = [change.table for change in statement.changes if change.table is not None]
        only_new = bool(tables) and all(script.created_before(table, statement.index) for table in tables)
        if statement.effects.locks_schema and not only_new:
            yield statement, ""
            return


RULES = [
    Rule(
        "index-not-concurrent",
        "error",
        DIALECT,
        "CREATE INDEX without CONCURRENTLY",
        "building {detail} blocks every write to the table until the index is built",
        "CREATE INDEX CONCURRENTLY, in a `-- no-transaction` migration",
        _index_builds,
    ),
    Rule(
        "drop-index-not-concurrent",
        "warning",
        DIALECT,
        "DROP INDEX without CONCURRENTLY",
        "dropping {detail} takes ACCESS EXCLUSIVE on its table: every query on it waits",
        "DROP INDEX CONCURRENTLY, in a `-- no-transaction` migration",
        _index_drops,
    ),
    Rule(
        "concurrently-in-transaction",
        "error",
        DIALECT,
        "CONCURRENTLY inside a transaction",
        "CONCURRENTLY ({detail}) cannot run inside a transaction block: the migration fails",
        "mark the migration `-- no-transaction` and keep the index statement alone in it",
        _concurrently_in_transaction,
    ),
    Rule(
        "constraint-not-valid",
        "error",
        DIALECT,
        "FOREIGN KEY / CHECK without NOT VALID",
        "adding {detail} scans every row while holding a lock that blocks writes",
        "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later transaction",
        _constraints_validated_at_once,
    ),
    Rule(
        "validate-in-same-transaction",
        "warning",
        DIALECT,
        "VALIDATE in the transaction that added it",
        "validating {detail} in the same transaction keeps the ADD's lock during the whole scan",
        "VALIDATE CONSTRAINT in a separate migration (or after COMMIT)",
        _validated_in_same_transaction,
    ),
    Rule(
        "unique-without-index",
        "error",
        DIALECT,
        "UNIQUE constraint built under lock",
        "adding a UNIQUE constraint to {detail} builds its index while blocking writes",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX",
        _unique_without_index,
    ),
    Rule(
        "primary-key-without-index",
        "error",
        DIALECT,
        "PRIMARY KEY built under lock",
        "adding a primary key to {detail} builds its index (and may scan for NULLs) while blocking every query",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX",
        _primary_key_without_index,
    ),
    Rule(
        "set-not-null",
        "warning",
        DIALECT,
        "SET NOT NULL scans the table",
        "SET NOT NULL on {detail} scans every row under ACCESS EXCLUSIVE: every query on the table waits",
        "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (PostgreSQL 12+)",
        _set_not_null,
    ),
    Rule(
        "volatile-default",
        "error",
        DIALECT,
        "Default that rewrites the table",
        "adding {detail} with a volatile default rewrites every row under ACCESS EXCLUSIVE",
        "add the column without a default (or with a constant), set the default, backfill in batches",
        _rewriting_defaults,
    ),
    Rule(
        "stored-generated-column",
        "error",
        DIALECT,
        "Stored generated column",
        "adding the stored generated column {detail} rewrites every row under ACCESS EXCLUSIVE",
        "add a plain column filled by a trigger and a batched backfill, or compute it in queries",
        _stored_generated,
    ),
    Rule(
        "type-change-rewrite",
        "warning",
        DIALECT,
        "Column type change",
        "changing {detail} rewrites the table and its indexes under ACCESS EXCLUSIVE unless the old type "
        "converts without one (varchar(n) to a longer varchar or text)",
        "add a new column, backfill it in batches, switch the application, drop the old column",
        _type_changes,
    ),
    Rule(
        "missing-lock-timeout",
        "warning",
        DIALECT,
        "DDL without lock_timeout",
        "this DDL waits for its lock with no limit, and every query that comes after it queues behind it",
        "SET lock_timeout = '2s' (and retry) before the first DDL statement",
        _missing_lock_timeout,
    ),
]
