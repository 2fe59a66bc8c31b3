"""MySQL/MariaDB partitioned tables and events, as a user meets them, on the real server.

Each story starts from an applied first migration, writes schema.sql, drafts the migration with
``project.diff``, applies it and rolls it back, and checks the live database (partitions, rows,
events) at each step.
"""

from __future__ import annotations

import pytest

from dbshift.errors import SafetyRefusal
from servers.conftest import project_with, query

SALES = (
    "CREATE TABLE sales (id int NOT NULL, year_num int NOT NULL, amount int, PRIMARY KEY (id, year_num))\n"
    "PARTITION BY RANGE (year_num)\n(PARTITION p2022 VALUES LESS THAN (2023),\n"
    " PARTITION p2023 VALUES LESS THAN (2024){more});"
)
SALES_ROWS = "INSERT INTO sales VALUES (1, 2022, 10), (2, 2023, 20), (3, 2023, 30);"


def draft_and_apply(project, desired_sql: str):
    """Write schema.sql, draft the migration into migrations/, apply it; the draft."""
    (project.config.root / "schema.sql").write_text(desired_sql)
    draft = project.diff(name="change")
    assert not draft.empty
    project.apply()
    return draft


def partitions_of(url: str, table: str) -> list[tuple]:
    """(partition name, method, description, rows) of ``table`` in order; rows counted, not estimated."""
    found = query(
        url,
        "SELECT PARTITION_NAME, PARTITION_METHOD, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY PARTITION_ORDINAL_POSITION",
        (table,),
    )
    if found == [(None, None, None)]:  # not partitioned: one row describing the whole table
        return []
    return [
        (name, method, description, query(url, f"SELECT count(*) FROM `{table}` PARTITION (`{name}`)")[0][0])
        for name, method, description in found
    ]


def events_of(url: str) -> list[tuple]:
    """(name, schedule, status, comment, body) of each event, by name."""
    return query(
        url,
        "SELECT EVENT_NAME, CONCAT_WS(' ', EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD), STATUS, EVENT_COMMENT, "
        "EVENT_DEFINITION FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY 1",
    )


# -- partitions -----------------------------------------------------------------------------------------
def test_a_range_partitioned_table_in_schema_sql_is_created_with_its_partitions_and_inspect_renders_them(
    tmp_path, my_url, run_cli
):
    project = project_with(tmp_path, my_url, "CREATE TABLE other (id int);")
    draft = draft_and_apply(project, "CREATE TABLE other (id int);\n" + SALES.format(more=""))
    assert [op.description for op in draft.plan.operations] == ["create table sales"]
    assert "PARTITION BY RANGE (`year_num`)" in draft.plan.up_sql()
    assert [p[:3] for p in partitions_of(my_url, "sales")] == [("p2022", "RANGE", "2023"), ("p2023", "RANGE", "2024")]
    shown = run_cli("inspect", "--format", "sql")
    assert shown.returncode == 0, shown.output
    assert (
        "PARTITION BY RANGE (`year_num`)\n(PARTITION `p2022` VALUES LESS THAN (2023),\n"
        " PARTITION `p2023` VALUES LESS THAN (2024));" in shown.stdout
    )
    project.rollback(steps=1, force=True)
    assert query(
        my_url,
        "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'sales'",
    ) == [(0,)]


def test_adding_a_range_partition_keeps_the_rows_and_its_down_is_a_lossy_drop(tmp_path, my_url):
    project = project_with(tmp_path, my_url, SALES.format(more="") + "\n" + SALES_ROWS)
    draft = draft_and_apply(project, SALES.format(more=",\n PARTITION p2024 VALUES LESS THAN (2025)"))
    assert draft.plan.up_statements() == [
        "ALTER TABLE `sales` ADD PARTITION (PARTITION `p2024` VALUES LESS THAN (2025))"
    ]
    assert draft.plan.down_statements() == ["ALTER TABLE `sales` DROP PARTITION `p2024`"]
    assert not draft.plan.operations[0].destructive
    assert "drops partition(s) p2024 of sales" in draft.plan.operations[0].lossy_reverse
    query(my_url, "INSERT INTO sales VALUES (4, 2024, 40)")
    assert [(p[0], p[3]) for p in partitions_of(my_url, "sales")] == [("p2022", 1), ("p2023", 2), ("p2024", 1)]
    step = project.rollback_plan().steps[0]
    assert step.verdict == "lossy"
    assert [loss.describe() for loss in step.losses] == ["partition(s) p2024 of sales (1 row(s) with data)"]
    with pytest.raises(SafetyRefusal):
        project.rollback(steps=1)
    project.rollback(steps=1, force=True)
    assert [(p[0], p[3]) for p in partitions_of(my_url, "sales")] == [("p2022", 1), ("p2023", 2)]


