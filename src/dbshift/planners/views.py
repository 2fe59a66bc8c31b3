"""Planning pieces every dialect shares: views in the order their definitions need."""

from __future__ import annotations

import re

from dbshift.schema import diff as d


def views_in_dependency_order(changes: list) -> list:
    """Views created after the views they read, and dropped before them."""
    creates = [c for c in changes if isinstance(c, d.CreateView)]
    drops = [c for c in changes if isinstance(c, d.DropView)]
    ordered_creates = order_views(creates)
    ordered_drops = list(reversed(order_views(drops)))
    result, created, dropped = [], iter(ordered_creates), iter(ordered_drops)
    for change in changes:
        if isinstance(change, d.CreateView):
            result.append(next(created))
        elif isinstance(change, d.DropView):
            result.append(next(dropped))
        else:
            result.append(change)
    return result


def order_views(changes: list) -> list:
    """Topological order: a view after every other view of ``changes`` its SQL names."""
    pending, ordered = list(changes), []
    while pending:
        names = {c.view.name.lower() for c in pending}
        ready = [
            c
            for c in pending
            if not any(other != c.view.name.lower() and view_mentions(c.view, other) for other in names)
        ]
        ready = ready or pending[:1]  # a cycle cannot be ordered; keep going
        ordered += ready
        pending = [c for c in pending if c not in ready]
    return ordered


def view_mentions(view, name: str) -> bool:
    """Whether the body of ``view`` names ``name`` (lower case) as a word."""
    return re.search(rf"\b{re.escape(name)}\b", view.sql.split(" AS", 1)[-1].lower()) is not None
