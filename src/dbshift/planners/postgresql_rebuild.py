"""PostgreSQL table rebuilds: a table that becomes partitioned, or stops being partitioned.

PostgreSQL cannot ALTER a regular table into a partitioned one or back, so the table is rebuilt
inside the migration's transaction, keeping every row: the old table is renamed out of the way
and gives up the names the new one needs (its key constraints and indexes are dropped), the new
table is created under the real name with the desired definition, then the partitions the diff
creates under it, the rows are copied (``INSERT ... SELECT``; a row that fits no partition fails
the migration, which rolls back), serial sequences are handed over to the new table, identity
sequences carry on from the old values, and the old table is dropped (its partitions with it).

What stands on the table is taken care of by :mod:`postgresql` around the rebuild: views, rules,
policies and triggers are dropped before it and created again after it, and so are foreign keys
that point at it or leave from it (:func:`rebuilt_tables`). The down is the opposite rebuild.
"""

from __future__ import annotations

from dataclasses import replace

from dbshift.planners import postgresql_alter as alter
from dbshift.planners import postgresql_losses as losses
from dbshift.planners import postgresql_render as render
from dbshift.planners.operations import Operation
from dbshift.planners.postgresql_objects import literal, quote
from dbshift.schema import diff as d
from dbshift.schema.model import Schema, Table

#: Suffix of the old table's name while the new one is built (kept short: names stop at 63 bytes).
PARKED_SUFFIX = "__dbshift_old"


def converts(change) -> bool:
    """The change turns a regular table into a partitioned one, or a partitioned one into a regular one."""
    return isinstance(change, d.AlterTable) and (
        bool(change.old.options.get("partition_by")) != bool(change.new.options.get("partition_by"))
    )


def rebuilt_tables(diff: d.Diff) -> set[str]:
    """Names (after renames) of the tables the diff rebuilds."""
    return {c.name for c in diff.changes if converts(c)}


def partitions_under(name: str, schema: Schema) -> list[Table]:
    """The partitions of table ``name`` in ``schema``, and theirs (sub-partitions), parents first."""
    found, parents = [], {name}
    while True:
        more = [t for t in schema.tables if t.options.get("partition_of") in parents and t not in found]
        if not more:
            return render.parents_first(found)
        found += more
        parents |= {t.name for t in more}


def _partitions_created(change: d.AlterTable, diff: d.Diff) -> list[Table]:
    """The desired partitions under the rebuilt table that the current schema lacks (the rebuild creates them)."""
    existing = {dict(diff.table_renames).get(t.name, t.name) for t in diff.current.tables}
    return [t for t in partitions_under(change.new.name, diff.desired) if t.name not in existing]


def _partitions_dropped(change: d.AlterTable, diff: d.Diff) -> list[Table]:
    """The current partitions under the rebuilt table that the desired schema lacks (they go with the old table)."""
    renamed_to, wanted = dict(diff.table_renames), {t.name for t in diff.desired.tables}
    return [t for t in partitions_under(change.old.name, diff.current) if renamed_to.get(t.name, t.name) not in wanted]


def without_absorbed_tables(changes: list, diff: d.Diff) -> list:
    """``changes`` without the CreateTable and DropTable of partitions that a rebuild creates or drops itself."""
    absorbed = set()
    for change in (c for c in diff.changes if converts(c)):
        absorbed |= {("create", t.name) for t in _partitions_created(change, diff)}
        absorbed |= {("drop", t.name) for t in _partitions_dropped(change, diff)}

    def kept(change) -> bool:
        if isinstance(change, d.CreateTable):
            return ("create", change.table.name) not in absorbed
        if isinstance(change, d.DropTable):
            return ("drop", change.table.name) not in absorbed
        return True

    return [c for c in changes if kept(c)]


