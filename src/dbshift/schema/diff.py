"""The differ: two :class:`Schema` values -> an ordered list of changes.

Order: triggers and views that go or change are dropped first (a trigger on a view that is
dropped goes with it, and comes back after it), then indexes that go, table
renames, new tables (parents before children), altered tables, dropped tables (children
before parents), new indexes, and last the new views and triggers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from dbshift.dialects.description import DialectDescription, describe
from dbshift.schema.conversions import Conversions
from dbshift.schema.model import Column, Index, NameRule, Schema, Table, Trigger, View
from dbshift.schema.renames import Candidate, RenamePolicy


# -- changes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateTable:
    """A new table."""

    table: Table


@dataclass(frozen=True)
class DropTable:
    """A table that goes, with its data."""

    table: Table


@dataclass(frozen=True)
class RenameTable:
    """A table renamed (its definition may change too, in a following AlterTable)."""

    old: str
    new: str


@dataclass
class AlterTable:
    """One table's changes, all together. ``old`` carries the table's name after any rename."""

    old: Table
    new: Table
    #: new column name -> old column name, for every column that keeps its data.
    sources: dict[str, str]
    #: old column name -> new column name, for renamed columns.
    renamed: dict[str, str] = field(default_factory=dict)
    added: tuple[Column, ...] = ()
    dropped: tuple[Column, ...] = ()
    altered: tuple[tuple[Column, Column], ...] = ()
    #: new column -> SQL over the old row; old column -> SQL over the new row.
    up_values: dict[str, str] = field(default_factory=dict)
    down_values: dict[str, str] = field(default_factory=dict)
    #: old columns whose value cannot be computed back on the way down.
    lossy_down: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The table's name (after any rename)."""
        return self.new.name

    def describe(self) -> str:
        """One line for humans: what the change does to the table."""
        parts = [f"rename column {o} to {n}" for o, n in self.renamed.items()]
        parts += [f"add column {c.name}" for c in self.added]
        parts += [f"drop column {c.name}" for c in self.dropped]
        parts += [
            f"alter column {new.name}" + (f" ({old.type} -> {new.type})" if old.type != new.type else "")
            for old, new in self.altered
        ]
        parts += self.constraint_changes()
        if self.reordered:
            parts.append("column order changed")
        return f"alter table {self.name}: " + ", ".join(parts or ["definition changed"])

    @property
    def reordered(self) -> bool:
        """The columns that stay come in another order."""
        kept = [c.name for c in self.new.columns if c.name in self.sources]
        return [self.sources[n] for n in kept] != [c.name for c in self.old.columns if c.name in self.sources.values()]

    def constraint_changes(self) -> list[str]:
        """Human-readable constraint differences (primary key, unique, checks, foreign keys, options)."""
        notes = []
        for label, old, new in (
            ("primary key", self.old.primary_key, self.new.primary_key),
            ("unique constraints", self.old.uniques, self.new.uniques),
            ("checks", self.old.checks, self.new.checks),
            ("foreign keys", self.old.foreign_keys, self.new.foreign_keys),
            ("table options", self.old.options, self.new.options),
        ):
            if old != new:
                notes.append(f"{label} changed")
        return notes

    def inverse(self) -> "AlterTable":
        """The same change run backwards."""
        return AlterTable(
            old=self.new,
            new=self.old,
            sources={old: new for new, old in self.sources.items()},
            renamed={new: old for old, new in self.renamed.items()},
            added=self.dropped,
            dropped=self.added,
            altered=tuple((b, a) for a, b in self.altered),
            up_values=dict(self.down_values),
            down_values=dict(self.up_values),
            lossy_down=(),
        )


@dataclass(frozen=True)
class CreateIndex:
    """A new index."""

    index: Index


@dataclass(frozen=True)
class DropIndex:
    """An index that goes."""

    index: Index


@dataclass(frozen=True)
class CreateView:
    """A new (or redefined) view."""

    view: View


@dataclass(frozen=True)
class DropView:
    """A view that goes (or is redefined)."""

    view: View


@dataclass(frozen=True)
class CreateTrigger:
    """A new (or redefined) trigger."""

    trigger: Trigger


@dataclass(frozen=True)
class DropTrigger:
    """A trigger that goes (or is redefined)."""

    trigger: Trigger


