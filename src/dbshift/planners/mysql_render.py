"""MySQL/MariaDB rendering: column, key, index and table definitions as ``SHOW CREATE TABLE`` writes them."""

from __future__ import annotations

import re
from dataclasses import replace

from dbshift.planners.mysql_objects import literal, partition_clause, quote
from dbshift.planners.mysql_rerun import PLAIN, Rerun
from dbshift.schema.model import Column, ForeignKey, Index, IndexKey, Table


def names_sql(names) -> str:
    """Quoted names, comma-separated."""
    return ", ".join(quote(n) for n in names)


_LITERAL = re.compile(r"^(NULL|-?\d+(\.\d+)?|'(?:[^'\\]|\\.|'')*'|b'[01]*'|x'[0-9a-f]*')$", re.IGNORECASE)
_NOW = re.compile(r"^(current_timestamp|now|localtimestamp|localtime)(\(\d*\))?$", re.IGNORECASE)


def default_sql(expression: str) -> str:
    """Literals and CURRENT_TIMESTAMP as they are, any other expression in parentheses."""
    return expression if _LITERAL.match(expression) or _NOW.match(expression) else f"({expression})"


def column_sql(column: Column) -> str:
    """One column definition, as ``SHOW CREATE TABLE`` would write it."""
    words = [quote(column.name), column.type]
    if column.collation:
        words.append(f"COLLATE {column.collation}")
    if column.generated is not None:
        words.append(f"GENERATED ALWAYS AS ({column.generated}) {'STORED' if column.generated_stored else 'VIRTUAL'}")
    else:
        words.append("NULL" if column.nullable else "NOT NULL")
        if column.default is not None:
            words.append(f"DEFAULT {default_sql(column.default)}")
    if column.options.get("auto_increment"):
        words.append("AUTO_INCREMENT")
    if column.options.get("on_update"):
        words.append(f"ON UPDATE {column.options['on_update']}")
    if column.hidden:
        words.append("INVISIBLE")
    if column.options.get("comment"):
        words.append(f"COMMENT {literal(column.options['comment'])}")
    if column.options.get("check"):
        words.append(f"CHECK ({column.options['check']})")
    return " ".join(words)


def foreign_key_sql(key: ForeignKey, guard: str = "") -> str:
    """``CONSTRAINT name FOREIGN KEY [guard] (...) REFERENCES t (...) [actions]`` (``guard``: `` IF NOT EXISTS``)."""
    sql = f"CONSTRAINT {quote(key.name)} " if key.name else ""
    sql += f"FOREIGN KEY{guard} ({names_sql(key.columns)}) REFERENCES {quote(key.ref_table)} ({names_sql(key.ref_columns)})"
    # Left out, an action is RESTRICT; NO ACTION is reported apart from it, so it is written.
    if key.on_delete != "RESTRICT":
        sql += f" ON DELETE {key.on_delete}"
    if key.on_update != "RESTRICT":
        sql += f" ON UPDATE {key.on_update}"
    return sql


def _key_parts(index_keys, prefix: dict) -> str:
    parts = []
    for key in index_keys:
        text = quote(key.column) if key.column is not None else f"({key.expression})"
        if key.column in prefix:
            text += f"({prefix[key.column]})"
        parts.append(text + (" DESC" if key.descending else ""))
    return ", ".join(parts)


def index_clause(index: Index, guard: str = "") -> str:
    """``[UNIQUE|FULLTEXT|SPATIAL] KEY [guard] name (...)`` inside CREATE/ALTER TABLE (``guard``: `` IF NOT EXISTS``)."""
    kind = index.options.get("type")
    word = f"{kind} KEY" if kind in ("FULLTEXT", "SPATIAL") else ("UNIQUE KEY" if index.unique else "KEY")
    return f"{word}{guard} {quote(index.name)} ({_key_parts(index.keys, index.options.get('prefix', {}))})"


def create_index_sql(index: Index, rerun: Rerun = PLAIN) -> str:
    """``ALTER TABLE ... ADD KEY`` for ``index`` (``IF NOT EXISTS`` where ``rerun`` says)."""
    return f"ALTER TABLE {quote(index.table)} ADD {index_clause(index, rerun.if_not_exists())}"


def drop_index_sql(index: Index, rerun: Rerun = PLAIN) -> str:
    """``ALTER TABLE ... DROP INDEX`` (``IF EXISTS`` where ``rerun`` says)."""
    return f"ALTER TABLE {quote(index.table)} DROP INDEX{rerun.if_exists()} {quote(index.name)}"


