"""The schema changes of MySQL/MariaDB statements, read from ``sqlglot``'s tree (see
:class:`dbshift.analysis.effects.SchemaChange`): columns and their types, constraints, index
builds, ``ALGORITHM=``/``LOCK=`` options, transaction commands and settings. Called by
:mod:`dbshift.analysis.mysql` for each parsed statement; sqlglot is already loaded then.
"""

from __future__ import annotations

import dataclasses

from dbshift.analysis.effects import SchemaChange, StatementEffects, TableName

#: Statement classes (sqlglot expression names) that take a lock on an existing schema object.
SCHEMA_LOCKING = {"Alter", "Drop", "TruncateTable", "Command"}
#: Defaults that are the same for every row (besides literals).
CONSTANT_DEFAULT_CALLS = {"CURRENTTIMESTAMP", "CURRENTDATE", "CURRENTTIME"}


def read_changes(expression, effects: StatementEffects) -> None:
    """Add the schema changes of one parsed statement to ``effects``."""
    from sqlglot import exp

    name = type(expression).__name__
    is_index = isinstance(expression, exp.Create) and str(expression.args.get("kind") or "").upper() == "INDEX"
    effects.locks_schema = effects.locks_schema or name in SCHEMA_LOCKING or is_index
    if isinstance(expression, exp.Create):
        _read_create(expression, effects.changes)
    elif isinstance(expression, exp.Alter):
        _read_alter(expression, effects.changes)
    elif isinstance(expression, exp.Drop) and str(expression.args.get("kind") or "").upper() == "INDEX":
        flags = frozenset({"if_exists"} if expression.args.get("exists") else ())
        for index in expression.args.get("tables") or ():
            effects.changes.append(SchemaChange("drop_index", None, index.name, flags=flags))
    elif isinstance(expression, (exp.Transaction, exp.Commit, exp.Rollback)):
        kind = {exp.Transaction: "begin", exp.Commit: "commit", exp.Rollback: "rollback"}[type(expression)]
        effects.changes.append(SchemaChange("transaction", name=kind, flags=frozenset({kind})))
    elif isinstance(expression, exp.Set):
        for item in expression.expressions:
            target = item.this.this if isinstance(item.this, exp.EQ) else item.this
            if target is not None:
                effects.changes.append(SchemaChange("set", name=target.sql(dialect="mysql").lower()))
    effects.repeat_fails.extend(_repeat_fails(expression))


def _table(table) -> TableName:
    return TableName(table.name, table.db or None)


def _repeat_fails(expression) -> list[str]:
    """Why the statement fails when it runs again: CREATE without IF NOT EXISTS, DROP without IF
    EXISTS, ADD/DROP COLUMN without them (MariaDB has both), a rename (the old name is gone) without
    MariaDB's IF EXISTS. An ADD COLUMN of a name that the same ALTER TABLE drops with IF EXISTS
    before it runs again (MariaDB reads IF NOT EXISTS against the table before the statement, so
    that ADD has none)."""
    from sqlglot import exp

    kind = str(expression.args.get("kind") or "").upper()
    if isinstance(expression, exp.Create) and kind in ("TABLE", "INDEX", "VIEW") and not expression.args.get("exists"):
        if expression.args.get("replace") or _temporary(expression):
            return []
        name = expression.this.this if isinstance(expression.this, (exp.Schema, exp.Index)) else expression.this
        return [f"CREATE {kind} {name.sql(dialect='mysql')} without IF NOT EXISTS"]
    if isinstance(expression, exp.Drop) and not expression.args.get("exists"):
        names = ", ".join(t.sql(dialect="mysql") for t in expression.args.get("tables") or ())
        return [f"DROP {kind} {names} without IF EXISTS"]
    if not isinstance(expression, exp.Alter) or kind != "TABLE":
        return []
    reasons, dropped = [], set()
    for action in expression.args.get("actions") or ():
        guarded = bool(action.args.get("exists"))
        if isinstance(action, exp.ColumnDef) and not guarded and action.name.lower() not in dropped:
            reasons.append(f"ADD COLUMN {action.name} without IF NOT EXISTS")
        elif isinstance(action, exp.Drop) and not guarded:
            names = ", ".join(c.name for c in action.args.get("tables") or ())
            reasons.append(f"DROP {str(action.args.get('kind') or '').upper()} {names} without IF EXISTS".strip())
        elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
            dropped |= {c.name.lower() for c in action.args.get("tables") or ()}
        elif (
            isinstance(action, exp.AlterRename)
            or (isinstance(action, exp.RenameColumn) and not guarded)
            or (
                isinstance(action, exp.ModifyColumn)
                and not guarded
                and action.args.get("rename_from") is not None
                and action.args["rename_from"].name != action.this.name
            )
        ):
            reasons.append("a rename (the old name is gone when it runs again)")
    return reasons


