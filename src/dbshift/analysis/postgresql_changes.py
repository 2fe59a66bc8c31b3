"""The schema changes of PostgreSQL statements, read from ``pglast``'s tree (see
:class:`dbshift.analysis.effects.SchemaChange`): columns and their types, constraints and whether
they are added ``NOT VALID`` or ``USING INDEX``, index builds with or without ``CONCURRENTLY``,
transaction commands and settings. Called by :mod:`dbshift.analysis.postgresql` for each
top-level statement; pglast is already loaded then.
"""

from __future__ import annotations

import dataclasses

from dbshift.analysis.effects import SchemaChange, StatementEffects, TableName

#: Top-level statements that take no lock on an existing schema object.
NO_SCHEMA_LOCK = {
    "SelectStmt",
    "InsertStmt",
    "UpdateStmt",
    "DeleteStmt",
    "VariableSetStmt",
    "VariableShowStmt",
    "TransactionStmt",
    "ExplainStmt",
    "CreateStmt",
    "CreateTableAsStmt",
    "CopyStmt",
    "DoStmt",
    "CallStmt",
    "ExecuteStmt",
    "PrepareStmt",
    "DeallocateStmt",
    "CheckPointStmt",
    "NotifyStmt",
}
#: Functions whose value is fixed for the transaction (a default using them is computed once).
NON_VOLATILE_CALLS = {
    ("now", 0),
    ("transaction_timestamp", 0),
    ("current_timestamp", 0),
    ("current_date", 0),
    ("statement_timestamp", 0),
}
#: pglast's serial pseudo-types.
SERIAL_TYPES = {"serial", "serial4", "serial2", "serial8", "smallserial", "bigserial"}


def read_changes(node, effects: StatementEffects) -> None:
    """Add the schema changes of one top-level statement ``node`` to ``effects``."""
    name = type(node).__name__
    effects.locks_schema = effects.locks_schema or name not in NO_SCHEMA_LOCK
    reader = _CHANGE_READERS.get(name)
    if reader is not None:
        reader(node, effects.changes)
    repeat = _REPEAT_READERS.get(name)
    if repeat is not None:
        effects.repeat_fails.extend(repeat(node))


def type_name(type_node) -> str:
    """A column type's name: ``int4``, ``bpchar``, ``timestamp`` (pg_catalog types without the
    schema), ``my_schema.my_type`` for others."""
    parts = [part.sval for part in type_node.names]
    if len(parts) > 1 and parts[0] == "pg_catalog":
        parts = parts[1:]
    return ".".join(parts)


def _table(range_var) -> TableName:
    return TableName(range_var.relname, range_var.schemaname or None)


def _default_flags(expression) -> set[str]:
    """``default``, plus ``volatile_default`` when the default calls a function that may give a
    different value on every row (anything but ``now()`` and its kin)."""
    from pglast import ast

    flags = {"default"}
    from dbshift.analysis.postgresql_nodes import nodes as _nodes

    for node in _nodes(expression):
        if isinstance(node, ast.FuncCall):
            function = node.funcname[-1].sval.lower()
            if (function, len(node.args or ())) not in NON_VOLATILE_CALLS:
                flags.add("volatile_default")
    return flags


def _column_change(kind: str, table: TableName, column) -> SchemaChange:
    """A column definition (``CREATE TABLE`` or ``ADD COLUMN``) as a change with its facts."""
    from pglast.enums import ConstrType

    flags: set[str] = set()
    type_ = type_name(column.typeName) if column.typeName is not None else None
    if type_ in SERIAL_TYPES:
        flags.update({"serial", "default"})
    if column.typeName is not None and column.typeName.arrayBounds:
        flags.add("array")
    if column.is_not_null:
        flags.add("not_null")
    if column.identity and column.identity != "\x00":
        flags.update({"identity", "default"})
    for constraint in column.constraints or ():
        kind_ = constraint.contype
        if kind_ == ConstrType.CONSTR_NOTNULL:
            flags.add("not_null")
        elif kind_ == ConstrType.CONSTR_DEFAULT:
            flags |= _default_flags(constraint.raw_expr)
        elif kind_ == ConstrType.CONSTR_PRIMARY:
            flags.update({"primary_key", "not_null"})
        elif kind_ == ConstrType.CONSTR_UNIQUE:
            flags.add("unique")
        elif kind_ == ConstrType.CONSTR_FOREIGN:
            flags.add("references")
        elif kind_ == ConstrType.CONSTR_IDENTITY:
            flags.update({"identity", "default"})
        elif kind_ == ConstrType.CONSTR_GENERATED:
            flags.update({"stored_generated", "default"})
    return SchemaChange(kind, table, column.colname, type_, frozenset(flags))


