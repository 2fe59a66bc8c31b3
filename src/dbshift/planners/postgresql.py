"""PostgreSQL planner: changes -> operations, every table change as native ALTER TABLE.

PostgreSQL has transactional DDL and an ALTER TABLE for everything the model holds: RENAME
COLUMN, ALTER COLUMN TYPE ... USING, SET/DROP NOT NULL, SET/DROP DEFAULT, identity, and
constraints. A new foreign key or CHECK is added ``NOT VALID`` and then validated, so the long
scan holds a lighter lock than the ALTER (SHARE UPDATE EXCLUSIVE instead of ACCESS EXCLUSIVE).
One table's statements are :mod:`postgresql_alter`'s (its column's sequences
:mod:`postgresql_sequences`', what its down loses :mod:`postgresql_losses`'), the SQL text
:mod:`postgresql_render`'s. Foreign keys are dropped before every table step and added after
them all (see :func:`foreign_key_moves`). Schema-level objects (``options``) are ordered by
``postgresql_objects``; tables that inherit or are partitions come after their parents, and a
parent's ALTER TABLE is not repeated on its children (PostgreSQL recurses). The whole order is
in :func:`plan_diff`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dbshift.dialects.postgresql_differ import ExtensionChange, PolicyChange, RuleChange, policies, rules
from dbshift.planners import postgresql_objects as o
from dbshift.planners import postgresql_rebuild as rebuild
from dbshift.planners.operations import Operation, Plan, rename_table_operation
from dbshift.planners.postgresql_alter import (
    add_constraint_validated,
    alter_table_sql,
    plan_alter_table,
)
from dbshift.planners.postgresql_objects import literal, quote
from dbshift.planners.postgresql_render import (
    add_constraint_sql,
    comment_on_constraint_sql,
    comment_sql,
    constraint_comment_sql,
    create_table_sql,
    drop_view_sql,
    index_sql,
    parent_names,
    parents_first,
    uncommented,
    view_sql,
    with_comment,
)
from dbshift.planners.views import order_views, view_mentions, views_in_dependency_order
from dbshift.schema import diff as d
from dbshift.schema.model import (
    ForeignKey,
    Index,
    Schema,
    Table,
    Trigger,
)


def schema_sql(schema: Schema) -> list[str]:
    """Statements that create ``schema`` from nothing: types, tables, foreign keys, indexes, views, triggers."""
    objects = o.dependency_order(list(o.schema_objects(schema.options, _relations(schema)).values()))
    statements = [s for item in objects if item.phase == o.BEFORE_TABLES for s in item.statements]
    tables = parents_first(list(schema.tables))
    for table in tables:
        statements += create_table_sql(table, with_foreign_keys=False, schema=schema)
    for table in tables:
        statements += [
            s
            for k in table.foreign_keys
            if not k.options.get("not_valid")
            for s in [add_constraint_sql(table.name, k)] + constraint_comment_sql(table.name, k)
        ]
    statements += [s for item in objects if item.phase == o.AFTER_TABLES for s in item.statements]
    for view in order_views([d.CreateView(v) for v in schema.views]):
        statements += view_sql(view.view)
    statements += [sql for sql in rules(schema.options).values()]
    statements += [
        s
        for (table, name), policy in policies(schema.options).items()
        for s in o.create_policy_sql(table, name, policy)
    ]
    return statements + [s for t in schema.triggers for s in with_comment(t, [t.sql])]


def _inheritance_order(changes: list) -> list:
    """New tables created after their parents, dropped tables dropped before them; an altered
    table altered after its parent, unless it leaves the parent (then before, so that the parent's
    changes no longer reach it). Positions of each kind of change are kept."""
    creates = [c for c in changes if isinstance(c, d.CreateTable)]
    drops = [c for c in changes if isinstance(c, d.DropTable)]
    alters = [c for c in changes if isinstance(c, d.AlterTable)]
    by_table = {id(c.table): c for c in creates + drops}
    created = iter([by_table[id(t)] for t in parents_first([c.table for c in creates])])
    dropped = iter([by_table[id(t)] for t in reversed(parents_first([c.table for c in reversed(drops)]))])
    altered = iter(_alters_in_order(alters))
    kinds = {d.CreateTable: created, d.DropTable: dropped, d.AlterTable: altered}
    return [next(kinds[type(c)]) if type(c) in kinds else c for c in changes]


def _alters_in_order(alters: list) -> list:
    by_name = {c.name: c for c in alters}

    def must_wait(change) -> bool:
        stays = [p for p in parent_names(change.new) if p in by_name and by_name[p] in pending]
        leaving = [
            c
            for c in pending
            if c is not change and change.name in parent_names(c.old) and change.name not in parent_names(c.new)
        ]
        return bool(stays or leaving)

    ordered, pending = [], list(alters)
    while pending:
        ready = next((c for c in pending if not must_wait(c)), pending[0])
        ordered.append(ready)
        pending.remove(ready)
    return ordered


# -- schema-level objects: extensions, enums, domains, sequences, functions, aggregates, rules
def _relations(schema: Schema) -> set[str]:
    return {t.name for t in schema.tables} | {v.name for v in schema.views}


def _changed_relations(schema: Schema, other: Schema) -> set[str]:
    """Tables and views of ``schema`` that ``other`` lacks or defines otherwise: a function reading
    only relations outside this set can be created before the table changes (where a column
    default may need it) and dropped after them."""
    return {t.name for t in schema.tables if other.table(t.name) != t} | {
        v.name for v in schema.views if other.view(v.name) != v
    }


def _object_transitions(diff: d.Diff) -> dict[str, list[tuple[o.SchemaObject, o.Transition]]]:
    """Each object's transition, grouped: creates and changes before/after the tables, drops before/after them.

    Changes follow the order of the desired schema's dependencies; drops the reverse order of the
    current one's. A function that reads a table or view the diff creates, changes or drops is
    created after the table changes and dropped before them. Extensions change where the diff's
    ExtensionChanges say (the other objects stand in the order either way).
    """
    current, desired = diff.current, diff.desired
    extensions = {("extension", c.key) for c in diff.objects(ExtensionChange)}
    old = o.schema_objects(
        _domains_after_renames(current.options, _enum_value_renames(current, desired)),
        _changed_relations(current, desired),
    )
    new = o.schema_objects(desired.options, _changed_relations(desired, current))
    groups: dict[str, list] = {"create before": [], "create after": [], "drop before": [], "drop after": []}
    for item in o.dependency_order(list(new.values())):
        if item.kind == "extension" and (item.kind, item.key) not in extensions:
            continue
        step = o.transition(old.get((item.kind, item.key)), item)
        if step is not None:
            groups["create before" if item.phase == o.BEFORE_TABLES else "create after"].append((item, step))
    for item in reversed(o.dependency_order(list(old.values()))):
        if (item.kind, item.key) not in new:
            # Drop late objects before the tables change (they may name a table's row type), early ones after.
            groups["drop before" if item.phase == o.AFTER_TABLES else "drop after"].append(
                (item, o.transition(item, None))
            )
    return groups


def _domains_after_renames(options: dict, renames: dict[str, str]) -> dict:
    """``options`` with its domains' defaults and CHECKs as they read once enum values are renamed."""
    if not renames or not options.get("domains"):
        return options

    def follow(text: str | None) -> str | None:
        for before, after in renames.items():
            text = text.replace(before, after) if text else text
        return text

    domains = {
        name: {
            **domain,
            "default": follow(domain["default"]),
            "checks": {c: follow(check) for c, check in domain["checks"].items()},
        }
        for name, domain in options["domains"].items()
    }
    return {**options, "domains": domains}


