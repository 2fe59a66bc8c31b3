"""PostgreSQL statements parsed by libpg_query (through pglast) into pglast's node classes, 20x
quicker than :func:`pglast.parse_sql`.

``pglast.parse_sql`` spends ~97% of its time validating each attribute it sets; libpg_query's own
JSON output (``pglast.parser.parse_sql_json``, ~10 µs a statement) holds the same tree. This
module builds the same nodes from that JSON without re-validating what the parser produced: the
result compares equal to ``pglast.parse_sql``'s (tests/analysis/test_postgresql_parse.py checks
it on the squawk and sqldef corpora), and any shape it does not know falls back to pglast.
"""

from __future__ import annotations

import json

_INT_CTYPES = frozenset(
    {"int", "int16", "int32", "uint32", "long", "Oid", "Index", "AttrNumber", "RelFileNumber", "SubTransactionId"}
)
#: A_Const's value keys in libpg_query's JSON, and the node class pglast puts in ``A_Const.val``.
_CONST_KEYS = {"ival": "Integer", "fval": "Float", "sval": "String", "boolval": "Boolean", "bsval": "BitString"}


class _Unknown(Exception):
    """A JSON shape this module does not build: the caller parses with pglast instead."""


def parse_sql(sql: str):
    """The raw statements of ``sql`` (a tuple of ``pglast.ast.RawStmt``), like ``pglast.parse_sql``;
    raises ``pglast.parser.ParseError`` for SQL PostgreSQL cannot read."""
    return parse_sql_and_json(sql)[0]


def parse_sql_and_json(sql: str) -> tuple:
    """``parse_sql(sql)`` and the libpg_query JSON it was built from (None when pglast built it):
    a node class's name is in that text as a ``"Name"`` key wherever the tree holds one, so a
    caller looking for a few kinds of node can skip walking a tree that has none."""
    import pglast
    from pglast.parser import parse_sql_json

    text = parse_sql_json(sql)
    data = json.loads(text)
    try:
        return tuple(_node("RawStmt", stmt) for stmt in data.get("stmts", ())), text
    except _Unknown:
        return pglast.parse_sql(sql), None


def _classes():
    global _AST, _ENUMS
    if _AST is None:
        from pglast import ast, enums

        _AST, _ENUMS = ast, enums
    return _AST, _ENUMS


_AST = None
_ENUMS = None


_PLANS: dict = {}


def _plan(cls):
    """Per node class, once: each JSON key's (slot, kind, extra), and every slot's default."""
    plan = _PLANS.get(cls)
    if plan is None:
        if not isinstance(cls.__slots__, dict):  # a node without typed slots: pglast builds it
            raise _Unknown(cls.__name__)
        _, enums = _classes()
        keys, defaults = {}, []
        for slot, info in cls.__slots__.items():
            ctype = info.c_type
            enum = getattr(enums, ctype, None)
            if ctype == "bool":
                kind, extra, default = "bool", None, False
            elif ctype == "List*":
                kind, extra, default = "list", None, None
            elif ctype == "Node*":
                kind, extra, default = "node", None, None
            elif ctype.endswith("*") and ctype != "char*":
                kind, extra, default = "struct", ctype[:-1], None
            elif enum is not None:
                kind, extra, default = "enum", enum, _first(enum)
            else:
                kind, extra = "plain", ctype
                default = 0 if ctype in _INT_CTYPES else ("\x00" if ctype == "char" else None)
            keys[slot[:-1] if slot.endswith("_") and slot[:-1] not in cls.__slots__ else slot] = (slot, kind, extra)
            defaults.append((slot, default))
        plan = _PLANS[cls] = (keys, defaults)
    return plan


def _first(enum):
    """An enum's value 0 (what a field libpg_query leaves out of its JSON holds), or None."""
    try:
        return enum(0)
    except ValueError:
        return None


_BY_NAME: dict = {}


def _node(name: str, fields: dict):
    found = _BY_NAME.get(name)
    if found is None:
        cls = getattr(_classes()[0], name, None)
        if cls is None:
            raise _Unknown(name)
        found = _BY_NAME[name] = (cls, None) if name == "A_Const" else (cls, *_plan(cls))
    if not isinstance(fields, dict):
        raise _Unknown(name)
    if name == "A_Const":
        return _const(found[0], fields)
    cls, keys, defaults = found
    node = object.__new__(cls)
    set_ = object.__setattr__
    for slot, default in defaults:
        set_(node, slot, default)
    for key, value in fields.items():
        found = keys.get(key)
        if found is None:
            raise _Unknown(f"{name}.{key}")
        slot, kind, extra = found
        if kind == "bool":
            value = bool(value)
        elif kind == "list":
            value = tuple(_wrapped(item) for item in value)
        elif kind == "node":
            value = _wrapped(value)
        elif kind == "struct" or (kind == "plain" and isinstance(value, dict)):
            if not isinstance(value, dict):
                raise _Unknown(f"{name}.{key}")
            value = _node(extra if kind == "struct" else extra, value)
        elif kind == "enum":
            value = extra[value] if isinstance(value, str) and len(value) > 1 else extra(value)
        set_(node, slot, value)
    return node


def _const(cls, fields: dict):
    node = object.__new__(cls)
    object.__setattr__(node, "isnull", bool(fields.get("isnull", False)))
    value = None
    for key, class_name in _CONST_KEYS.items():
        if key in fields:
            value = _node(class_name, fields[key])
    object.__setattr__(node, "val", value)
    return node


def _wrapped(value):
    """A ``{"ClassName": {...}}`` child, a ``List`` (a tuple) or a list of them."""
    if isinstance(value, list):
        return tuple(_wrapped(item) for item in value)
    if not isinstance(value, dict) or len(value) != 1:
        raise _Unknown("child")
    ((name, fields),) = value.items()
    if name == "List":
        return tuple(_wrapped(item) for item in fields.get("items", ()))
    return _node(name, fields)