def _constraint_change(table: TableName, constraint) -> SchemaChange:
    from pglast import ast
    from pglast.enums import ConstrType, NullTestType

    kinds = {
        ConstrType.CONSTR_FOREIGN: "foreign_key",
        ConstrType.CONSTR_CHECK: "check",
        ConstrType.CONSTR_UNIQUE: "unique",
        ConstrType.CONSTR_PRIMARY: "primary_key",
    }
    flags = {kinds[constraint.contype]} if constraint.contype in kinds else set()
    if constraint.skip_validation:
        flags.add("not_valid")
    if constraint.indexname:
        flags.add("using_index")
    columns: tuple[str, ...] = ()
    expression = constraint.raw_expr
    if (
        constraint.contype == ConstrType.CONSTR_CHECK
        and isinstance(expression, ast.NullTest)
        and expression.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expression.arg, ast.ColumnRef)
    ):
        columns = (expression.arg.fields[-1].sval,)
    elif constraint.keys:
        columns = tuple(key.sval for key in constraint.keys)
    elif constraint.fk_attrs:
        columns = tuple(key.sval for key in constraint.fk_attrs)
    references = _table(constraint.pktable) if constraint.pktable is not None else None
    referenced = tuple(key.sval for key in constraint.pk_attrs or ())
    condition = None
    if constraint.contype == ConstrType.CONSTR_CHECK and expression is not None:
        from pglast.stream import RawStream

        condition = RawStream()(expression)
    return SchemaChange(
        "add_constraint", table, constraint.conname, None, frozenset(flags), columns, references, referenced, condition
    )


def _read_create(node, changes: list[SchemaChange]) -> None:
    from pglast import ast

    table = _table(node.relation)
    flags = {"if_not_exists"} if node.if_not_exists else set()
    if node.relation.relpersistence == "t":
        flags.add("temporary")
    changes.append(SchemaChange("create_table", table, flags=frozenset(flags)))
    keys: set[str] = set()
    for element in node.tableElts or ():
        if isinstance(element, ast.Constraint) and element.keys:
            keys.update(key.sval for key in element.keys)
        if isinstance(element, ast.Constraint) and element.fk_attrs:
            keys.update(key.sval for key in element.fk_attrs)
    for element in node.tableElts or ():
        if isinstance(element, ast.ColumnDef):
            change = _column_change("column", table, element)
            if element.colname in keys:
                change = SchemaChange("column", table, change.name, change.type_name, change.flags | {"references"})
            changes.append(change)


def _read_alter_table(node, changes: list[SchemaChange]) -> None:
    from pglast.enums import AlterTableType as T
    from pglast.enums import ObjectType

    if node.objtype != ObjectType.OBJECT_TABLE or node.relation is None:
        return
    table = _table(node.relation)
    simple = {
        T.AT_SetNotNull: "set_not_null",
        T.AT_DropNotNull: "drop_not_null",
        T.AT_ValidateConstraint: "validate_constraint",
        T.AT_DropConstraint: "drop_constraint",
    }
    for command in node.cmds or ():
        if command.subtype == T.AT_AddColumn:
            change = _column_change("add_column", table, command.def_)
            if command.missing_ok:
                change = dataclasses.replace(change, flags=change.flags | {"if_not_exists"})
            changes.append(change)
        elif command.subtype == T.AT_AlterColumnType:
            changes.append(_type_change(table, command))
        elif command.subtype == T.AT_ColumnDefault:
            changes.append(SchemaChange("drop_default" if command.def_ is None else "set_default", table, command.name))
        elif command.subtype == T.AT_AddConstraint:
            changes.append(_constraint_change(table, command.def_))
        elif command.subtype in simple:
            changes.append(SchemaChange(simple[command.subtype], table, command.name))
        elif command.subtype in (T.AT_SetLogged, T.AT_SetUnLogged, T.AT_SetAccessMethod, T.AT_SetTableSpace):
            changes.append(SchemaChange("table_option", table, command.subtype.name, flags=frozenset({"copies_rows"})))


def _type_change(table: TableName, command) -> SchemaChange:
    """``ALTER COLUMN ... TYPE``: the new type (name, SQL text, arguments), and ``custom_using``
    when a ``USING`` computes the values from more than the column itself (a plain cast is not)."""
    from pglast import ast
    from pglast.stream import RawStream

    type_node, using = command.def_.typeName, command.def_.raw_default
    if isinstance(using, ast.TypeCast):
        using = using.arg
    plain = using is None or (
        isinstance(using, ast.ColumnRef)
        and isinstance(using.fields[-1], ast.String)
        and using.fields[-1].sval == command.name
    )
    arguments = tuple(
        m.val.ival for m in type_node.typmods or () if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)
    )
    return SchemaChange(
        "alter_column_type",
        table,
        command.name,
        type_name(type_node),
        frozenset() if plain else frozenset({"custom_using"}),
        type_sql=RawStream()(type_node),
        type_args=arguments,
    )


