"""MySQL/MariaDB inspector: a live connection -> :class:`Schema`, from ``information_schema``.

Tables with their engine, collation and comment (in ``options``), AUTO_INCREMENT columns,
columns (``COLUMN_TYPE`` as the server prints it, defaults, generated and invisible columns),
primary keys, unique keys, CHECK constraints, foreign keys with their actions, indexes
(prefix lengths, FULLTEXT/SPATIAL in ``options``), partitioning (``options["partitioning"]``),
views, triggers and events (the schema's ``options["events"]``). MariaDB and MySQL print
column defaults differently; both are brought to one form: a SQL expression, strings quoted.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dbshift.dialects.base import BOOKKEEPING_TABLES
from dbshift.dialects.mysql_description import MYSQL
from dbshift.schema.model import (
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

_LITERAL = re.compile(r"^-?\d+(\.\d+)?$")


def inspect_database(db) -> Schema:
    """Read the current database of a MySQL/MariaDB :class:`Database`."""
    version, current, table_names = db.execute("SELECT VERSION(), DATABASE(), @@lower_case_table_names")[0]
    mariadb = "mariadb" in version.lower()
    options = {"flavour": "mariadb" if mariadb else "mysql"}
    if int(table_names) == 2:  # names kept as written, compared ignoring case (macOS)
        options["table_names"] = "case-insensitive"
    tables = _tables(db)
    columns = _columns(db, mariadb)
    keys = _keys(db)
    checks, column_checks = _checks(db)
    for table, clauses in column_checks.items():
        columns[table] = _with_column_checks(db, table, columns.get(table, []), clauses)
    foreign_keys = _foreign_keys(db)
    built = [
        _table(
            name, options, columns.get(name, []), keys.get(name, {}), checks.get(name, []), foreign_keys.get(name, [])
        )
        for name, options in tables
    ]
    events = _events(db)
    if events:
        options["events"] = events
    return Schema.build(built, _views(db, current), _triggers(db), dialect="mysql", options=options)


def _tables(db) -> list[tuple[str, dict]]:
    rows = db.execute(
        "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION, TABLE_COMMENT, CREATE_OPTIONS, AUTO_INCREMENT "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"
    )
    found = []
    for name, engine, collation, comment, create_options, next_value in rows:
        if name in BOOKKEEPING_TABLES:
            continue
        options = {"engine": engine, "collation": collation}
        start = _auto_increment_start(db, name, next_value)
        if start:
            options["auto_increment"] = start
        if comment:
            options["comment"] = comment
        # "partitioned" is what the partition clause says, read in full below.
        partitioned = "partitioned" in (create_options or "").split()
        create_options = " ".join(word for word in (create_options or "").split() if word != "partitioned")
        if create_options:
            options["create_options"] = create_options
        if partitioned:
            options["partitioning"] = _partitioning(db, name)
        found.append((name, options))
    return found


def _auto_increment_start(db, table: str, next_value) -> int | None:
    """The table's ``AUTO_INCREMENT=N`` while it holds no row (a schema file's, a migration's); None
    when it is 1 or the table has rows: then the next value is data, not schema, and is not compared."""
    if next_value is None or int(next_value) <= 1:
        return None
    if db.execute(f"SELECT 1 FROM `{table.replace('`', '``')}` LIMIT 1"):
        return None
    return int(next_value)


# -- partitioning ---------------------------------------------------------------------------
#: The partition clause after the table options: MySQL wraps it in a version comment, MariaDB does not.
_PARTITION_CLAUSE = re.compile(r"^\)[^\n]*\n\s*(?:/\*!\d+\s*)?(PARTITION BY .*?)(?:\s*\*/)?\s*\Z", re.S | re.M)
_PARTITION_HEAD = re.compile(
    r"^PARTITION BY (?P<by>.+?)(?: PARTITIONS (?P<count>\d+))?"
    r"(?: SUBPARTITION BY (?P<subpartition_by>.+?)(?: SUBPARTITIONS (?P<subpartition_count>\d+))?)?$"
)


def _partitioning(db, table: str) -> dict:
    """The table's partition clause as ``SHOW CREATE TABLE`` prints it, in parts.

    ``by`` (``RANGE (year(`d`))``, ``KEY (`a`,`b`)``...), ``count`` (``PARTITIONS n``) and the
    subpartition method and count when printed, and ``partitions``: each partition's definition
    (name, values, options, subpartitions) in order, without the table's engine.
    """
    create = db.execute(f"SHOW CREATE TABLE {_quote(table)}")[0][1]
    return parse_partition_clause(_PARTITION_CLAUSE.search(create).group(1))


def parse_partition_clause(clause: str) -> dict:
    """``PARTITION BY ... [PARTITIONS n] [SUBPARTITION BY ... [SUBPARTITIONS n]] [(definitions)]`` in parts."""
    clause = _without_engines(_single_spaced(clause))
    opening = _top_level(clause, "(PARTITION ")
    head = clause[:opening].strip() if opening is not None else clause
    found = {key: value for key, value in _PARTITION_HEAD.match(head).groupdict().items() if value is not None}
    for key in ("count", "subpartition_count"):
        if key in found:
            found[key] = int(found[key])
    if opening is not None:
        found["partitions"] = [part.strip() for part in _split_top_level(clause[opening + 1 : clause.rindex(")")])]
    return found


def _outside_quotes(text: str, change) -> str:
    """``change`` applied to the parts of ``text`` outside quoted strings and names."""
    parts = re.split(r"('(?:[^'\\]|\\.|'')*'|`(?:[^`]|``)*`)", text)
    return "".join(part if part[:1] in ("'", "`") else change(part) for part in parts)


def _single_spaced(text: str) -> str:
    spaced = _outside_quotes(text, lambda part: re.sub(r"\s+", " ", part))
    return _outside_quotes(spaced, lambda part: part.replace(" COLUMNS(", " COLUMNS (").replace("( ", "("))


def _without_engines(text: str) -> str:
    """Each partition's ``ENGINE = InnoDB``: always the table's own engine, so it says nothing."""
    return _outside_quotes(text, lambda part: re.sub(r" ENGINE = \w+", "", part))


def _top_level(text: str, needle: str) -> int | None:
    """Where ``needle`` first starts outside parentheses and quotes, or None."""
    depth = 0
    for at, char, quoted in _characters(text):
        if quoted:
            continue
        if depth == 0 and text.startswith(needle, at):
            return at
        depth += {"(": 1, ")": -1}.get(char, 0)
    return None


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses and quotes."""
    parts, depth, start = [], 0, 0
    for at, char, quoted in _characters(text):
        if quoted:
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:at])
            start = at + 1
    return parts + [text[start:]]


