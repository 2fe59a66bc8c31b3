"""PostgreSQL as dbshift describes it: names kept exactly as stored (its parser folds unquoted ones)."""

from __future__ import annotations

from dbshift.dialects.description import DialectDescription, NameRule, exact


class PostgreSQLDescription(DialectDescription):
    """PostgreSQL 13 and later."""

    name = "postgresql"
    database_class = "dbshift.dialects.postgresql:PostgreSQLDatabase"
    inspector = "dbshift.inspectors.postgresql:inspect_database"
    planner = "dbshift.planners.postgresql"
    splitter = "dbshift.dialects.postgresql_script:split_postgresql_script"
    object_differ = "dbshift.dialects.postgresql_differ:diff_objects"
    #: Every name is kept as stored: unquoted names are already folded to lower case by the parser.
    name_rule = NameRule(exact, exact, exact)
    folds_unquoted_names = True
    #: Dollar-quoted bodies ($$ ... $$, $tag$ ... $tag$) are strings too.
    strings_and_comments = r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/|\$(\w*)\$.*?\$\1\$"
    analyser = "dbshift.analysis.postgresql"
    lint = "dbshift.lint.postgresql"
    observer = "dbshift.lint.observe_postgresql:PostgreSQLObserver"
    templates = "dbshift.planners.postgresql_templates:PostgreSQLTemplates"
    url_schemes = ("postgresql", "postgres")


POSTGRESQL = PostgreSQLDescription()