@dataclass(frozen=True)
class ObjectChange:
    """A schema-level object only some databases have (PostgreSQL's extensions, rules and policies, MySQL's
    events) that comes (``before`` is None), goes (``after`` is None) or is redefined. A dialect's differ hook
    (``DialectDescription.object_differ``) finds them, each kind a subclass; its planner renders them."""

    #: What the object is ("extension", "rule", ...): each subclass names its own.
    kind: ClassVar[str] = "object"
    #: The object's name, or (table, name) for one that belongs to a table.
    key: str | tuple[str, str]
    #: Its definition before and after, as the inspector reads it into ``Schema.options``.
    before: Any = None
    after: Any = None

    @property
    def name(self) -> str:
        """The object's own name."""
        return self.key[-1] if isinstance(self.key, tuple) else self.key

    def describe(self) -> str:
        """One line for humans: create, drop or change, the kind, and the name (with its table)."""
        verb = "create" if self.before is None else ("drop" if self.after is None else "change")
        on = f" on {self.key[0]}" if isinstance(self.key, tuple) else ""
        return f"{verb} {self.kind} {self.name}{on}"


def changed_objects(kind: type[ObjectChange], old: dict, new: dict) -> list[ObjectChange]:
    """``kind`` changes from ``old`` to ``new`` (key -> definition): the ones that go or change in ``old``'s
    order, then the new ones in ``new``'s order (differ hooks use it)."""
    changes = [kind(key, before, new.get(key)) for key, before in old.items() if new.get(key) != before]
    return changes + [kind(key, None, after) for key, after in new.items() if key not in old]


#: Every kind of change the differ produces: planners, lint and the review screen read these.
Change = (
    CreateTable
    | DropTable
    | RenameTable
    | AlterTable
    | CreateIndex
    | DropIndex
    | CreateView
    | DropView
    | CreateTrigger
    | DropTrigger
    | ObjectChange
)


@dataclass
class Diff:
    """The changes from one schema to another, with the rename decisions behind them."""

    current: Schema
    desired: Schema
    changes: list[Change]
    table_renames: dict[str, str] = field(default_factory=dict)
    column_renames: dict[tuple[str, str], str] = field(default_factory=dict)
    unconfirmed: list[Candidate] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No differences."""
        return not self.changes

    def objects(self, kind: type[ObjectChange] = ObjectChange) -> list[ObjectChange]:
        """The changes of dialect-only objects of ``kind`` (default: every kind), in the differ's order."""
        return [c for c in self.changes if isinstance(c, kind)]

    def without_objects(self) -> "Diff":
        """This diff without its dialect-only object changes: the tables, indexes, views and triggers."""
        return replace(self, changes=[c for c in self.changes if not isinstance(c, ObjectChange)])


# -- differ ------------------------------------------------------------------------------
def diff_schemas(
    current: Schema, desired: Schema, renames: RenamePolicy | None = None, conversions: Conversions | None = None
) -> Diff:
    """The ordered changes that turn ``current`` into ``desired``, names matched by the dialect's rule."""
    renames = renames or RenamePolicy()
    conversions = conversions or Conversions()
    names = desired.names if desired.dialect else current.names
    table_renames = _match_tables(current, desired, renames, names)
    renamed_current = _apply_table_renames(current, table_renames, names)
    result = Diff(current, desired, [], table_renames=table_renames)
    old_tables = {names.table(t.name): t for t in renamed_current.tables}
    new_tables = {names.table(t.name): t for t in desired.tables}

    views_out, views_in = _changed_objects(current.views, desired.views, _view_key(names))
    triggers_out, triggers_in = _changed_objects(current.triggers, desired.triggers, _trigger_key(names))
    _recreate_view_triggers(current, desired, views_out, triggers_out, triggers_in, names)
    result.changes += [DropTrigger(t) for t in triggers_out] + [DropView(v) for v in views_out]

    indexes_out, indexes_in = _changed_objects(
        [i for t in renamed_current.tables for i in t.indexes],
        [i for t in desired.tables for i in t.indexes],
        _index_key(names),
    )
    result.changes += [
        DropIndex(_original_index(i, table_renames, names)) for i in indexes_out if names.table(i.table) in new_tables
    ]
    result.changes += [RenameTable(old, new) for old, new in table_renames.items()]

    created = [new_tables[n] for n in new_tables if n not in old_tables]
    result.changes += [CreateTable(t) for t in order_by_foreign_keys(created, names.table)]
    for key, new in new_tables.items():
        old = old_tables.get(key)
        if old is not None and old.definition() != new.definition():
            original = next((o for o, n in table_renames.items() if names.table(n) == key), old.name)
            change = _alter_table(old, new, renames, conversions, result, names, original)
            if change is not None:
                result.changes.append(change)
    dropped = [old_tables[n] for n in old_tables if n not in new_tables]
    result.changes += [DropTable(t) for t in reversed(order_by_foreign_keys(dropped, names.table))]

    created_names = {names.table(t.name) for t in created}
    result.changes += [CreateIndex(i) for i in indexes_in if names.table(i.table) not in created_names]
    result.changes += [CreateView(v) for v in views_in] + [CreateTrigger(t) for t in triggers_in]
    result.changes += describe(desired.dialect or current.dialect or "sqlite").diff_objects(current, desired)
    result.unconfirmed = list(renames.unconfirmed)
    return result


