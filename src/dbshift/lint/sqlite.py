"""SQLite lint settings: the shared rules cover it (table rebuilds are found by the analysis,
which runs statements on a schema-only copy); SQLite has no server-side lock or type rules.
"""

from __future__ import annotations

#: dbshift runs a SQLite migration in a transaction (unless it is marked ``-- no-transaction``).
TRANSACTIONAL_DDL = True
INT_KEY_TYPES: frozenset[str] = frozenset()
SMALL_INT_KEY_TYPES: frozenset[str] = frozenset()
LOCAL_TIME_TYPES: frozenset[str] = frozenset()
CHAR_TYPES: frozenset[str] = frozenset()
#: SQLite's type changes are table rebuilds with their own ``-- loss-check`` (no count here).
TYPE_CHANGE_DATA = None
#: What happens to rows a new NOT NULL rejects, besides the change failing.
NULLS_NOTE = ""
RULES: list = []