def _objects_operation(description: str, steps: list[tuple[o.SchemaObject, o.Transition]]) -> Operation:
    lossy = "; ".join(step.lossy for _, step in steps if step.lossy)
    return Operation(
        f"{description}: {', '.join(item.key for item, _ in steps)}",
        [s for _, step in steps for s in step.up],
        [s for _, step in reversed(steps) for s in step.down],
        lossy_reverse=lossy,
    )


def _rule_operations(diff: d.Diff) -> tuple[list[Operation], list[Operation]]:
    """Rules that go or change are dropped before everything else; new and changed ones created last.

    An unchanged rule on (or naming) a table whose columns are dropped or change type is dropped
    and created again too: PostgreSQL does not let a column under a rule change.
    """
    changed = {c.key for c in diff.objects(RuleChange)}
    # Every rule, in each schema's order: unchanged ones over a reshaped table are made again too.
    old, new = rules(diff.current.options), rules(diff.desired.options)
    reshaped = _reshaped_tables(diff)
    disturbed = {
        key
        for key, sql in old.items()
        if key not in changed and any(key[0] == name or re.search(rf"\b{re.escape(name)}\b", sql) for name in reshaped)
    }
    out = [(key, sql) for key, sql in old.items() if key in changed or key in disturbed]
    into = [(key, sql) for key, sql in new.items() if key in changed or key in disturbed]

    def drop(key):
        return f"DROP RULE {quote(key[1])} ON {quote(key[0])}"

    first = (
        [Operation(f"drop rules {', '.join(k[1] for k, _ in out)}", [drop(k) for k, _ in out], [sql for _, sql in out])]
        if out
        else []
    )
    last = (
        [
            Operation(
                f"create rules {', '.join(k[1] for k, _ in into)}", [sql for _, sql in into], [drop(k) for k, _ in into]
            )
        ]
        if into
        else []
    )
    return first, last