def test_dropping_a_range_partition_is_flagged_destructive_and_rehearse_sees_the_rows_go(tmp_path, my_url):
    project = project_with(tmp_path, my_url, SALES.format(more="") + "\n" + SALES_ROWS)
    (project.config.root / "schema.sql").write_text(
        "CREATE TABLE sales (id int NOT NULL, year_num int NOT NULL, amount int, PRIMARY KEY (id, year_num))\n"
        "PARTITION BY RANGE (year_num) (PARTITION p2022 VALUES LESS THAN (2023));"
    )
    draft = project.diff(name="drop_2023")
    assert draft.plan.up_statements() == ["ALTER TABLE `sales` DROP PARTITION `p2023`"]
    assert draft.plan.destructive and draft.plan.operations[0].destructive
    assert draft.plan.operations[0].description == "alter table sales: drop partition p2023"
    assert "partition(s) p2023 of sales are not brought back" in draft.plan.operations[0].lossy_reverse
    assert "-- destructive" in draft.path.read_text()

    rehearsal = project.rehearse()
    assert not rehearsal.ok
    failed = {s.name: s.detail for s in rehearsal.steps if s.outcome == "fail"}
    assert list(failed) == ["data equals the original"] and "sales" in failed["data equals the original"]
    assert query(my_url, "SELECT count(*) FROM sales") == [(3,)]  # the rehearsal only read the real database

    project.apply()
    assert query(my_url, "SELECT id FROM sales ORDER BY id") == [(1,)]
    project.rollback(steps=1, force=True)
    assert [(p[0], p[3]) for p in partitions_of(my_url, "sales")] == [("p2022", 1), ("p2023", 0)]


def test_a_range_partition_inserted_before_the_last_one_is_split_off_it_and_the_rows_move(tmp_path, my_url):
    table = (
        "CREATE TABLE regions (id int NOT NULL, code int NOT NULL, PRIMARY KEY (id, code))\n"
        "PARTITION BY RANGE (code) (PARTITION low VALUES LESS THAN (10), {middle}"
        "PARTITION high VALUES LESS THAN (100));"
    )
    project = project_with(
        tmp_path, my_url, table.format(middle="") + "\nINSERT INTO regions VALUES (1, 5), (2, 15), (3, 50);"
    )
    draft = draft_and_apply(project, table.format(middle="PARTITION mid VALUES LESS THAN (20), "))
    assert [op.description for op in draft.plan.operations] == ["alter table regions: split partition mid off high"]
    assert draft.plan.up_statements() == [
        "ALTER TABLE `regions` REORGANIZE PARTITION `high` INTO (PARTITION `mid` VALUES LESS THAN (20), "
        "PARTITION `high` VALUES LESS THAN (100))"
    ]
    assert [(p[0], p[3]) for p in partitions_of(my_url, "regions")] == [("low", 1), ("mid", 1), ("high", 1)]
    project.rollback(steps=1, force=True)
    assert [(p[0], p[3]) for p in partitions_of(my_url, "regions")] == [("low", 1), ("high", 1)]


def test_partitioning_a_plain_table_by_hash_and_removing_it_again_keeps_every_row(tmp_path, my_url):
    plain = "CREATE TABLE sessions (id int NOT NULL, user_id int NOT NULL, PRIMARY KEY (id, user_id))"
    project = project_with(tmp_path, my_url, plain + ";\nINSERT INTO sessions VALUES (1, 1), (2, 2), (3, 3), (4, 4);")
    draft = draft_and_apply(project, plain + " PARTITION BY HASH (user_id) PARTITIONS 4;")
    assert draft.plan.up_statements() == ["ALTER TABLE `sessions` PARTITION BY HASH (`user_id`)\nPARTITIONS 4"]
    assert draft.plan.down_statements() == ["ALTER TABLE `sessions` REMOVE PARTITIONING"]
    assert draft.plan.rewrites_tables and not draft.plan.destructive
    assert [(p[1], p[3]) for p in partitions_of(my_url, "sessions")] == [("HASH", 1)] * 4
    project.rollback(steps=1, force=True)
    assert partitions_of(my_url, "sessions") == []
    assert query(my_url, "SELECT count(*) FROM sessions") == [(4,)]


