"""PostgreSQL schema-level objects (schema ``options``): extensions, enums, domains, sequences,
functions, aggregates.

Extensions come first (a type, function or column may use what they provide) and go last, in
the order they were installed (an extension after the ones it requires); they are dropped
without CASCADE, so PostgreSQL refuses to drop one that something still uses. Each object is created in dependency order (a domain after the function its CHECK calls, an
aggregate after its state function) and dropped in the opposite order. Objects fall in two
phases: most are created *before* the tables (a column's type, default or CHECK may use them);
a function whose signature names a table's row type, or a ``LANGUAGE sql`` function whose
body reads a table or view (PostgreSQL checks such a body when it is created), is created
*after* the tables and dropped before them, and so is an aggregate built on such a function.
Dependencies are found by the object names each definition mentions, as the planner does for
views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dbshift.dialects.postgresql_description import POSTGRESQL

BEFORE_TABLES, AFTER_TABLES = "before tables", "after tables"
#: Kinds in the order they are created when nothing else decides.
KINDS = ("extension", "enum", "domain", "sequence", "function", "aggregate", "view")
#: What COMMENT ON calls each kind (ROUTINE: a function or a procedure).
COMMENT_TARGETS = {
    "enum": "TYPE",
    "domain": "DOMAIN",
    "sequence": "SEQUENCE",
    "function": "ROUTINE",
    "aggregate": "AGGREGATE",
}


@dataclass(frozen=True)
class SchemaObject:
    """One extension, enum, domain, sequence, function or aggregate with the SQL that creates and drops it."""

    kind: str
    key: str
    #: The bare name other definitions use to refer to it.
    name: str
    definition: object
    create: tuple[str, ...]
    drop: str
    phase: str = BEFORE_TABLES
    comment: str | None = None

    @property
    def text(self) -> str:
        """The SQL searched for the names of other objects."""
        return " ".join(self.create)

    @property
    def statements(self) -> list[str]:
        """The SQL that creates it, its comment included."""
        return list(self.create) + ([self.comment_sql(self.comment)] if self.comment is not None else [])

    def comment_sql(self, comment: str | None) -> str:
        """COMMENT ON the object IS ``comment`` (NULL: none)."""
        keyword, target = COMMENT_TARGETS[self.kind], self.key
        if self.kind in ("enum", "domain", "sequence"):
            target = quote(self.key)
        return f"COMMENT ON {keyword} {target} IS {'NULL' if comment is None else literal(comment)}"


@dataclass
class Transition:
    """How one object goes from the current to the desired schema: its up and down statements."""

    up: list[str]
    down: list[str]
    #: Why the down cannot undo the up completely, or "".
    lossy: str = ""


#: PostgreSQL's quoted identifier and string literal, as its description writes them.
quote, literal = POSTGRESQL.quote, POSTGRESQL.literal


# -- reading the options ------------------------------------------------------------------
def schema_objects(options: dict, relations: set[str]) -> dict[tuple[str, str], SchemaObject]:
    """The objects of a schema's ``options`` by (kind, key); ``relations`` are its table and view names."""
    found = {}
    for name, extension in options.get("extensions", {}).items():
        found[("extension", name)] = SchemaObject(
            "extension", name, name, extension, (_extension_sql(name, extension),), f"DROP EXTENSION {quote(name)}"
        )
    for name, labels in options.get("enums", {}).items():
        found[("enum", name)] = SchemaObject(
            "enum", name, name, labels, (_enum_sql(name, labels),), f"DROP TYPE {quote(name)}"
        )
    for name, domain in options.get("domains", {}).items():
        found[("domain", name)] = SchemaObject(
            "domain", name, name, domain, tuple(domain_sql(name, domain, None)), f"DROP DOMAIN {quote(name)}"
        )
    for name, values in options.get("sequences", {}).items():
        found[("sequence", name)] = SchemaObject(
            "sequence", name, name, values, (_sequence_sql(name, values),), f"DROP SEQUENCE {quote(name)}"
        )
    relation_pattern = _mention_pattern(relations)
    for signature, definition in options.get("functions", {}).items():
        phase = AFTER_TABLES if _reads_relations(definition, relation_pattern) else BEFORE_TABLES
        found[("function", signature)] = SchemaObject(
            "function",
            signature,
            _bare(signature),
            definition,
            (definition.strip(),),
            f"DROP ROUTINE {signature}",
            phase,
        )
    late = _mention_pattern({o.name for o in found.values() if o.phase == AFTER_TABLES})
    for signature, definition in options.get("aggregates", {}).items():
        phase = AFTER_TABLES if late and late.search(definition) else BEFORE_TABLES
        found[("aggregate", signature)] = SchemaObject(
            "aggregate", signature, _bare(signature), definition, (definition,), f"DROP AGGREGATE {signature}", phase
        )
    comments = options.get("comments", {})
    return {key: replace(item, comment=comments.get(item.kind, {}).get(item.key)) for key, item in found.items()}


