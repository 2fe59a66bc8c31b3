"""MySQL and MariaDB as dbshift describes them: backquoted names, backslash escapes in strings."""

from __future__ import annotations

from dbshift.dialects.description import DialectDescription, NameRule, exact


class MySQLDescription(DialectDescription):
    """MySQL 8 and MariaDB 10.5 and later."""

    name = "mysql"
    database_class = "dbshift.dialects.mysql:MySQLDatabase"
    inspector = "dbshift.inspectors.mysql:inspect_database"
    planner = "dbshift.planners.mysql"
    splitter = "dbshift.dialects.mysql_script:split_mysql_script"
    object_differ = "dbshift.dialects.mysql_differ:diff_objects"
    #: Column and index names ignore case; table, view and trigger names follow
    #: ``lower_case_table_names``: 0 (Linux) compares them exactly and 1 stores them in lower case,
    #: so an exact comparison is right for both (2: see ``Schema.names``).
    name_rule = NameRule(table=exact)
    quote_character = "`"
    #: Backslash escapes in strings; ``--`` needs a space after it; ``/*! ... */`` runs, so it is code.
    strings_and_comments = r"'(?:[^'\\]|''|\\.)*'|--\s[^\n]*|#[^\n]*|/\*(?!!).*?\*/"
    analyser = "dbshift.analysis.mysql"
    lint = "dbshift.lint.mysql"
    observer = "dbshift.lint.observe_mysql:MySQLObserver"
    templates = "dbshift.planners.mysql_templates:MySQLTemplates"
    url_schemes = ("mysql", "mariadb")

    def literal(self, text: str) -> str:
        """A string literal; a backslash escapes in MySQL's default sql_mode, so it is doubled."""
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


MYSQL = MySQLDescription()