def with_triggers_recreated(changes: list, diff: d.Diff) -> list:
    """``changes`` plus a drop (first) and create (last) of each unchanged trigger on a rebuilt table
    (a trigger goes with the old table)."""
    rebuilt = rebuilt_tables(diff)
    touched = {(c.trigger.table, c.trigger.name) for c in changes if isinstance(c, (d.DropTrigger, d.CreateTrigger))}
    current = {(t.table, t.name): t for t in diff.current.triggers}
    kept = [
        t
        for t in diff.desired.triggers
        if t.table in rebuilt and (t.table, t.name) not in touched and (t.table, t.name) in current
    ]
    return [d.DropTrigger(current[(t.table, t.name)]) for t in kept] + changes + [d.CreateTrigger(t) for t in kept]


def plan_rebuild(change: d.AlterTable, diff: d.Diff) -> Operation:
    """The rebuild of a table that becomes partitioned or stops being partitioned, both ways.

    It copies the table (rewrites it, holding an ACCESS EXCLUSIVE lock throughout) but loses no
    row, unless the change also drops columns.
    """
    dropped = [c.name for c in change.dropped]
    lossy = ", ".join(f"{change.name}.{c}" for c in change.lossy_down)
    table_before = {new: old for old, new in diff.table_renames.items()}.get(change.name, change.name)
    never, checks = losses.reverse_losses(change, table_before, alter.cast)
    before, after = change.old.options.get("partition_by"), change.new.options.get("partition_by")
    shape = f"partitioned by {after}" if after else f"a regular table (was partitioned by {before})"
    return Operation(
        description=f"rebuild table {change.name} as {shape}, keeping its rows",
        sql=rebuild_sql(change, _partitions_created(change, diff), diff.desired),
        reverse=rebuild_sql(change.inverse(), _partitions_dropped(change, diff), diff.current),
        destructive=bool(dropped),
        rewrites_table=True,
        lossy_reverse=(f"no reverse conversion for {lossy}" if lossy else "")
        or (f"dropped column(s) {', '.join(change.name + '.' + c for c in dropped)} come back empty" if dropped else "")
        or "; ".join(never),
        loss_checks=checks,
    )


def rebuild_notes(diff: d.Diff) -> list[str]:
    """What a user should know before a rebuild runs."""
    notes = []
    for change in (c for c in diff.changes if converts(c)):
        if change.new.options.get("partition_by"):
            notes.append(
                f"table {change.name} is rebuilt as a partitioned table (rows copied under a lock): "
                "a row that fits none of its partitions makes the migration fail and roll back"
            )
        else:
            notes.append(
                f"table {change.name} is rebuilt as a regular table (rows of every partition copied "
                "under a lock); its partitions go with the old table"
            )
    return notes


def rebuild_sql(change: d.AlterTable, partitions: list[Table], schema: Schema) -> list[str]:
    """Statements that rebuild ``change.old`` as ``change.new`` with ``partitions`` under it (``schema``:
    the schema the rebuild reaches, for what the new tables inherit)."""
    old, new = change.old, change.new
    parked = old.name + PARKED_SUFFIX
    kept = _kept_indexes(old, new)
    statements = [f"ALTER TABLE {quote(old.name)} RENAME TO {quote(parked)}"]
    statements += _names_given_up(old, parked, kept)
    serials = _serials_kept(change)
    statements += render.create_table_sql(
        replace(new, indexes=tuple(kept)), with_foreign_keys=False, schema=_with_sequences(schema, serials)
    )
    for partition in partitions:
        statements += render.create_table_sql(partition, with_foreign_keys=False, schema=schema)
    statements += _copy_rows(change, parked)
    statements += [
        f"ALTER SEQUENCE {sequence} OWNED BY {quote(new.name)}.{quote(column)}" for column, sequence in serials.items()
    ]
    statements += _identities_carried_on(change, parked)
    return statements + [f"DROP TABLE {quote(parked)}"]


def _kept_indexes(old: Table, new: Table) -> list:
    """The new table's indexes the old one has too (comments aside); the diff drops and creates the others."""
    before = {render.uncommented(i) for i in old.indexes}
    return [i for i in new.indexes if render.uncommented(i) in before]