def _characters(text: str):
    """(offset, character, inside quotes) for each character of ``text``."""
    quote = None
    for at, char in enumerate(text):
        if quote is None and char in "'`":
            quote = char
            yield at, char, True
        elif quote is not None:
            # A doubled quote closes and reopens, which leaves the state as it was.
            if char == quote:
                quote = None
            yield at, char, True
        else:
            yield at, char, False


def _columns(db, mariadb: bool) -> dict[str, list[Column]]:
    rows = db.execute(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, "
        "CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
    )
    found: dict[str, list[Column]] = {}
    for table, name, type_, nullable, default, extra, expression, charset, collation, comment in rows:
        extra = (extra or "").upper()
        generated = expression if expression and "GENERATED" in extra else None
        options = {"charset": charset} if charset else {}
        if "AUTO_INCREMENT" in extra:
            options["auto_increment"] = True
        if "ON UPDATE" in extra:
            options["on_update"] = extra[extra.index("ON UPDATE") + len("ON UPDATE ") :].strip()
        if comment:
            options["comment"] = comment
        found.setdefault(table, []).append(
            Column(
                name=name,
                type=_upper_outside_quotes(type_),
                nullable=nullable == "YES",
                default=None if generated else _default(default, extra, mariadb),
                collation=collation,
                generated=generated,
                generated_stored="STORED" in extra or "PERSISTENT" in extra,
                hidden="INVISIBLE" in extra,
                options=options,
            )
        )
    return found