def _bare(signature: str) -> str:
    """``public."My f"(integer)`` -> ``My f``."""
    name = signature.split("(", 1)[0].rsplit(".", 1)[-1]
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _mention_pattern(names) -> re.Pattern | None:
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r'(?<![\w$])"?(?:' + "|".join(re.escape(n) for n in names) + r')"?(?![\w$])', re.IGNORECASE)


def _reads_relations(definition: str, relations: re.Pattern | None) -> bool:
    """The function's signature names a relation, or its SQL-language body reads one."""
    if relations is None:
        return False
    body_start = re.search(r"^(AS |BEGIN ATOMIC)", definition, re.MULTILINE)
    header = definition[: body_start.start()] if body_start else definition
    # String literals in the body name no relation ('orders' is a value, not the table).
    body = re.sub(r"'(?:[^']|'')*'", "''", definition[body_start.start() :]) if body_start else ""
    arguments = header.splitlines()[0].split("(", 1)[-1] if header.strip() else ""
    if relations.search(arguments) or relations.search(_returns(header)):
        return True
    return (
        re.search(r"^\s*LANGUAGE sql\b", header, re.MULTILINE | re.IGNORECASE) is not None
        and relations.search(body) is not None
    )


def _extension_sql(name: str, extension: dict) -> str:
    # IF NOT EXISTS: a database the migration reaches may have it already (a template, a hosted default).
    return f"CREATE EXTENSION IF NOT EXISTS {quote(name)} WITH SCHEMA {quote(extension['schema'])}"


def extension_notes(dropped: list[str]) -> list[str]:
    """Extensions the plan drops: never with CASCADE, so what still uses one stops the migration instead."""
    return [
        f"extension {name} is dropped without CASCADE: PostgreSQL refuses if anything still uses it" for name in dropped
    ]


def _enum_sql(name: str, labels: list[str]) -> str:
    return f"CREATE TYPE {quote(name)} AS ENUM ({', '.join(literal(v) for v in labels)})"


def _sequence_sql(name: str, values: list[str], verb: str = "CREATE") -> str:
    type_, start, increment, low, high, cycle = values
    cycle_sql = " CYCLE" if cycle == "True" else (" NO CYCLE" if verb == "ALTER" else "")
    return (
        f"{verb} SEQUENCE {quote(name)} AS {type_} INCREMENT {increment} MINVALUE {low} "
        f"MAXVALUE {high} START {start}{cycle_sql}"
    )