def _temporary(create) -> bool:
    from sqlglot import exp

    properties = create.args.get("properties")
    return properties is not None and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)


def _type_name(data_type) -> str | None:
    """The column type as MySQL names it, lower case (``int``, ``bigint``, ``datetime``, ``enum``)."""
    if data_type is None:
        return None
    return data_type.sql(dialect="mysql").split("(")[0].strip().lower()


def _column_change(kind: str, table: TableName, column) -> SchemaChange:
    from sqlglot import exp

    flags: set[str] = set()
    type_ = _type_name(column.args.get("kind"))
    if type_ == "enum":
        flags.add("enum")
    for constraint in column.args.get("constraints") or ():
        found = constraint.args.get("kind")
        if isinstance(found, exp.NotNullColumnConstraint) and not found.args.get("allow_null"):
            flags.add("not_null")
        elif isinstance(found, exp.DefaultColumnConstraint):
            flags.add("default")
            calls = [f for f in found.find_all(exp.Func) if type(f).__name__.upper() not in CONSTANT_DEFAULT_CALLS]
            if calls:
                flags.add("volatile_default")
        elif isinstance(found, exp.PrimaryKeyColumnConstraint):
            flags.update({"primary_key", "not_null"})
        elif isinstance(found, exp.UniqueColumnConstraint):
            flags.add("unique")
        elif isinstance(found, exp.AutoIncrementColumnConstraint):
            flags.update({"serial", "default"})
        elif isinstance(found, exp.ComputedColumnConstraint) and found.args.get("persisted"):
            flags.update({"stored_generated", "default"})
        elif isinstance(found, exp.Reference):
            flags.add("references")
    return SchemaChange(kind, table, column.name, type_, frozenset(flags))


def _read_create(create, changes: list[SchemaChange]) -> None:
    from sqlglot import exp

    kind = str(create.args.get("kind") or "").upper()
    if kind == "INDEX" and isinstance(create.this, exp.Index) and create.this.args.get("table") is not None:
        flags = frozenset({"unique"} if create.args.get("unique") else ()) | (
            {"if_not_exists"} if create.args.get("exists") else set()
        )
        params = create.this.args.get("params")
        columns = _plain_columns(params.args.get("columns") or () if params is not None else ())
        changes.append(
            SchemaChange(
                "create_index", _table(create.this.args["table"]), create.this.name, flags=flags, columns=columns
            )
        )
    if kind != "TABLE" or not isinstance(create.this, exp.Schema):
        return
    table = _table(create.this.this)
    flags = {"if_not_exists"} if create.args.get("exists") else set()
    if _temporary(create):
        flags.add("temporary")
    changes.append(SchemaChange("create_table", table, flags=frozenset(flags)))
    keys = {
        column.name
        for element in create.this.expressions
        if isinstance(element, (exp.PrimaryKey, exp.ForeignKey))
        for column in element.expressions
    }
    for element in create.this.expressions:
        if isinstance(element, exp.ColumnDef):
            change = _column_change("column", table, element)
            if change.name in keys:
                change = SchemaChange("column", table, change.name, change.type_name, change.flags | {"references"})
            changes.append(change)


def _options(alter) -> frozenset[str]:
    """``ALGORITHM=...`` and ``LOCK=...`` of an ALTER TABLE as flags (``algorithm_instant``, ``lock_none``)."""
    from sqlglot import exp

    flags = set()
    for option in alter.args.get("options") or ():
        prefix = {exp.AlgorithmProperty: "algorithm", exp.LockProperty: "lock"}.get(type(option))
        if prefix is not None:
            flags.add(f"{prefix}_{option.name.lower()}")
    return frozenset(flags)


