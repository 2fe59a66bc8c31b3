"""MySQL's differ hook: its events as typed changes (see :mod:`dbshift.dialects.postgresql_differ`)."""

from __future__ import annotations

from dataclasses import dataclass

from dbshift.schema.diff import ObjectChange, changed_objects
from dbshift.schema.model import Schema


@dataclass(frozen=True)
class EventChange(ObjectChange):
    """A scheduled event (``options["events"][name]``: schedule, status, comment, body...)."""

    kind = "event"


def diff_objects(current: Schema, desired: Schema) -> list[ObjectChange]:
    """Events that come, go or change from ``current`` to ``desired``."""
    return changed_objects(EventChange, current.options.get("events", {}), desired.options.get("events", {}))
