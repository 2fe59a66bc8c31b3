"""SQLite inspector: a live connection -> :class:`Schema`, from ``sqlite_schema`` and PRAGMAs.

PRAGMAs give columns, types, NOT NULL, defaults, primary keys, unique constraints and foreign
keys; the stored CREATE text (see :mod:`sqlite_tokens`) adds what no PRAGMA reports.
dbshift's bookkeeping tables and SQLite's internal tables are left out.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from dbshift.dialects.base import BOOKKEEPING_TABLES
from dbshift.dialects.sqlite_description import declared_type  # (the type read as a BLOB)
from dbshift.inspectors.sqlite_tokens import (
    Token,
    join_tokens,
    matching_paren,
    normalize,
    split_top_level,
    tokenize,
)
from dbshift.schema.model import (
    NO_ACTION,
    Check,
    Column,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    Schema,
    Table,
    Trigger,
    Unique,
    View,
)

HIDDEN_GENERATED_VIRTUAL = 2
HIDDEN_GENERATED_STORED = 3
COLUMN_CONSTRAINT_WORDS = {
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
}
TABLE_CONSTRAINT_WORDS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


def inspect_sqlite(connection) -> Schema:
    """Read the whole schema of the ``main`` database of a ``sqlite3`` connection."""
    rows = connection.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name"
    ).fetchall()
    skipped = {name.lower() for name in BOOKKEEPING_TABLES}
    catalog = _Catalog.read(connection)
    tables, views, triggers = [], [], []
    indexes: dict[str, list[Index]] = {}
    for kind, name, table_name, sql in rows:
        if name.lower().startswith("sqlite_") or table_name.lower() in skipped:
            continue
        if kind == "table":
            tables.append((name, sql))
        elif kind == "index":
            indexes.setdefault(table_name.lower(), []).append(_index(name, table_name, sql, catalog))
        elif kind == "view":
            views.append(View(name=name, sql=normalize(sql)))
        elif kind == "trigger":
            triggers.append(Trigger(name=name, table=table_name, sql=normalize(sql)))
    built = [
        _table(catalog, name, sql, tuple(indexes.get(name.lower(), ()))) for name, sql in tables if not _is_virtual(sql)
    ]
    return Schema.build(built, views, triggers, dialect="sqlite")


_VIRTUAL = re.compile(r"^\s*CREATE\s+VIRTUAL\s", re.IGNORECASE)


def _is_virtual(sql: str) -> bool:
    return bool(_VIRTUAL.match(sql))


@dataclass
class _Catalog:
    """Every table's PRAGMA rows, read with one query per PRAGMA (table-valued functions)."""

    columns: dict[str, list] = field(default_factory=dict)
    foreign_keys: dict[str, list] = field(default_factory=dict)
    unique_columns: dict[str, dict[str, list]] = field(default_factory=dict)
    options: dict[str, dict] = field(default_factory=dict)
    index_keys: dict[str, list] = field(default_factory=dict)

    @staticmethod
    def read(connection) -> "_Catalog":
        catalog = _Catalog()
        tables = "FROM sqlite_schema AS m, {pragma} AS p WHERE m.type = 'table'"
        for table, cid, name, declared, *rest in connection.execute(
            'SELECT m.name, p.cid, p.name, CAST(p.type AS BLOB), p."notnull", p.dflt_value, p.pk, p.hidden '
            + tables.format(pragma="pragma_table_xinfo(m.name)")
            + " ORDER BY m.name, p.cid"
        ):
            catalog.columns.setdefault(table, []).append((cid, name, declared_type(declared), *rest))
        for row in connection.execute("SELECT m.name, p.* " + tables.format(pragma="pragma_foreign_key_list(m.name)")):
            catalog.foreign_keys.setdefault(row[0], []).append(row[1:])
        for table, index, seqno, column in connection.execute(
            "SELECT m.name, p.name, i.seqno, i.name FROM sqlite_schema AS m, pragma_index_list(m.name) AS p, "
            "pragma_index_info(p.name) AS i WHERE m.type = 'table' AND p.origin = 'u' ORDER BY m.name, p.name, i.seqno"
        ):
            catalog.unique_columns.setdefault(table, {}).setdefault(index, []).append(column)
        for index, _seqno, column, descending in connection.execute(
            "SELECT m.name, p.seqno, p.name, p.desc "
            + tables.replace("'table'", "'index'").format(pragma="pragma_index_xinfo(m.name)")
            + " AND p.key = 1 ORDER BY m.name, p.seqno"
        ):
            catalog.index_keys.setdefault(index, []).append((column, bool(descending)))
        for name, without_rowid, strict in connection.execute(
            "SELECT name, wr, strict FROM pragma_table_list WHERE schema = 'main'"
        ):
            catalog.options[name] = {k: True for k, on in (("without_rowid", without_rowid), ("strict", strict)) if on}
        return catalog