def _constraint_clauses(table: Table) -> list[str]:
    parts = []
    if table.primary_key:
        prefix = table.primary_key.options.get("prefix", {})
        parts.append(f"PRIMARY KEY ({_key_parts(_plain_keys(table.primary_key.columns), prefix)})")
    parts += [
        f"UNIQUE KEY {quote(u.name)} ({names_sql(u.columns)})" if u.name else f"UNIQUE ({names_sql(u.columns)})"
        for u in table.uniques
    ]
    parts += [index_clause(i) for i in table.indexes]
    parts += [
        f"CONSTRAINT {quote(c.name)} CHECK ({c.expression})" if c.name else f"CHECK ({c.expression})"
        for c in table.checks
    ]
    return parts + [foreign_key_sql(k) for k in table.foreign_keys]


def _plain_keys(columns):
    return [IndexKey(column=c) for c in columns]


def _table_options(table: Table, explicit_comment: bool = False, before: Table | None = None) -> str:
    """ENGINE, COLLATE, COMMENT and the create options; ``before``'s create options that go are reset."""
    words = []
    if table.options.get("engine"):
        words.append(f"ENGINE={table.options['engine']}")
    if table.options.get("collation"):
        words.append(f"COLLATE={table.options['collation']}")
    if table.options.get("comment") or explicit_comment:
        words.append(f"COMMENT={literal(table.options.get('comment') or '')}")
    options = create_options(table)
    gone = [name for name in create_options(before) if name not in options] if before is not None else []
    words += [f"{_option_name(name)}={_reset_value(name)}" for name in gone]
    words += [f"{_option_name(name)}={value}" for name, value in options.items()]
    if table.options.get("auto_increment") or (before is not None and before.options.get("auto_increment")):
        words.append(f"AUTO_INCREMENT={table.options.get('auto_increment', 1)}")  # 1: the server takes max + 1
    return " ".join(words)


def table_options_sql(old: Table, new: Table) -> str:
    """ALTER TABLE for the table options that differ; only ``AUTO_INCREMENT=N`` when that alone
    changes (restating ENGINE would copy the table)."""
    differing = {k for k in set(old.options) | set(new.options) if old.options.get(k) != new.options.get(k)}
    if differing == {"auto_increment"}:
        return f"ALTER TABLE {quote(old.name)} AUTO_INCREMENT={new.options.get('auto_increment', 1)}"
    return f"ALTER TABLE {quote(old.name)} {_table_options(new, explicit_comment=True, before=old)}"


_CREATE_OPTION = re.compile(r"(`[^`]+`|\w+)=('(?:[^'\\]|\\.|'')*'|\S+)")
#: Create options that ``=DEFAULT`` resets; the numeric ones (KEY_BLOCK_SIZE, MAX_ROWS...) take 0.
_RESET_BY_DEFAULT = {"row_format", "stats_persistent", "stats_auto_recalc", "stats_sample_pages", "pack_keys"}


def create_options(table: Table | None) -> dict[str, str]:
    """The table's create options (ROW_FORMAT, KEY_BLOCK_SIZE, engine-defined ones...) as name -> value."""
    text = table.options.get("create_options", "") if table is not None else ""
    return {name.lower() if not name.startswith("`") else name: value for name, value in _CREATE_OPTION.findall(text)}


def _option_name(name: str) -> str:
    return name if name.startswith("`") else name.upper()


def _reset_value(name: str) -> str:
    return "DEFAULT" if name.startswith("`") or name in _RESET_BY_DEFAULT else "0"


def create_table_sql(table: Table, with_foreign_keys: bool = True, rerun: Rerun = PLAIN) -> str:
    """CREATE TABLE (``IF NOT EXISTS`` where ``rerun`` says) with its keys, indexes, checks,
    (optionally) foreign keys, and partitions."""
    bare = table if with_foreign_keys else replace(table, foreign_keys=())
    parts = [column_sql(c) for c in table.columns] + _constraint_clauses(bare)
    sql = (
        f"{rerun.create_table(table.name)} {quote(table.name)} (\n  "
        + ",\n  ".join(parts)
        + f"\n) {_table_options(table)}".rstrip()
    )
    partitioning = table.options.get("partitioning")
    return sql + (f"\n{partition_clause(partitioning)}" if partitioning else "")