def _policy_operations(diff: d.Diff) -> tuple[list[Operation], list[Operation]]:
    """Policies that go are dropped before everything else, new ones created last.

    A changed policy is altered last (ALTER POLICY) when ALTER POLICY can say the change both
    ways and neither its table nor a table it names is altered (its old expression could name a
    column the table renames or drops); otherwise it is dropped first and created last. An
    unchanged policy over a table whose columns are dropped or change type is dropped and created
    again too: PostgreSQL does not let a column under a policy change.
    """
    changed = {c.key: c for c in diff.objects(PolicyChange)}
    old = policies(diff.current.options)  # unchanged ones over a reshaped table are made again too
    altered, reshaped = {c.name for c in diff.changes if isinstance(c, d.AlterTable)}, _reshaped_tables(diff)
    out, into, alters = [], [], []
    for key in sorted(old.keys() | changed.keys()):
        change = changed.get(key)
        before, after = (change.before, change.after) if change else (old[key], old[key])
        if change is None and not _stands_on(key, before, reshaped):
            continue
        steps = (
            _policy_alter(key, before, after)
            if not (_stands_on(key, before, altered) or _stands_on(key, after, altered))
            else None
        )
        if steps is not None:
            alters.append(Operation(f"alter policy {key[1]} on {key[0]}", *steps))
            continue
        out += [(key, before)] if before is not None else []
        into += [(key, after)] if after is not None else []

    def creates(items):
        return [sql for (table, name), policy in items for sql in o.create_policy_sql(table, name, policy)]

    def drops(items):
        return [o.drop_policy_sql(table, name) for (table, name), _ in items]

    first = [Operation(f"drop policies {', '.join(k[1] for k, _ in out)}", drops(out), creates(out))] if out else []
    last = (
        [Operation(f"create policies {', '.join(k[1] for k, _ in into)}", creates(into), drops(into))] if into else []
    )
    return first, last + alters


def _policy_alter(key: tuple[str, str], before: dict | None, after: dict | None) -> tuple[list, list] | None:
    """ALTER POLICY up and down, or None when a policy comes or goes or ALTER POLICY cannot say the change."""
    if before is None or after is None:
        return None
    up, down = o.alter_policy_sql(*key, before, after), o.alter_policy_sql(*key, after, before)
    return (up, down) if up is not None and down is not None else None


def _stands_on(key: tuple[str, str], policy: dict | None, tables: set[str]) -> bool:
    """The policy is on one of ``tables`` or its expressions name one."""
    if policy is None:
        return False
    text = f"{policy['using'] or ''} {policy['with_check'] or ''}"
    return key[0] in tables or any(re.search(rf"\b{re.escape(name)}\b", text) for name in tables)


def _comment_only_changes(diff: d.Diff) -> tuple[d.Diff, list[Operation]]:
    """The diff without the drop-and-create pairs of an index, view or trigger that change only their
    comment, and the COMMENT ON operations that take their place. A trigger on a view the diff drops
    keeps its pair (it goes with the view)."""
    dropped = {_pair_key(c): c for c in diff.changes if isinstance(c, (d.DropIndex, d.DropView, d.DropTrigger))}
    views_out = {c.view.name for c in diff.changes if isinstance(c, d.DropView)}
    pairs = []
    for change in (c for c in diff.changes if isinstance(c, (d.CreateIndex, d.CreateView, d.CreateTrigger))):
        before = dropped.get(_pair_key(change))
        if before is None or (isinstance(change, d.CreateTrigger) and change.trigger.table in views_out):
            continue
        old, new = _subject(before), _subject(change)
        if isinstance(old, Index):
            old = replace(old, table=new.table)
        if uncommented(old) == uncommented(new):
            pairs.append((before, change))
    paired = {id(c) for pair in pairs for c in pair}
    operations = [
        Operation(
            f"comment on {_pair_key(new)[0]} {_subject(new).name}",
            [comment_sql(_subject(new), _subject(new).options.get("comment"))],
            [comment_sql(_subject(old), _subject(old).options.get("comment"))],
        )
        for old, new in pairs
        if _subject(old).options.get("comment") != _subject(new).options.get("comment")
    ]
    return replace(diff, changes=[c for c in diff.changes if id(c) not in paired]), operations


