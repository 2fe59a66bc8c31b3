"""PostgreSQL rewrites for ``dbshift lint --fix``, built from pglast's parse tree and deparsed by
pglast (never by editing the SQL text):

- ``index-not-concurrent`` / ``drop-index-not-concurrent``: ``CONCURRENTLY`` (the migration
  becomes ``-- no-transaction``);
- ``constraint-not-valid``: ``ADD CONSTRAINT ... NOT VALID`` then ``VALIDATE CONSTRAINT`` (in
  a ``-- no-transaction`` migration, so the scan does not hold the ADD's lock);
- ``set-not-null``: ``CHECK (col IS NOT NULL) NOT VALID``, ``VALIDATE``, ``SET NOT NULL``, and
  the check dropped again;
- ``missing-lock-timeout``: ``SET lock_timeout`` before the first statement.

The rewrites that need their own transactions make the whole migration ``-- no-transaction``, so
they are made only when every statement of the migration is one of these schema changes (or a
``SET``): a migration that also moves data keeps its transaction and says what was not fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOCK_TIMEOUT = "2s"
NEEDS_OWN_TRANSACTIONS = frozenset(
    {"index-not-concurrent", "drop-index-not-concurrent", "constraint-not-valid", "set-not-null"}
)
FIXABLE = NEEDS_OWN_TRANSACTIONS | {"missing-lock-timeout"}


@dataclass
class Rewrite:
    """The new text of each statement to change (by index), and what the file needs around them."""

    statements: dict[int, str] = field(default_factory=dict)
    #: SQL to put before the first statement of the up.
    before: list[str] = field(default_factory=list)
    no_transaction: bool = False
    fixed: list[str] = field(default_factory=list)
    #: (code, line, why not) of findings left as they are.
    skipped: list[tuple[str, int, str]] = field(default_factory=list)


def _deparse(node) -> str:
    from pglast.stream import RawStream

    return RawStream()(node) + ";"


def _parse_one(sql: str):
    from pglast import parse_sql

    try:
        parsed = parse_sql(sql)
    except Exception:  # pglast.parser.ParseError: the finding says "not analysed" already
        return None
    return parsed[0].stmt if len(parsed) == 1 else None


def _only_schema_changes(statements: list[str]) -> bool:
    """Whether every statement is an index build/drop, an ALTER TABLE or a SET (safe to run one
    by one outside a transaction: no data change is left half-done)."""
    from pglast import ast
    from pglast.enums import ObjectType

    for sql in statements:
        node = _parse_one(sql)
        if isinstance(node, (ast.IndexStmt, ast.VariableSetStmt, ast.AlterTableStmt)):
            continue
        if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX:
            continue
        return False
    return True


def _concurrent(node):
    from pglast import ast
    from pglast.enums import ObjectType

    if isinstance(node, ast.IndexStmt) and not node.concurrent:
        node.concurrent = True
        return [node]
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX and not node.concurrent:
        if len(node.objects) != 1:
            return None  # DROP INDEX CONCURRENTLY takes one index
        node.concurrent = True
        return [node]
    return None


def _single_command(node, subtype):
    from pglast import ast

    if isinstance(node, ast.AlterTableStmt) and len(node.cmds) == 1 and node.cmds[0].subtype == subtype:
        return node.cmds[0]
    return None


def _validate(relation, name: str):
    from pglast import ast
    from pglast.enums import AlterTableType, ObjectType

    command = ast.AlterTableCmd(subtype=AlterTableType.AT_ValidateConstraint, name=name)
    return ast.AlterTableStmt(relation=relation, cmds=(command,), objtype=ObjectType.OBJECT_TABLE)


def _constraint_name(table: str, columns: list[str], suffix: str) -> str:
    """PostgreSQL's own default name (``table_col_fkey``), cut to 63 bytes."""
    return "_".join([table, *columns, suffix])[:63]


def _not_valid(node):
    from pglast.enums import AlterTableType, ConstrType

    command = _single_command(node, AlterTableType.AT_AddConstraint)
    constraint = command.def_ if command is not None else None
    if constraint is None or constraint.contype not in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK):
        return None
    if constraint.skip_validation:
        return None
    if not constraint.conname:
        foreign = constraint.contype == ConstrType.CONSTR_FOREIGN
        columns = [c.sval for c in constraint.fk_attrs or ()] if foreign else []
        constraint.conname = _constraint_name(node.relation.relname, columns, "fkey" if foreign else "check")
    constraint.skip_validation = True
    constraint.initially_valid = False
    return [node, _validate(node.relation, constraint.conname)]


def _checked_not_null(node):
    from pglast import ast
    from pglast.enums import AlterTableType, ConstrType, NullTestType, ObjectType

    command = _single_command(node, AlterTableType.AT_SetNotNull)
    if command is None:
        return None
    name = _constraint_name(node.relation.relname, [command.name], "not_null")
    test = ast.NullTest(
        arg=ast.ColumnRef(fields=(ast.String(sval=command.name),)), nulltesttype=NullTestType.IS_NOT_NULL
    )
    check = ast.Constraint(
        contype=ConstrType.CONSTR_CHECK,
        conname=name,
        raw_expr=test,
        skip_validation=True,
        initially_valid=False,
        is_enforced=True,
    )
    add = ast.AlterTableCmd(subtype=AlterTableType.AT_AddConstraint, def_=check)
    drop = ast.AlterTableCmd(subtype=AlterTableType.AT_DropConstraint, name=name)
    return [
        ast.AlterTableStmt(relation=node.relation, cmds=(add,), objtype=ObjectType.OBJECT_TABLE),
        _validate(node.relation, name),
        node,
        ast.AlterTableStmt(relation=node.relation, cmds=(drop,), objtype=ObjectType.OBJECT_TABLE),
    ]


REWRITERS = {
    "index-not-concurrent": _concurrent,
    "drop-index-not-concurrent": _concurrent,
    "constraint-not-valid": _not_valid,
    "set-not-null": _checked_not_null,
}


def _lock_timeout(local: bool) -> str:
    from pglast import ast
    from pglast.enums import VariableSetKind

    value = ast.A_Const(val=ast.String(sval=LOCK_TIMEOUT))
    node = ast.VariableSetStmt(kind=VariableSetKind.VAR_SET_VALUE, name="lock_timeout", args=(value,), is_local=local)
    return _deparse(node)


def rewrite(up: list[str], down: list[str], findings: list[tuple[str, int]], transactional: bool) -> Rewrite:
    """The rewrite of a migration whose up statements are ``up`` (and down ``down``) for
    ``findings`` (code, index of the up statement)."""
    result = Rewrite()
    wanted = [(code, index) for code, index in findings if code in NEEDS_OWN_TRANSACTIONS]
    can_leave_transaction = not transactional or (_only_schema_changes(up) and _only_schema_changes(down))
    for code, index in wanted:
        if not can_leave_transaction:
            why = "the migration also changes data: move this statement to a `-- no-transaction` migration of its own"
            result.skipped.append((code, index, why))
            continue
        node = _parse_one(result.statements.get(index, up[index]))
        nodes = REWRITERS[code](node) if node is not None else None
        if not nodes:
            result.skipped.append((code, index, "not a form the rewrite knows"))
            continue
        result.statements[index] = "\n".join(_deparse(n) for n in nodes)
        result.fixed.append(code)
        result.no_transaction = True
    for code, index in findings:
        if code == "missing-lock-timeout":
            result.before.append(_lock_timeout(local=transactional and not result.no_transaction))
            result.fixed.append(code)
    return result
