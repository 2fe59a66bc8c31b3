"""Walking pglast's trees: shared by the PostgreSQL analyser and the changes lint reads."""

from __future__ import annotations


def nodes(value):
    """Every pglast node in ``value``, depth first (a statement inside a WITH is found too).

    Iterative, with pglast's Node class looked up once: lint walks every statement's tree, and a
    recursive generator with an import per call was a third of the analysis time."""
    from pglast.ast import Node

    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Node):
            yield item
            children = [getattr(item, attribute, None) for attribute in item.__slots__]
            stack.extend(child for child in reversed(children) if child is not None and not isinstance(child, str))
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