def _subject(change):
    """The index, view or trigger a change creates or drops."""
    return getattr(change, "index", None) or getattr(change, "view", None) or getattr(change, "trigger", None)


def _pair_key(change) -> tuple:
    item = _subject(change)
    if isinstance(item, Trigger):
        return "trigger", item.table, item.name
    return ("index" if isinstance(item, Index) else "view"), item.name


def _reshaped_tables(diff: d.Diff) -> set[str]:
    """Tables that lose columns, change a column's type or are rebuilt (views, rules and policies over
    them must be recreated)."""
    return {
        c.name
        for c in diff.changes
        if isinstance(c, d.AlterTable) and (c.dropped or any(a.type != b.type for a, b in c.altered))
    } | rebuild.rebuilt_tables(diff)


def _changed_domains(new: dict, old: dict) -> list[str]:
    """Domains whose base type changed: not planned, only reported."""
    return [
        f"domain {n} changed its base type: alter it by hand"
        for n, v in new.get("domains", {}).items()
        if n in old.get("domains", {}) and old["domains"][n]["type"] != v["type"]
    ]


def _enum_rename_notes(new: dict, old: dict) -> list[str]:
    notes = []
    for name, labels in new.get("enums", {}).items():
        renames = o.enum_renames(old.get("enums", {}).get(name, labels), labels) or {}
        notes += [
            f"enum {name}: value '{a}' taken as renamed to '{b}' (same position); rows keep their value"
            for a, b in renames.items()
        ]
    return notes


# -- planning -----------------------------------------------------------------------------
def plan_diff(diff: d.Diff) -> Plan:
    """The operations that carry out ``diff`` on PostgreSQL.

    Order: rules and policies that go or change are dropped; triggers, views and the functions
    that read tables that go are dropped; extensions, types, domains, sequences and other functions
    are created or changed; foreign keys that go or move are dropped; tables change; foreign keys
    are added; functions that read tables, views, triggers, rules and policies are created (or
    policies altered); comments that change alone are set; and the types, domains, sequences,
    functions and then extensions that go are dropped last. The down runs the reverses backwards.
    """
    objects = _object_transitions(diff)
    rules_first, rules_last = _rule_operations(diff)
    policies_first, policies_last = _policy_operations(diff)
    extensions_dropped = [c.key for c in diff.objects(ExtensionChange) if c.after is None]
    diff, comments = _comment_only_changes(diff.without_objects())
    changes = rebuild.with_triggers_recreated(_with_views_recreated(diff), diff)
    changes = _inheritance_order(views_in_dependency_order(rebuild.without_absorbed_tables(changes, diff)))
    leading = next((i for i, c in enumerate(changes) if not isinstance(c, (d.DropView, d.DropTrigger))), len(changes))
    trailing = next(
        (
            i
            for i in range(len(changes), leading, -1)
            if not isinstance(changes[i - 1], (d.CreateView, d.CreateTrigger))
        ),
        leading,
    )
    operations = rules_first + policies_first
    operations += _with_late_functions(changes[:leading], objects["drop before"], diff, creating=False)
    if objects["create before"]:
        operations.append(
            _objects_operation("create or change extensions, types, sequences and functions", objects["create before"])
        )
    operations += _table_operations(changes[leading:trailing], diff)
    operations += _with_late_functions(changes[trailing:], objects["create after"], diff, creating=True)
    operations += rules_last + policies_last + comments
    if objects["drop after"]:
        operations.append(_objects_operation("drop types, sequences, functions and extensions", objects["drop after"]))
    return Plan(operations=operations, notes=_notes(diff, changes, extensions_dropped))


def _table_operations(changes: list, diff: d.Diff) -> list[Operation]:
    """Table, column, constraint and index changes, between the foreign keys' drop and add."""
    drop_keys, add_keys = foreign_key_moves(diff)
    # A table the diff drops comes back empty on the way down: its children's keys cannot be validated then.
    emptied = frozenset(c.table.name for c in changes if isinstance(c, d.DropTable))
    operations = (
        [_foreign_keys_operation("drop foreign keys", drop_keys, add=False, emptied=emptied)] if drop_keys else []
    )
    changes = _without_enum_rename_echoes(changes, _enum_value_renames(diff.current, diff.desired))
    operations += _planned(_without_inherited_steps(changes, diff), diff, _kept_by_children(changes, diff))
    operations += [_foreign_keys_operation("add foreign keys", add_keys, add=True)] if add_keys else []
    return operations + _foreign_key_comments(diff, add_keys)


