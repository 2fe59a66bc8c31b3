"""PostgreSQL sequences that belong to a column: SERIAL columns and identity columns.

A column that owns a sequence (a SERIAL's ``OWNED BY`` sequence, or an identity column's own)
has ``options["sequence"]``: the sequence's settings that differ from what PostgreSQL gives a
new sequence of that type (``as``, ``start``, ``increment``, ``minvalue``, ``maxvalue``,
``cache``, ``cycle``; ``name`` when it is not ``<table>_<column>_seq``), ``{}`` when none do.
An identity column also has ``options["identity"]`` (``ALWAYS`` or ``BY DEFAULT``).

Each change between no sequence, a serial and an identity is planned so that the next insert
goes on after the values the table holds (never from 1 on a table that has ids): a sequence
that replaces another carries on from the larger of the old one's last value and the column's
largest value; ``ALWAYS`` <-> ``BY DEFAULT`` and changed settings alter the sequence in place.
"""

from __future__ import annotations

from dbshift.planners.postgresql_objects import literal, quote

#: The range of each type a sequence can have.
RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
SETTING_KEYS = ("as", "start", "increment", "minvalue", "maxvalue", "cache", "cycle")
#: Suffix of a sequence parked while the column's new one is set up (names stop at 63 bytes).
PARKED_SUFFIX = "__dbshift_old"
NEW_SUFFIX = "__dbshift_new"


def sequence_type(column_type: str) -> str:
    """The sequence type of a column type (``INTEGER`` -> ``integer``); ``bigint`` for other types."""
    name = column_type.lower()
    return name if name in RANGES else "bigint"


def full_settings(settings: dict, column_type: str) -> dict:
    """Every setting of a sequence: ``settings`` with PostgreSQL's defaults for the rest."""
    increment = settings.get("increment", 1)
    low, high = RANGES.get(settings.get("as") or sequence_type(column_type), RANGES["bigint"])
    minimum = settings.get("minvalue", 1 if increment > 0 else low)
    maximum = settings.get("maxvalue", high if increment > 0 else -1)
    return {
        "as": settings.get("as") or sequence_type(column_type),
        "start": settings.get("start", minimum if increment > 0 else maximum),
        "increment": increment,
        "minvalue": minimum,
        "maxvalue": maximum,
        "cache": settings.get("cache", 1),
        "cycle": bool(settings.get("cycle", False)),
    }


def non_default_settings(catalog: dict, column_type: str) -> dict:
    """The settings of ``catalog`` (every key of :data:`SETTING_KEYS`) that differ from the defaults of a
    sequence of that type and increment: what ``options["sequence"]`` keeps."""
    as_type = catalog["as"] if catalog["as"] != sequence_type(column_type) else None
    # A descending sequence's defaults (start, bounds) are those of increment -1.
    defaults = full_settings({"increment": 1 if catalog["increment"] > 0 else -1, "as": as_type}, column_type)
    found = {"as": as_type} if as_type else {}
    found.update({key: catalog[key] for key in SETTING_KEYS[1:] if catalog[key] != defaults[key]})
    if catalog["increment"] < 0:
        found["increment"] = catalog["increment"]
    return found


def kind(column) -> str | None:
    """``identity``, ``serial`` (owns a sequence its default draws from) or None."""
    if column.options.get("identity"):
        return "identity"
    return "serial" if "sequence" in column.options else None


def serial_sequence(table: str, column) -> str:
    """The name of a column's own sequence (``<table>_<column>_seq`` unless it says), quoted where it needs to be."""
    return quote_sequence(column.options.get("sequence", {}).get("name") or f"{table}_{column.name}_seq")


def quote_sequence(name: str) -> str:
    """A sequence name as SQL, quoted only where it needs to be (as ``nextval('...'::regclass)`` prints it)."""
    return quote(name) if not name.islower() or not name.replace("_", "").isalnum() or name[0].isdigit() else name


def options_sql(column, for_identity: bool, prefix: str = "") -> str:
    """The sequence options of ``column`` as CREATE/ALTER SEQUENCE (or ``SET ...`` for an identity) says them."""
    settings = full_settings(column.options.get("sequence", {}), column.type)
    words = [] if for_identity else [f"AS {settings['as']}"]
    words += [
        f"START WITH {settings['start']}",
        f"INCREMENT BY {settings['increment']}",
        f"MINVALUE {settings['minvalue']}",
        f"MAXVALUE {settings['maxvalue']}",
        f"CACHE {settings['cache']}",
        "CYCLE" if settings["cycle"] else "NO CYCLE",
    ]
    return " ".join(prefix + w for w in words)


def identity_clause(column, table: str | None = None, named_as: str | None = None) -> str:
    """``GENERATED ... AS IDENTITY`` with the options that are not the defaults, and the sequence's
    name when it is not the one PostgreSQL would give it on ``table`` (the column being called
    ``named_as`` when it is not yet renamed)."""
    clause = f"GENERATED {column.options['identity']} AS IDENTITY"
    settings = {k: v for k, v in column.options.get("sequence", {}).items() if k not in ("as", "name")}
    name = column.options.get("sequence", {}).get("name")
    named = name is not None and table is not None and name != f"{table}_{named_as or column.name}_seq"
    if not settings and not named:
        return clause
    full = full_settings(settings, column.type)
    words = {
        "start": f"START WITH {full['start']}",
        "increment": f"INCREMENT BY {full['increment']}",
        "minvalue": f"MINVALUE {full['minvalue']}",
        "maxvalue": f"MAXVALUE {full['maxvalue']}",
        "cache": f"CACHE {full['cache']}",
        "cycle": "CYCLE" if full["cycle"] else "NO CYCLE",
    }
    parts = ([f"SEQUENCE NAME {quote(name)}"] if named else []) + [words[k] for k in words if k in settings]
    return f"{clause} ({' '.join(parts)})"