def test_more_hash_partitions_are_added_and_the_down_coalesces_them(tmp_path, my_url):
    table = "CREATE TABLE cache (id int PRIMARY KEY) PARTITION BY KEY (id) PARTITIONS {count};"
    project = project_with(tmp_path, my_url, table.format(count=2) + "\nINSERT INTO cache VALUES (1), (2), (3);")
    draft = draft_and_apply(project, table.format(count=5))
    assert draft.plan.up_statements() == ["ALTER TABLE `cache` ADD PARTITION PARTITIONS 3"]
    assert draft.plan.down_statements() == ["ALTER TABLE `cache` COALESCE PARTITION 3"]
    assert len(partitions_of(my_url, "cache")) == 5
    project.rollback(steps=1, force=True)
    assert len(partitions_of(my_url, "cache")) == 2
    assert query(my_url, "SELECT count(*) FROM cache") == [(3,)]


def test_range_partitions_become_list_columns_over_a_new_column_around_the_column_and_key_change(tmp_path, my_url):
    project = project_with(tmp_path, my_url, SALES.format(more="") + "\n" + SALES_ROWS)
    draft = draft_and_apply(
        project,
        "CREATE TABLE sales (id int NOT NULL, year_num int NOT NULL, amount int, "
        "region char(2) NOT NULL DEFAULT 'eu', PRIMARY KEY (id, year_num, region))\n"
        "PARTITION BY LIST COLUMNS (region) (PARTITION eu VALUES IN ('eu'), PARTITION us VALUES IN ('us'));",
    )
    up, down = draft.plan.up_statements(), draft.plan.down_statements()
    assert up[0] == "ALTER TABLE `sales` REMOVE PARTITIONING" and "ADD COLUMN IF NOT EXISTS `region`" in up[1]
    assert up[2].startswith("ALTER TABLE `sales` PARTITION BY LIST COLUMNS (`region`)")
    # The down removes the partitioning over region before it drops the column.
    assert down[0] == "ALTER TABLE `sales` REMOVE PARTITIONING" and "DROP COLUMN IF EXISTS `region`" in down[1]
    assert down[2].startswith("ALTER TABLE `sales` PARTITION BY RANGE (`year_num`)")
    assert [(p[0], p[3]) for p in partitions_of(my_url, "sales")] == [("eu", 3), ("us", 0)]
    project.rollback(steps=1, force=True)
    assert [(p[0], p[3]) for p in partitions_of(my_url, "sales")] == [("p2022", 1), ("p2023", 2)]


def test_a_range_table_with_subpartitions_gets_a_partition_with_its_subpartitions(tmp_path, my_url):
    table = (
        "CREATE TABLE logs (id int NOT NULL, made date NOT NULL, PRIMARY KEY (id, made))\n"
        "PARTITION BY RANGE (year(made)) SUBPARTITION BY HASH (id) SUBPARTITIONS 2\n"
        "(PARTITION y2023 VALUES LESS THAN (2024){more});"
    )
    project = project_with(tmp_path, my_url, table.format(more="") + "\nINSERT INTO logs VALUES (1, '2023-05-01');")
    draft_and_apply(project, table.format(more=", PARTITION y2024 VALUES LESS THAN (2025)"))
    assert query(
        my_url,
        "SELECT PARTITION_NAME, count(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = "
        "DATABASE() AND TABLE_NAME = 'logs' GROUP BY 1 ORDER BY 1",
    ) == [("y2023", 2), ("y2024", 2)]
    project.rollback(steps=1, force=True)
    assert [
        p[0]
        for p in query(
            my_url,
            "SELECT DISTINCT PARTITION_NAME FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'logs'",
        )
    ] == ["y2023"]
    assert query(my_url, "SELECT count(*) FROM logs") == [(1,)]