def _foreign_key_comments(diff: d.Diff, added: list[tuple[str, ForeignKey]]) -> list[Operation]:
    """COMMENT ON CONSTRAINT for the foreign keys that stay (not re-added) and change only their comment."""
    renamed_to = dict(diff.table_renames)
    before = {
        (renamed_to.get(t.name, t.name), k.name): k.options.get("comment")
        for t in diff.current.tables
        for k in t.foreign_keys
    }
    again = {(table, key.name) for table, key in added}
    changed = [
        (t.name, k)
        for t in diff.desired.tables
        for k in t.foreign_keys
        if (t.name, k.name) in before
        and (t.name, k.name) not in again
        and before[(t.name, k.name)] != k.options.get("comment")
    ]
    if not changed:
        return []
    return [
        Operation(
            f"comment on foreign keys {', '.join(k.name for _, k in changed)}",
            [comment_on_constraint_sql(t, k.name, k.options.get("comment")) for t, k in changed],
            [comment_on_constraint_sql(t, k.name, before[(t, k.name)]) for t, k in changed],
        )
    ]


def _notes(diff: d.Diff, changes: list, extensions_dropped: list[str]) -> list[str]:
    """What the plan infers or cannot do (rename candidates are the diff's, shown on their own)."""
    current, desired = diff.current.options, diff.desired.options
    notes = _enum_rename_notes(desired, current) + _changed_domains(desired, current) + o.enum_notes(desired, current)
    notes += o.extension_notes(extensions_dropped)
    return notes + _repartitioned_notes(changes) + rebuild.rebuild_notes(diff) + _column_order_notes(changes)


def _column_order_notes(changes: list) -> list[str]:
    """PostgreSQL cannot put a column anywhere but at the end; say so rather than leave it unexplained."""
    notes = []
    for change in changes:
        if not isinstance(change, d.AlterTable) or rebuild.converts(change):
            continue
        names, added = [c.name for c in change.new.columns], {c.name for c in change.added}
        if change.reordered or (added and set(names[len(names) - len(added) :]) != added):
            notes.append(
                f"table {change.name}: columns keep their current order and new ones go at the end "
                "(PostgreSQL cannot move a column; only SELECT * and INSERT without column names see it)"
            )
    return notes


def _with_late_functions(changes: list, steps: list, diff: d.Diff, creating: bool) -> list[Operation]:
    """Views and the functions that read tables, in one dependency order (a view may call such a
    function, and such a function may read a view): created dependencies first, dropped dependents
    first. Triggers are dropped before them and created after them."""
    views = [c for c in changes if isinstance(c, (d.CreateView, d.DropView))]
    triggers = _planned([c for c in changes if c not in views], diff)
    entries = [(o.SchemaObject("view", c.view.name, c.view.name, c.view.sql, (c.view.sql,), ""), c) for c in views]
    entries += steps
    order = o.dependency_order([item for item, _ in entries])
    change_or_step = {id(item): entry for item, entry in entries}
    operations = []
    for item in order if creating else reversed(order):
        entry = change_or_step[id(item)]
        if isinstance(entry, o.Transition):
            verb = "create or change" if creating else "drop"
            operations.append(_objects_operation(f"{verb} {item.kind}", [(item, entry)]))
        else:
            operations.append(_plan_change(entry, diff))
    return operations + triggers if creating else triggers + operations


def _repartitioned_notes(changes: list) -> list[str]:
    """Partitioned tables whose partition key changes: PostgreSQL cannot alter it in place; not planned
    (a table that becomes partitioned or stops being so is rebuilt: see ``postgresql_rebuild``)."""
    return [
        f"table {c.name} changes its partitioning ({c.old.options.get('partition_by') or 'none'} -> "
        f"{c.new.options.get('partition_by') or 'none'}): PostgreSQL cannot alter that in place; rebuild it by hand"
        for c in changes
        if isinstance(c, d.AlterTable)
        and not rebuild.converts(c)
        and c.old.options.get("partition_by") != c.new.options.get("partition_by")
    ]


def _planned(changes: list, diff: d.Diff, kept_by_children: dict | None = None) -> list[Operation]:
    return [op for op in (_plan_change(c, diff, kept_by_children or {}) for c in changes) if op is not None]