# -- tables -------------------------------------------------------------------------------
@dataclass
class _ColumnText:
    """What the CREATE text says about one column beyond the PRAGMAs."""

    collation: str | None = None
    generated: str | None = None
    stored: bool = False
    pk_name: str | None = None
    autoincrement: bool = False


@dataclass
class _TableText:
    columns: dict[str, _ColumnText] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    uniques: dict[tuple, str | None] = field(default_factory=dict)
    foreign_keys: dict[tuple, tuple[str | None, str | None]] = field(default_factory=dict)
    pk_name: str | None = None


def _table(catalog: _Catalog, name: str, sql: str, indexes: tuple[Index, ...]) -> Table:
    text = _read_create_table(sql)
    info = catalog.columns.get(name, [])
    columns, pk_columns = [], []
    for _cid, column_name, declared, notnull, default, pk, hidden in info:
        extra = text.columns.get(column_name.lower(), _ColumnText())
        columns.append(
            Column(
                name=column_name,
                type=normalize_type(declared),
                nullable=not notnull,
                default=normalize(default),
                collation=extra.collation,
                generated=extra.generated if hidden in (HIDDEN_GENERATED_VIRTUAL, HIDDEN_GENERATED_STORED) else None,
                generated_stored=hidden == HIDDEN_GENERATED_STORED,
                hidden=hidden == 1,
            )
        )
        if pk:
            pk_columns.append((pk, column_name))
    primary_key = None
    if pk_columns:
        names = tuple(n for _, n in sorted(pk_columns))
        first = text.columns.get(names[0].lower(), _ColumnText())
        primary_key = PrimaryKey(
            columns=names,
            name=text.pk_name or (first.pk_name if len(names) == 1 else None),
            autoincrement=len(names) == 1 and first.autoincrement,
        )
    return Table(
        name=name,
        columns=tuple(columns),
        primary_key=primary_key,
        uniques=_uniques(catalog.unique_columns.get(name, {}), text),
        checks=tuple(sorted(text.checks, key=lambda c: (c.name or "", c.expression))),
        foreign_keys=_foreign_keys(catalog.foreign_keys.get(name, []), text),
        indexes=tuple(sorted(indexes, key=lambda i: i.name.lower())),
        options=catalog.options.get(name, {}),
    )


def _uniques(unique_indexes: dict[str, list], text: _TableText) -> tuple[Unique, ...]:
    uniques = {
        Unique(columns=tuple(columns), name=text.uniques.get(_key(columns))) for columns in unique_indexes.values()
    }
    return tuple(sorted(uniques, key=lambda u: (u.columns, u.name or "")))


def _foreign_keys(key_rows: list, text: _TableText) -> tuple[ForeignKey, ...]:
    grouped: dict[int, list] = {}
    for row in key_rows:
        grouped.setdefault(row[0], []).append(row)
    keys = []
    for rows in grouped.values():
        rows.sort(key=lambda r: r[1])
        columns = tuple(r[3] for r in rows)
        ref_columns = tuple(r[4] for r in rows if r[4] is not None)
        ref_table = rows[0][2]
        name, deferrable = text.foreign_keys.get((_key(columns), ref_table.lower()), (None, None))
        keys.append(
            ForeignKey(
                columns=columns,
                ref_table=ref_table,
                ref_columns=ref_columns,
                on_update=rows[0][5] or NO_ACTION,
                on_delete=rows[0][6] or NO_ACTION,
                deferrable=deferrable,
                name=name,
            )
        )
    return tuple(sorted(keys, key=lambda k: (k.columns, k.ref_table, k.ref_columns)))


def _key(columns) -> tuple:
    return tuple(c.lower() for c in columns)


@functools.lru_cache(maxsize=512)
def normalize_type(declared: str | None) -> str:
    """A declared type in upper case with normalized spacing (types repeat, hence the cache)."""
    return normalize(declared).upper() if declared else ""


