"""MySQL/MariaDB statements read by ``sqlglot`` (``read="mysql"``, imported on first use).

What sqlglot does not model is read from sqlglot's own tokens (so comments and quoted names
are handled by its lexer): ``ALTER TABLE t DROP|TRUNCATE PARTITION p, ...`` (rows go), the
partition changes that keep every row (ADD, COALESCE, REORGANIZE, REMOVE PARTITIONING),
``CREATE TRIGGER``/``CREATE|ALTER|DROP EVENT`` (definitions, whose bodies run later as the
application's logic), ``RENAME TABLE [IF EXISTS] a TO b, ...`` and MariaDB's ``IF [NOT] EXISTS``
on ALTER TABLE clauses (sqlglot reads it on ADD/DROP COLUMN and DROP INDEX only). Anything else sqlglot only keeps as an
opaque command (``CALL``, ``ALTER IGNORE``, ``HANDLER``...) is unreadable, and so is a version
comment (``/*! ... */``), which MySQL runs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from dbshift.analysis.base import Analyser
from dbshift.analysis.effects import (
    ColumnCopy,
    ColumnRef,
    DroppedPartitions,
    DroppedTable,
    Rename,
    RowDeletion,
    StatementEffects,
    TableName,
)

#: Comments that MySQL (``/*!``) or MariaDB (``/*M!``) executes as SQL.
EXECUTABLE_COMMENT_STARTS = ("/*!", "/*M!")
#: ``ALTER TABLE t <words> PARTITION ...`` changes that keep every row (MySQL refuses a
#: REORGANIZE whose new ranges would leave a row out).
KEEPING_PARTITION_CHANGES = {"ADD", "COALESCE", "REORGANIZE", "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD", "REPAIR"}


class MySQLAnalyser(Analyser):
    """Reads MySQL/MariaDB statements with sqlglot."""

    dialect = "mysql"

    def __init__(self) -> None:
        from sqlglot.dialects.mysql import MySQL

        self._dialect = MySQL()

    def same_name(self, a: str, b: str) -> bool:
        """Column names are case-insensitive; table names depend on the server, so both count."""
        return a.lower() == b.lower()

    def statement(self, sql: str, rerun: bool = True) -> StatementEffects:
        """The effects of one statement; why a second run fails is read from the tree whatever
        ``rerun`` says (it costs nothing more)."""
        from sqlglot.errors import SqlglotError

        effects = StatementEffects(sql)
        try:
            tokens = self._dialect.tokenize(sql)
        except SqlglotError as exc:
            effects.unreadable = f"cannot read it: {_first_line(exc)}"
            return effects
        if _has_executable_comment(sql, tokens):
            effects.unreadable = "a /*! ... */ comment holds SQL that MySQL runs"
            return effects
        words = _without_final_semicolons(tokens)
        if _read_partition_change(words, effects) or _read_trigger_or_event(words, effects):
            return effects
        tokens, guarded = _without_clause_guards(tokens)
        try:
            with _quiet_sqlglot():
                effects.tree = self._dialect.parser().parse(tokens, sql)
        except Exception as exc:  # noqa: BLE001 - sqlglot also raises ValueError, TypeError... on odd input
            effects.unreadable = f"cannot read it: {_first_line(exc)}"
            return effects
        from dbshift.analysis.mysql_changes import read_changes

        misread = next((p for p in map(_misread, effects.tree) if p is not None), None)
        if misread is not None:
            effects.unreadable = misread
            return effects
        for expression in effects.tree:
            if expression is not None:
                _mark_guarded(expression, guarded)
                self._read(expression, effects)
                read_changes(expression, effects)
        return effects

    def _read(self, expression, effects: StatementEffects) -> None:
        from sqlglot import exp

        if isinstance(expression, exp.Command):
            if not _read_rename_tables(self._dialect, expression, effects):
                effects.unreadable = f"{expression.name} ... is not a statement dbshift can read"
        elif isinstance(expression, exp.Drop):
            _read_drop(expression, effects)
        elif isinstance(expression, exp.Alter):
            _read_alter(expression, effects)
        elif isinstance(expression, exp.TruncateTable):
            effects.truncates.extend(_table(t) for t in expression.expressions)
        elif isinstance(expression, exp.Create) and str(expression.args.get("kind", "")).upper() == "TABLE":
            target = expression.this.this if isinstance(expression.this, exp.Schema) else expression.this
            effects.creates.append(_table(target))
        for delete in expression.find_all(exp.Delete):
            _read_delete(delete, effects)
        for insert in expression.find_all(exp.Insert):
            target = insert.this.this if isinstance(insert.this, exp.Schema) else insert.this
            if isinstance(target, exp.Table):
                effects.inserts.append(_table(target))
                conflict = insert.args.get("conflict")
                if conflict is not None and conflict.args.get("duplicate"):  # ON DUPLICATE KEY UPDATE
                    effects.updates.append(_table(target))
                    effects.updates_columns.extend(
                        ColumnRef(_table(target), a.this.name)
                        for a in conflict.expressions
                        if isinstance(a, exp.EQ) and isinstance(a.this, exp.Column)
                    )
        for update in expression.find_all(exp.Update):
            if isinstance(update.this, exp.Table):
                effects.updates.append(_table(update.this))
                effects.column_copies.extend(_column_copies(update))
                effects.updates_columns.extend(ColumnRef(c.table, c.target) for c in _column_copies(update))


def _column_copies(update) -> list[ColumnCopy]:
    """``SET target = expression`` of a one-table UPDATE: the target and the columns it reads."""
    from sqlglot import exp

    table = _table(update.this)
    copies = []
    for assignment in update.expressions:
        if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
            sources = frozenset(c.name for c in assignment.expression.find_all(exp.Column))
            copies.append(ColumnCopy(table, assignment.this.name, sources))
    return copies


def _misread(expression) -> str | None:
    """Why sqlglot's tree of a statement is not one MySQL accepts (None: it is): sqlglot parses
    leniently, e.g. ``ALTER TABLE `a` (...)`` with a column list or ``CREATE INDEX ON t (c)``
    without a name, which MySQL rejects and whose trees lack the parts the readers need."""
    from sqlglot import exp

    if expression is None:
        return None
    kind = str(expression.args.get("kind") or "").upper()
    if isinstance(expression, exp.Alter) and kind == "TABLE" and not isinstance(expression.this, exp.Table):
        return "cannot read it: ALTER TABLE without a table name MySQL accepts"
    if isinstance(expression, exp.Create) and kind == "INDEX":
        index = expression.this
        if not isinstance(index, exp.Index) or index.this is None or not isinstance(index.args.get("table"), exp.Table):
            return "cannot read it: CREATE INDEX needs an index name and a table"
    if isinstance(expression, exp.Create) and kind in ("TABLE", "VIEW"):
        target = expression.this.this if isinstance(expression.this, exp.Schema) else expression.this
        if not isinstance(target, exp.Table):
            return f"cannot read it: CREATE {kind} without a name MySQL accepts"
    return None


def _table(table) -> TableName:
    return TableName(table.name, table.db or None)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextlib.contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning when it falls back to an opaque command; dbshift reports that itself."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _without_final_semicolons(tokens) -> list:
    from sqlglot.tokens import TokenType

    tokens = list(tokens)
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens.pop()
    return tokens


def _has_executable_comment(sql: str, tokens) -> bool:
    """Whether the text between tokens (comments and white space) holds a ``/*!`` comment."""
    position = 0
    for token in tokens:
        if any(start in sql[position : token.start] for start in EXECUTABLE_COMMENT_STARTS):
            return True
        position = token.end + 1
    return any(start in sql[position:] for start in EXECUTABLE_COMMENT_STARTS)


#: ALTER TABLE clauses that are table options, not actions (sqlglot keeps them apart).
_OPTION_CLAUSES = {"ALGORITHM", "LOCK"}


def _guard_length(tokens, index: int) -> int:
    """2 for ``IF EXISTS``, 3 for ``IF NOT EXISTS`` at ``tokens[index]``, else 0."""
    from sqlglot.tokens import TokenType

    if tokens[index].token_type != TokenType.VAR or tokens[index].text.upper() != "IF":
        return 0
    kinds = [t.token_type for t in tokens[index + 1 : index + 3]]
    if kinds[:1] == [TokenType.EXISTS]:
        return 2
    return 3 if kinds == [TokenType.NOT, TokenType.EXISTS] else 0


def _without_clause_guards(tokens) -> tuple[list, set[int]]:
    """An ALTER TABLE's tokens without the ``IF [NOT] EXISTS`` of its clauses, and the numbers of
    the clauses (actions, as sqlglot counts them) that had one; other statements as they are.

    sqlglot fails on MariaDB's ``ADD KEY|UNIQUE KEY|FOREIGN KEY|CONSTRAINT ... IF NOT EXISTS`` and
    ``CHANGE COLUMN IF EXISTS``; without the guard it reads each clause, and the guard is put back
    on its action (:func:`_mark_guarded`)."""
    from sqlglot.tokens import TokenType

    if [t.token_type for t in tokens[:2]] != [TokenType.ALTER, TokenType.TABLE]:
        return tokens, set()
    table, index = _name(tokens, 2)
    if table is None:
        return tokens, set()
    kept, guarded, clause, depth, option = tokens[:index], set(), 0, 0, False
    at_start = True
    while index < len(tokens):
        token = tokens[index]
        if at_start:
            option, at_start = token.text.upper() in _OPTION_CLAUSES, False
        skip = _guard_length(tokens, index) if depth == 0 else 0
        if skip:
            guarded.add(clause)
            index += skip
            continue
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth == 0 and token.token_type == TokenType.COMMA:
            clause += 0 if option else 1
            at_start = True
        kept.append(token)
        index += 1
    return kept, guarded


def _mark_guarded(expression, guarded: set[int]) -> None:
    """Put the ``IF [NOT] EXISTS`` read off by :func:`_without_clause_guards` back on its actions."""
    from sqlglot import exp

    if not guarded or not isinstance(expression, exp.Alter):
        return
    actions = expression.args.get("actions") or []
    for number in guarded:
        if number < len(actions):
            actions[number].set("exists", True)


def _read_drop(drop, effects: StatementEffects) -> None:
    kind = str(drop.args.get("kind") or "").upper()
    tables = drop.args.get("tables") or ([drop.this] if drop.this is not None else [])
    if kind == "TABLE":
        effects.drops.extend(DroppedTable(_table(t)) for t in tables)
    elif kind in ("DATABASE", "SCHEMA"):
        effects.other_losses.extend(f"database {t.name} and every table in it" for t in tables)


def _read_alter(alter, effects: StatementEffects) -> None:
    from sqlglot import exp

    if str(alter.args.get("kind") or "").upper() != "TABLE":
        return
    table = _table(alter.this)
    for action in alter.args.get("actions") or ():
        if isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
            effects.drops_columns.extend(ColumnRef(table, c.name) for c in action.args.get("tables") or ())
        elif isinstance(action, exp.AlterRename):
            effects.renames.append(Rename(table, action.this.name))
        elif isinstance(action, exp.RenameColumn):
            effects.renames.append(Rename(table, action.args["to"].name, column=action.this.name))
        elif isinstance(action, exp.ModifyColumn):
            new_name = action.this.name
            if action.args.get("rename_from") is not None and action.args["rename_from"].name != new_name:
                effects.renames.append(Rename(table, new_name, column=action.args["rename_from"].name))
            effects.alters_columns.append(ColumnRef(table, new_name))


def _read_delete(delete, effects: StatementEffects) -> None:
    from sqlglot import exp

    targets = delete.args.get("tables") or [delete.this]
    single = (
        len(targets) == 1
        and isinstance(delete.this, exp.Table)
        and not delete.this.args.get("joins")
        and not delete.args.get("using")
        and not delete.args.get("limit")
        and not delete.args.get("with_")
    )
    where = delete.args.get("where")
    condition = where.this.sql(dialect="mysql") if where is not None else None
    for target in targets:
        if isinstance(target, exp.Table):
            effects.deletes.append(RowDeletion(_table(target), condition if single else None, countable=single))


def _name(tokens, index: int) -> tuple[TableName | None, int]:
    """An (optionally qualified) name at ``tokens[index]``; None when there is none there."""
    from sqlglot.tokens import TokenType

    if index >= len(tokens) or tokens[index].token_type not in (TokenType.VAR, TokenType.IDENTIFIER):
        return None, index
    parts = [tokens[index].text]
    index += 1
    while index + 1 < len(tokens) and tokens[index].token_type == TokenType.DOT:
        parts.append(tokens[index + 1].text)
        index += 2
    return TableName(parts[-1], parts[-2] if len(parts) > 1 else None), index


def _names(tokens, index: int) -> tuple[list[TableName], int]:
    """Comma-separated names from ``tokens[index]``; the names and where they end."""
    from sqlglot.tokens import TokenType

    names = []
    while True:
        name, index = _name(tokens, index)
        if name is None:
            return names, index
        names.append(name)
        if index >= len(tokens) or tokens[index].token_type != TokenType.COMMA:
            return names, index
        index += 1


def _read_partition_change(tokens, effects: StatementEffects) -> bool:
    """``ALTER TABLE t DROP|TRUNCATE PARTITION p1, p2`` (their rows go); False for other statements."""
    from sqlglot.tokens import TokenType

    kinds = [t.token_type for t in tokens]
    if kinds[:2] != [TokenType.ALTER, TokenType.TABLE]:
        return False
    table, index = _name(tokens, 2)
    words = [t.text.upper() for t in tokens[index : index + 2]]
    if table is not None and words == ["REMOVE", "PARTITIONING"] and index + 2 == len(tokens):
        return True  # the rows stay, in one unpartitioned table
    if table is not None and len(words) == 2 and words[0] in KEEPING_PARTITION_CHANGES and words[1] == "PARTITION":
        return True
    if table is None or kinds[index : index + 2] not in (
        [TokenType.DROP, TokenType.PARTITION],
        [TokenType.TRUNCATE, TokenType.PARTITION],
    ):
        return False
    if kinds[index + 2 :] == [TokenType.ALL]:
        effects.truncates.append(table)
        return True
    partitions, end = _names(tokens, index + 2)
    if not partitions or end != len(tokens):
        effects.unreadable = "a partition change dbshift cannot read"
        return True
    effects.drops_partitions.append(DroppedPartitions(table, tuple(p.name for p in partitions)))
    return True


def _read_trigger_or_event(tokens, effects: StatementEffects) -> bool:
    """``CREATE [DEFINER=...] TRIGGER|EVENT``, ``ALTER EVENT``, ``DROP EVENT`` (sqlglot keeps them as
    opaque commands) remove nothing when they run: their bodies are the application's logic, run
    later, like a PostgreSQL function's. False for other statements."""
    from sqlglot.tokens import TokenType

    words = [t.text.upper() if t.token_type not in (TokenType.IDENTIFIER, TokenType.STRING) else "" for t in tokens]
    if not words or words[0] not in ("CREATE", "ALTER", "DROP"):
        return False
    kind = next(
        (w for w in words[1:8] if w in ("TRIGGER", "EVENT", "TABLE", "VIEW", "INDEX", "PROCEDURE", "FUNCTION")), None
    )
    return kind == "EVENT" or (kind == "TRIGGER" and words[0] == "CREATE")


def _read_rename_tables(dialect, command, effects: StatementEffects) -> bool:
    """``RENAME TABLE a TO b, c TO d`` (sqlglot keeps it as a command; its text is read by the lexer)."""
    from sqlglot.tokens import TokenType

    if command.name.upper() != "RENAME":
        return False
    tokens = dialect.tokenize(command.expression.name if command.expression is not None else "")
    if not tokens or tokens[0].token_type != TokenType.TABLE:
        return False
    index, renames = 1 + (_guard_length(tokens, 1) if len(tokens) > 1 else 0), []  # MariaDB's IF EXISTS
    while True:
        old, index = _name(tokens, index)
        if old is None or index >= len(tokens) or tokens[index].text.upper() != "TO":
            return False
        new, index = _name(tokens, index + 1)
        if new is None:
            return False
        renames.append(Rename(old, new.name))
        if index == len(tokens):
            break
        if tokens[index].token_type != TokenType.COMMA:
            return False
        index += 1
    effects.renames.extend(renames)
    return True


def make_analyser(db=None) -> MySQLAnalyser:
    """The MySQL/MariaDB analyser (the live database is not needed to read statements)."""
    return MySQLAnalyser()
