"""The analyser contract and what is the same for every dialect: reading a script in order and
finding the table rebuilds its statements make up."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator

from dbshift.analysis.effects import (
    ColumnRebuild,
    DroppedTable,
    Rebuild,
    ScriptEffects,
    StatementEffects,
    TableName,
)


class Analyser(ABC):
    """Reads statements of one dialect; use it as a context manager (some hold a scratch database).

    Statements given one after another are read in that order: each sees what the earlier ones
    did (the SQLite analyser runs them on a schema-only copy).
    """

    dialect: str = ""
    #: The analyser reports every ``INSERT ... SELECT`` copy with the columns it reads, so a
    #: rebuild is judged from its copies; otherwise a table dropped and another renamed into its
    #: place is a rebuild the analysis cannot prove.
    reads_copies: bool = False
    #: Statements change the schema later statements are read against (the SQLite analyser runs
    #: them on a copy): to read a migration, run the earlier migrations' statements first.
    replays_schema: bool = False

    @abstractmethod
    def statement(self, sql: str, rerun: bool = True) -> StatementEffects:
        """The effects of one statement (after the ones read before it). ``rerun``: also read why
        it would fail a second run (:attr:`StatementEffects.repeat_fails`); an analyser that pays
        for that (SQLite compiles the statement again) leaves it None when not asked."""

    def script(self, statements: list[str], rerun: bool = True) -> ScriptEffects:
        """The effects of ``statements`` in order, and the table rebuilds they make up
        (``rerun``: see :meth:`statement`)."""
        effects = [self.statement(sql, rerun) for sql in statements]
        return ScriptEffects(effects, self._rebuilds(effects), self._column_rebuilds(effects))

    def replay(self, statements: list[str]) -> None:
        """Run ``statements`` only for the schema the next ones are read against (their own
        effects are not wanted: an earlier migration, the schema a draft starts from)."""
        for sql in statements:
            self.statement(sql, rerun=False)

    def same_name(self, a: str, b: str) -> bool:
        """Whether two identifiers name the same object (exact by default)."""
        return a == b

    def same_table(self, a: TableName, b: TableName) -> bool:
        """Whether two table names name the same table."""
        return self.same_name(a.name, b.name) and (
            a.schema is None or b.schema is None or self.same_name(a.schema, b.schema)
        )

    @contextlib.contextmanager
    def tentatively(self) -> Iterator[Analyser]:
        """Read statements in the ``with`` block and forget them afterwards: later statements are
        read against the schema as it was before the block (e.g. a migration's down, read after its
        up, must not change what the next migration's up starts from). Analysers that keep no
        schema have nothing to forget."""
        yield self

    def close(self) -> None:
        """Release what the analyser holds (nothing by default)."""

    def __enter__(self) -> Analyser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _rebuilds(self, effects: list[StatementEffects]) -> list[Rebuild]:
        rebuilds = []
        for index, effect in enumerate(effects):
            for dropped in effect.drops:
                rebuild = (
                    self._copied_rebuild(dropped, effects[:index], effect.sql)
                    if self.reads_copies
                    else self._renamed_rebuild(dropped, effects[:index], effects[index + 1 :], effect.sql)
                )
                if rebuild is not None:
                    rebuilds.append(rebuild)
        return rebuilds

    def _column_rebuilds(self, effects: list[StatementEffects]) -> list[ColumnRebuild]:
        """Dropped columns whose values an earlier UPDATE computed into a column of the same table
        that is renamed in the same statement as the drop or later."""
        found = []
        for index, effect in enumerate(effects):
            for dropped in effect.drops_columns:
                for copy in (c for e in effects[:index] for c in e.column_copies):
                    if not (
                        self.same_table(copy.table, dropped.table)
                        and any(self.same_name(s, dropped.column) for s in copy.sources)
                    ):
                        continue
                    rename = next(
                        (
                            r
                            for e in effects[index:]
                            for r in e.renames
                            if r.column is not None
                            and self.same_table(r.table, dropped.table)
                            and self.same_name(r.column, copy.target)
                        ),
                        None,
                    )
                    if rename is not None:
                        found.append(ColumnRebuild(dropped, copy.target, rename.new_name))
                        break
        return found

    def _copied_rebuild(self, dropped: DroppedTable, before: list[StatementEffects], sql: str) -> Rebuild | None:
        """A dropped table whose rows were copied elsewhere first: the columns no copy read are lost."""
        copies = [c for e in before for c in e.copies if self.same_table(c.source, dropped.table)]
        if not copies:
            return None
        carried = [column for copy in copies for column in copy.columns]
        known = dropped.columns is not None
        lost = tuple(c for c in dropped.columns or () if not any(self.same_name(c, k) for k in carried))
        proven = known and not lost and all(copy.plain for copy in copies)
        name = dropped.live_name or dropped.table
        return Rebuild(name, name, lost, proven, sql, dropped=dropped.table)

    def _renamed_rebuild(
        self, dropped: DroppedTable, before: list[StatementEffects], after: list[StatementEffects], sql: str
    ) -> Rebuild | None:
        """A rebuild nobody can prove here: a dropped table another one is renamed into the place of
        afterwards, or one that got its name from a table set aside earlier (``t`` renamed to
        ``t_old``, a new ``t`` created and filled, ``t_old`` dropped)."""
        for effect in after:
            for rename in effect.renames:
                if rename.column is None and self.same_table(
                    TableName(rename.new_name, rename.table.schema), dropped.table
                ):
                    return Rebuild(
                        dropped.table, dropped.live_name or dropped.table, (), False, sql, dropped=dropped.table
                    )
        for effect in reversed(before):
            for rename in effect.renames:
                if rename.column is None and self.same_table(
                    TableName(rename.new_name, rename.table.schema), dropped.table
                ):
                    return Rebuild(rename.table, rename.table, (), False, sql, dropped=dropped.table)
        return None