def _read_alter(alter, changes: list[SchemaChange]) -> None:
    from sqlglot import exp

    if str(alter.args.get("kind") or "").upper() != "TABLE":
        return
    table, options = _table(alter.this), _options(alter)
    for action in alter.args.get("actions") or ():
        if isinstance(action, exp.ColumnDef):
            change = _column_change("add_column", table, action)
            if action.args.get("exists"):
                change = dataclasses.replace(change, flags=change.flags | {"if_not_exists"})
        elif isinstance(action, exp.ModifyColumn):
            column = _column_change("alter_column_type", table, action.this)
            data_type = action.this.args.get("kind")
            change = SchemaChange(
                "alter_column_type",
                table,
                column.name,
                column.type_name,
                column.flags,
                type_sql=data_type.sql(dialect="mysql") if data_type is not None else None,
                type_args=_type_arguments(data_type),
            )
        elif isinstance(action, exp.AlterColumn) and action.args.get("drop"):
            change = SchemaChange("drop_default", table, action.name)
        elif isinstance(action, exp.AlterColumn) and action.args.get("default") is not None:
            change = SchemaChange("set_default", table, action.name)
        elif isinstance(action, exp.AddConstraint):
            change = _constraint_change(table, action)
        elif isinstance(action, exp.DropPrimaryKey) or _drops_primary_index(action):
            change = SchemaChange("drop_constraint", table, "PRIMARY", flags=frozenset({"primary_key"}))
        else:
            continue
        changes.append(dataclasses.replace(change, flags=change.flags | options))


def _drops_primary_index(action) -> bool:
    """``DROP INDEX `PRIMARY``` (MariaDB and MySQL drop the primary key so, with IF EXISTS on MariaDB)."""
    from sqlglot import exp

    return (
        isinstance(action, exp.Drop)
        and str(action.args.get("kind") or "").upper() in ("INDEX", "KEY")
        and [t.name.upper() for t in action.args.get("tables") or ()] == ["PRIMARY"]
    )


def _type_arguments(data_type) -> tuple[int, ...]:
    """The numbers in a type's parentheses (``DECIMAL(10, 2)``: (10, 2)); () when there are none."""
    from sqlglot import exp

    if data_type is None:
        return ()
    numbers = []
    for parameter in data_type.expressions:
        value = parameter.this if isinstance(parameter, exp.DataTypeParam) else parameter
        if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
            numbers.append(int(value.this))
    return tuple(numbers)


def _constraint_change(table: TableName, action) -> SchemaChange:
    from sqlglot import exp

    flags: set[str] = set()
    for found in action.walk():
        if isinstance(found, (exp.PrimaryKey, exp.PrimaryKeyColumnConstraint)):
            flags.add("primary_key")
        elif isinstance(found, exp.ForeignKey):
            flags.add("foreign_key")
        elif isinstance(found, exp.UniqueColumnConstraint):
            flags.add("unique")
        elif isinstance(found, exp.CheckColumnConstraint):
            flags.add("check")
    if not flags and any(isinstance(found, exp.IndexColumnConstraint) for found in action.walk()):
        return SchemaChange("create_index", table, None)
    name = next((c.name for c in action.expressions if isinstance(c, exp.Constraint)), None)
    columns: tuple[str, ...] = ()
    references, referenced, condition = None, (), None
    unique = next(action.find_all(exp.UniqueColumnConstraint), None)
    foreign = next(action.find_all(exp.ForeignKey), None)
    check = next(action.find_all(exp.CheckColumnConstraint), None)
    if unique is not None and isinstance(unique.this, exp.Schema):
        columns = _plain_columns(unique.this.expressions)
    elif foreign is not None:
        columns = _plain_columns(foreign.expressions)
        target = foreign.args.get("reference")
        target = target.this if target is not None else None
        if isinstance(target, exp.Schema) and isinstance(target.this, exp.Table):
            references, referenced = _table(target.this), _plain_columns(target.expressions)
    elif check is not None and check.this is not None:
        condition = check.this.sql(dialect="mysql")
    return SchemaChange(
        "add_constraint", table, name, None, frozenset(flags), columns, references, referenced, condition
    )


def _plain_columns(items) -> tuple[str, ...]:
    """The column names of index items; () when one is an expression (then unknown)."""
    from sqlglot import exp

    names = []
    for item in items:
        item = item.this if isinstance(item, exp.Ordered) else item
        if not isinstance(item, (exp.Column, exp.Identifier)):
            return ()
        names.append(item.name)
    return tuple(names)
