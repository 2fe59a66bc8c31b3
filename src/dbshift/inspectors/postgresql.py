"""PostgreSQL inspector: a live connection -> :class:`Schema`, from ``pg_catalog``.

The current schema (usually ``public``) is read: tables, columns (types as ``format_type``
prints them, arrays, enums and domains included), defaults, identity and serial columns,
constraints (deferrable, NOT VALID), foreign-key actions, indexes (partial, expression, access
method, INCLUDE), views, materialized views and triggers. What the neutral model has no field
for goes in ``options``: comments (on tables, columns, constraints, indexes, views and
triggers), identity, exclusion constraints, row-level security (``row_security``,
``force_row_security``), and on the schema the enums, domains, standalone sequences, functions,
aggregates, rules, policies (by table then name), comments on those objects (``comments``, by
kind then key), installed extensions (``extensions``: name -> schema) and other schemas. What an
extension creates (its functions, types, aggregates, views...) is the extension's and is never
read as the user's own objects. An index key's operator class, where it is not the default,
is in the index's ``options["opclasses"]``, its parameters (``siglen``) in
``options["opclass_parameters"]``. A column that owns a sequence (serial, identity) has
``options["sequence"]``: the sequence's name and its settings that are not the defaults. Keys and
indexes keep ``include`` (INCLUDE columns), ``nulls_not_distinct`` and ``storage`` (``WITH (...)``
parameters) in their options, and so does a table its ``storage``. A table
that inherits from others (``INHERITS``) lists its parents in ``options["inherits"]``; its
columns and CHECKs include the inherited ones, as the catalog shows them. A partitioned table
has ``options["partition_by"]``, a partition ``partition_of`` and ``partition_bound``; the keys,
indexes and triggers its parent gives it are the parent's and are not repeated on it. Expressions are printed
by the server itself (``pg_get_expr``/``pg_get_*def``), so both sides of a diff are
normalized the same way.
"""

from __future__ import annotations

from dataclasses import replace

from dbshift.dialects.base import BOOKKEEPING_TABLES
from dbshift.dialects.postgresql_description import POSTGRESQL
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