# -- events ---------------------------------------------------------------------------------------------
def test_an_event_in_schema_sql_is_created_and_its_down_drops_it(tmp_path, my_url, run_cli):
    project = project_with(tmp_path, my_url, "CREATE TABLE records (id int, made datetime);")
    draft = draft_and_apply(
        project,
        "CREATE TABLE records (id int, made datetime);\n"
        "CREATE EVENT cleanup ON SCHEDULE EVERY 1 DAY COMMENT 'keep a month'\n"
        "DO DELETE FROM records WHERE made < NOW() - INTERVAL 30 DAY;",
    )
    assert [op.description for op in draft.plan.operations] == ["create event cleanup"]
    assert events_of(my_url) == [
        ("cleanup", "1 DAY", "ENABLED", "keep a month", "DELETE FROM records WHERE made < NOW() - INTERVAL 30 DAY")
    ]
    shown = run_cli("inspect", "--format", "sql")
    assert (
        "CREATE EVENT `cleanup` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE COMMENT 'keep a month' "
        "DO DELETE FROM records WHERE made < NOW() - INTERVAL 30 DAY;"
    ) in shown.stdout
    assert project.diff().empty  # the server's STARTS (the time of creation) is not a difference
    project.rollback(steps=1)
    assert events_of(my_url) == []


def test_changing_an_events_schedule_alters_only_the_schedule_and_keeps_a_written_start(tmp_path, my_url):
    event = "CREATE EVENT tidy ON SCHEDULE EVERY {every} STARTS '2031-01-01 03:00:00' DISABLE DO DELETE FROM records;"
    project = project_with(tmp_path, my_url, "CREATE TABLE records (id int);\n" + event.format(every="1 DAY"))
    draft = draft_and_apply(project, "CREATE TABLE records (id int);\n" + event.format(every="2 HOUR"))
    assert draft.plan.up_statements() == ["ALTER EVENT `tidy` ON SCHEDULE EVERY 2 HOUR STARTS '2031-01-01 03:00:00'"]
    assert events_of(my_url) == [("tidy", "2 HOUR", "DISABLED", "", "DELETE FROM records")]
    project.rollback(steps=1)
    assert events_of(my_url) == [("tidy", "1 DAY", "DISABLED", "", "DELETE FROM records")]
    assert query(my_url, "SELECT STARTS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()")[0][0].hour == 3


def test_an_events_begin_end_body_changes_through_a_migration_file(tmp_path, my_url):
    event = (
        "DELIMITER //\nCREATE EVENT tidy ON SCHEDULE AT '2035-01-01 00:00:00' ON COMPLETION PRESERVE\n"
        "DO BEGIN\n  DELETE FROM records WHERE id < {limit};\n  DELETE FROM records WHERE id IS NULL;\nEND//\n"
        "DELIMITER ;\n"
    )
    project = project_with(tmp_path, my_url, "CREATE TABLE records (id int);\n" + event.format(limit=10))
    draft_and_apply(project, "CREATE TABLE records (id int);\n" + event.format(limit=99))
    body = events_of(my_url)[0][4]
    assert "id < 99;" in body and body.endswith("END")
    project.rollback(steps=1)
    assert "id < 10;" in events_of(my_url)[0][4]


def test_a_restore_brings_back_the_backed_up_events_and_a_rehearsal_copy_keeps_them_disabled(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE records (id int);\nCREATE EVENT kept ON SCHEDULE EVERY 1 HOUR DO DELETE FROM records;",
    )
    backup = project.backup()
    assert "EVENT `kept`" in backup.path.read_text()
    query(my_url, "DROP EVENT kept")
    query(my_url, "CREATE EVENT stray ON SCHEDULE EVERY 1 DAY DO DELETE FROM records")
    project.restore(backup.path, force=True)
    assert [e[:3] for e in events_of(my_url)] == [("kept", "1 HOUR", "ENABLED")]

    with project.connect(readonly=True) as db:
        copy = db.scratch_copy(tmp_path)
        try:
            assert copy.execute(
                "SELECT EVENT_NAME, STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
            ) == [("kept", "DISABLED")]
        finally:
            copy.close()
    assert [e[:3] for e in events_of(my_url)] == [("kept", "1 HOUR", "ENABLED")]
