"""A long migration history, generated: tables with awkward names that grow, get indexes, renames,
dropped columns and children, ten migrations per table, as a real project's history does."""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import write_migration

START = datetime(2026, 1, 1)

NAMES = ['odd "q" {k}', "café {k}", "with space {k}", "plain_{k}"]


def version(i: int) -> int:
    """The version of the i-th migration (1-based), one second apart."""
    return int((START + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S"))


def table_name(k: int) -> str:
    """The k-th table's name (quotes, accents and spaces in turn)."""
    return NAMES[k % len(NAMES)].format(k=k)


def step(i: int, quote) -> tuple[str, str, str]:
    """Migration i (1-based) as (name, up, down); ``quote`` quotes an identifier for the dialect."""
    k, kind = divmod(i - 1, 10)
    t = quote(table_name(k))
    if kind == 0:
        return f"create_t{k}", f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, name VARCHAR(50));", f"DROP TABLE {t};"
    if kind <= 5:
        column = quote(f"c{i}")
        return (
            f"add_c{i}",
            f"ALTER TABLE {t} ADD COLUMN {column} VARCHAR(20);",
            f"ALTER TABLE {t} DROP COLUMN {column};",
        )
    first = 10 * k + 2  # the first added column of this table
    if kind == 6:
        index = quote(f"ix {k}")
        return (
            f"index_t{k}",
            f"CREATE INDEX {index} ON {t} ({quote(f'c{first}')});",
            f"DROP INDEX {index}" + (f" ON {t};" if quote("x").startswith("`") else ";"),
        )
    if kind == 7:
        old, new = quote(f"c{first + 1}"), quote(f"renamed {first + 1}")
        return (
            f"rename_t{k}",
            f"ALTER TABLE {t} RENAME COLUMN {old} TO {new};",
            f"ALTER TABLE {t} RENAME COLUMN {new} TO {old};",
        )
    if kind == 8:
        column = quote(f"c{first + 2}")
        return (
            f"drop_t{k}",
            f"ALTER TABLE {t} DROP COLUMN {column};",
            f"ALTER TABLE {t} ADD COLUMN {column} VARCHAR(20);",
        )
    child = quote(f"child {k}")
    return (
        f"child_t{k}",
        f"CREATE TABLE {child} (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES {t} (id));",
        f"DROP TABLE {child};",
    )


def write_history(project, count: int, quote) -> list[int]:
    """Write ``count`` migrations into ``project`` and hash them; their versions."""
    for i in range(1, count + 1):
        name, up, down = step(i, quote)
        write_migration(project, version(i), name, up, down)
    project.hash()
    return [version(i) for i in range(1, count + 1)]