def _with_views_recreated(diff: d.Diff) -> list:
    """Unchanged views that stand on something the diff reshapes are dropped first and recreated after.

    A view cannot outlive a column type change or drop under it, nor a view it reads being
    dropped and recreated.
    """
    reshaped = {name.lower() for name in _reshaped_tables(diff)}
    disturbed = reshaped | {c.view.name.lower() for c in diff.changes if isinstance(c, d.DropView)}
    touched = {c.view.name.lower() for c in diff.changes if isinstance(c, (d.DropView, d.CreateView))}
    unchanged = [
        v
        for v in diff.desired.views
        if uncommented(diff.current.view(v.name)) == uncommented(v) and v.name.lower() not in touched
    ]
    keep = []
    while True:
        more = [v for v in unchanged if v not in keep and any(view_mentions(v, name) for name in disturbed)]
        if not more:
            break
        keep += more
        disturbed |= {v.name.lower() for v in more}
    return [d.DropView(diff.current.view(v.name)) for v in keep] + list(diff.changes) + [d.CreateView(v) for v in keep]


def _plan_change(change, diff: d.Diff, kept_by_children: dict | None = None) -> Operation | None:
    if isinstance(change, d.CreateTable):
        return Operation(
            f"create table {change.table.name}",
            create_table_sql(change.table, with_foreign_keys=False, schema=diff.desired),
            [f"DROP TABLE {quote(change.table.name)}"],
        )
    if isinstance(change, d.DropTable):
        return Operation(
            f"drop table {change.table.name}",
            [f"DROP TABLE {quote(change.table.name)}"],
            create_table_sql(change.table, with_foreign_keys=False, schema=diff.current),
            destructive=True,
            lossy_reverse=f"the rows of table {change.table.name} are not brought back",
        )
    if isinstance(change, d.RenameTable):
        return rename_table_operation(change, quote)
    if rebuild.converts(change):
        return rebuild.plan_rebuild(change, diff)
    if isinstance(change, d.AlterTable):
        before = {new: old for old, new in diff.table_renames.items()}.get(change.name, change.name)
        return plan_alter_table(change, (kept_by_children or {}).get(change.name, frozenset()), before)
    if isinstance(change, d.CreateIndex):
        return Operation(
            f"create index {change.index.name}", index_sql(change.index), [f"DROP INDEX {quote(change.index.name)}"]
        )
    if isinstance(change, d.DropIndex):
        return Operation(
            f"drop index {change.index.name}", [f"DROP INDEX {quote(change.index.name)}"], index_sql(change.index)
        )
    return _plan_view_or_trigger(change)


def _plan_view_or_trigger(change) -> Operation:
    if isinstance(change, d.CreateView):
        return Operation(f"create view {change.view.name}", view_sql(change.view), [drop_view_sql(change.view)])
    if isinstance(change, d.DropView):
        return Operation(f"drop view {change.view.name}", [drop_view_sql(change.view)], view_sql(change.view))
    drop = f"DROP TRIGGER {quote(change.trigger.name)} ON {quote(change.trigger.table)}"
    if isinstance(change, d.CreateTrigger):
        return Operation(
            f"create trigger {change.trigger.name}", with_comment(change.trigger, [change.trigger.sql]), [drop]
        )
    if isinstance(change, d.DropTrigger):
        return Operation(
            f"drop trigger {change.trigger.name}", [drop], with_comment(change.trigger, [change.trigger.sql])
        )
    raise TypeError(f"unknown change {change!r}")


# -- enum value renames: expressions follow them by themselves ------------------------------
def _enum_value_renames(current: Schema, desired: Schema) -> dict[str, str]:
    """``'old'::type`` -> ``'new'::type`` for every enum value renamed in place."""
    found = {}
    for name, labels in desired.options.get("enums", {}).items():
        before = current.options.get("enums", {}).get(name)
        type_name = name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else quote(name)
        for old, new in (o.enum_renames(before, labels) or {}).items() if before is not None else ():
            found[f"{literal(old)}::{type_name}"] = f"{literal(new)}::{type_name}"
    return found


