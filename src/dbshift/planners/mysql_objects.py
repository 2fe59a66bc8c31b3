"""MySQL/MariaDB partitioning (a table's ``options["partitioning"]``) and events (the schema's ``options["events"]``).

Partitioning changes as little as it can: RANGE and LIST partitions that go are dropped
(``DROP PARTITION`` deletes their rows, so the step is destructive), partitions that come
are added at the end (``ADD PARTITION``) or split off the partition that follows them
(``REORGANIZE PARTITION``, which moves rows and loses none), and a HASH or KEY table changes
its number of partitions with ``ADD PARTITION PARTITIONS n`` / ``COALESCE PARTITION n``.
Any other change partitions the table again (``ALTER TABLE ... PARTITION BY``, a copy of the
table that fails rather than loses a row that fits no partition); a table that stops being
partitioned gets ``REMOVE PARTITIONING``.

Events change with ``ALTER EVENT`` and only the clauses that differ, so a schedule that stays
keeps the ``STARTS`` the server gave it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbshift.dialects.mysql_description import MYSQL
from dbshift.planners.operations import Operation

#: Partition methods whose partitions are listed with their values (and can be added or dropped one by one).
_LISTED = re.compile(r"^(RANGE|LIST)\b")
_PARTITION_NAME = re.compile(r"^PARTITION (`(?:[^`]|``)*`|\S+)")


#: MySQL's quoted identifier and string literal, as its description writes them.
quote, literal = MYSQL.quote, MYSQL.literal


# -- partitioning ---------------------------------------------------------------------------
def partition_clause(partitioning: dict) -> str:
    """``PARTITION BY ... [PARTITIONS n] [SUBPARTITION BY ... [SUBPARTITIONS n]] [(definitions)]``."""
    words = [f"PARTITION BY {partitioning['by']}"]
    if "count" in partitioning:
        words.append(f"PARTITIONS {partitioning['count']}")
    if "subpartition_by" in partitioning:
        words.append(f"SUBPARTITION BY {partitioning['subpartition_by']}")
    if "subpartition_count" in partitioning:
        words.append(f"SUBPARTITIONS {partitioning['subpartition_count']}")
    if partitioning.get("partitions"):
        words.append("(" + ",\n ".join(partitioning["partitions"]) + ")")
    return "\n".join(words)


def partition_name(definition: str) -> str:
    """The name of a partition as written in its definition (quoted when it was)."""
    return _PARTITION_NAME.match(definition).group(1)


def _bare(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def _names(definitions: list[str]) -> str:
    return ", ".join(_bare(partition_name(d)) for d in definitions)


@dataclass
class PartitionStep:
    """How a table's partitioning goes from ``old`` to ``new`` (either may be None: not partitioned)."""

    table: str
    old: dict | None
    new: dict | None

    def sql(self) -> list[str]:
        """The statements, each one ALTER TABLE of its own (a partition change cannot share one)."""
        return self._plan()[2]

    def describe(self) -> str:
        """What the step does, for people: ``drop partition p2023``, ``partition by HASH (`id`)``... ("" for nothing)."""
        return self._plan()[1]

    def _plan(self) -> tuple[str, str, list[str]]:
        """(kind, description, statements): the kind is one of the words the other methods ask about."""
        if self.old == self.new:
            return "", "", []
        table = f"ALTER TABLE {quote(self.table)}"
        if self.new is None:
            return "remove", "remove partitioning", [f"{table} REMOVE PARTITIONING"]
        if self._counts_only():
            more = self.new.get("count", 1) - self.old.get("count", 1)
            if more > 0:
                return "count", f"add {more} partition(s)", [f"{table} ADD PARTITION PARTITIONS {more}"]
            return "count", f"coalesce {-more} partition(s)", [f"{table} COALESCE PARTITION {-more}"]
        old_middle, new_middle, following = self._middles()
        if not self._listed_on_both() or (old_middle and new_middle):
            return "repartition", f"partition by {self.new['by']}", [f"{table} {partition_clause(self.new)}"]
        if old_middle:
            return (
                "drop",
                f"drop partition {_names(old_middle)}",
                [f"{table} DROP PARTITION " + ", ".join(partition_name(d) for d in old_middle)],
            )
        if following is None:
            return (
                "add",
                f"add partition {_names(new_middle)}",
                [f"{table} ADD PARTITION (" + ", ".join(new_middle) + ")"],
            )
        return (
            "split",
            f"split partition {_names(new_middle)} off {_names([following])}",
            [
                f"{table} REORGANIZE PARTITION {partition_name(following)} INTO ("
                + ", ".join(new_middle + [following])
                + ")"
            ],
        )

    def around(self, statements: list[str]) -> list[str]:
        """The table's other ``statements`` with the partition steps around them.

        Partitioning that goes, or is redone while the columns or keys change, is removed first
        (a column it is over may go, and every unique key must hold its columns); the new one comes last.
        """
        kind, _, steps = self._plan()
        if not statements or kind == "remove":
            return steps + statements
        if kind == "repartition" and self.old is not None:
            return [f"ALTER TABLE {quote(self.table)} REMOVE PARTITIONING"] + statements + steps
        return statements + steps

    def reverse(self) -> "PartitionStep":
        """The step that undoes this one."""
        return PartitionStep(self.table, self.new, self.old)

    def dropped(self) -> list[str]:
        """Names of the partitions whose rows :meth:`sql` deletes (DROP PARTITION)."""
        return [_bare(partition_name(d)) for d in self._middles()[0]] if self._plan()[0] == "drop" else []

    def rewrites_table(self) -> bool:
        """The step copies the whole table (partitioning it again, or removing its partitioning)."""
        return self._plan()[0] in ("remove", "repartition")

    def _scheme(self, partitioning: dict) -> dict:
        return {k: v for k, v in partitioning.items() if k not in ("partitions", "count")}

    def _counts_only(self) -> bool:
        """A HASH or KEY table with unnamed partitions whose number alone changes."""
        return (
            self.old is not None
            and self._scheme(self.old) == self._scheme(self.new)
            and not self.old.get("partitions")
            and not self.new.get("partitions")
            and not _LISTED.match(self.new["by"])
        )

    def _listed_on_both(self) -> bool:
        return (
            self.old is not None
            and self._scheme(self.old) == self._scheme(self.new)
            and bool(_LISTED.match(self.new["by"]))
            and "count" not in self.old
            and "count" not in self.new
        )

    def _middles(self) -> tuple[list[str], list[str], str | None]:
        """The partitions that differ (old, new) between the common first and last ones, and the
        partition that follows them (None when they are the last)."""
        old = list((self.old or {}).get("partitions", []))
        new = list((self.new or {}).get("partitions", []))
        first = 0
        while first < min(len(old), len(new)) and old[first] == new[first]:
            first += 1
        last = 0
        while last < min(len(old), len(new)) - first and old[-1 - last] == new[-1 - last]:
            last += 1
        following = old[len(old) - last] if last else None
        return old[first : len(old) - last], new[first : len(new) - last], following