def serial_settings_sql(table: str, column) -> list[str]:
    """For a new table's SERIAL column: rename the sequence SERIAL made where it has another name, and
    ALTER SEQUENCE where its settings are not the ones SERIAL gives."""
    made = quote_sequence(f"{table}_{column.name}_seq")
    statements = (
        [f"ALTER SEQUENCE {made} RENAME TO {serial_sequence(table, column)}"]
        if made != serial_sequence(table, column)
        else []
    )
    if any(k != "name" for k in column.options.get("sequence", {})):
        statements.append(f"ALTER SEQUENCE {serial_sequence(table, column)} {options_sql(column, for_identity=False)}")
    return statements


def carry_on(table: str, column: str, sequence: str, settings: dict, after: str | None = None) -> str:
    """``setval`` so that ``sequence`` (SQL giving its name or regclass) goes on after the column's values
    and after ``after`` (SQL giving the old sequence, whose last value counts too); a table whose values
    do not reach the start leaves the sequence at its start."""
    ascending = settings["increment"] > 0
    largest = f"{'max' if ascending else 'min'}({quote(column)})::bigint"
    value = (
        f"{'GREATEST' if ascending else 'LEAST'}({largest}, pg_sequence_last_value({after}::regclass))"
        if after
        else largest
    )
    compare = ">=" if ascending else "<="
    return (
        f"SELECT setval({sequence}, v) FROM (SELECT {value} AS v FROM {quote(table)}) AS carried "
        f"WHERE v {compare} {settings['start']}"
    )


def column_sequence_steps(table: str, old, new) -> tuple[list[str], list[str], list[str]]:
    """(early, middle, late) statements for the sequence of a column changing from ``old`` to ``new``.

    Early ones run before the column's default is dropped and its type changed, middle ones after
    the type change and before the new default is set, late ones after every NOT NULL change. The
    column is named as before any rename (``old.name``).
    """
    before, after = kind(old), kind(new)
    quoted_table, column = quote(table), quote(old.name)
    target = f"ALTER TABLE {quoted_table} ALTER COLUMN {column}"
    owned = f"pg_get_serial_sequence({literal(quoted_table)}, {literal(old.name)})"
    settings = full_settings(new.options.get("sequence", {}), new.type)
    if before == after:
        return _same_kind_steps(before, table, old, new)
    early, middle, late = [], [], []
    if before == "identity" and after == "serial":
        # The new sequence is made first, under a free name, so that it can carry on from the identity's.
        temporary = quote(serial_sequence(table, new).strip('"') + NEW_SUFFIX)
        early += [
            f"CREATE SEQUENCE {temporary} {options_sql(new, for_identity=False)}",
            carry_on(table, old.name, literal(temporary), settings, after=owned),
            f"{target} DROP IDENTITY",
            f"ALTER SEQUENCE {temporary} RENAME TO {serial_sequence(table, new)}",
            f"ALTER SEQUENCE {serial_sequence(table, new)} OWNED BY {quoted_table}.{column}",
        ]
    elif before == "identity":
        early.append(f"{target} DROP IDENTITY")
    elif after == "serial":
        sequence = serial_sequence(table, new)
        middle += [
            f"CREATE SEQUENCE {sequence} {options_sql(new, for_identity=False)} OWNED BY {quoted_table}.{column}",
            carry_on(table, old.name, literal(sequence), settings),
        ]
    if before == "serial" and after == "identity":
        parked = quote(serial_sequence(table, old).strip('"') + PARKED_SUFFIX)
        middle += [
            f"ALTER SEQUENCE {serial_sequence(table, old)} RENAME TO {parked}",
            f"ALTER SEQUENCE {parked} OWNED BY NONE",
        ]
        late += [
            f"{target} ADD {identity_clause(new, table, old.name)}",
            carry_on(table, old.name, owned, settings, after=literal(parked)),
            f"DROP SEQUENCE {parked}",
        ]
    elif before == "serial":
        middle.append(f"DROP SEQUENCE {serial_sequence(table, old)}")
    elif after == "identity":
        late += [f"{target} ADD {identity_clause(new, table, old.name)}", carry_on(table, old.name, owned, settings)]
    return early, middle, late


def _same_kind_steps(kind_: str | None, table: str, old, new) -> tuple[list[str], list[str], list[str]]:
    """Serial stays serial, identity stays identity: the sequence is renamed and altered in place."""
    if kind_ is None:
        return [], [], []
    old_name, new_name = serial_sequence(table, old), serial_sequence(table, new)
    renamed = [f"ALTER SEQUENCE {old_name} RENAME TO {new_name}"] if old_name != new_name else []
    if kind_ == "serial":
        altered = (
            [f"ALTER SEQUENCE {new_name} {options_sql(new, for_identity=False)}"]
            if _settings(old) != _settings(new)
            else []
        )
        return [], renamed, altered  # renamed before the new default names it
    steps = [f"SET GENERATED {new.options['identity']}"] if old.options["identity"] != new.options["identity"] else []
    if _settings(old) != _settings(new):
        steps.append(options_sql(new, for_identity=True, prefix="SET "))
    target = f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(old.name)}"
    return [], [], renamed + ([f"{target} {' '.join(steps)}"] if steps else [])


def _settings(column) -> dict:
    return full_settings({k: v for k, v in column.options.get("sequence", {}).items() if k != "name"}, column.type)
