"""PostgreSQL statements read by PostgreSQL's own parser (``pglast``, imported on first use).

The parser folds unquoted names to lower case and unescapes quoted ones, so the names in the
effects are the ones the server uses. Statements inside a ``WITH`` (``WITH d AS (DELETE ...)``)
are found wherever they are in the tree.
"""

from __future__ import annotations

from dbshift.analysis.base import Analyser
from dbshift.analysis.effects import (
    ColumnCopy,
    ColumnRef,
    DroppedTable,
    Rename,
    RowDeletion,
    StatementEffects,
    TableName,
)
from dbshift.analysis.postgresql_nodes import nodes as _nodes

#: Statements whose effect depends on code the parser does not see.
OPAQUE_STATEMENTS = {
    "DoStmt": "a DO block runs code",
    "CallStmt": "CALL runs a procedure",
    "ExecuteStmt": "EXECUTE runs a prepared statement",
    "LoadStmt": "LOAD loads a library",
}


class PostgreSQLAnalyser(Analyser):
    """Reads PostgreSQL statements with ``pglast``."""

    dialect = "postgresql"

    def __init__(self) -> None:
        import pglast  # noqa: F401 - loaded here, never at start-up
        from pglast.parser import ParseError

        from dbshift.analysis.postgresql_changes import read_changes
        from dbshift.analysis.postgresql_parse import parse_sql_and_json

        # looked up once, not on each of 1,000s of statements
        self._parse, self._parse_error, self._read_changes = parse_sql_and_json, ParseError, read_changes

    def statement(self, sql: str, rerun: bool = True) -> StatementEffects:
        """The effects of ``sql`` (one statement, or several in one text); why a second run fails
        is read from the tree whatever ``rerun`` says (it costs nothing more)."""
        effects = StatementEffects(sql)
        try:
            effects.tree, text = self._parse(sql)
            return self._read(effects, text)
        except self._parse_error as exc:
            effects.unreadable = f"PostgreSQL's parser cannot read it: {exc}"
        except RecursionError:  # PostgreSQL reads 600 nested CASEs; Python's JSON and tree walks stop sooner
            effects = StatementEffects(sql)
            effects.unreadable = "its expressions are nested too deeply for dbshift to read"
        return effects

    def _read(self, effects: StatementEffects, text: str | None) -> StatementEffects:
        read_changes = self._read_changes
        for raw in effects.tree:
            read_changes(raw.stmt, effects)
        for node in _read_nodes(effects.tree, text):
            name = type(node).__name__
            if name in OPAQUE_STATEMENTS:
                effects.unreadable = OPAQUE_STATEMENTS[name] + ", whose effect cannot be read"
            elif name in ("DropdbStmt", "DropOwnedStmt"):
                effects.other_losses.append("a database or everything a role owns")
            elif name in _READERS:
                _READERS[name](node, effects)
        return effects


def _table(range_var) -> TableName:
    return TableName(range_var.relname, range_var.schemaname or None)


def _object_name(names) -> str:
    """A dropped object's name: a name, a list of name parts or a type name."""
    from pglast.stream import RawStream

    if isinstance(names, tuple):
        return ".".join(getattr(part, "sval", "?") for part in names)
    return names.sval if hasattr(names, "sval") else RawStream()(names)


def _read_drop(node, effects: StatementEffects) -> None:
    from pglast.enums import DropBehavior, ObjectType

    cascading = {
        ObjectType.OBJECT_SCHEMA: "schema",
        ObjectType.OBJECT_TYPE: "type",
        ObjectType.OBJECT_DOMAIN: "domain",
        ObjectType.OBJECT_EXTENSION: "extension",
    }
    if node.removeType == ObjectType.OBJECT_TABLE:
        for names in node.objects:
            parts = [part.sval for part in names]
            effects.drops.append(DroppedTable(TableName(parts[-1], parts[-2] if len(parts) > 1 else None)))
    elif node.removeType in cascading and node.behavior == DropBehavior.DROP_CASCADE:
        what = cascading[node.removeType]
        effects.other_losses.extend(
            f"{what} {_object_name(names)} and everything that uses it (CASCADE)" for names in node.objects
        )


def _read_alter_table(node, effects: StatementEffects) -> None:
    from pglast.enums import AlterTableType, ObjectType

    if node.objtype != ObjectType.OBJECT_TABLE or node.relation is None:
        return
    table = _table(node.relation)
    for command in node.cmds or ():
        if command.subtype == AlterTableType.AT_DropColumn:
            effects.drops_columns.append(ColumnRef(table, command.name))
        elif command.subtype == AlterTableType.AT_AlterColumnType:
            effects.alters_columns.append(ColumnRef(table, command.name))


def _read_rename(node, effects: StatementEffects) -> None:
    from pglast.enums import ObjectType

    if node.relation is None:
        return
    if node.renameType == ObjectType.OBJECT_TABLE:
        effects.renames.append(Rename(_table(node.relation), node.newname))
    elif node.renameType == ObjectType.OBJECT_COLUMN:
        effects.renames.append(Rename(_table(node.relation), node.newname, column=node.subname))


