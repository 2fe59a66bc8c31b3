"""A Flyway folder as teams really leave it: subfolders, undo files, repeatable and baseline files,
a misnamed file, placeholders. What `dbshift import flyway` reads from it, in Flyway's order, what
it says it leaves out, and the two layouts Flyway itself refuses."""

import pytest

from dbshift.errors import ConfigError
from dbshift.teams.imports.flyway import flyway_checksum, read


def _folder(tmp_path, files: dict):
    for name, text in files.items():
        path = tmp_path / "db" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return tmp_path / "db"


def test_versions_in_flyways_order_with_their_undo_and_what_is_left_out(tmp_path):
    folder = _folder(
        tmp_path,
        {
            "V1__create_users.sql": 'CREATE TABLE "ü ""q""" (id int);',
            "U1__create_users.sql": 'DROP TABLE "ü ""q""";',
            "2026/V1.10__ten.sql": "SELECT 10;",
            "V1_1__one_one.sql": "\ufeffSELECT 11;\r\n-- ${schema}\r\n",
            "V2__two.sql": "SELECT 2;",
            "R__views.sql": "CREATE VIEW v AS SELECT 1;",
            "B3__baseline.sql": "SELECT 3;",
            "v4_misnamed.sql": "SELECT 4;",
            "README.md": "not a migration",
        },
    )
    reading = read(folder, "sqlite")
    assert [m.origin for m in reading.migrations] == ["1", "1.1", "1.10", "2"]  # 1.1 < 1.10 < 2
    first = reading.migrations[0]
    assert first.down == 'DROP TABLE "ü ""q""";' and first.name == "v1_create users"
    assert [m.source for m in reading.migrations] == [
        "V1__create_users.sql",
        "V1_1__one_one.sql",
        "2026/V1.10__ten.sql",
        "V2__two.sql",
    ]
    assert reading.migrations[1].up == "SELECT 11;\r\n-- ${schema}\r\n"  # the BOM dropped, nothing else
    assert reading.migrations[1].extra["checksum"] == flyway_checksum("\ufeffSELECT 11;\r\n-- ${schema}\r\n".encode())
    warnings = "\n".join(reading.warnings)
    assert "R__views.sql not imported: dbshift has no repeatable migrations" in warnings
    assert "B3__baseline.sql not imported: dbshift has no baseline migrations" in warnings
    assert "v4_misnamed.sql not imported: not a Flyway migration name" in warnings
    assert "V1_1__one_one.sql: holds ${...}; Flyway placeholders are not replaced" in warnings
    assert "3 migration(s) without an undo file (V1.1, V1.10, V2)" in warnings
    assert "README" not in warnings


@pytest.mark.parametrize(
    "files, words",
    [
        ({"V1__a.sql": "x", "sub/V1.0__b.sql": "y"}, "Flyway version 1.0 twice (also V1__a.sql)"),
        (
            {"V1__a.sql": "x", "U1__a.sql": "y", "U1.0__b.sql": "z"},
            "U1__a.sql: Flyway version 1 twice (also U1.0__b.sql)",
        ),
        ({"V1__a.sql": "x", "U2__b.sql": "y"}, "U2__b.sql: an undo migration without its versioned migration"),
    ],
)
def test_what_flyway_refuses_is_refused_naming_both_files(tmp_path, files, words):
    with pytest.raises(ConfigError) as refused:
        read(_folder(tmp_path, files), "sqlite")
    assert words in refused.value.message