FK_ACTIONS = {"a": NO_ACTION, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
IDENTITY = {"a": "ALWAYS", "d": "BY DEFAULT"}
INDEX_DESC = 1  # bit 0 of pg_index.indoption
NAMESPACE = "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema())"


def _not_extension_member(oid: str, catalog: str) -> str:
    """SQL that is true when the object ``oid`` of ``catalog`` does not belong to an extension
    (``CREATE EXTENSION`` made it: it is the extension's, not the user's)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x WHERE x.objid = {oid} "
        f"AND x.classid = '{catalog}'::regclass AND x.deptype = 'e')"
    )


def inspect_database(db) -> Schema:
    """Read the current schema of a PostgreSQL :class:`Database`."""
    tables = _tables(db)
    columns = _columns(db)
    constraints = _constraints(db)
    indexes = _indexes(db)
    parents = _parents(db)
    built = [
        _with_options(
            _table(name, oid, comment, columns.get(oid, []), constraints.get(oid, []), indexes.get(oid, ())),
            {**parents.get(oid, {}), **_row_security(enabled, forced), **_storage(reloptions)},
        )
        for oid, name, comment, enabled, forced, reloptions in tables
    ]
    return Schema.build(built, _views(db), _triggers(db), dialect="postgresql", options=_schema_options(db))


def _tables(db) -> list[tuple]:
    skipped = set(BOOKKEEPING_TABLES)
    rows = db.execute(
        "SELECT c.oid, c.relname, obj_description(c.oid, 'pg_class'), c.relrowsecurity, c.relforcerowsecurity, "
        "c.reloptions FROM pg_catalog.pg_class c "
        f"WHERE c.relnamespace = {NAMESPACE} AND c.relkind IN ('r', 'p') "
        f"AND {_not_extension_member('c.oid', 'pg_class')} ORDER BY 2"
    )
    return [row for row in rows if row[1] not in skipped]


def _parents(db) -> dict[int, dict]:
    """Table options from the catalog's inheritance: ``inherits`` (parents in INHERITS order),
    ``partition_by`` of a partitioned table, ``partition_of`` and ``partition_bound`` of a partition."""
    found: dict[int, dict] = {}
    for oid, parent, is_partition, bound in db.execute(
        "SELECT i.inhrelid, p.relname, c.relispartition, pg_get_expr(c.relpartbound, c.oid) "
        "FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
        f"JOIN pg_catalog.pg_class p ON p.oid = i.inhparent WHERE c.relnamespace = {NAMESPACE} "
        "AND c.relkind IN ('r', 'p') ORDER BY i.inhrelid, i.inhseqno"
    ):
        options = found.setdefault(oid, {})
        if is_partition:
            options.update(partition_of=parent, partition_bound=bound)
        else:
            options.setdefault("inherits", []).append(parent)
    for oid, key in db.execute(
        "SELECT c.oid, pg_get_partkeydef(c.oid) FROM pg_catalog.pg_class c "
        f"WHERE c.relnamespace = {NAMESPACE} AND c.relkind = 'p'"
    ):
        found.setdefault(oid, {})["partition_by"] = key
    return found


def _storage(reloptions: list[str] | None) -> dict:
    """``{"storage": {parameter: value}}`` from a table's or index's ``reloptions`` (``WITH (fillfactor=70)``), or {}."""
    if not reloptions:
        return {}
    return {"storage": dict(sorted(tuple(item.split("=", 1)) for item in reloptions))}


def _row_security(enabled: bool, forced: bool) -> dict:
    """Table options for row-level security: ``row_security`` (ENABLE) and ``force_row_security`` (FORCE)."""
    return {key: True for key, on in (("row_security", enabled), ("force_row_security", forced)) if on}


def _with_options(table: Table, options: dict) -> Table:
    return replace(table, options={**table.options, **options}) if options else table


def _columns(db) -> dict[int, list[Column]]:
    """The columns of every table in the schema, read with one query (not one per table)."""
    rows = db.execute(
        "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), "
        "t.typnamespace = 'pg_catalog'::regnamespace, "
        "NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid, true), a.attidentity, a.attgenerated, "
        "CASE WHEN a.attcollation <> t.typcollation THEN co.collname END, col_description(a.attrelid, a.attnum), "
        "seq.name, seq.type, seq.seqstart, seq.seqincrement, seq.seqmin, seq.seqmax, seq.seqcache, seq.seqcycle "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
        # The sequence the column owns: a SERIAL's (OWNED BY, deptype 'a') or an identity's ('i').
        "LEFT JOIN LATERAL (SELECT sc.relname AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart, "
        "s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle FROM pg_catalog.pg_depend dep "
        "JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid JOIN pg_catalog.pg_class sc ON sc.oid = s.seqrelid "
        "WHERE dep.classid = 'pg_catalog.pg_class'::regclass AND dep.refclassid = 'pg_catalog.pg_class'::regclass "
        "AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype IN ('a', 'i') "
        "ORDER BY dep.deptype DESC LIMIT 1) seq ON true "
        f"WHERE c.relnamespace = {NAMESPACE} AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum"
    )
    found: dict[int, list[Column]] = {}
    for oid, *row in rows:
        found.setdefault(oid, []).append(_column(*row))
    return found


def _sequence_settings(
    column_type: str,
    name: str,
    type_: str,
    start: int,
    increment: int,
    minimum: int,
    maximum: int,
    cache: int,
    cycle: bool,
) -> dict:
    """A column's own sequence: its name and the settings that are not PostgreSQL's defaults for it
    (see :mod:`dbshift.planners.postgresql_sequences`)."""
    from dbshift.planners.postgresql_sequences import non_default_settings

    catalog = {
        "as": type_,
        "start": start,
        "increment": increment,
        "minvalue": minimum,
        "maxvalue": maximum,
        "cache": cache,
        "cycle": bool(cycle),
    }
    return {"name": name, **non_default_settings(catalog, column_type)}


def _column(name, type_, builtin, nullable, default, identity, generated, collation, comment, *sequence) -> Column:
    options = {}
    if identity:
        options["identity"] = IDENTITY[identity]
    if sequence[0] is not None:
        options["sequence"] = _sequence_settings(type_, *sequence)
    if comment:
        options["comment"] = comment
    return Column(
        name=name,
        type=type_.upper() if builtin else type_,
        nullable=bool(nullable),
        default=None if generated else default,
        collation=collation,
        generated=default if generated else None,
        generated_stored=bool(generated),
        options=options,
    )


def _constraints(db) -> dict[int, list[tuple]]:
    rows = db.execute(
        "SELECT c.conrelid, c.conname, c.contype, "
        # Only CHECK and EXCLUDE constraints need their definition text (the others are read from columns).
        "CASE WHEN c.contype IN ('c', 'x') THEN pg_get_constraintdef(c.oid, true) END, c.condeferrable, c.condeferred, "
        "c.convalidated, c.confdeltype, c.confupdtype, rc.relname, "
        "ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_catalog.pg_attribute a "
        "ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o)::text[], "
        "ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o) JOIN pg_catalog.pg_attribute a "
        "ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)::text[], obj_description(c.oid, 'pg_constraint'), "
        # A key's index: its INCLUDE columns, NULLS NOT DISTINCT and storage parameters (WITH (fillfactor=70)).
        "ARRAY(SELECT a.attname FROM unnest(ki.indkey::int2[]) WITH ORDINALITY k(n, o) JOIN pg_catalog.pg_attribute a "
        "ON a.attrelid = c.conrelid AND a.attnum = k.n WHERE k.o > ki.indnkeyatts ORDER BY k.o)::text[], "
        "ki.indnullsnotdistinct, kc.reloptions "
        "FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_class t ON t.oid = c.conrelid "
        "LEFT JOIN pg_catalog.pg_class rc ON rc.oid = c.confrelid "
        "LEFT JOIN pg_catalog.pg_index ki ON ki.indexrelid = c.conindid AND c.contype IN ('p', 'u') "
        "LEFT JOIN pg_catalog.pg_class kc ON kc.oid = ki.indexrelid "
        # A partition's copies of its partitioned parent's keys are the parent's (conparentid).
        f"WHERE t.relnamespace = {NAMESPACE} AND c.contype IN ('p', 'u', 'c', 'f', 'x') AND c.conparentid = 0 "
        "ORDER BY c.conname"
    )
    found: dict[int, list[tuple]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row[1:])
    return found


def _deferrable(deferrable: bool, deferred: bool) -> str | None:
    if not deferrable:
        return None
    return "DEFERRABLE INITIALLY DEFERRED" if deferred else "DEFERRABLE INITIALLY IMMEDIATE"


def _table(name: str, oid: int, comment, columns: list[Column], constraints: list[tuple], indexes) -> Table:
    primary_key, uniques, checks, foreign_keys = None, [], [], []
    options: dict = {"comment": comment} if comment else {}
    for (
        cname,
        kind,
        definition,
        deferrable,
        deferred,
        validated,
        on_delete,
        on_update,
        ref_table,
        cols,
        ref_cols,
        constraint_comment,
        *key_index,
    ) in constraints:
        extra = _with({"not_valid": True} if not validated else {}, "comment", constraint_comment)
        if kind in ("p", "u"):
            extra = {**extra, **_key_index_options(*key_index)}
        if kind == "p":
            primary_key = PrimaryKey(tuple(cols), name=cname, autoincrement=_is_auto(columns, cols), options=extra)
        elif kind == "u":
            uniques.append(
                Unique(tuple(cols), name=cname, options=_with(extra, "deferrable", _deferrable(deferrable, deferred)))
            )
        elif kind == "c":
            no_inherit = {"no_inherit": True} if definition.removesuffix(" NOT VALID").endswith(" NO INHERIT") else {}
            checks.append(Check(_check_expression(definition), name=cname, options={**extra, **no_inherit}))
        elif kind == "f":
            foreign_keys.append(
                ForeignKey(
                    tuple(cols),
                    ref_table,
                    tuple(ref_cols),
                    FK_ACTIONS[on_delete],
                    FK_ACTIONS[on_update],
                    _deferrable(deferrable, deferred),
                    cname,
                    options=extra,
                )
            )
        else:
            options.setdefault("exclusion_constraints", {})[cname] = definition
    return Table(
        name, tuple(columns), primary_key, tuple(uniques), tuple(checks), tuple(foreign_keys), tuple(indexes), options
    )


def _key_index_options(include: list[str], nulls_not_distinct: bool, reloptions: list[str] | None) -> dict:
    """Options of a primary key or UNIQUE constraint read from its index: ``include`` (INCLUDE columns),
    ``nulls_not_distinct`` and ``storage`` (its WITH parameters)."""
    options = {"include": list(include)} if include else {}
    if nulls_not_distinct:
        options["nulls_not_distinct"] = True
    return {**options, **_storage(reloptions)}


def _with(options: dict, key: str, value) -> dict:
    return {**options, key: value} if value else options


def _is_auto(columns: list[Column], key: list[str]) -> bool:
    if len(key) != 1:
        return False
    column = next((c for c in columns if c.name == key[0]), None)
    return column is not None and ("identity" in column.options or (column.default or "").startswith("nextval("))


def _check_expression(definition: str) -> str:
    """``CHECK ((x > 0)) NOT VALID`` -> ``x > 0``."""
    text = definition.removesuffix(" NOT VALID").removesuffix(" NO INHERIT")
    text = text[len("CHECK ") :] if text.startswith("CHECK ") else text
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


#: Every index of the schema's tables but those a constraint owns (primary key, unique, exclusion)
#: and those a partitioned parent's index made on a partition, with what :func:`_index_of` reads.
INDEXES_QUERY = (
    "SELECT i.indrelid, ic.relname, t.relname, i.indisunique, i.indnkeyatts, i.indnatts, i.indkey::int2[], "
    "i.indoption::int2[], pg_get_expr(i.indpred, i.indrelid, true), am.amname, i.indexrelid, "
    # Each key's text is needed only for expression keys (indkey 0); plain indexes skip pg_get_indexdef.
    "CASE WHEN 0 = ANY(i.indkey::int2[]) THEN ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) "
    "FROM generate_series(1, i.indnatts) k ORDER BY k) END, "
    "ARRAY(SELECT COALESCE(a.attname, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) "
    "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)::text[], "
    "obj_description(i.indexrelid, 'pg_class'), "
    # Each key's operator class where it is not the default one ('' where it is), qualified outside the schema.
    # (named too when it has parameters: gist (v tsvector_ops (siglen='8'))).
    "ARRAY(SELECT CASE WHEN opc.opcdefault AND ia.attoptions IS NULL THEN '' "
    "WHEN opc.opcnamespace IN ('pg_catalog'::regnamespace, "
    f"{NAMESPACE}) THEN quote_ident(opc.opcname) ELSE opc.opcnamespace::regnamespace::text "
    "|| '.' || quote_ident(opc.opcname) END FROM unnest(i.indclass::oid[]) WITH ORDINALITY k(c, o) "
    "JOIN pg_catalog.pg_opclass opc ON opc.oid = k.c LEFT JOIN pg_catalog.pg_attribute ia "
    "ON ia.attrelid = i.indexrelid AND ia.attnum = k.o ORDER BY k.o)::text[], "
    # Each key's operator class parameters ('' where none), NULLS NOT DISTINCT and storage parameters.
    "ARRAY(SELECT COALESCE(array_to_string(ia.attoptions, chr(31)), '') FROM pg_catalog.pg_attribute ia "
    "WHERE ia.attrelid = i.indexrelid AND ia.attnum > 0 ORDER BY ia.attnum)::text[], "
    "i.indnullsnotdistinct, ic.reloptions "
    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_class t ON t.oid = i.indrelid JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
    f"WHERE t.relnamespace = {NAMESPACE} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c "
    "WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) "
    # An index a partitioned parent's index made on a partition belongs to the parent's index.
    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid) ORDER BY ic.relname"
)


def _indexes(db) -> dict[int, tuple[Index, ...]]:
    """The indexes of the schema's tables, by table oid."""
    found: dict[int, list[Index]] = {}
    for row in db.execute(INDEXES_QUERY):
        found.setdefault(row[0], []).append(_index_of(row))
    return {oid: tuple(items) for oid, items in found.items()}


def _index_of(row) -> Index:
    """One row of :data:`INDEXES_QUERY` as an :class:`Index`."""
    name, table, unique, key_count, all_count, indkey, indoption, where, method = row[1:10]
    defs, names = row[11:13]  # row[10] is the index's oid
    keys = tuple(
        IndexKey(
            column=names[i] if indkey[i] else None,
            expression=None if indkey[i] else defs[i],
            descending=bool(indoption[i] & INDEX_DESC),
        )
        for i in range(key_count)
    )
    options = {"method": method} if method != "btree" else {}
    if all_count > key_count:
        options["include"] = list(names[key_count:])
    options.update(_index_options(key_count, *row[13:]))
    return Index(name, table, keys, bool(unique), where, options)


def _index_options(key_count: int, comment, opclasses, opclass_parameters, nulls_not_distinct, reloptions) -> dict:
    """The options of an index past its method and INCLUDE columns: operator classes and their
    parameters, NULLS NOT DISTINCT, storage parameters, comment."""
    options: dict = {}
    if any(opclasses):
        options["opclasses"] = [opclass or None for opclass in opclasses]
    if any(opclass_parameters[:key_count]):
        options["opclass_parameters"] = [_parameters(p) for p in opclass_parameters[:key_count]]
    if nulls_not_distinct:
        options["nulls_not_distinct"] = True
    options.update(_storage(reloptions))
    if comment:
        options["comment"] = comment
    return options


def _parameters(text: str) -> dict | None:
    """An index key's ``attoptions`` (``siglen=8``, items apart by chr(31)) -> ``{"siglen": "8"}``; '' -> None."""
    return dict(item.split("=", 1) for item in text.split(chr(31))) if text else None


def _views(db) -> list[View]:
    rows = db.execute(
        "SELECT c.relname, c.relkind, pg_get_viewdef(c.oid, true), obj_description(c.oid, 'pg_class') "
        f"FROM pg_catalog.pg_class c WHERE c.relnamespace = {NAMESPACE} AND c.relkind IN ('v', 'm') "
        f"AND {_not_extension_member('c.oid', 'pg_class')} ORDER BY 1"
    )
    views = []
    for name, kind, definition, comment in rows:
        materialized = kind == "m"
        keyword = "MATERIALIZED VIEW" if materialized else "VIEW"
        sql = f"CREATE {keyword} {_quote(name)} AS\n{definition.rstrip().rstrip(';')}"
        options = {"materialized": True} if materialized else {}
        if comment:
            options["comment"] = comment
        views.append(View(name, sql, options))
    return views


def _triggers(db) -> list[Trigger]:
    rows = db.execute(
        "SELECT tg.tgname, c.relname, pg_get_triggerdef(tg.oid, true), obj_description(tg.oid, 'pg_trigger') "
        f"FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid WHERE c.relnamespace = {NAMESPACE} "
        f"AND NOT tg.tgisinternal AND tg.tgparentid = 0 AND {_not_extension_member('c.oid', 'pg_class')} ORDER BY 1, 2"
    )
    return [Trigger(name, table, sql, {"comment": comment} if comment else {}) for name, table, sql, comment in rows]


def _schema_options(db) -> dict:
    options = {
        "schema": db.execute("SELECT current_schema()")[0][0],
        "enums": {
            name: list(labels)
            for name, labels in db.execute(
                "SELECT t.typname, ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid "
                f"ORDER BY e.enumsortorder)::text[] FROM pg_catalog.pg_type t WHERE t.typnamespace = {NAMESPACE} "
                f"AND t.typtype = 'e' AND {_not_extension_member('t.oid', 'pg_type')} ORDER BY 1"
            )
        },
        "domains": _domains(db),
        "sequences": {
            name: [str(v) for v in values]
            for name, *values in db.execute(
                "SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, "
                "s.seqcycle FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid "
                # Owned by a column (serial, identity) or by an extension: not a standalone sequence of the user's.
                f"WHERE c.relnamespace = {NAMESPACE} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
                "WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e')) ORDER BY 1"
            )
        },
        "functions": dict(
            db.execute(
                "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_catalog.pg_proc p "
                f"WHERE p.pronamespace = {NAMESPACE} AND p.prokind IN ('f', 'p') "
                f"AND {_not_extension_member('p.oid', 'pg_proc')} ORDER BY 1"
            )
        ),
        "aggregates": _aggregates(db),
        "extensions": _extensions(db),
        "rules": _rules(db),
        "policies": _policies(db),
        "other_schemas": [
            r[0]
            for r in db.execute(
                "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                "AND nspname NOT IN ('information_schema', current_schema()) ORDER BY 1"
            )
        ],
    }
    options["comments"] = _object_comments(db, options)
    return {key: value for key, value in options.items() if value}


#: The kinds of schema-level objects a comment can be on, and the ``options`` entry that holds them.
COMMENTED_KINDS = {
    "enum": "enums",
    "domain": "domains",
    "sequence": "sequences",
    "function": "functions",
    "aggregate": "aggregates",
}


def _object_comments(db, options: dict) -> dict[str, dict[str, str]]:
    """Comments on the enums, domains, sequences, functions and aggregates of ``options``, by kind then key."""
    found: dict[str, dict[str, str]] = {}
    for kind, key, comment in db.execute(
        "SELECT o.kind, o.key, d.description FROM ("
        "SELECT CASE t.typtype WHEN 'e' THEN 'enum' ELSE 'domain' END, t.typname::text, t.oid, "
        f"'pg_type'::regclass FROM pg_catalog.pg_type t WHERE t.typnamespace = {NAMESPACE} AND t.typtype IN ('e', 'd') "
        "UNION ALL SELECT 'sequence', c.relname::text, c.oid, 'pg_class'::regclass FROM pg_catalog.pg_class c "
        f"WHERE c.relnamespace = {NAMESPACE} AND c.relkind = 'S' "
        "UNION ALL SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' ELSE 'function' END, p.oid::regprocedure::text, "
        f"p.oid, 'pg_proc'::regclass FROM pg_catalog.pg_proc p WHERE p.pronamespace = {NAMESPACE}"
        ") o(kind, key, oid, catalog) JOIN pg_catalog.pg_description d "
        "ON d.objoid = o.oid AND d.classoid = o.catalog AND d.objsubid = 0 ORDER BY 1, 2"
    ):
        if key in options.get(COMMENTED_KINDS[kind], {}):
            found.setdefault(kind, {})[key] = comment
    return found


def _extensions(db) -> dict[str, dict]:
    """Installed extensions (not ``plpgsql``, which every database has) and the schema each is in,
    in the order they were created (an extension after the ones it requires).

    The version is left out: a database made from ``schema.sql`` gets the server's default
    version, and a live database keeps the one it was installed with; comparing them would plan
    an ``ALTER EXTENSION ... UPDATE`` nobody asked for.
    """
    return {
        name: {"schema": schema}
        for name, schema in db.execute(
            "SELECT e.extname, n.nspname FROM pg_catalog.pg_extension e "
            "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY e.oid"
        )
    }


def _policies(db) -> dict[str, dict[str, dict]]:
    """Row-level security policies by table then name: AS, FOR, TO (role names, sorted), USING, WITH CHECK, comment."""
    found: dict[str, dict[str, dict]] = {}
    for table, name, permissive, roles, command, using, check, comment in db.execute(
        "SELECT pp.tablename, pp.policyname, pp.permissive, pp.roles::text[], pp.cmd, pp.qual, pp.with_check, "
        "obj_description(p.oid, 'pg_policy') FROM pg_catalog.pg_policies pp "
        f"JOIN pg_catalog.pg_class c ON c.relname = pp.tablename AND c.relnamespace = {NAMESPACE} "
        "JOIN pg_catalog.pg_policy p ON p.polrelid = c.oid AND p.polname = pp.policyname "
        "WHERE pp.schemaname = current_schema() ORDER BY 1, 2"
    ):
        policy = {"as": permissive, "for": command, "to": list(roles), "using": using, "with_check": check}
        found.setdefault(table, {})[name] = _with(policy, "comment", comment)
    return found


def _aggregates(db) -> dict[str, str]:
    """Each aggregate's CREATE AGGREGATE, rebuilt from ``pg_aggregate`` (there is no pg_get_aggregatedef)."""
    rows = db.execute(
        "SELECT p.oid::regprocedure::text, quote_ident(p.proname), pg_get_function_arguments(p.oid), "
        "a.aggtransfn::regproc::text, format_type(a.aggtranstype, NULL), "
        "NULLIF(a.aggfinalfn, 0)::regproc::text, a.aggfinalextra, NULLIF(a.aggcombinefn, 0)::regproc::text, "
        "a.agginitval, NULLIF(a.aggsortop, 0)::regoperator::text, a.aggkind "
        "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid "
        f"WHERE p.pronamespace = {NAMESPACE} AND p.prokind = 'a' AND {_not_extension_member('p.oid', 'pg_proc')} "
        "ORDER BY 1"
    )
    return {signature: _aggregate_sql(*row) for signature, *row in rows}


def _aggregate_sql(
    name, arguments, transition, state_type, final, final_extra, combine, initial, sort_operator, kind
) -> str:
    parts = [f"SFUNC = {transition}", f"STYPE = {state_type}"]
    if final:
        parts.append(f"FINALFUNC = {final}" + (", FINALFUNC_EXTRA" if final_extra else ""))
    if combine:
        parts.append(f"COMBINEFUNC = {combine}")
    if initial is not None:
        parts.append("INITCOND = '" + initial.replace("'", "''") + "'")
    if sort_operator:
        parts.append(f"SORTOP = {sort_operator.split('(')[0]}")
    if kind == "h":
        parts.append("HYPOTHETICAL")
    return f"CREATE AGGREGATE {name}({arguments}) ({', '.join(parts)})"


def _rules(db) -> dict[str, dict[str, str]]:
    """Rewrite rules by table then name (a view's own ``_RETURN`` rule is the view, not a rule)."""
    found: dict[str, dict[str, str]] = {}
    for table, name, definition in db.execute(
        "SELECT c.relname, r.rulename, pg_get_ruledef(r.oid, true) FROM pg_catalog.pg_rewrite r "
        f"JOIN pg_catalog.pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = {NAMESPACE} "
        f"AND r.rulename <> '_RETURN' AND {_not_extension_member('c.oid', 'pg_class')} ORDER BY 1, 2"
    ):
        found.setdefault(table, {})[name] = definition.rstrip().rstrip(";")
    return found


def _domains(db) -> dict[str, dict]:
    """Each domain: base type, NOT NULL, default and named CHECK constraints."""
    rows = db.execute(
        "SELECT t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, "
        "COALESCE((SELECT json_object_agg(c.conname, pg_get_constraintdef(c.oid, true)) "
        "FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid), '{}'::json) "
        f"FROM pg_catalog.pg_type t WHERE t.typnamespace = {NAMESPACE} AND t.typtype = 'd' "
        f"AND {_not_extension_member('t.oid', 'pg_type')} ORDER BY 1"
    )
    return {
        name: {"type": base, "not_null": bool(not_null), "default": default, "checks": dict(sorted(checks.items()))}
        for name, base, not_null, default, checks in rows
    }


_quote = POSTGRESQL.quote
