"""What statements do, as plain data: the answer of every dialect's analyser.

A :class:`StatementEffects` lists what one statement creates, drops, deletes, truncates, renames,
alters and copies, with identifiers exactly as the database reads them (PostgreSQL's unquoted
names folded to lower case, MySQL's backticks and SQLite's quotes removed). ``unreadable`` says
the analyser could not read the statement (a parse error, or an opaque DO/CALL/EXECUTE); callers
count such a statement as losing data. Safety decisions and lint rules read these fields; they
never look at the SQL text themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableName:
    """A table as the database names it: ``name`` and, when the statement gives one, ``schema``."""

    name: str
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def quoted(self, quote: Callable[[str], str]) -> str:
        """The name for a SQL statement, each part quoted by ``quote`` (the database's ``quote``)."""
        return ".".join(quote(part) for part in (self.schema, self.name) if part is not None)


@dataclass(frozen=True)
class DroppedTable:
    """A table a statement drops; ``columns`` are its data columns when the analyser knows them."""

    table: TableName
    columns: tuple[str, ...] | None = None
    #: The table's name before this script renamed it (the name it has on the live database).
    live_name: TableName | None = None


@dataclass(frozen=True)
class ColumnRef:
    """A column of a table."""

    table: TableName
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class RowDeletion:
    """Rows a statement deletes from ``table``: those matching ``where`` (None: every row).

    ``countable`` is False when the rows cannot be counted from ``table`` and ``where`` alone
    (a join, a ``USING``, a LIMIT, a trigger's delete); ``by_trigger`` names the trigger.
    """

    table: TableName
    where: str | None = None
    countable: bool = True
    by_trigger: str | None = None


@dataclass(frozen=True)
class DroppedPartitions:
    """MySQL/MariaDB partitions a statement drops or truncates (their rows go)."""

    table: TableName
    partitions: tuple[str, ...]


@dataclass(frozen=True)
class Rename:
    """A table renamed (``column`` None) or a column renamed (``column`` is its old name)."""

    table: TableName
    new_name: str
    column: str | None = None


@dataclass(frozen=True)
class RowCopy:
    """An ``INSERT ... SELECT`` copying rows of ``source`` into ``target``.

    ``columns`` are the source columns the copy reads; ``plain`` is True when every value is
    copied as it is (each selected item a bare column into a column of the same kind, no filter).
    """

    target: TableName
    source: TableName
    columns: frozenset[str]
    plain: bool


@dataclass(frozen=True)
class ColumnCopy:
    """``UPDATE table SET target = <expression over sources>``: values computed into a column."""

    table: TableName
    target: str
    sources: frozenset[str]


@dataclass(frozen=True)
class ColumnRebuild:
    """A column dropped after its values were computed into another column that then takes a name
    (a conversion through a column of the new type): the values live on, converted.

    Like a table rebuild that converts, the analysis cannot prove the conversion gives every
    value back; a migration dbshift drafts vouches for it with ``-- lossless-down``.
    """

    column: ColumnRef
    into: str
    renamed_to: str


@dataclass(frozen=True)
class SchemaChange:
    """One schema change, transaction command or setting a statement makes, as lint rules need it.

    ``kind`` is one of :data:`CHANGE_KINDS`. ``name`` is the column, index, constraint or setting
    it is about; ``type_name`` the column type as the parser names it (lower case, PostgreSQL's
    internal names such as ``int4``/``bpchar``); ``flags`` the facts of :data:`CHANGE_FLAGS` that
    hold; ``columns`` the columns a constraint is about (a CHECK's ``col IS NOT NULL`` tests).
    """

    kind: str
    table: TableName | None = None
    name: str | None = None
    type_name: str | None = None
    flags: frozenset[str] = frozenset()
    columns: tuple[str, ...] = ()
    #: A foreign key's referenced table and columns (``columns`` are the referencing ones).
    references: TableName | None = None
    referenced_columns: tuple[str, ...] = ()
    #: A CHECK's condition as SQL text of the dialect, written back by the parser.
    condition: str | None = None
    #: A column's type as SQL text of the dialect with its arguments (``numeric(10, 2)``,
    #: ``varchar(10)``), written back by the parser, for queries that cast to it.
    type_sql: str | None = None
    #: The type's numeric arguments (length, or precision and scale): ``(10, 2)``.
    type_args: tuple[int, ...] = ()

    def has(self, flag: str) -> bool:
        """Whether ``flag`` holds for this change."""
        return flag in self.flags


#: What a :class:`SchemaChange` can be.
CHANGE_KINDS = frozenset(
    {
        "create_table",
        "column",
        "add_column",
        "alter_column_type",
        "set_not_null",
        "drop_not_null",
        "set_default",
        "drop_default",
        "add_constraint",
        "validate_constraint",
        "drop_constraint",
        "create_index",
        "drop_index",
        "transaction",
        "set",
        "table_option",
    }
)
#: Facts a change may carry: index builds (``concurrently``, ``unique``), constraints
#: (``foreign_key``, ``check``, ``unique``, ``primary_key``, ``not_valid``, ``using_index``),
#: columns (``not_null``, ``default``, ``volatile_default``, ``stored_generated``, ``identity``,
#: ``serial``, ``primary_key``, ``unique``, ``array``, ``references``: a foreign key or a
#: column of a table-level key), transaction commands
#: (``begin``, ``commit``, ``rollback``), MySQL ALTER options (``algorithm_instant``,
#: ``algorithm_inplace``, ``algorithm_copy``, ``lock_none``, ``lock_shared``, ``lock_exclusive``)
#: table options that copy every row (``copies_rows``), a type change whose ``USING`` is more
#: than the column or a cast of it (``custom_using``), and the guards that let a statement run
#: again (``if_exists``, ``if_not_exists``; ``temporary`` tables).
CHANGE_FLAGS = frozenset(
    {
        "concurrently",
        "unique",
        "foreign_key",
        "check",
        "primary_key",
        "not_valid",
        "using_index",
        "not_null",
        "default",
        "volatile_default",
        "stored_generated",
        "identity",
        "serial",
        "references",
        "array",
        "begin",
        "commit",
        "rollback",
        "algorithm_instant",
        "algorithm_inplace",
        "algorithm_copy",
        "lock_none",
        "lock_shared",
        "lock_exclusive",
        "copies_rows",
        "enum",
        "custom_using",
        "if_exists",
        "if_not_exists",
        "temporary",
    }
)


@dataclass
class StatementEffects:
    """What one statement does (see the module's docstring)."""

    sql: str
    creates: list[TableName] = field(default_factory=list)
    drops: list[DroppedTable] = field(default_factory=list)
    drops_columns: list[ColumnRef] = field(default_factory=list)
    deletes: list[RowDeletion] = field(default_factory=list)
    truncates: list[TableName] = field(default_factory=list)
    drops_partitions: list[DroppedPartitions] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)
    #: Columns whose type or definition is changed in place (MODIFY, ALTER COLUMN ... TYPE).
    alters_columns: list[ColumnRef] = field(default_factory=list)
    #: Tables whose rows are updated in place.
    updates: list[TableName] = field(default_factory=list)
    #: Tables the statement inserts rows into (``INSERT``, ``REPLACE``, ``INSERT ... SELECT``).
    inserts: list[TableName] = field(default_factory=list)
    #: Columns an UPDATE computes, and the columns it computes them from.
    column_copies: list[ColumnCopy] = field(default_factory=list)
    #: Columns whose stored values an UPDATE (or an upsert's update) writes.
    updates_columns: list[ColumnRef] = field(default_factory=list)
    copies: list[RowCopy] = field(default_factory=list)
    #: Losses the statement causes that no field above can name (``DROP SCHEMA ... CASCADE``...).
    other_losses: list[str] = field(default_factory=list)
    #: Schema changes, transaction commands and settings, in order (for lint rules).
    changes: list[SchemaChange] = field(default_factory=list)
    #: The statement takes a lock on an existing schema object (DDL other than creating a table).
    locks_schema: bool = False
    #: Why the statement fails when it runs a second time after it succeeded (``CREATE TABLE
    #: users without IF NOT EXISTS``): a file that is not one transaction cannot be re-run past it.
    #: None: not read (the caller said it would not look, see :meth:`Analyser.statement`).
    repeat_fails: list[str] | None = field(default_factory=list)
    #: Why the statement could not be read (None: it was read). Unreadable counts as lossy.
    unreadable: str | None = None
    #: The parser's tree (pglast or sqlglot nodes), for rules that need more than the fields above.
    tree: Any = field(default=None, repr=False, compare=False)

    @property
    def removes_data(self) -> bool:
        """Whether the statement drops, deletes or truncates data, or cannot be read."""
        return bool(
            self.drops
            or self.drops_columns
            or self.deletes
            or self.truncates
            or self.drops_partitions
            or self.other_losses
            or self.unreadable
        )