def _recreate_view_triggers(
    current: Schema, desired: Schema, views_out: list, triggers_out: list, triggers_in: list, names: NameRule
) -> None:
    """A trigger on a view that is dropped goes with it: drop it first, create it again after the view."""
    dropped_views = {names.table(v.name) for v in views_out}
    key = _trigger_key(names)
    wanted = {key(t): t for t in desired.triggers}
    for trigger in current.triggers:
        if names.table(trigger.table) not in dropped_views or trigger in triggers_out:
            continue
        triggers_out.append(trigger)
        again = wanted.get(key(trigger))
        if again is not None and again not in triggers_in:
            triggers_in.append(again)


def _view_key(names: NameRule):
    return lambda view: names.table(view.name)


def _trigger_key(names: NameRule):
    """Triggers by table and name: PostgreSQL lets two tables each have a trigger of one name."""
    return lambda trigger: (names.table(trigger.table), names.table(trigger.name))


def _index_key(names: NameRule):
    """Indexes by table and name: MySQL lets two tables each have an index of one name."""
    return lambda index: (names.table(index.table), names.index(index.name))


def _changed_objects(old_items, new_items, key) -> tuple[list, list]:
    """Objects to drop (gone or redefined) and to create (new or redefined), matched by ``key``."""
    old_by_key = {key(o): o for o in old_items}
    new_by_key = {key(o): o for o in new_items}
    out = [o for k, o in old_by_key.items() if new_by_key.get(k) != o]
    into = [o for k, o in new_by_key.items() if old_by_key.get(k) != o]
    return out, into


def _original_index(index: Index, table_renames: dict[str, str], names: NameRule) -> Index:
    back = {names.table(new): old for old, new in table_renames.items()}
    return replace(index, table=back.get(names.table(index.table), index.table))


# -- tables ------------------------------------------------------------------------------
def _match_tables(current: Schema, desired: Schema, renames: RenamePolicy, names: NameRule) -> dict[str, str]:
    new_names = {names.table(t.name) for t in desired.tables}
    old_names = {names.table(t.name) for t in current.tables}
    gone = [t for t in current.tables if names.table(t.name) not in new_names]
    appeared = [t for t in desired.tables if names.table(t.name) not in old_names]
    decided: dict[str, str] = {}
    for table in list(gone):
        target = renames.table_hint(table.name)
        match = _spelled(appeared, target)
        if match is not None:
            decided[table.name] = match.name
            gone.remove(table)
            appeared.remove(match)
    for table in gone:
        similar = [a for a in appeared if _similar_tables(table, a, names)]
        if len(similar) == 1 and renames.decide(Candidate(None, table.name, similar[0].name)):
            decided[table.name] = similar[0].name
            appeared.remove(similar[0])
    return decided


def _spelled(items, target: str | None):
    """The item a rename hint names: spelled exactly, else ignoring case (people type hints), else None."""
    if not target:
        return None
    return next((i for i in items if i.name == target), None) or next(
        (i for i in items if i.name.lower() == target.lower()), None
    )


def _similar_tables(old: Table, new: Table, names: NameRule) -> bool:
    """At least half of the columns (of the wider table) have the same names: a rename candidate."""
    old_names, new_names = {names.column(c.name) for c in old.columns}, {names.column(c.name) for c in new.columns}
    return 2 * len(old_names & new_names) >= max(len(old_names), len(new_names))


def _apply_table_renames(schema: Schema, renames: dict[str, str], names: NameRule) -> Schema:
    if not renames:
        return schema
    by_key = {names.table(old): new for old, new in renames.items()}

    def rename(table: Table) -> Table:
        name = by_key.get(names.table(table.name), table.name)
        keys = tuple(
            replace(k, ref_table=by_key.get(names.table(k.ref_table), k.ref_table)) for k in table.foreign_keys
        )
        indexes = tuple(replace(i, table=name) for i in table.indexes)
        return replace(table, name=name, foreign_keys=keys, indexes=indexes)

    return replace(schema, tables=tuple(rename(t) for t in schema.tables))