# Words that introduce what only the CREATE text says (a name inside a string or identifier only
# makes the reader look closer; it never makes it miss anything).
_TEXT_ONLY_FACTS = re.compile(r"\b(?:CHECK|COLLATE|AS|GENERATED|CONSTRAINT|AUTOINCREMENT|DEFERRABLE)\b", re.IGNORECASE)


def _read_create_table(sql: str) -> _TableText:
    if not _TEXT_ONLY_FACTS.search(sql):
        return _TableText()
    tokens = tokenize(sql)
    start = next(i for i, t in enumerate(tokens) if t.kind == "op" and t.text == "(")
    end = matching_paren(tokens, start)
    text = _TableText()
    for item in split_top_level(tokens[start + 1 : end]):
        if item[0].kind == "word" and item[0].upper in TABLE_CONSTRAINT_WORDS:
            _read_table_constraint(item, text)
        else:
            _read_column(item, text)
    return text


def _read_column(item: list[Token], text: _TableText) -> None:
    column = _ColumnText()
    name = item[0].name
    text.columns[name.lower()] = column
    index = 1
    while index < len(item) and not (item[index].kind == "word" and item[index].upper in COLUMN_CONSTRAINT_WORDS):
        index = _skip_group(item, index)
    constraint_name = None
    while index < len(item):
        word = item[index].upper if item[index].kind == "word" else ""
        if word == "CONSTRAINT":
            constraint_name = item[index + 1].name
            index += 2
            continue
        if word == "PRIMARY":
            column.pk_name = constraint_name
            index += 2
            while index < len(item) and not _starts_constraint(item[index]):
                column.autoincrement |= item[index].is_word("AUTOINCREMENT")
                index += 1
        elif word == "UNIQUE":
            text.uniques[(name.lower(),)] = constraint_name
            index = _skip_clause(item, index + 1)
        elif word == "CHECK":
            close = matching_paren(item, index + 1)
            text.checks.append(Check(expression=join_tokens(item[index + 2 : close]), name=constraint_name))
            index = close + 1
        elif word == "COLLATE":
            column.collation = item[index + 1].name.upper()
            index += 2
        elif word in ("GENERATED", "AS"):
            index = _read_generated(item, index, column)
        elif word == "REFERENCES":
            index = _read_references(item, index, (name,), constraint_name, text)
        elif word == "DEFAULT":
            index = _skip_group(item, index + 1)
            if index < len(item) and item[index - 1].kind == "op" and item[index - 1].text in "+-":
                index = _skip_group(item, index)
        else:  # NOT NULL, NULL, conflict clauses
            index += 1
            continue
        constraint_name = None


def _read_generated(item: list[Token], index: int, column: _ColumnText) -> int:
    """``GENERATED ALWAYS AS (...)`` or ``AS (...)`` at ``index``; anything else is a word of the
    type's name, as SQLite reads it (``x GENERATED``, ``int GENERATED ALWAYS ASc(1)``)."""
    at = index + 2 if item[index].is_word("GENERATED") else index
    generated = (
        at + 1 < len(item)
        and item[at].is_word("AS")
        and (index == at or item[index + 1].is_word("ALWAYS"))
        and item[at + 1].kind == "op"
        and item[at + 1].text == "("
    )
    if not generated:
        return index + 1
    open_paren = at + 1
    close = matching_paren(item, open_paren)
    column.generated = join_tokens(item[open_paren + 1 : close])
    index = close + 1
    if index < len(item) and item[index].is_word("STORED", "VIRTUAL"):
        column.stored = item[index].is_word("STORED")
        index += 1
    return index


def _read_table_constraint(item: list[Token], text: _TableText) -> None:
    name = None
    index = 0
    if item[0].is_word("CONSTRAINT"):
        name = item[1].name
        index = 2
    word = item[index].upper
    if word == "CHECK":
        close = matching_paren(item, index + 1)
        text.checks.append(Check(expression=join_tokens(item[index + 2 : close]), name=name))
    elif word in ("PRIMARY", "UNIQUE"):
        open_paren = next(i for i in range(index, len(item)) if item[i].text == "(")
        columns = _column_list(item, open_paren)
        if word == "PRIMARY":
            text.pk_name = name
            if len(columns) == 1:
                column = text.columns.setdefault(columns[0].lower(), _ColumnText())
                column.autoincrement = any(t.is_word("AUTOINCREMENT") for t in item)
        else:
            text.uniques[_key(columns)] = name
    elif word == "FOREIGN":
        open_paren = index + 2
        columns = _column_list(item, open_paren)
        _read_references(item, matching_paren(item, open_paren) + 1, tuple(columns), name, text)