def _read_delete(node, effects: StatementEffects) -> None:
    from pglast.stream import RawStream

    where = RawStream()(node.whereClause) if node.whereClause is not None else None
    effects.deletes.append(RowDeletion(_table(node.relation), where, countable=not node.usingClause))


def _read_update(node, effects: StatementEffects) -> None:
    """The table an UPDATE writes, and each ``SET column = expression`` with the columns it reads."""
    from pglast import ast, visitors

    table = _table(node.relation)
    effects.updates.append(table)
    for target in node.targetList or ():
        read: set[str] = set()

        class Columns(visitors.Visitor):
            def visit_ColumnRef(self, ancestors, ref):
                if isinstance(ref.fields[-1], ast.String):
                    read.add(ref.fields[-1].sval)

        Columns()(target.val)
        effects.column_copies.append(ColumnCopy(table, target.name, frozenset(read)))
        effects.updates_columns.append(ColumnRef(table, target.name))


def _read_merge(node, effects: StatementEffects) -> None:
    """``MERGE INTO t``: the rows of ``t`` its WHEN clauses update, insert or delete."""
    from pglast.enums import CmdType

    table = _table(node.relation)
    for clause in node.mergeWhenClauses or ():
        if clause.commandType == CmdType.CMD_UPDATE:
            effects.updates.append(table)
            effects.updates_columns.extend(ColumnRef(table, target.name) for target in clause.targetList or ())
        elif clause.commandType == CmdType.CMD_INSERT:
            effects.inserts.append(table)
        elif clause.commandType == CmdType.CMD_DELETE:
            effects.deletes.append(RowDeletion(table, None, countable=False))


def _read_insert(node, effects: StatementEffects) -> None:
    """``INSERT``, and the columns of ``ON CONFLICT ... DO UPDATE SET`` (an upsert updates rows)."""
    table = _table(node.relation)
    effects.inserts.append(table)
    conflict = node.onConflictClause
    if conflict is not None and conflict.targetList:
        effects.updates.append(table)
        effects.updates_columns.extend(ColumnRef(table, target.name) for target in conflict.targetList)


def _read_truncate(node, effects: StatementEffects) -> None:
    from pglast.enums import DropBehavior

    effects.truncates.extend(_table(r) for r in node.relations)
    if node.behavior == DropBehavior.DROP_CASCADE:
        effects.other_losses.append("every row of the tables referencing them (TRUNCATE ... CASCADE)")


def _read_create_table_as(node, effects: StatementEffects) -> None:
    if node.into is not None and node.into.rel is not None:
        effects.creates.append(_table(node.into.rel))


#: What each kind of node tells, by pglast node class name.
_READERS = {
    "DropStmt": _read_drop,
    "AlterTableStmt": _read_alter_table,
    "RenameStmt": _read_rename,
    "DeleteStmt": _read_delete,
    "TruncateStmt": _read_truncate,
    "UpdateStmt": _read_update,
    "InsertStmt": _read_insert,
    "MergeStmt": _read_merge,
    "CopyStmt": lambda node, effects: (
        effects.inserts.append(_table(node.relation)) if node.is_from and node.relation else None
    ),
    "CreateStmt": lambda node, effects: effects.creates.append(_table(node.relation)),
    "CreateTableAsStmt": _read_create_table_as,
}

#: The node kinds :meth:`PostgreSQLAnalyser.statement` reads wherever they are.
_WALKED = frozenset((*OPAQUE_STATEMENTS, "DropdbStmt", "DropOwnedStmt", *_READERS))
_KEYS: list[tuple[str, ...]] = []


def _walked_keys() -> tuple[str, ...]:
    """The JSON keys that show a read kind may be in a tree: each read kind's ``"Name"``, and the
    name of every node that holds one inline (a field typed ``CreateStmt``, as
    CreateForeignTableStmt's ``base``, has no ``"CreateStmt"`` key in libpg_query's JSON)."""
    if not _KEYS:
        from pglast import ast

        classes = [
            c for c in vars(ast).values() if isinstance(c, type) and isinstance(c.__dict__.get("__slots__"), dict)
        ]
        names = set(_WALKED)
        while True:
            holders = {
                c.__name__
                for c in classes
                if c.__name__ not in names and any(i.c_type.rstrip("*") in names for i in c.__slots__.values())
            }
            if not holders:
                break
            names |= holders
        _KEYS.append(tuple(f'"{name}"' for name in sorted(names)))
    return _KEYS[0]


def _read_nodes(tree, text: str | None):
    """The nodes of ``tree`` the analyser reads, depth first. ``text``: the libpg_query JSON the
    tree was built from: when the keys of :func:`_walked_keys` appear there no more often than the
    top-level statements of read kinds, those are all there is, and the walk of every node (a
    third of the analysis) is skipped. A key also found as a string value only makes it walk."""
    if text is not None:
        top = [raw.stmt for raw in tree if type(raw.stmt).__name__ in _WALKED]
        if sum(text.count(key) for key in _walked_keys()) == len(top):
            return top
    return _nodes(tree)


def make_analyser(db=None) -> PostgreSQLAnalyser:
    """The PostgreSQL analyser (the live database is not needed to read statements)."""
    return PostgreSQLAnalyser()
