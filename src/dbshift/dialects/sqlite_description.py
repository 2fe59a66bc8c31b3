"""SQLite as dbshift describes it: ANSI quoting, names compared ignoring case, type affinity."""

from __future__ import annotations

from dbshift.dialects.description import (
    BLOB,
    DECIMAL,
    INTEGER,
    REAL,
    TEXT,
    DialectDescription,
    NameRule,
    _load,
)

#: SQLite's five affinities (https://sqlite.org/datatype3.html) as type families.
AFFINITY_FAMILIES = {"INTEGER": INTEGER, "TEXT": TEXT, "BLOB": BLOB, "REAL": REAL, "NUMERIC": DECIMAL}


#: A column's declared type from the PRAGMAs, as bytes: ``CAST(type AS BLOB)``. SQLite keeps a
#: type written ``[a] é`` one byte short, cutting the last character in half, and sqlite3 then
#: fails to read it as text ("Could not decode to UTF-8").
DECLARED_TYPE = "CAST(type AS BLOB)"


def declared_type(raw: bytes | None) -> str:
    """The declared type read as ``DECLARED_TYPE`` (a cut character becomes U+FFFD)."""
    return raw.decode("utf-8", "replace") if raw else ""


def type_affinity(declared: str) -> str:
    """SQLite's affinity rules (https://sqlite.org/datatype3.html): which storage classes a column
    keeps (a TEXT column never holds a REAL). The differ also uses them to judge type compatibility."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


class SQLiteDescription(DialectDescription):
    """The embedded default."""

    name = "sqlite"
    database_class = "dbshift.dialects.sqlite:SQLiteDatabase"
    inspector = "dbshift.inspectors.sqlite:inspect_database"
    planner = "dbshift.planners.sqlite"
    splitter = "dbshift.dialects.sqlite_script:split_sqlite_script"
    analyser = "dbshift.analysis.sqlite"
    lint = "dbshift.lint.sqlite"
    observer = "dbshift.lint.observe_sqlite:SQLiteObserver"
    templates = "dbshift.planners.sqlite_templates:SQLiteTemplates"
    url_schemes = ("sqlite",)
    file_based = True
    #: SQLite ignores case in every name.
    name_rule = NameRule()

    def type_family(self, declared: str) -> str:
        """The family of the column's affinity: a declared type means only what its affinity keeps."""
        return AFFINITY_FAMILIES[type_affinity(declared)]

    def open(self, url, busy_timeout: float = 30.0, readonly: bool = False, on_wait=None):
        """A SQLite file opened read-only when ``readonly`` (a missing file is never created then)."""
        return _load(self.database_class)(url, busy_timeout=busy_timeout, readonly=readonly, on_wait=on_wait)

    def analysis_stamp(self) -> str:
        """The SQLite library's version: the analyser runs statements on it (a newer one reads more)."""
        import sqlite3

        return sqlite3.sqlite_version

    def embedded_scratch_url(self) -> str | None:
        return "sqlite:///:memory:"


SQLITE = SQLiteDescription()
