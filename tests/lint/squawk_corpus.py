"""squawk's own rule cases (../shared/corpus/squawk/cases.json) run through dbshift lint.

Each squawk rule whose risk dbshift covers maps to the dbshift codes that cover it; a case
agrees when dbshift reports one of those codes exactly when squawk reports its rule. squawk's
settings translate to dbshift's: ``assume_in_transaction`` is dbshift's default transactional
migration (``-- squawk-disable-assume-in-transaction`` is dbshift's ``-- no-transaction``), no
setting is a file run as it is, outside a transaction; ``pg_version`` is ``server_version``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from dbshift.lint import LintSettings, lint_sql

#: squawk rule -> the dbshift codes that cover its risk.
SQUAWK_TO_DBSHIFT = {
    "adding_field_with_default": {"volatile-default", "stored-generated-column"},
    "adding_foreign_key_constraint": {"constraint-not-valid"},
    "adding_not_null_field": {"set-not-null"},
    "adding_primary_key_constraint": {"primary-key-without-index"},
    "adding_required_field": {"add-not-null-without-default"},
    "ban_char_field": {"char-type"},
    "ban_concurrent_index_creation_in_transaction": {"concurrently-in-transaction"},
    "ban_drop_column": {"drop-column"},
    "ban_drop_database": {"drop-schema"},
    "ban_drop_table": {"drop-table"},
    "ban_truncate_cascade": {"truncate"},
    "ban_uncommitted_transaction": {"uncommitted-transaction"},
    "constraint_missing_not_valid": {"constraint-not-valid", "validate-in-same-transaction"},
    "disallow_unique_constraint": {"unique-without-index"},
    "prefer_bigint_over_int": {"int-key"},
    "prefer_robust_stmts": {"not-rerunnable"},
    "prefer_bigint_over_smallint": {"smallint-key"},
    "prefer_timestamptz": {"timestamp-without-time-zone"},
    "renaming_column": {"rename-column"},
    "renaming_table": {"rename-table"},
    "require_concurrent_index_creation": {"index-not-concurrent"},
    "require_concurrent_index_deletion": {"drop-index-not-concurrent"},
    "require_timeout_settings": {"missing-lock-timeout"},
    "transaction_nesting": {"transaction-nesting", "transaction-control"},
}
#: squawk rules whose risk dbshift does not cover, and why.
NOT_COVERED = {
    "require_table_schema": "naming the schema: dbshift runs against the configured search_path",
    "identifier_too_long": "identifier length: not a production-safety risk dbshift lints",
    "require_enum_value_ordering": "enum value placement: not linted yet",
    "ban_alter_domain_with_add_constraint": "domains: not linted yet",
    "ban_create_domain_with_constraint": "domains: not linted yet",
    "ban_duplicate_column_assignments": "a statement PostgreSQL itself rejects",
    "prefer_identity": "serial vs identity: a style choice, not a production risk",
    "prefer_text_field": "varchar(n) vs text: dbshift flags char(n) only",
}
#: Cases where dbshift's verdict differs from squawk's on purpose: (rule, test) -> reason.
KNOWN_DISAGREEMENTS = {
    (
        "require_timeout_settings",
        "err_missing_statement_timeout",
    ): "dbshift requires lock_timeout only: it is what stops queries queueing behind a DDL waiting for "
    "its lock; a statement_timeout would also cancel a long but harmless backfill or index build",
    (
        "ban_concurrent_index_creation_in_transaction",
        "assuming_in_transaction_ok",
    ): "dbshift runs a migration in one transaction unless it is marked `-- no-transaction`, so "
    "CREATE INDEX CONCURRENTLY alone in a transactional migration really fails; squawk assumes the "
    "tool runs a lone statement outside the transaction",
    (
        "ban_char_field",
        "all_the_types",
    ): "the case declares `int array[]`, which PostgreSQL's own parser rejects (ARRAY takes a size or "
    "nothing); dbshift reports the statement as not-analysed instead of guessing at its columns",
}
DISABLE_ASSUME_TRANSACTION = "squawk-disable-assume-in-transaction"


@dataclass
class CaseResult:
    """One squawk case and dbshift's verdict on it."""

    rule: str
    test: str
    expect: str
    got: str
    codes: list[str]

    @property
    def agrees(self) -> bool:
        """Whether dbshift's verdict is squawk's."""
        return self.expect == self.got


def load_cases(path: Path) -> list[dict]:
    """The cases of cases.json."""
    return json.loads(path.read_text(encoding="utf-8"))


def _settings(case: dict) -> tuple[bool, LintSettings]:
    text = case.get("settings") or ""
    transactional = "assume_in_transaction: true" in text and DISABLE_ASSUME_TRANSACTION not in case["sql"]
    version = re.search(r'pg_version: "(\d+)"', text)
    return transactional, LintSettings(server_version=int(version.group(1)) if version else 16)


def run_case(case: dict) -> CaseResult:
    """dbshift lint's verdict on one covered case."""
    transactional, settings = _settings(case)
    findings = lint_sql(case["sql"], "postgresql", transactional=transactional, settings=settings)
    codes = sorted({f.code for f in findings})
    got = "violation" if SQUAWK_TO_DBSHIFT[case["rule"]] & set(codes) else "ok"
    return CaseResult(case["rule"], case["test"], case["expect"], got, codes)


def run_corpus(path: Path) -> list[CaseResult]:
    """dbshift's verdict on every case whose rule it covers."""
    return [run_case(case) for case in load_cases(path) if case["rule"] in SQUAWK_TO_DBSHIFT]