def domain_sql(name: str, new: dict, old: dict | None) -> list[str]:
    """CREATE DOMAIN, or the ALTER DOMAIN steps from ``old`` to ``new`` (same base type)."""
    target = quote(name)
    if old is None:
        sql = f"CREATE DOMAIN {target} AS {new['type']}"
        sql += f" DEFAULT {new['default']}" if new["default"] is not None else ""
        sql += " NOT NULL" if new["not_null"] else ""
        return [sql + "".join(f" CONSTRAINT {quote(c)} {check}" for c, check in new["checks"].items())]
    statements = [
        f"ALTER DOMAIN {target} DROP CONSTRAINT {quote(c)}"
        for c, check in old["checks"].items()
        if new["checks"].get(c) != check
    ]
    if old["default"] != new["default"]:
        statements.append(
            f"ALTER DOMAIN {target} "
            + (f"SET DEFAULT {new['default']}" if new["default"] is not None else "DROP DEFAULT")
        )
    if old["not_null"] != new["not_null"]:
        statements.append(f"ALTER DOMAIN {target} {'SET' if new['not_null'] else 'DROP'} NOT NULL")
    statements += [
        f"ALTER DOMAIN {target} ADD CONSTRAINT {quote(c)} {check}"
        for c, check in new["checks"].items()
        if old["checks"].get(c) != check
    ]
    return statements


# -- enum changes -------------------------------------------------------------------------
def enum_renames(old: list[str], new: list[str]) -> dict[str, str] | None:
    """Old label -> new label when ``new`` is ``old`` with some labels renamed in place (and maybe
    labels appended); None when the change is anything else.

    A label that sits at the same position in both lists and is not itself a label of the other
    list was renamed (sqldef's rule); a position-preserving substitution is the only change a
    rename can be told apart from, since a rename keeps the value's sort order.
    """
    if len(new) < len(old):
        return None
    renames = {}
    for before, after in zip(old, new):
        if before == after:
            continue
        if before in new or after in old:
            return None
        renames[before] = after
    return renames


def _enum_transition(name: str, old: list[str], new: list[str]) -> Transition | None:
    renames = enum_renames(old, new)
    if renames is None:
        return None
    target = quote(name)
    up = [f"ALTER TYPE {target} RENAME VALUE {literal(a)} TO {literal(b)}" for a, b in renames.items()]
    up += [f"ALTER TYPE {target} ADD VALUE {literal(v)}" for v in new[len(old) :]]
    down = [f"ALTER TYPE {target} RENAME VALUE {literal(b)} TO {literal(a)}" for a, b in renames.items()]
    added = new[len(old) :]
    lossy = f"values {', '.join(added)} added to enum {name} cannot be removed" if added else ""
    return Transition(up, down, lossy)


def enum_notes(new: dict, old: dict) -> list[str]:
    """Enums changed other than by renaming values in place or appending values: not planned, reported."""
    return [
        f"enum {name} changed other than by renaming or appending values: alter it by hand"
        for name, labels in new.get("enums", {}).items()
        if name in old.get("enums", {}) and enum_renames(old["enums"][name], labels) is None
    ]


# -- transitions --------------------------------------------------------------------------
def transition(old: SchemaObject | None, new: SchemaObject | None) -> Transition | None:
    """The statements that take one object from ``old`` to ``new`` and back (None: nothing to do).

    An object created again gets its comment with it; one changed in place gets a COMMENT ON
    only if its comment changes.
    """
    if old is None:
        return Transition(new.statements, [new.drop])
    if new is None:
        return Transition([old.drop], old.statements)
    recomment = _recomment(old, new)
    if old.definition == new.definition:
        return recomment
    step = _redefinition(old, new)
    if step is None or step.up[:1] == [new.drop] or recomment is None:
        return step
    return Transition(step.up + recomment.up, step.down + recomment.down, step.lossy)


def _recomment(old: SchemaObject, new: SchemaObject) -> Transition | None:
    if old.comment == new.comment:
        return None
    return Transition([new.comment_sql(new.comment)], [old.comment_sql(old.comment)])


