"""Walking pglast's trees: shared by the PostgreSQL analyser and the changes lint reads."""

from __future__ import annotations


def nodes(value):
    """Every pglast node in ``value``, depth first (a statement inside a WITH is found too)."""
    from pglast import ast

    if isinstance(value, ast.Node):
        yield value
        for attribute in value.__slots__:
            yield from nodes(getattr(value, attribute, None))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from nodes(item)