def _without_enum_rename_echoes(changes: list, renames: dict[str, str]) -> list:
    """Changes without the default, CHECK and index differences that only echo an enum value rename.

    PostgreSQL stores an enum value by its identity, so ``DEFAULT 'pending'::status`` reads
    ``'waiting'::status`` once the value is renamed; re-setting it would fail on the way down.
    """
    if not renames:
        return changes

    def follow(text: str | None) -> str | None:
        for old, new in renames.items():
            text = text.replace(old, new) if text else text
        return text

    def index(i: Index) -> Index:
        return replace(
            i, where=follow(i.where), keys=tuple(replace(k, expression=follow(k.expression)) for k in i.keys)
        )

    created = {index(c.index) for c in changes if isinstance(c, d.CreateIndex)}
    echoed = {c.index for c in changes if isinstance(c, d.DropIndex) and index(c.index) in created}
    result = []
    for change in changes:
        if isinstance(change, d.AlterTable):
            old = replace(
                change.old, checks=tuple(replace(c, expression=follow(c.expression)) for c in change.old.checks)
            )
            altered = tuple((replace(a, default=follow(a.default)), b) for a, b in change.altered)
            change = replace(change, old=old, altered=tuple((a, b) for a, b in altered if replace(a, name=b.name) != b))
            if not _still_changes(change):
                continue
        elif isinstance(change, d.DropIndex) and change.index in echoed:
            continue
        elif isinstance(change, d.CreateIndex) and change.index in {index(i) for i in echoed}:
            continue
        result.append(change)
    return result


# -- foreign keys: dropped before every table change, added after them ---------------------
def foreign_key_moves(diff: d.Diff) -> tuple[list[tuple[str, ForeignKey]], list[tuple[str, ForeignKey]]]:
    """(table, key) pairs to drop before the table changes, and to add after them.

    Every foreign key that goes or changes is dropped first and every new or changed one added
    last (so the order of the tables never matters, cycles included), and so is an unchanged key
    that points at a primary key, UNIQUE constraint or unique index which the diff drops or
    redefines (PostgreSQL refuses to drop a key a foreign key depends on), or that leaves from or
    points at a table the diff rebuilds (the old table goes). The keys of a dropped
    table are dropped first too, so that on the way down the table comes back before the keys
    it points at do, and gets its keys last.
    """
    renamed_to = dict(diff.table_renames)
    current = {
        (renamed_to.get(t.name, t.name), k.name): (t.name, _as_renamed(k, t, diff))
        for t in diff.current.tables
        for k in t.foreign_keys
    }
    desired = {(t.name, k.name): (t.name, k) for t in diff.desired.tables for k in t.foreign_keys}
    surviving = {t.name for t in diff.desired.tables}
    moved_keys, rebuilt = _changed_keys(diff), rebuild.rebuilt_tables(diff)
    drop, add = [], []
    for key, (table, fk) in current.items():
        wanted = desired.get(key) if key[0] in surviving else None
        moved = (fk.ref_table, frozenset(fk.ref_columns)) in moved_keys or {key[0], fk.ref_table} & rebuilt
        if wanted is None or uncommented(wanted[1]) != uncommented(fk) or moved:
            original = diff.current.table(table)
            drop.append((table, next(k for k in original.foreign_keys if k.name == fk.name)))
    for key, (table, fk) in desired.items():
        before = current.get(key)
        moved = (fk.ref_table, frozenset(fk.ref_columns)) in moved_keys or {table, fk.ref_table} & rebuilt
        if before is None or uncommented(before[1]) != uncommented(fk) or moved:
            add.append((table, fk))
    return drop, add


def _as_renamed(key: ForeignKey, table: Table, diff: d.Diff) -> ForeignKey:
    """A current foreign key as it reads after the diff's table and column renames."""
    renamed_to = dict(diff.table_renames)
    own, target = renamed_to.get(table.name, table.name), renamed_to.get(key.ref_table, key.ref_table)

    def column(table_name: str, name: str) -> str:
        return diff.column_renames.get((table_name, name), name)

    return replace(
        key,
        columns=tuple(column(own, c) for c in key.columns),
        ref_table=target,
        ref_columns=tuple(column(target, c) for c in key.ref_columns),
    )


def _changed_keys(diff: d.Diff) -> set[tuple[str, frozenset]]:
    """(table, columns) of every primary key, UNIQUE constraint and unique index that goes, comes or changes."""
    renamed_to = dict(diff.table_renames)

    def keys(table: Table, name: str) -> set:
        found = {
            (name, uncommented(replace(k, columns=tuple(diff.column_renames.get((name, c), c) for c in k.columns))))
            for k in [table.primary_key, *table.uniques]
            if k is not None
        }
        return found | {
            (
                name,
                uncommented(
                    replace(
                        i,
                        table=name,
                        keys=tuple(
                            replace(k, column=diff.column_renames.get((name, k.column), k.column)) for k in i.keys
                        ),
                    )
                ),
            )
            for i in table.indexes
            if i.unique
        }

    old = set().union(*[keys(t, renamed_to.get(t.name, t.name)) for t in diff.current.tables])
    new = set().union(*[keys(t, t.name) for t in diff.desired.tables])
    return {(table, frozenset(item.columns)) for table, item in old ^ new}