def _default(value, extra: str, mariadb: bool) -> str | None:
    """One form for both servers: a SQL expression, string literals quoted, no default -> None."""
    if value is None:
        return None
    if mariadb:
        return None if value == "NULL" else value
    if "DEFAULT_GENERATED" in extra or _LITERAL.match(value) or value.upper().startswith("CURRENT_TIMESTAMP"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _keys(db) -> dict[str, dict[str, dict]]:
    rows = db.execute(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION, SUB_PART, INDEX_TYPE "
        "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
        "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
    )
    found: dict[str, dict[str, dict]] = {}
    for table, name, non_unique, column, collation, sub_part, index_type in rows:
        key = found.setdefault(table, {}).setdefault(
            name, {"unique": not int(non_unique), "keys": [], "type": index_type, "prefix": {}}
        )
        key["keys"].append(IndexKey(column=column, descending=collation == "D"))
        if sub_part is not None:
            key["prefix"][column] = int(sub_part)
    return found


def _checks(db) -> tuple[dict[str, list[Check]], dict[str, list[str]]]:
    """Table CHECK constraints, and the clauses of MariaDB's column-level ones, by table.

    A column-level CHECK (MariaDB puts one on every JSON column) belongs to the column's definition:
    ``MODIFY COLUMN`` without it drops it, so it is kept with the column (``options["check"]``).
    """
    level = "LEVEL" if _has_column(db, "CHECK_CONSTRAINTS", "LEVEL") else "'Table'"
    rows = db.execute(
        f"SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, {level} FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME"
    )
    found: dict[str, list[Check]] = {}
    on_columns: dict[str, list[str]] = {}
    for table, name, clause, kind in rows:
        if kind == "Column":
            on_columns.setdefault(table, []).append(clause)
        else:
            found.setdefault(table, []).append(Check(clause, name=name))
    return found, on_columns


def _has_column(db, table: str, column: str) -> bool:
    return bool(
        db.execute(
            "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'information_schema' "
            "AND TABLE_NAME = %s AND COLUMN_NAME = %s",
            (table, column),
        )
    )


def _with_column_checks(db, table: str, columns: list[Column], clauses: list[str]) -> list[Column]:
    """Each column-level CHECK given to the column whose definition ends with it.

    The constraint keeps the column's first name after a rename and may mention other columns,
    so only the server's own ``SHOW CREATE TABLE`` line says which column it belongs to.
    """
    lines = [line.strip().rstrip(",") for line in db.execute(f"SHOW CREATE TABLE {_quote(table)}")[0][1].splitlines()]
    found = []
    for column in columns:
        line = next((text for text in lines if text.startswith(_quote(column.name) + " ")), "")
        clause = next((c for c in clauses if line.endswith(f" CHECK ({c})")), None)
        found.append(column if clause is None else replace(column, options={**column.options, "check": clause}))
    return found


def _foreign_keys(db) -> dict[str, list[ForeignKey]]:
    rows = db.execute(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, "
        "r.DELETE_RULE, r.UPDATE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
        "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
        "WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL "
        "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
    )
    grouped: dict[tuple, dict] = {}
    for table, name, column, ref_table, ref_column, on_delete, on_update in rows:
        entry = grouped.setdefault(
            (table, name),
            {"columns": [], "refs": [], "ref_table": ref_table, "on_delete": on_delete, "on_update": on_update},
        )
        entry["columns"].append(column)
        entry["refs"].append(ref_column)
    found: dict[str, list[ForeignKey]] = {}
    for (table, name), entry in grouped.items():
        found.setdefault(table, []).append(
            ForeignKey(
                tuple(entry["columns"]),
                entry["ref_table"],
                tuple(entry["refs"]),
                entry["on_delete"],
                entry["on_update"],
                None,
                name,
            )
        )
    return found


def _table(name: str, options: dict, columns: list[Column], keys: dict[str, dict], checks, foreign_keys) -> Table:
    primary_key, uniques, indexes = None, [], []
    auto = {c.name for c in columns if c.options.get("auto_increment")}
    for key_name, key in sorted(keys.items()):
        columns_of = tuple(k.column for k in key["keys"])
        extra = {"prefix": key["prefix"]} if key["prefix"] else {}
        if key["type"] not in ("BTREE", None):
            extra["type"] = key["type"]
        if key_name == "PRIMARY":
            primary_key = PrimaryKey(
                columns_of, autoincrement=len(columns_of) == 1 and columns_of[0] in auto, options=extra
            )
        elif key["unique"] and not extra and not any(k.descending for k in key["keys"]):
            uniques.append(Unique(columns_of, name=key_name))
        else:
            indexes.append(Index(key_name, name, tuple(key["keys"]), key["unique"], None, extra))
    return Table(
        name, tuple(columns), primary_key, tuple(uniques), tuple(checks), tuple(foreign_keys), tuple(indexes), options
    )


def _views(db, database: str) -> list[View]:
    rows = db.execute(
        "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION FROM information_schema.VIEWS "
        "WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1"
    )
    views = []
    for name, definition, check_option in rows:
        options = {"check_option": check_option} if check_option and check_option != "NONE" else {}
        # The server qualifies every name with the database's; without it, equal views compare equal.
        definition = definition.replace(_quote(database) + ".", "")
        views.append(View(name, f"CREATE VIEW {_quote(name)} AS {definition}", options))
    return views


def _triggers(db) -> list[Trigger]:
    rows = db.execute(
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT, ACTION_ORDER "
        "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1"
    )
    return [
        Trigger(
            name,
            table,
            f"CREATE TRIGGER {_quote(name)} {timing} {event} ON {_quote(table)} FOR EACH ROW {body}",
            {"order": int(order)} if order and int(order) > 1 else {},
        )
        for name, table, timing, event, body, order in rows
    ]


def _events(db) -> dict[str, dict]:
    """Each event's schedule, completion, status, comment and body, by name (the definer is left out, as for views).

    The server fills in ``STARTS`` with the time an EVERY schedule is created or re-scheduled;
    only a ``STARTS`` other than that time was written by someone, so only that one is kept.
    """
    rows = db.execute(
        "SELECT EVENT_NAME, EVENT_DEFINITION, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, STARTS, ENDS, STATUS, "
        "ON_COMPLETION, EVENT_COMMENT, CREATED, LAST_ALTERED FROM information_schema.EVENTS "
        "WHERE EVENT_SCHEMA = DATABASE() ORDER BY 1"
    )
    events = {}
    for name, body, at, every, unit, starts, ends, status, completion, comment, created, altered in rows:
        schedule = f"AT '{at}'" if at is not None else f"EVERY {every} {unit}"
        if starts is not None and starts not in (created, altered):
            schedule += f" STARTS '{starts}'"
        if ends is not None:
            schedule += f" ENDS '{ends}'"
        event = {
            "schedule": schedule,
            "on_completion": completion,
            "status": _EVENT_STATUS.get(status, status),
            "body": body,
        }
        if comment:
            event["comment"] = comment
        events[name] = event
    return events


_EVENT_STATUS = {"ENABLED": "ENABLE", "DISABLED": "DISABLE", "SLAVESIDE_DISABLED": "DISABLE ON SLAVE"}


def _upper_outside_quotes(text: str) -> str:
    """``enum('a','b') unsigned`` -> ``ENUM('a','b') UNSIGNED``: the values keep their case."""
    parts = re.split(r"('(?:[^'\\]|\\.|'')*')", text)
    return "".join(part if part.startswith("'") else part.upper() for part in parts)


_quote = MYSQL.quote