def _names_given_up(old: Table, parked: str, kept: list) -> list[str]:
    """Drop the old table's primary key, UNIQUE and exclusion constraints and the indexes still on it, and
    rename its identity sequences: their names are relation names, which the new table takes."""
    names = [k.name for k in [old.primary_key, *old.uniques] if k is not None and k.name]
    names += list(old.options.get("exclusion_constraints", {}))
    statements = [f"ALTER TABLE {quote(parked)} DROP CONSTRAINT {quote(n)}" for n in names]
    kept_names = {i.name for i in kept}
    statements += [f"DROP INDEX {quote(i.name)}" for i in old.indexes if i.name in kept_names]
    # Identity sequences are named after the table and column too: the new table's take their names.
    return statements + [
        f"ALTER SEQUENCE {quote(c.options['sequence']['name'])} RENAME TO "
        f"{quote(c.options['sequence']['name'] + PARKED_SUFFIX)}"
        for c in old.columns
        if c.options.get("identity") and c.options.get("sequence", {}).get("name")
    ]


def _serials_kept(change: d.AlterTable) -> dict[str, str]:
    """Serial columns (new name -> sequence) whose sequence the old table has already: the new table
    takes that sequence over rather than starting a new one from 1."""
    found = {}
    for column in change.new.columns:
        source = change.old.column(change.sources[column.name]) if column.name in change.sources else None
        if (
            source is not None
            and source.name == column.name
            and render.is_serial(column, change.new.name)
            and render.is_serial(source, change.old.name)
        ):
            found[column.name] = render.sequence_name(change.new.name, column.name)
    return found


def _with_sequences(schema: Schema, serials: dict[str, str]) -> Schema:
    """``schema`` with the kept serial sequences listed as existing ones, so that their columns are
    written as ``INTEGER DEFAULT nextval(...)`` rather than SERIAL (which would make a new sequence)."""
    if not serials:
        return schema
    sequences = {**schema.options.get("sequences", {}), **{s.strip('"'): None for s in serials.values()}}
    return replace(schema, options={**schema.options, "sequences": sequences})


def _copy_rows(change: d.AlterTable, parked: str) -> list[str]:
    """``INSERT INTO new (...) SELECT ... FROM parked``: every kept column, converted as ALTER COLUMN TYPE would."""
    old_columns = {c.name: c for c in change.old.columns}
    targets, values = [], []
    for column in change.new.columns:
        value, source = change.up_values.get(column.name), change.sources.get(column.name)
        if column.generated is not None or (value is None and source is None):
            continue
        targets.append(column)
        if value is None and old_columns[source].type != column.type:
            value = alter.cast(quote(source), old_columns[source].type, column.type)
        values.append(value if value is not None else quote(source))
    if not targets:
        return []
    # An identity column GENERATED ALWAYS takes the old values only when told to.
    overriding = " OVERRIDING SYSTEM VALUE" if any(c.options.get("identity") for c in targets) else ""
    return [
        f"INSERT INTO {quote(change.new.name)} ({', '.join(quote(c.name) for c in targets)}){overriding}\n"
        f"  SELECT {', '.join(values)} FROM {quote(parked)}"
    ]


def _identities_carried_on(change: d.AlterTable, parked: str) -> list[str]:
    """Identity columns of the new table go on from where the old table's identity sequence was."""
    statements = []
    for column in change.new.columns:
        source = change.old.column(change.sources[column.name]) if column.name in change.sources else None
        if column.options.get("identity") and source is not None and source.options.get("identity"):
            old_sequence = f"pg_get_serial_sequence({literal(quote(parked))}, {literal(source.name)})"
            new_sequence = f"pg_get_serial_sequence({literal(quote(change.new.name))}, {literal(column.name)})"
            statements.append(
                f"SELECT setval({new_sequence}, v) FROM pg_sequence_last_value({old_sequence}::regclass) v "
                "WHERE v IS NOT NULL"
            )
    return statements
