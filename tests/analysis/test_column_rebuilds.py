"""A column converted through a column of the new type: its values live on, so dropping the old
column is not counted as a loss; dropping a column nothing was computed from still is."""

from __future__ import annotations

import pytest

from dbshift.analysis import analyse_script

CONVERSIONS = {
    "mysql": [
        "ALTER TABLE `orders` ADD COLUMN `_tmp` INT NULL",
        "UPDATE `orders` SET `_tmp` = ROUND(amount * 100)",
        "ALTER TABLE `orders` DROP COLUMN `amount`, CHANGE COLUMN `_tmp` `amount_cents` INT NULL",
    ],
    "postgresql": [
        'ALTER TABLE "orders" ADD COLUMN "_tmp" integer',
        'UPDATE "orders" SET "_tmp" = round(amount * 100)',
        'ALTER TABLE "orders" DROP COLUMN "amount"',
        'ALTER TABLE "orders" RENAME COLUMN "_tmp" TO "amount_cents"',
    ],
}


@pytest.mark.parametrize("language", sorted(CONVERSIONS))
def test_a_column_computed_into_its_successor_is_a_column_rebuild(language):
    script = analyse_script(language, CONVERSIONS[language])
    [rebuild] = script.column_rebuilds
    assert (rebuild.column.column, rebuild.into, rebuild.renamed_to) == ("amount", "_tmp", "amount_cents")


@pytest.mark.parametrize("language", sorted(CONVERSIONS))
def test_an_update_that_does_not_read_the_dropped_column_saves_nothing(language):
    statements = [
        s.replace("round(amount * 100)", "0").replace("ROUND(amount * 100)", "0") for s in CONVERSIONS[language]
    ]
    assert analyse_script(language, statements).column_rebuilds == []


@pytest.mark.parametrize("language", sorted(CONVERSIONS))
def test_without_the_rename_the_values_are_not_carried_on(language):
    statements = [s for s in CONVERSIONS[language] if "RENAME COLUMN" not in s and "CHANGE COLUMN" not in s]
    if language == "mysql":
        statements.append("ALTER TABLE `orders` DROP COLUMN `amount`")
    assert analyse_script(language, statements).column_rebuilds == []