def _alter_table(
    old: Table,
    new: Table,
    renames: RenamePolicy,
    conversions: Conversions,
    result: Diff,
    names: NameRule,
    original_name: str,
) -> AlterTable | None:
    dialect = describe(result.desired.dialect or result.current.dialect or "sqlite")
    renamed = _match_columns(old, new, renames, names, original_name, dialect)
    for old_name, new_name in renamed.items():
        result.column_renames[(new.name, old_name)] = new_name
    renamed.update(_respelled(old, new, renamed, names))
    old_by_key = {names.column(c.name): c for c in old.columns}
    sources, altered, added = {}, [], []
    for column in new.columns:
        source_name = next((o for o, n in renamed.items() if names.column(n) == names.column(column.name)), None)
        source = old_by_key.get(names.column(source_name or column.name))
        if source is None:
            added.append(column)
            continue
        sources[column.name] = source.name
        if replace(source, name=column.name) != column:
            altered.append((source, column))
    kept = {names.column(s) for s in sources.values()}
    dropped = tuple(c for c in old.columns if names.column(c.name) not in kept)
    up_values = {
        c.name: v for c in new.columns if (v := _up_value(conversions, old, new, c, names, dialect)) is not None
    }
    down_values = {
        c.name: v
        for c in old.columns
        if (v := conversions.down_for(old.name, c.name) or conversions.down_for(original_name, c.name))
    }
    lossy = tuple(sources[n] for n in up_values if n in sources and sources[n] not in down_values)
    return AlterTable(
        old=old,
        new=new,
        sources=sources,
        renamed=renamed,
        added=tuple(added),
        dropped=dropped,
        altered=tuple(altered),
        up_values=up_values,
        down_values=down_values,
        lossy_down=lossy,
    )


def _respelled(old: Table, new: Table, renamed: dict[str, str], names: NameRule) -> dict[str, str]:
    """Columns that stay the same column under the dialect's rule but change spelling: renamed in place."""
    spelling = {names.column(c.name): c.name for c in new.columns}
    taken = {names.column(n) for n in renamed.values()}
    return {
        c.name: spelling[key]
        for c in old.columns
        if c.name not in renamed
        and (key := names.column(c.name)) in spelling
        and spelling[key] != c.name
        and key not in taken
    }


def _up_value(
    conversions: Conversions, old: Table, new: Table, column: Column, names: NameRule, dialect: DialectDescription
) -> str | None:
    value = conversions.up_for(new.name, column.name)
    backfill = conversions.default_for(new.name, column.name)
    if value is not None or backfill is None:
        return value
    source = old.column(column.name, names.column)
    if source is None:
        return backfill
    return f"COALESCE({dialect.quote(source.name)}, {backfill})"


def _match_columns(
    old: Table, new: Table, renames: RenamePolicy, names: NameRule, original_name: str, dialect: DialectDescription
) -> dict[str, str]:
    """Old column name -> new column name for renamed columns: hints first (written with the table's old or
    new name), then the questioner (candidates paired by the dialect's type families)."""
    new_names = {names.column(c.name) for c in new.columns}
    old_names = {names.column(c.name) for c in old.columns}
    gone = [c for c in old.columns if names.column(c.name) not in new_names]
    appeared = [c for c in new.columns if names.column(c.name) not in old_names]
    decided: dict[str, str] = {}
    for column in list(gone):
        target = renames.column_hint(new.name, column.name) or renames.column_hint(original_name, column.name)
        match = _spelled(appeared, target)
        if match is not None:
            decided[column.name] = match.name
            gone.remove(column)
            appeared.remove(match)
    for column, match in _one_to_one(gone, appeared, dialect):
        detail = f"{column.type or 'no type'} -> {match.type or 'no type'}" if column.type != match.type else ""
        if renames.decide(Candidate(new.name, column.name, match.name, detail)):
            decided[column.name] = match.name
    return decided


def _one_to_one(gone: list[Column], appeared: list[Column], dialect: DialectDescription) -> list[tuple[Column, Column]]:
    """Pairs where the gone column has exactly one compatible new column (by the dialect's type
    families), and that one only it."""
    compatible = dialect.compatible_types
    pairs = []
    for column in gone:
        options = [a for a in appeared if compatible(column.type, a.type)]
        if len(options) == 1 and [g for g in gone if compatible(g.type, options[0].type)] == [column]:
            pairs.append((column, options[0]))
    return pairs


def order_by_foreign_keys(tables: list[Table], key=str.lower) -> list[Table]:
    """``tables`` with referenced tables before the tables that reference them (cycles keep input order).

    ``key`` is the dialect's rule for table names; a reference spelled exactly like a table is that table.
    """
    by_name = {t.name: t for t in tables}
    by_key = {key(t.name): t for t in tables}
    ordered: list[Table] = []
    state: dict[str, str] = {}

    def visit(table: Table) -> None:
        if state.get(table.name):
            return
        state[table.name] = "visiting"
        for fk in table.foreign_keys:
            parent = by_name.get(fk.ref_table) or by_key.get(key(fk.ref_table))
            if parent is not None and parent is not table:
                visit(parent)
        state[table.name] = "done"
        ordered.append(table)

    for table in sorted(tables, key=lambda t: (t.name.lower(), t.name)):
        visit(table)
    return ordered
