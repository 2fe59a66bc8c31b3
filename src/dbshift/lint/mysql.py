"""MySQL/MariaDB lint rules: ALTER TABLE changes the parser can tell cannot run
``ALGORITHM=INSTANT/INPLACE, LOCK=NONE`` (they copy the table while writes wait); and the type
names the shared type rules look for.
"""

from __future__ import annotations

from dbshift.lint.findings import LintScript, Rule
from dbshift.lint.rules import changes_of

DIALECT = frozenset({"mysql"})
#: MySQL commits before and after every DDL statement: a migration cannot roll its DDL back.
TRANSACTIONAL_DDL = False
INT_KEY_TYPES = frozenset({"int", "integer", "mediumint"})
SMALL_INT_KEY_TYPES = frozenset({"smallint", "tinyint"})
LOCAL_TIME_TYPES: frozenset[str] = frozenset()
CHAR_TYPES = frozenset({"char"})
#: The module that counts the values a column type change would not keep (data-aware lint).
TYPE_CHANGE_DATA = "dbshift.lint.data_mysql"
#: What happens to rows a new NOT NULL rejects, besides the ALTER failing.
NULLS_NOTE = " (without strict mode MySQL turns them into 0 or '' instead)"
BLOCKING_OPTIONS = ("algorithm_copy", "lock_shared", "lock_exclusive")


def _copying_alters(script: LintScript):
    """ALTER TABLE changes that copy the table (ALGORITHM=COPY), as far as the text tells."""
    for statement, change in changes_of(script, "alter_column_type", "add_constraint", "drop_constraint", "add_column"):
        where = f"{change.table}.{change.name}" if change.name else str(change.table)
        if change.kind == "alter_column_type":
            what = "an ENUM edit" if change.has("enum") else "a column type change"
            yield statement, f"{what} ({where})"
        elif change.has("primary_key"):
            yield statement, f"a primary key change on {change.table}"
        elif change.kind == "add_constraint" and change.has("foreign_key"):
            yield statement, f"a foreign key on {change.table} (with foreign_key_checks on)"
        elif change.kind == "add_column" and change.has("stored_generated"):
            yield statement, f"a stored generated column ({where})"
        elif any(change.has(option) for option in BLOCKING_OPTIONS):
            yield statement, f"a change forced to ALGORITHM=COPY or LOCK=SHARED/EXCLUSIVE ({where})"


RULES = [
    Rule(
        "mysql-table-copy",
        "warning",
        DIALECT,
        "ALTER TABLE that copies the table",
        "{detail} cannot run ALGORITHM=INSTANT/INPLACE with LOCK=NONE: the table is copied while writes wait",
        "run it with an online schema-change tool (gh-ost, pt-online-schema-change), or add "
        "ALGORITHM=INPLACE, LOCK=NONE so MySQL refuses instead of blocking",
        _copying_alters,
    ),
]
