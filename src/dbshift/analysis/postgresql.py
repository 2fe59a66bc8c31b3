"""PostgreSQL statements read by PostgreSQL's own parser (``pglast``, imported on first use).

The parser folds unquoted names to lower case and unescapes quoted ones, so the names in the
effects are the ones the server uses. Statements inside a ``WITH`` (``WITH d AS (DELETE ...)``)
are found wherever they are in the tree.
"""

from __future__ import annotations

from dbshift.analysis.base import Analyser
from dbshift.analysis.effects import (
    ColumnRef,
    DroppedTable,
    Rename,
    RowDeletion,
    StatementEffects,
    TableName,
)

#: Statements whose effect depends on code the parser does not see.
OPAQUE_STATEMENTS = {"DoStmt": "a DO block runs code", "CallStmt": "CALL runs a procedure",
                     "ExecuteStmt": "EXECUTE runs a prepared statement", "LoadStmt": "LOAD loads a library"}


class PostgreSQLAnalyser(Analyser):
    """Reads PostgreSQL statements with ``pglast``."""

    dialect = "postgresql"

    def __init__(self) -> None:
        import pglast  # noqa: F401 - loaded here, never at start-up

    def statement(self, sql: str) -> StatementEffects:
        """The effects of ``sql`` (one statement, or several in one text)."""
        import pglast
        from pglast.parser import ParseError

        effects = StatementEffects(sql)
        try:
            effects.tree = pglast.parse_sql(sql)
        except ParseError as exc:
            effects.unreadable = f"PostgreSQL's parser cannot read it: {exc}"
            return effects
        _EffectsVisitor(effects)(effects.tree)
        return effects


def _table(range_var) -> TableName:
    return TableName(range_var.relname, range_var.schemaname or None)


def _object_name(names) -> str:
    """A dropped object's name: a name, a list of name parts or a type name."""
    from pglast.stream import RawStream

    if isinstance(names, tuple):
        return ".".join(getattr(part, "sval", "?") for part in names)
    return names.sval if hasattr(names, "sval") else RawStream()(names)


def _visitor_class():
    from pglast import enums
    from pglast.stream import RawStream
    from pglast.visitors import Visitor

    droppable_with_cascade = {enums.ObjectType.OBJECT_SCHEMA: "schema", enums.ObjectType.OBJECT_TYPE: "type",
                              enums.ObjectType.OBJECT_DOMAIN: "domain", enums.ObjectType.OBJECT_EXTENSION: "extension"}

    class EffectsVisitor(Visitor):
        """Fills a :class:`StatementEffects` from every node of interest in the tree."""

        def __init__(self, effects: StatementEffects):
            super().__init__()
            self.effects = effects

        def visit(self, ancestors, node):
            name = type(node).__name__
            if name in OPAQUE_STATEMENTS:
                self.effects.unreadable = OPAQUE_STATEMENTS[name] + ", whose effect cannot be read"
            elif name in ("DropdbStmt", "DropOwnedStmt"):
                self.effects.other_losses.append("a database or everything a role owns")

        def visit_DropStmt(self, ancestors, node):
            kind = node.removeType
            if kind == enums.ObjectType.OBJECT_TABLE:
                for names in node.objects:
                    parts = [part.sval for part in names]
                    self.effects.drops.append(DroppedTable(TableName(parts[-1], parts[-2] if len(parts) > 1 else None)))
            elif kind in droppable_with_cascade and node.behavior == enums.DropBehavior.DROP_CASCADE:
                what = droppable_with_cascade[kind]
                for names in node.objects:
                    self.effects.other_losses.append(f"{what} {_object_name(names)} and everything that uses it (CASCADE)")

        def visit_AlterTableStmt(self, ancestors, node):
            if node.objtype != enums.ObjectType.OBJECT_TABLE or node.relation is None:
                return
            table = _table(node.relation)
            for command in node.cmds or ():
                if command.subtype == enums.AlterTableType.AT_DropColumn:
                    self.effects.drops_columns.append(ColumnRef(table, command.name))
                elif command.subtype == enums.AlterTableType.AT_AlterColumnType:
                    self.effects.alters_columns.append(ColumnRef(table, command.name))

        def visit_RenameStmt(self, ancestors, node):
            if node.relation is None:
                return
            if node.renameType == enums.ObjectType.OBJECT_TABLE:
                self.effects.renames.append(Rename(_table(node.relation), node.newname))
            elif node.renameType == enums.ObjectType.OBJECT_COLUMN:
                self.effects.renames.append(Rename(_table(node.relation), node.newname, column=node.subname))

        def visit_DeleteStmt(self, ancestors, node):
            table = _table(node.relation)
            where = RawStream()(node.whereClause) if node.whereClause is not None else None
            self.effects.deletes.append(RowDeletion(table, where, countable=not node.usingClause))

        def visit_TruncateStmt(self, ancestors, node):
            self.effects.truncates.extend(_table(r) for r in node.relations)
            if node.behavior == enums.DropBehavior.DROP_CASCADE:
                self.effects.other_losses.append("every row of the tables referencing them (TRUNCATE ... CASCADE)")

        def visit_UpdateStmt(self, ancestors, node):
            self.effects.updates.append(_table(node.relation))

        def visit_CreateStmt(self, ancestors, node):
            self.effects.creates.append(_table(node.relation))

        def visit_CreateTableAsStmt(self, ancestors, node):
            if node.into is not None and node.into.rel is not None:
                self.effects.creates.append(_table(node.into.rel))

    return EffectsVisitor


_visitor = None


def _EffectsVisitor(effects: StatementEffects):
    global _visitor
    if _visitor is None:
        _visitor = _visitor_class()
    return _visitor(effects)


def make_analyser(db=None) -> PostgreSQLAnalyser:
    """The PostgreSQL analyser (the live database is not needed to read statements)."""
    return PostgreSQLAnalyser()