@dataclass(frozen=True)
class Rebuild:
    """A table dropped and replaced within one script (a copy, then the new table takes its place).

    ``table`` is the rebuilt table's name, ``dropped`` the name the old table had when dropped
    (``t_old`` when it was set aside first). ``lost_columns`` are columns of the old table no copy
    reads; ``proven`` is True when the analysis saw every row and column copied as it was (False:
    it cannot tell, e.g. conversions).
    """

    table: TableName
    live_name: TableName
    lost_columns: tuple[str, ...]
    proven: bool
    statement: str
    dropped: TableName | None = None


@dataclass
class ScriptEffects:
    """The effects of a script's statements in order, with the table rebuilds they make up."""

    statements: list[StatementEffects]
    rebuilds: list[Rebuild] = field(default_factory=list)
    column_rebuilds: list[ColumnRebuild] = field(default_factory=list)

    def column_rebuilt(self, column: ColumnRef) -> ColumnRebuild | None:
        """The column rebuild that carries ``column``'s values on, if any."""
        return next((r for r in self.column_rebuilds if r.column == column), None)

    def rebuilt(self, dropped: DroppedTable) -> bool:
        """Whether ``dropped`` is the old table of one of :attr:`rebuilds`."""
        return any((r.dropped or r.table) == dropped.table for r in self.rebuilds)

    @property
    def unreadable(self) -> list[StatementEffects]:
        """Statements the analysis could not read."""
        return [s for s in self.statements if s.unreadable]
