"""Which ``IF [NOT] EXISTS`` forms the MySQL/MariaDB planner writes, so that a migration that failed
halfway runs again once its cause is fixed (its DDL commits statement by statement, so the
statements before the failing one stay done and run a second time).

MariaDB has them on tables and inside ALTER TABLE (ADD COLUMN, ADD KEY, ADD FOREIGN KEY, ADD
CONSTRAINT ... IF NOT EXISTS; DROP COLUMN, DROP INDEX, DROP FOREIGN KEY, DROP CONSTRAINT, CHANGE
COLUMN, RENAME COLUMN, RENAME TABLE ... IF EXISTS); MySQL 8 only on CREATE/DROP TABLE. A form is
written only where running the statement again after it succeeded leaves what the first run left:

- MariaDB reads ``IF NOT EXISTS`` against the table as it was before the statement, so an ADD of a
  name that the same ALTER TABLE drops stays plain (``DROP INDEX IF EXISTS k, ADD KEY k``: run
  again, it drops the new ``k`` and makes it again); with ``IF NOT EXISTS`` it would add nothing.
- A rename (of a table or a column) is skipped when its old name is gone, which is right only when
  no later step gives that name to something else: when the old name is also a name of the end
  state (names swapped, a new column under the old name), the rename stays plain and fails.
- A table or column name both dropped and created keeps plain forms for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dbshift.planners.operations import Operation

IF_EXISTS, IF_NOT_EXISTS = " IF EXISTS", " IF NOT EXISTS"


@dataclass(frozen=True)
class Rerun:
    """The forms of one plan: ``mariadb`` (all of them) or MySQL/unknown (table forms only), and the
    table names before and after the plan (lower case: a name in both keeps the plain forms)."""

    mariadb: bool = False
    tables_before: frozenset[str] = frozenset()
    tables_after: frozenset[str] = frozenset()
    #: False: no forms at all (statements whose second run would compute values again, see ``plain``).
    enabled: bool = True

    @staticmethod
    def of(diff) -> "Rerun":
        """The forms for ``diff``: its schemas were inspected on the server, which says its flavour."""
        flavour = diff.current.options.get("flavour") or diff.desired.options.get("flavour")
        return Rerun(
            mariadb=flavour == "mariadb",
            tables_before=frozenset(t.name.lower() for t in diff.current.tables),
            tables_after=frozenset(t.name.lower() for t in diff.desired.tables),
        )

    def reverse(self) -> "Rerun":
        """The forms of the down (the names before and after swap)."""
        return Rerun(self.mariadb, self.tables_after, self.tables_before, self.enabled)

    def plain(self) -> "Rerun":
        """No forms: for steps that must fail rather than run twice."""
        return Rerun(self.mariadb, self.tables_before, self.tables_after, enabled=False)

    @property
    def alter(self) -> bool:
        """Whether ALTER TABLE clauses take the forms (MariaDB only)."""
        return self.enabled and self.mariadb

    def create_table(self, name: str) -> str:
        """``CREATE TABLE [IF NOT EXISTS]`` (MySQL 8 has it too)."""
        once = self.enabled and name.lower() not in self.tables_before
        return "CREATE TABLE IF NOT EXISTS" if once else "CREATE TABLE"

    def drop_table(self, name: str) -> str:
        """``DROP TABLE [IF EXISTS]`` (MySQL 8 has it too)."""
        once = self.enabled and name.lower() not in self.tables_after
        return "DROP TABLE IF EXISTS" if once else "DROP TABLE"

    def rename_table(self, old: str, new: str) -> str:
        """``RENAME TABLE [IF EXISTS]`` (MariaDB 10.5+)."""
        once = self.alter and old.lower() not in self.tables_after and new.lower() not in self.tables_before
        return "RENAME TABLE IF EXISTS" if once else "RENAME TABLE"

    def if_exists(self, ok: bool = True) -> str:
        """`` IF EXISTS`` for a DROP or CHANGE clause when MariaDB reads it and ``ok``."""
        return IF_EXISTS if self.alter and ok else ""

    def if_not_exists(self, ok: bool = True) -> str:
        """`` IF NOT EXISTS`` for an ADD clause when MariaDB reads it and ``ok``."""
        return IF_NOT_EXISTS if self.alter and ok else ""

    def view_or_trigger(self, operation: Operation) -> Operation:
        """A view's or trigger's operation (as :func:`plan_view_or_trigger` writes it) in the forms:
        ``DROP VIEW|TRIGGER IF EXISTS`` and ``CREATE OR REPLACE VIEW`` (MySQL 8 has them too), and
        MariaDB's ``CREATE TRIGGER IF NOT EXISTS``."""
        if not self.enabled:
            return operation
        return replace(operation, sql=self._guarded(operation.sql), reverse=self._guarded(operation.reverse))

    def _guarded(self, statements: list[str] | None) -> list[str] | None:
        if statements is None:
            return None
        starts = [("DROP VIEW ", "DROP VIEW IF EXISTS "), ("DROP TRIGGER ", "DROP TRIGGER IF EXISTS ")]
        starts.append(("CREATE VIEW ", "CREATE OR REPLACE VIEW "))  # as the inspector writes them
        if self.mariadb:
            starts.append(("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS "))
        guarded = []
        for sql in statements:
            start = next((s for s in starts if sql.startswith(s[0])), None)
            guarded.append(start[1] + sql[len(start[0]) :] if start else sql)
        return guarded


#: No forms (a plan made without its schemas, or a step that must not run twice).
PLAIN = Rerun(enabled=False)