def _foreign_keys_operation(
    description: str, keys: list[tuple[str, ForeignKey]], add: bool, emptied: frozenset[str] = frozenset()
) -> Operation:
    """Drop or add ``keys``; the reverse of a drop adds a key that points at an ``emptied`` table (one
    the up drops, which the down brings back without its rows) NOT VALID: existing rows cannot pass a
    validation then, and the down must still run (it is lossy already)."""
    unvalidated = [(t, k) for t, k in keys if not add and k.ref_table in emptied and not k.options.get("not_valid")]

    def added(table: str, key: ForeignKey) -> list[str]:
        if (table, key) in unvalidated:
            key = replace(key, options={**key.options, "not_valid": True})
        return add_constraint_validated(table, key) + constraint_comment_sql(table, key)

    adds = [s for table, key in keys for s in added(table, key)]
    drops = [f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(key.name)}" for table, key in keys]
    names = ", ".join(f"{table}.{key.name}" for table, key in keys)
    operation = Operation(f"{description}: {names}", adds if add else drops, drops if add else adds)
    operation.notes += [
        f"the down adds {table}.{key.name} NOT VALID: {key.ref_table} comes back without its rows; "
        f"`ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(key.name)}` once they are restored"
        for table, key in unvalidated
    ]
    return operation


# -- inheritance: what a parent's ALTER TABLE already does to its children -----------------
def _without_inherited_steps(changes: list, diff: d.Diff) -> list:
    """Each child's AlterTable without the steps its parent's AlterTable makes on it already.

    ALTER TABLE on a parent recurses to the tables that inherit from it: added, dropped and
    renamed columns, type, default and NOT NULL changes, and CHECK constraints. Parents are
    altered before their children (and reverted after them).
    """
    alters = {c.name: c for c in changes if isinstance(c, d.AlterTable)}
    result = []
    for change in changes:
        if isinstance(change, d.AlterTable):
            for parent in parent_names(change.old):
                if parent in alters and parent in parent_names(change.new):
                    change = _after_parent(change, alters[parent])
        result.append(change)
    return [c for c in result if not isinstance(c, d.AlterTable) or _still_changes(c)]


def _kept_by_children(changes: list, diff: d.Diff) -> dict[str, set[str]]:
    """Parent table -> columns it drops that a table staying its child keeps (altered or not)."""
    kept: dict[str, set[str]] = {}
    for parent in (c for c in changes if isinstance(c, d.AlterTable) and c.dropped):
        dropped = {c.name for c in parent.dropped}
        for child in diff.desired.tables:
            before = diff.current.table(child.name)
            if before is not None and parent.name in parent_names(child) and parent.name in parent_names(before):
                kept.setdefault(parent.name, set()).update(c.name for c in child.columns if c.name in dropped)
    return kept


def _after_parent(child: d.AlterTable, parent: d.AlterTable) -> d.AlterTable:
    """``child`` as it stands once ``parent``'s change has recursed into it."""
    parent_new = {b.name: b for _, b in parent.altered}
    altered = []
    for a, b in child.altered:
        if b.name in parent_new:
            p = parent_new[b.name]
            a = replace(a, type=p.type, collation=p.collation, default=p.default, nullable=a.nullable and p.nullable)
        if replace(a, name=b.name) != b:
            altered.append((a, b))
    gone_checks = {c.name for c in parent.old.checks} - {c.name for c in parent.new.checks}
    new_checks = [c for c in parent.new.checks if c not in parent.old.checks and not c.options.get("no_inherit")]
    checks = [c for c in child.old.checks if c.name not in gone_checks and c.name not in {n.name for n in new_checks}]
    old = replace(child.old, checks=tuple(checks + new_checks))
    return replace(
        child,
        old=old,
        altered=tuple(altered),
        added=tuple(c for c in child.added if c.name not in {p.name for p in parent.added}),
        dropped=tuple(c for c in child.dropped if c.name not in {p.name for p in parent.dropped}),
        renamed={a: b for a, b in child.renamed.items() if parent.renamed.get(a) != b},
    )


def _still_changes(change: d.AlterTable) -> bool:
    return rebuild.converts(change) or bool(alter_table_sql(change) or alter_table_sql(change.inverse()))
