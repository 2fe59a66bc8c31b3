"""SQLite statements read by SQLite itself: each runs on a schema-only copy in ``:memory:`` while
the authorizer (``sqlite3.Connection.set_authorizer``) reports every table it drops, deletes
from, inserts into, reads or alters; comparing the copy's tables before and after a statement
tells which column an ``ALTER TABLE`` dropped or renamed.

Statements run in order on the same copy, so each sees what the earlier ones did, and a table
rebuild (a new table filled by ``INSERT ... SELECT`` from the old one, the old one dropped, the
new one renamed into its place) is judged from the columns the copy really reads. Only two
things are read from the text, with ``sqlglot`` (a parser, loaded only then): the ``WHERE`` of a
``DELETE``, to count its rows on the live database, and whether a copy moves every value as it
is (bare columns, same type affinity, no filter).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from dbshift.analysis.base import Analyser
from dbshift.analysis.effects import (
    ColumnRef,
    DroppedTable,
    Rename,
    RowCopy,
    RowDeletion,
    SchemaChange,
    StatementEffects,
    TableName,
)
from dbshift.dialects.sqlite import type_affinity

#: Authorizer actions that change a table's definition, naming it in their first or second argument.
_DEFINITION_CHANGES = {
    sqlite3.SQLITE_CREATE_TABLE,
    sqlite3.SQLITE_CREATE_TEMP_TABLE,
    sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_TEMP_TABLE,
    sqlite3.SQLITE_ALTER_TABLE,
}
#: Authorizer actions of statements that change the schema (their re-run is checked).
_SCHEMA_ACTIONS = _DEFINITION_CHANGES | {
    sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_DROP_INDEX,
    sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_DROP_VIEW,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_DROP_TRIGGER,
}
_TRANSACTION_ACTIONS = {sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT}
#: Authorizer actions on rows: the statement deletes, updates or inserts some.
_ROW_ACTIONS = frozenset({sqlite3.SQLITE_DELETE, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_INSERT})
#: Row actions (and reads) that are not noted when on SQLite's own tables (``sqlite_schema``,
#: ``sqlite_sequence``...): nothing reads them, and every schema change writes ``sqlite_schema``.
_UNNOTED_ON_INTERNAL = _ROW_ACTIONS | {sqlite3.SQLITE_READ}
#: Authorizer actions that change a (non-temporary) table's columns or drop them.
_COLUMN_CHANGES = frozenset({sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_DROP_TABLE})
_INDEX_ACTIONS = frozenset({sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TEMP_INDEX})
_OPAQUE_ACTIONS = {sqlite3.SQLITE_ATTACH: "ATTACH opens another database", sqlite3.SQLITE_DETACH: "DETACH"}
#: Virtual-machine steps one statement may take on the copy (its tables are empty, so only rows a
#: statement makes up itself, e.g. a recursive CTE, cost anything); past this it is unreadable.
STEP_BUDGET = 20_000_000
_PROGRESS_EVERY = 100_000


@dataclass
class _Event:
    action: int
    first: str | None
    second: str | None
    trigger: str | None
    database: str | None = None


@dataclass
class _Column:
    name: str
    declared: str


class _Unread:
    """The columns of a table a statement created in ``main``, read when first asked for (most
    never are). A statement that would alter or drop the table is stopped before it runs until they
    are read (see :meth:`SQLiteAnalyser._authorizer`); the maps of the copy share one holder per table."""

    __slots__ = ("name", "columns")

    def __init__(self, name: str):
        self.name, self.columns = name, None


class _Tables(dict):
    """The copy's tables and their columns, found by name without regard to case as SQLite does
    (a scan of every name per statement made a 200-table copy the lint's slowest part)."""

    def __init__(self, columns=(), lowered: dict[str, str] | None = None):
        super().__init__(columns)
        if lowered is None:
            lowered = {}
            for name in self:
                lowered.setdefault(name.lower(), name)
        self.lowered = lowered

    def find(self, name: str) -> str | None:
        """The table's name as the copy spells it, or None."""
        return self.lowered.get(name.lower())

    def add(self, more: dict[str, list[_Column]]) -> None:
        """Add the new tables ``more`` (in place: a copy per CREATE TABLE made 200 of them quadratic)."""
        self.update(more)
        for name in more:
            self.lowered.setdefault(name.lower(), name)

    def copy(self) -> _Tables:
        """A copy of the map (the column lists are shared: they are never changed in place)."""
        return _Tables(self, dict(self.lowered))


@dataclass
class _Statement:
    """Authorizer events of one statement."""

    events: list[_Event] = field(default_factory=list)
    #: The actions of :attr:`events` (set once the statement has run).
    actions: frozenset[int] = frozenset()
    #: Tables whose columns are not read yet that the statement alters or drops (it was stopped).
    unread: list[_Unread] = field(default_factory=list)

    def tables(self, *actions: int) -> list[tuple[str, str | None]]:
        """(table, trigger) of the events of ``actions`` on user tables, in order, without repeats."""
        found: list[tuple[str, str | None]] = []
        if self.actions.isdisjoint(actions):
            return found
        for event in self.events:
            table = event.second if event.action == sqlite3.SQLITE_ALTER_TABLE else event.first
            if (
                event.action in actions
                and table
                and not table.lower().startswith("sqlite_")
                and (table, event.trigger) not in found
            ):
                found.append((table, event.trigger))
        return found


def _transaction_change(event: _Event) -> SchemaChange:
    """BEGIN, COMMIT (END) or ROLLBACK, as the authorizer names it."""
    kind = {"BEGIN": "begin", "COMMIT": "commit", "ROLLBACK": "rollback"}.get((event.first or "").upper(), "commit")
    return SchemaChange("transaction", name=kind, flags=frozenset({kind}))


class SQLiteAnalyser(Analyser):
    """Runs statements on a schema-only copy of the live database and reads what SQLite reports."""

    dialect = "sqlite"
    reads_copies = True
    replays_schema = True

    def __init__(self, live=None):
        # no statement cache: each statement runs once, and every set_authorizer expires all cached ones
        self.scratch = sqlite3.connect(":memory:", isolation_level=None, cached_statements=0)
        self._steps = 0
        self.scratch.set_progress_handler(self._count_steps, _PROGRESS_EVERY)
        # SQLite keeps a type written `[a] é` one byte short, cutting é in half: read as text, the
        # copy's PRAGMAs would fail to decode it (the type then holds U+FFFD, as the inspector's does)
        self.scratch.text_factory = lambda raw: raw.decode("utf-8", "replace")
        if live is not None:
            _copy_schema(live, self.scratch)
        self.columns = _Tables((table, self._read_columns(table)) for table in self._table_names())
        self.live_names: dict[str, str] = {table.lower(): table for table in self.columns}

    @contextlib.contextmanager
    def tentatively(self) -> Iterator[SQLiteAnalyser]:
        """Read statements inside a savepoint of the copy, rolled back afterwards (transaction
        statements are never run on the copy, so the savepoint stays open through the block)."""
        columns, live_names = self.columns.copy(), dict(self.live_names)
        self.scratch.execute("SAVEPOINT dbshift_tentative")
        try:
            yield self
        finally:
            self.scratch.execute("ROLLBACK TO dbshift_tentative")
            self.scratch.execute("RELEASE dbshift_tentative")
            self.columns, self.live_names = columns, live_names

    def close(self) -> None:
        """Close the scratch copy."""
        self.scratch.close()

    def _count_steps(self) -> int:
        self._steps += _PROGRESS_EVERY
        return 1 if self._steps > STEP_BUDGET else 0  # non-zero interrupts the statement

    def replay(self, statements: list[str]) -> None:
        """Run ``statements`` on the copy without reading them (no authorizer, one refresh of the
        columns at the end: reading 1,000 CREATE statements one by one took seconds). A statement
        the copy cannot run is skipped, as :meth:`statement` would leave it unread."""
        for sql in statements:
            try:
                self.scratch.execute(sql).fetchall()
            except (sqlite3.Error, sqlite3.Warning):
                continue
        self.columns = _Tables((table, self._read_columns(table)) for table in self._table_names())

    def same_name(self, a: str, b: str) -> bool:
        """SQLite compares names without regard to (ASCII) case."""
        return a.lower() == b.lower()

    def statement(self, sql: str, rerun: bool = True) -> StatementEffects:
        """Run ``sql`` on the copy and report what SQLite saw it do (``rerun``: and whether a schema
        change fails a second run: one more compile; None when not asked)."""
        effects, seen = StatementEffects(sql), _Statement()
        if not rerun:
            effects.repeat_fails = None

        before = self.columns  # _refresh makes a new map (but adds created tables in place) and never changes a list
        self._steps = 0
        self.scratch.set_authorizer(self._authorizer(seen))
        try:
            self.scratch.execute(sql).fetchall()
        except (sqlite3.Error, sqlite3.Warning) as exc:
            if seen.unread:  # stopped before it ran: read the columns it changes, then run it
                for table in seen.unread:
                    self._columns_of(table)
                self.scratch.set_authorizer(None)
                return self.statement(sql, rerun)
            if seen.events and all(e.action in _TRANSACTION_ACTIONS for e in seen.events):
                if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_AUTH:  # denied; not `BEGIN nonsense`
                    effects.changes.extend(
                        _transaction_change(e) for e in seen.events if e.action == sqlite3.SQLITE_TRANSACTION
                    )
                    return effects
            effects.unreadable = f"SQLite cannot run it on a copy of the schema: {exc}"
            return effects
        finally:
            self.scratch.set_authorizer(None)
        seen.actions = frozenset(e.action for e in seen.events)
        if not seen.actions.isdisjoint(_OPAQUE_ACTIONS) or sqlite3.SQLITE_PRAGMA in seen.actions:
            self._read_opaque(seen, effects)
        if not seen.actions.isdisjoint(_DEFINITION_CHANGES):
            self._refresh(seen)
            self._read_definition_changes(seen, before, effects)
        if not seen.actions.isdisjoint(_ROW_ACTIONS):
            self._read_rows(sql, seen, before, effects)
        if not seen.actions.isdisjoint(_INDEX_ACTIONS):
            self._read_index_builds(seen, effects)
        if rerun:
            self._read_repeat(sql, seen, effects)
        return effects

    def _authorizer(self, seen: _Statement):
        """The authorizer noting what a statement does in ``seen``."""
        tables = self.columns

        def authorize(action, first, second, database, trigger):
            if action in _UNNOTED_ON_INTERNAL and first and first[:7].lower() == "sqlite_":
                return sqlite3.SQLITE_OK
            if action in _COLUMN_CHANGES:
                alter = action == sqlite3.SQLITE_ALTER_TABLE  # (ALTER names the database first)
                found = (
                    tables.find((second if alter else first) or "")
                    if (first if alter else database) == "main"
                    else None
                )
                unread = tables[found] if found is not None else None
                if isinstance(unread, _Unread) and unread.columns is None:
                    seen.unread.append(unread)
                    return sqlite3.SQLITE_DENY
            seen.events.append(_Event(action, first, second, trigger, database))
            # BEGIN/COMMIT/ROLLBACK/SAVEPOINT are noted, never run: the copy stays in autocommit.
            return sqlite3.SQLITE_DENY if action in _TRANSACTION_ACTIONS else sqlite3.SQLITE_OK

        return authorize

    def _columns_of(self, columns: list[_Column] | _Unread) -> list[_Column]:
        """A table's columns from a map of the copy (read now if they were not)."""
        if not isinstance(columns, _Unread):
            return columns
        if columns.columns is None:
            columns.columns = self._read_columns(columns.name)
        return columns.columns

    def _read_opaque(self, seen: _Statement, effects: StatementEffects) -> None:
        """What makes the statements after this one unreadable on the copy (ATTACH, writable_schema)."""
        opaque = [_OPAQUE_ACTIONS[e.action] for e in seen.events if e.action in _OPAQUE_ACTIONS]
        opaque += [
            "writable_schema lets later statements edit the schema table directly"
            for e in seen.events
            if e.action == sqlite3.SQLITE_PRAGMA and (e.first or "").lower() == "writable_schema" and e.second
        ]
        if opaque:
            effects.unreadable = opaque[0]

    def _read_repeat(self, sql: str, seen: _Statement, effects: StatementEffects) -> None:
        """Whether a schema change fails when it runs again: SQLite compiles it (``EXPLAIN``, nothing
        runs) against the schema it left behind."""
        if seen.actions.isdisjoint(_SCHEMA_ACTIONS) or sqlite3.SQLITE_CREATE_TEMP_TABLE in seen.actions:
            return  # (a temporary table goes with the session that made it)
        try:
            self.scratch.execute("EXPLAIN " + sql).fetchall()
        except (sqlite3.Error, sqlite3.Warning) as exc:
            effects.repeat_fails.append(f"running it again fails: {exc}")

    def _read_index_builds(self, seen: _Statement, effects: StatementEffects) -> None:
        """Indexes the statement created, as the copy now holds them (unique, plain columns)."""
        for event in seen.events:
            if event.action not in _INDEX_ACTIONS or not event.first:
                continue
            listed = [row[2:] for row in self._pragma("index_list", event.second) if row[1] == event.first]
            if not listed:
                continue
            names = [name for _seqno, _cid, name in self._pragma("index_info", event.first)]
            columns = tuple(names) if names and all(names) and not listed[0][2] else ()
            effects.changes.append(
                SchemaChange(
                    "create_index",
                    TableName(event.second),
                    event.first,
                    flags=frozenset({"unique"} if listed[0][0] else ()),
                    columns=columns,
                )
            )

    # -- the copy's tables --------------------------------------------------------------------
    def _table_names(self) -> list[str]:
        rows = self.scratch.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall()
        return [name for (name,) in rows if not name.lower().startswith("sqlite_")]

    def _read_columns(self, table: str, schema: str = "main") -> list[_Column]:
        """The columns of ``table`` in ``schema`` (main: the copy's map lists main's tables, and a
        temporary table of the same name must not stand in for one; "": as SQLite finds the name)."""
        return [_Column(row[1], row[2]) for row in self._pragma("table_xinfo", table, schema) if row[6] == 0]

    def _pragma(self, pragma: str, name: str, schema: str = "") -> list[tuple]:
        """``PRAGMA [schema.]pragma("name")``: the statement form compiles in half the time of the
        ``pragma_...(?)`` table function, and every schema change makes the next one compile anew."""
        quoted = '"' + name.replace('"', '""') + '"'
        return self.scratch.execute(f"PRAGMA {schema + '.' if schema else ''}{pragma}({quoted})").fetchall()

    def _refresh(self, seen: _Statement) -> None:
        if all(e.action == sqlite3.SQLITE_CREATE_TABLE for e in seen.events if e.action in _DEFINITION_CHANGES):
            # only tables created (the common case): read those, not the list of every table
            found = self._read_existing(seen)
            if found is not None:
                self.columns.add(found)  # `before` holds them too now: no reader looks up a table the statement created
                return
        altered = {t.lower() for t, _ in seen.tables(sqlite3.SQLITE_ALTER_TABLE)}
        current = self._table_names()
        self.columns = _Tables(
            (
                table,
                self.columns[table]
                if table in self.columns and table.lower() not in altered
                else self._read_columns(table),
            )
            for table in current
        )

    def _read_existing(self, seen: _Statement) -> dict[str, list[_Column] | _Unread] | None:
        """The columns of the tables the statement created (named as the authorizer names them:
        the spelling SQLite stores), those in ``main`` to be read when asked for; None when one is
        not new to the copy (CREATE TABLE IF NOT EXISTS of a table there), or is elsewhere and has
        no columns to read: the caller reads the whole list instead."""
        in_main = {e.first for e in seen.events if e.action == sqlite3.SQLITE_CREATE_TABLE and e.database == "main"}
        found: dict[str, list[_Column] | _Unread] = {}
        for name, _ in seen.tables(sqlite3.SQLITE_CREATE_TABLE):
            if self.columns.find(name) is not None:
                return None
            found[name] = _Unread(name) if name in in_main else self._read_columns(name, "")
            if not found[name]:
                return None
        return found

    # -- what the statement did -------------------------------------------------------------
    def _read_definition_changes(self, seen: _Statement, before: dict, effects: StatementEffects) -> None:
        for table, _ in seen.tables(sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_TEMP_TABLE):
            effects.creates.append(TableName(table))
        for table, _ in seen.tables(sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_DROP_TEMP_TABLE):
            old = before.find(table)
            columns = tuple(c.name for c in self._columns_of(before[old])) if old else None
            effects.drops.append(DroppedTable(TableName(table), columns, self._live_name(table)))
            self.live_names.pop(table.lower(), None)
        for table, _ in seen.tables(sqlite3.SQLITE_ALTER_TABLE):
            self._read_alter(table, before, effects)

    def _read_alter(self, table: str, before: dict, effects: StatementEffects) -> None:
        old = before.find(table)
        if old is None:
            return
        now = self.columns.find(table)
        if now is None:  # renamed: the one table the copy did not have before
            new = [t for t in self.columns if before.find(t) is None]
            if len(new) == 1:
                effects.renames.append(Rename(TableName(old), new[0]))
                live = self.live_names.pop(old.lower(), None)
                if live is not None:
                    self.live_names[new[0].lower()] = live
            return
        old_names = [c.name for c in self._columns_of(before[old])]
        new_names = [c.name for c in self._columns_of(self.columns[now])]
        gone = [c for c in old_names if not any(self.same_name(c, n) for n in new_names)]
        came = [c for c in new_names if not any(self.same_name(c, o) for o in old_names)]
        if len(gone) == 1 and len(came) == 1 and len(old_names) == len(new_names):
            effects.renames.append(Rename(TableName(now), came[0], column=gone[0]))
        else:
            effects.drops_columns.extend(ColumnRef(TableName(now), c) for c in gone)
            declared = {c.name: c.declared for c in self._columns_of(self.columns[now])}
            effects.changes.extend(
                SchemaChange("add_column", TableName(now), c, declared[c].lower() or None) for c in came
            )

    def _live_name(self, table: str) -> TableName | None:
        live = self.live_names.get(table.lower())
        return TableName(live) if live else None

    def _read_rows(self, sql: str, seen: _Statement, before: dict, effects: StatementEffects) -> None:
        dropped = {d.table.name.lower() for d in effects.drops}
        for table, trigger in seen.tables(sqlite3.SQLITE_DELETE):
            if table.lower() in dropped:
                continue  # DROP TABLE authorizes a DELETE of its own rows: the drop says it
            if trigger:
                effects.deletes.append(RowDeletion(TableName(table), None, countable=False, by_trigger=trigger))
            else:
                where, countable = _delete_condition(sql, table)
                effects.deletes.append(RowDeletion(TableName(table), where, countable))
        effects.updates.extend(TableName(t) for t, trigger in seen.tables(sqlite3.SQLITE_UPDATE) if trigger is None)
        effects.updates_columns.extend(
            ColumnRef(TableName(e.first), e.second)
            for e in seen.events
            if e.action == sqlite3.SQLITE_UPDATE
            and e.trigger is None
            and e.first
            and e.second
            and not e.first.lower().startswith("sqlite_")
        )
        targets = [t for t, trigger in seen.tables(sqlite3.SQLITE_INSERT) if trigger is None]
        effects.inserts.extend(TableName(t) for t in targets)
        if len(targets) != 1:
            return
        reads: dict[str, set[str]] = {}
        for event in seen.events:
            if (
                event.action == sqlite3.SQLITE_READ
                and event.trigger is None
                and event.first
                and not event.first.lower().startswith("sqlite_")
                and event.second
            ):
                reads.setdefault(event.first, set()).add(event.second)
        for source, columns in reads.items():
            if before.find(source):
                plain = len(reads) == 1 and _copy_is_plain(
                    sql,
                    self._columns_of(before[before.find(source)]),
                    self._columns_of(self.columns.get(self.columns.find(targets[0]) or "", [])),
                )
                effects.copies.append(RowCopy(TableName(targets[0]), TableName(source), frozenset(columns), plain))


def _copy_schema(live, scratch: sqlite3.Connection) -> None:
    """Create the live database's tables, then its other objects, on the scratch connection.

    An object the copy cannot create (a virtual table's module missing...) is left out: a later
    statement that needs it then fails on the copy and is reported unreadable.
    """
    rows = live.execute(
        "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY type <> 'table', rowid"
    )
    for _kind, name, sql in rows:
        if name.lower().startswith("sqlite_"):
            continue
        try:
            scratch.execute(sql)
        except sqlite3.Error:
            pass


def _parse(sql: str):
    """The statement's sqlglot tree, or None when sqlglot cannot read it."""
    import sqlglot

    try:
        trees = sqlglot.parse(sql, read="sqlite")
    except Exception:  # noqa: BLE001 - sqlglot raises ParseError, and ValueError, TypeError... on odd input
        return None
    return trees[0] if len(trees) == 1 else None


def _delete_condition(sql: str, table: str) -> tuple[str | None, bool]:
    """The WHERE of ``DELETE FROM table WHERE ...`` as text to count with, and whether it can be counted."""
    from sqlglot import exp

    tree = _parse(sql)
    if (
        not isinstance(tree, exp.Delete)
        or not isinstance(tree.this, exp.Table)
        or tree.this.name.lower() != table.lower()
        or tree.args.get("limit")
        or tree.args.get("with_")
    ):
        return None, False
    where = tree.args.get("where")
    return (where.this.sql(dialect="sqlite") if where is not None else None), True


def _copy_is_plain(sql: str, source: list[_Column], target: list[_Column]) -> bool:
    """Whether ``INSERT INTO target [(cols)] SELECT col, ... FROM source`` copies every value as it is:
    bare source columns into columns of the same type affinity, from one table, without a filter."""
    from sqlglot import exp

    tree = _parse(sql)
    if not isinstance(tree, exp.Insert) or not isinstance(tree.expression, exp.Select):
        return False
    select = tree.expression
    if any(
        select.args.get(key) for key in ("where", "group", "having", "limit", "offset", "distinct", "joins", "with_")
    ):
        return False
    into = tree.this
    names = [c.name for c in into.expressions] if isinstance(into, exp.Schema) else [c.name for c in target]
    types = {c.name.lower(): c.declared for c in target}
    source_types = {c.name.lower(): c.declared for c in source}
    items = [e.name for e in select.expressions if isinstance(e, exp.Column)]
    if len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Star):
        items = [c.name for c in source]  # SELECT *: every column, in the table's order
    elif len(items) != len(select.expressions):
        return False
    if len(names) != len(items):
        return False
    for name, item in zip(names, items):
        declared = source_types.get(item.lower())
        if (
            declared is None
            or name.lower() not in types
            or type_affinity(declared) != type_affinity(types[name.lower()])
        ):
            return False
    return True


def make_analyser(db=None) -> SQLiteAnalyser:
    """The SQLite analyser, starting from ``db``'s schema (an empty one without ``db``)."""
    return SQLiteAnalyser(db.connection if db is not None else None)