def _redefinition(old: SchemaObject, new: SchemaObject) -> Transition | None:
    """The statements that change the definition, in place where PostgreSQL can, else by drop and create."""
    if new.kind == "enum":
        return _enum_transition(new.key, old.definition, new.definition)
    if new.kind == "extension":
        move = f"ALTER EXTENSION {quote(new.key)} SET SCHEMA "
        return Transition([move + quote(new.definition["schema"])], [move + quote(old.definition["schema"])])
    if new.kind == "domain":
        if old.definition["type"] != new.definition["type"]:
            return None  # reported as a note
        return Transition(
            domain_sql(new.key, new.definition, old.definition), domain_sql(new.key, old.definition, new.definition)
        )
    if new.kind == "sequence":
        return Transition(
            [_sequence_sql(new.key, new.definition, "ALTER")], [_sequence_sql(new.key, old.definition, "ALTER")]
        )
    if new.kind == "function" and _returns(old.definition) == _returns(new.definition):
        return Transition(list(new.create), list(old.create))
    # CREATE OR REPLACE cannot change a function's result type; an aggregate is simplest redone.
    return Transition([new.drop, *new.statements], [old.drop, *old.statements])


def _returns(definition: str) -> str:
    match = re.search(r"^\s*RETURNS\s+(.*)$", definition, re.MULTILINE)
    return match.group(1).strip() if match else ""


# -- order --------------------------------------------------------------------------------
def dependency_order(objects: list[SchemaObject]) -> list[SchemaObject]:
    """``objects`` with each one after the others of the list its definition mentions (cycles: input order)."""
    patterns = {id(o): _mention_pattern({o.name}) for o in objects}
    needs = {
        id(o): [p for p in objects if p is not o and p.name != o.name and patterns[id(p)].search(o.text)]
        for o in objects
    }
    ordered, placed, pending = [], set(), sorted(objects, key=lambda o: KINDS.index(o.kind))
    while pending:
        ready = next((o for o in pending if all(id(p) in placed for p in needs[id(o)])), pending[0])
        ordered.append(ready)
        placed.add(id(ready))
        pending.remove(ready)
    return ordered


# -- row-level security policies ------------------------------------------------------------
def _roles(roles: list[str]) -> str:
    # PUBLIC is a keyword, not a role: quoted, it would name a role called "public".
    return ", ".join("PUBLIC" if role == "public" else quote(role) for role in roles)


def create_policy_sql(table: str, name: str, policy: dict) -> list[str]:
    """CREATE POLICY (and its comment)."""
    sql = (
        f"CREATE POLICY {quote(name)} ON {quote(table)} AS {policy['as']} FOR {policy['for']} TO {_roles(policy['to'])}"
    )
    sql += f" USING ({policy['using']})" if policy["using"] is not None else ""
    sql += f" WITH CHECK ({policy['with_check']})" if policy["with_check"] is not None else ""
    comment = policy.get("comment")
    return [sql] + ([_policy_comment(table, name, comment)] if comment else [])


def drop_policy_sql(table: str, name: str) -> str:
    """DROP POLICY."""
    return f"DROP POLICY {quote(name)} ON {quote(table)}"


def _policy_comment(table: str, name: str, comment: str | None) -> str:
    return f"COMMENT ON POLICY {quote(name)} ON {quote(table)} IS {'NULL' if comment is None else literal(comment)}"


def alter_policy_sql(table: str, name: str, old: dict, new: dict) -> list[str] | None:
    """The ALTER POLICY (and COMMENT) that turns ``old`` into ``new``; None when ALTER POLICY cannot:
    another AS or FOR, or a USING or WITH CHECK clause taken away."""
    if (old["as"], old["for"]) != (new["as"], new["for"]) or any(
        old[clause] is not None and new[clause] is None for clause in ("using", "with_check")
    ):
        return None
    clauses = [f"TO {_roles(new['to'])}"] if old["to"] != new["to"] else []
    clauses += [
        f"{word} ({new[clause]})"
        for clause, word in (("using", "USING"), ("with_check", "WITH CHECK"))
        if old[clause] != new[clause]
    ]
    statements = [f"ALTER POLICY {quote(name)} ON {quote(table)} {' '.join(clauses)}"] if clauses else []
    if old.get("comment") != new.get("comment"):
        statements.append(_policy_comment(table, name, new.get("comment")))
    return statements
