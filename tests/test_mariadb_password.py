"""A MariaDB user whose password has non-ASCII characters logs in through dbshift as through the
``mariadb`` client (issue 11, item 9: PyMySQL sent the password as Latin-1)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from dbshift.dialects import open_database
from dbshift.urls import parse_url
from servers.conftest import create_database, drop_database

PASSWORDS = ["pässwörd-é", "密码-пароль-✓"]


@pytest.fixture
def database(mysql_url):
    url = create_database(mysql_url)
    yield url
    drop_database(mysql_url, url)


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_non_ascii_password_logs_in_and_dbshift_applies(mysql_url, database, password, run_cli, tmp_path):
    user = f"dbshift_pw_{uuid.uuid4().hex[:8]}"
    admin = open_database(parse_url(mysql_url))
    name = parse_url(database).database
    try:
        admin.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,))  # %% : a bound-parameter query
        admin.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
        url = parse_url(database)
        user_url = f"mysql://{user}:{quote(password, safe='')}@{url.host}:{url.port or 3306}/{name}"
        (tmp_path / "migrations").mkdir()
        (tmp_path / "migrations" / "20260101090000_t.sql").write_text(
            "-- migrate:up\nCREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (42);\n-- migrate:down\nDROP TABLE t;\n"
        )
        assert run_cli("--db", user_url, "hash").returncode == 0
        applied = run_cli("--db", user_url, "apply")
        assert applied.returncode == 0, applied.output
        backup = run_cli("--db", user_url, "backup")  # mariadb-dump reads the password from an option file
        assert backup.returncode == 0, backup.output
        db = open_database(parse_url(user_url))
        try:
            assert db.execute("SELECT x FROM t") == [(42,)]
            assert db.execute("SELECT CURRENT_USER()")[0][0].startswith(user + "@")
        finally:
            db.close()
    finally:
        admin.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()