def _read_references(item: list[Token], index: int, columns: tuple, name: str | None, text: _TableText) -> int:
    ref_table = item[index + 1].name
    index += 2
    deferrable = None
    while index < len(item):
        token = item[index]
        following = item[index + 1] if index + 1 < len(item) else None
        if token.is_word("SET"):  # ON DELETE SET NULL / SET DEFAULT
            index += 2
            continue
        if token.is_word("NOT") and following is not None and following.is_word("DEFERRABLE"):
            index += 1
            continue
        if _starts_constraint(token):
            break
        if token.is_word("DEFERRABLE"):
            negated = item[index - 1].is_word("NOT")
            rest = [t.upper for t in item[index + 1 : index + 3]]
            initially = " ".join(rest) if rest[:1] == ["INITIALLY"] else ""
            deferrable = " ".join(w for w in ["NOT" if negated else "", "DEFERRABLE", initially] if w)
        index += 1
    text.foreign_keys[(_key(columns), ref_table.lower())] = (name, deferrable)
    return index


def _starts_constraint(token: Token) -> bool:
    return token.kind == "word" and token.upper in COLUMN_CONSTRAINT_WORDS


def _column_list(item: list[Token], open_paren: int) -> list[str]:
    close = matching_paren(item, open_paren)
    return [part[0].name for part in split_top_level(item[open_paren + 1 : close])]


def _skip_group(item: list[Token], index: int) -> int:
    """Index after one token, or after a whole parenthesised group."""
    if item[index].kind == "op" and item[index].text == "(":
        return matching_paren(item, index) + 1
    return index + 1


def _skip_clause(item: list[Token], index: int) -> int:
    while index < len(item) and not _starts_constraint(item[index]):
        index += 1
    return index


# -- indexes --------------------------------------------------------------------------------
_UNIQUE_INDEX = re.compile(r"^\s*CREATE\s+UNIQUE\s", re.IGNORECASE)
_BEYOND_PRAGMAS = re.compile(r"\b(?:COLLATE|WHERE)\b", re.IGNORECASE)


def _index(name: str, table: str, sql: str, catalog: _Catalog) -> Index:
    pragma_keys = catalog.index_keys.get(name, [])
    # PRAGMA index_xinfo names no column for an expression, and a quoted name no column has is
    # one to SQLite: the string literal ("a.b"); only plain columns need no reading of the text.
    expressions = [column is None for column, _ in pragma_keys]
    if sql.count("(") == 1 and not _BEYOND_PRAGMAS.search(sql) and not any(expressions):
        keys = tuple(IndexKey(column=column, descending=desc) for column, desc in pragma_keys)
        return Index(name=name, table=table, keys=keys, unique=bool(_UNIQUE_INDEX.match(sql)))
    tokens = tokenize(sql)
    unique = tokens[1].is_word("UNIQUE")
    open_paren = next(i for i, t in enumerate(tokens) if t.kind == "op" and t.text == "(")
    close = matching_paren(tokens, open_paren)
    parts = split_top_level(tokens[open_paren + 1 : close])
    keys = tuple(_index_key(part, expression=i < len(expressions) and expressions[i]) for i, part in enumerate(parts))
    where = None
    if close + 1 < len(tokens) and tokens[close + 1].is_word("WHERE"):
        where = join_tokens(tokens[close + 2 :])
    return Index(name=name, table=table, keys=keys, unique=unique, where=where)


def _index_key(part: list[Token], expression: bool = False) -> IndexKey:
    descending = False
    collation = None
    if part and part[-1].is_word("ASC", "DESC"):
        descending = part[-1].is_word("DESC")
        part = part[:-1]
    if len(part) >= 2 and part[-2].is_word("COLLATE"):
        collation = part[-1].name.upper()
        part = part[:-2]
    if len(part) == 1 and part[0].kind in ("word", "id") and not expression:
        return IndexKey(column=part[0].name, descending=descending, collation=collation)
    if len(part) == 1 and part[0].kind == "id":
        # a quoted name no column has, which SQLite indexes as a string: kept quoted as written
        # (in single quotes SQLite would look for a column of that name)
        quoted = '"' + part[0].name.replace('"', '""') + '"'
        return IndexKey(expression=quoted, descending=descending, collation=collation)
    return IndexKey(expression=join_tokens(part), descending=descending, collation=collation)


def inspect_database(db) -> Schema:
    """The schema of a :class:`SQLiteDatabase`."""
    return inspect_sqlite(db.connection)