def partition_losses(step: PartitionStep) -> tuple[list[str], str]:
    """The partitions the step drops with their rows, and why its reverse is lossy ("" if it is not)."""
    dropped, dropped_by_down = step.dropped(), step.reverse().dropped()
    lossy = []
    if dropped:
        lossy.append(f"the rows of partition(s) {', '.join(dropped)} of {step.table} are not brought back")
    if dropped_by_down:
        lossy.append(f"the down drops partition(s) {', '.join(dropped_by_down)} of {step.table} with their rows")
    return dropped, "; ".join(lossy)


# -- events ---------------------------------------------------------------------------------
def create_event_sql(name: str, event: dict, guard: str = "") -> str:
    """``CREATE EVENT [guard]`` with every clause, as ``SHOW CREATE EVENT`` writes it (without the definer)."""
    return f"CREATE EVENT{guard} {quote(name)} " + _event_clauses(event, event.keys())


def _event_clauses(event: dict, which) -> str:
    clauses = []
    if "schedule" in which:
        clauses.append(f"ON SCHEDULE {event['schedule']}")
    if "on_completion" in which:
        clauses.append(f"ON COMPLETION {event['on_completion']}")
    if "status" in which:
        clauses.append(event["status"])
    if "comment" in which:
        clauses.append(f"COMMENT {literal(event.get('comment', ''))}")
    if "body" in which:
        clauses.append(f"DO {event['body']}")
    return " ".join(clauses)


def alter_event_sql(name: str, old: dict, new: dict) -> str:
    """``ALTER EVENT`` with the clauses that differ (a comment that goes is set to '')."""
    changed = [
        key for key in ("schedule", "on_completion", "status", "comment", "body") if old.get(key) != new.get(key)
    ]
    return f"ALTER EVENT {quote(name)} " + _event_clauses(new, changed)


def event_operations(changes: list, rerun: bool = False) -> tuple[list[Operation], list[Operation]]:
    """(drops and changes, creations) for the diff's EventChanges, each with its reverse; with ``rerun``,
    CREATE EVENT IF NOT EXISTS and DROP EVENT IF EXISTS (MySQL 8 and MariaDB both have them).

    An event's body is checked only when it runs, so events may go first and come last.
    """
    create, drop = (" IF NOT EXISTS", "DROP EVENT IF EXISTS") if rerun else ("", "DROP EVENT")
    first, last = [], []
    for change in changes:
        name, old, new = change.key, change.before, change.after
        if new is None:
            first.append(
                Operation(f"drop event {name}", [f"{drop} {quote(name)}"], [create_event_sql(name, old, create)])
            )
        elif old is not None:
            first.append(
                Operation(f"alter event {name}", [alter_event_sql(name, old, new)], [alter_event_sql(name, new, old)])
            )
        else:
            last.append(
                Operation(f"create event {name}", [create_event_sql(name, new, create)], [f"{drop} {quote(name)}"])
            )
    return first, last