def _read_index(node, changes: list[SchemaChange]) -> None:
    flags = {flag for flag, on in (("concurrently", node.concurrent), ("unique", node.unique)) if on}
    if node.if_not_exists:
        flags.add("if_not_exists")
    names = [element.name for element in node.indexParams or ()]
    columns = tuple(names) if all(names) and node.whereClause is None else ()  # expressions, partial: unknown
    changes.append(
        SchemaChange("create_index", _table(node.relation), node.idxname, flags=frozenset(flags), columns=columns)
    )


def _read_drop(node, changes: list[SchemaChange]) -> None:
    from pglast.enums import ObjectType

    if node.removeType == ObjectType.OBJECT_INDEX:
        flags = frozenset({"concurrently"} if node.concurrent else ()) | ({"if_exists"} if node.missing_ok else set())
        for names in node.objects:
            changes.append(SchemaChange("drop_index", None, ".".join(part.sval for part in names), flags=flags))


def _read_transaction(node, changes: list[SchemaChange]) -> None:
    from pglast.enums import TransactionStmtKind as K

    kinds = {
        K.TRANS_STMT_BEGIN: "begin",
        K.TRANS_STMT_START: "begin",
        K.TRANS_STMT_COMMIT: "commit",
        K.TRANS_STMT_ROLLBACK: "rollback",
        K.TRANS_STMT_PREPARE: "commit",
    }
    if node.kind in kinds:
        changes.append(SchemaChange("transaction", name=kinds[node.kind], flags=frozenset({kinds[node.kind]})))


def _read_set(node, changes: list[SchemaChange]) -> None:
    if node.name:
        changes.append(SchemaChange("set", name=node.name.lower()))


def _repeat_create(node) -> list[str]:
    """CREATE TABLE / SEQUENCE without IF NOT EXISTS (a temporary table goes with its session)."""
    relation = node.relation if hasattr(node, "relation") else node.sequence
    if node.if_not_exists or relation.relpersistence == "t":
        return []
    what = "TABLE" if type(node).__name__ == "CreateStmt" else "SEQUENCE"
    return [f"CREATE {what} {_table(relation)} without IF NOT EXISTS"]


def _repeat_index(node) -> list[str]:
    """A named CREATE INDEX: without IF NOT EXISTS it fails again; CONCURRENTLY that failed leaves
    an INVALID index of that name, which IF NOT EXISTS would keep. (An unnamed one gets a new name.)"""
    if not node.idxname:
        return []
    if node.concurrent:
        return [f"CREATE INDEX CONCURRENTLY {node.idxname} without DROP INDEX CONCURRENTLY IF EXISTS before it"]
    return [] if node.if_not_exists else [f"CREATE INDEX {node.idxname} without IF NOT EXISTS"]


def _repeat_drop(node) -> list[str]:
    if node.missing_ok:
        return []
    what = node.removeType.name.removeprefix("OBJECT_").replace("_", " ")
    return [f"DROP {what} {_dotted(names)} without IF EXISTS" for names in node.objects]


def _dotted(names) -> str:
    """A dropped object's name: ``schema.name``, or a type name as SQL."""
    from pglast.stream import RawStream

    if isinstance(names, tuple):
        return ".".join(getattr(part, "sval", "?") for part in names)
    return names.sval if hasattr(names, "sval") else RawStream()(names)


def _repeat_alter(node) -> list[str]:
    from pglast.enums import AlterTableType as T

    if node.relation is None:
        return []
    reasons = []
    for command in node.cmds or ():
        if command.subtype == T.AT_AddColumn and not command.missing_ok:
            reasons.append(f"ADD COLUMN {command.def_.colname} without IF NOT EXISTS")
        elif command.subtype == T.AT_DropColumn and not command.missing_ok:
            reasons.append(f"DROP COLUMN {command.name} without IF EXISTS")
    return reasons


def _repeat_rename(node) -> list[str]:
    from pglast.enums import ObjectType

    if node.missing_ok or node.relation is None:
        return []
    if node.renameType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN):
        old = node.subname if node.renameType == ObjectType.OBJECT_COLUMN else _table(node.relation)
        return [f"RENAME of {old} (the old name is gone when it runs again)"]
    return []


#: Why a statement fails when it runs again, by node class name.
_REPEAT_READERS = {
    "CreateStmt": _repeat_create,
    "CreateSeqStmt": _repeat_create,
    "IndexStmt": _repeat_index,
    "DropStmt": _repeat_drop,
    "AlterTableStmt": _repeat_alter,
    "RenameStmt": _repeat_rename,
}

_CHANGE_READERS = {
    "CreateStmt": _read_create,
    "AlterTableStmt": _read_alter_table,
    "IndexStmt": _read_index,
    "DropStmt": _read_drop,
    "TransactionStmt": _read_transaction,
    "VariableSetStmt": _read_set,
}
