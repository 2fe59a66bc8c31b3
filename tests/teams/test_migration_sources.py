"""A migrations folder can come from disk, memory or a git revision: same parsing, same checks."""

from pathlib import Path

import pytest

from dbshift import sumfile
from dbshift.errors import MigrationFileError
from dbshift.migrations import MemorySource, discover, discover_source, parse_migration

ADD_TABLE = b"-- migrate:up\nCREATE TABLE t (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE t;\n"


def test_memory_and_disk_sources_give_the_same_migrations(tmp_path):
    (tmp_path / "20260101000000_add_t.sql").write_bytes(ADD_TABLE)
    sumfile.write(tmp_path, discover(tmp_path))
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    from_memory = discover_source(MemorySource(files))
    from_disk = discover(tmp_path)
    assert [(m.version, m.checksum, m.up_sql, m.down_sql) for m in from_memory] == [
        (m.version, m.checksum, m.up_sql, m.down_sql) for m in from_disk
    ]
    assert sumfile.check(MemorySource(files), from_memory).ok


def test_a_sum_file_in_memory_notices_an_edited_migration(tmp_path):
    (tmp_path / "20260101000000_add_t.sql").write_bytes(ADD_TABLE)
    sumfile.write(tmp_path, discover(tmp_path))
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    files["20260101000000_add_t.sql"] += b"-- edited\n"
    check = sumfile.check(MemorySource(files), discover_source(MemorySource(files)))
    assert check.changed == ["20260101000000_add_t.sql"]


@pytest.mark.parametrize(
    "data, words",
    [
        (b"-- migrate:up\nSELECT '\xe9';\n", "not UTF-8"),
        (b"-- migrate:up\nSELECT 1;\x00\n", "NUL byte"),
    ],
)
def test_encoding_checks_hold_for_bytes_from_any_source(data, words):
    with pytest.raises(MigrationFileError) as caught:
        discover_source(MemorySource({"20260101000000_x.sql": data}, prefix="git:HEAD:migrations/"))
    assert words in caught.value.message
    assert caught.value.message.startswith("git:HEAD:migrations/20260101000000_x.sql:2:")


def test_a_bom_is_dropped_when_parsing_bytes():
    migration = parse_migration("20260101000000_x.sql", b"\xef\xbb\xbf" + ADD_TABLE)
    assert migration.up_sql.strip() == "CREATE TABLE t (id INTEGER PRIMARY KEY);"
    assert migration.path == Path("20260101000000_x.sql")


def test_a_badly_named_file_from_memory_is_an_error():
    with pytest.raises(MigrationFileError, match="does not fit"):
        discover_source(MemorySource({"2026_x.sql": ADD_TABLE}))
