"""Stories that try to break where a SQLite plan checks foreign keys (tests/draft/test_key_check_order.py
applies them, tests/lint/test_draft_lint_parts.py lints them in parts)."""

# A story is two states of one database (schema and the rows each holds) and the renames between them;
# drafting from either state to the other must apply, hold exactly the other state's values, and roll back
# to the first state's values (integers as integers), so every story is also its own down-direction story.
STORIES = {
    "parent table and key column renamed, both tables rebuilt": (
        'CREATE TABLE "old ""name""" (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, v TEXT);\n'
        'CREATE TABLE "kid ✓" (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "old ""name"""("key col"), n INTEGER);\n',
        {
            'old "name"': [(1, 10, "a"), (2, -7, "b ✓"), (3, None, None)],
            "kid ✓": [(1, 10, 5), (2, -7, -2), (3, None, None), (4, 10, 0)],
        },
        'CREATE TABLE "new ""name""" (id INTEGER PRIMARY KEY, "kéy" INTEGER UNIQUE, v TEXT CHECK (v <> \'\'));\n'
        'CREATE TABLE "kid ✓" (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "new ""name"""("kéy"), n TEXT);\n',
        {
            'new "name"': [(1, 10, "a"), (2, -7, "b ✓"), (3, None, None)],
            "kid ✓": [(1, 10, "5"), (2, -7, "-2"), (3, None, None), (4, 10, "0")],
        },
        ['old "name"=new "name"', 'new "name".key col=kéy'],
        ['new "name"=old "name"', 'old "name".kéy=key col'],
    ),
    "parent dropped and recreated by its rebuild while its key column is renamed": (
        'CREATE TABLE p (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, v TEXT);\n'
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES p("key col"), n INTEGER);\n',
        {"p": [(1, 10, "a"), (2, 20, None)], "kid": [(1, 10, 1), (2, 20, 2), (3, 10, None)]},
        "CREATE TABLE p (id INTEGER PRIMARY KEY, \"kéy\" INTEGER UNIQUE, v TEXT CHECK (v <> ''));\n"
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES p("kéy"), n INTEGER);\n',
        {"p": [(1, 10, "a"), (2, 20, None)], "kid": [(1, 10, 1), (2, 20, 2), (3, 10, None)]},
        ["p.key col=kéy"],
        ["p.kéy=key col"],
    ),
    "child rebuilt and renamed": (
        'CREATE TABLE "pärent" (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE);\n'
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "pärent"("key col"), n INTEGER);\n',
        {"pärent": [(1, 10), (2, 0)], "kid": [(1, 10, 7), (2, 0, -1), (3, None, 3)]},
        'CREATE TABLE "pärent" (id INTEGER PRIMARY KEY, "kéy" INTEGER UNIQUE);\n'
        'CREATE TABLE "kid ""2""" (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "pärent"("kéy"), n TEXT);\n',
        {"pärent": [(1, 10), (2, 0)], 'kid "2"': [(1, 10, "7"), (2, 0, "-1"), (3, None, "3")]},
        ['kid=kid "2"', "pärent.key col=kéy"],
        ['kid "2"=kid', "pärent.kéy=key col"],
    ),
    "grandchild chain: b rebuilt between a whose key is renamed and c": (
        'CREATE TABLE a (id INTEGER PRIMARY KEY, "key" INTEGER UNIQUE);\n'
        'CREATE TABLE b (id INTEGER PRIMARY KEY, a_key INTEGER REFERENCES a("key"), code TEXT UNIQUE, n INTEGER);\n'
        "CREATE TABLE c (id INTEGER PRIMARY KEY, b_code TEXT REFERENCES b(code));\n",
        {
            "a": [(1, 100), (2, 200)],
            "b": [(1, 100, "x", 1), (2, 200, "y ✓", 2), (3, None, None, None)],
            "c": [(1, "x"), (2, "y ✓"), (3, None)],
        },
        'CREATE TABLE a (id INTEGER PRIMARY KEY, "a key" INTEGER UNIQUE);\n'
        'CREATE TABLE b (id INTEGER PRIMARY KEY, a_key INTEGER REFERENCES a("a key"), "cöde" TEXT UNIQUE, n TEXT);\n'
        'CREATE TABLE c (id INTEGER PRIMARY KEY, b_code TEXT REFERENCES b("cöde"));\n',
        {
            "a": [(1, 100), (2, 200)],
            "b": [(1, 100, "x", "1"), (2, 200, "y ✓", "2"), (3, None, None, None)],
            "c": [(1, "x"), (2, "y ✓"), (3, None)],
        },
        ["a.key=a key", "b.code=cöde"],
        ["a.a key=key", "b.cöde=code"],
    ),
    "self-referencing table rebuilt while its key column is renamed": (
        'CREATE TABLE "nöde" (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, up INTEGER REFERENCES "nöde"("key col"), n INTEGER);\n',
        {"nöde": [(1, 10, None, 1), (2, 20, 10, 2), (3, 30, 20, None), (4, -5, 30, 0)]},
        'CREATE TABLE "nöde" (id INTEGER PRIMARY KEY, "kéy" INTEGER UNIQUE, up INTEGER REFERENCES "nöde"("kéy"), n TEXT);\n',
        {"nöde": [(1, 10, None, "1"), (2, 20, 10, "2"), (3, 30, 20, None), (4, -5, 30, "0")]},
        ["nöde.key col=kéy"],
        ["nöde.kéy=key col"],
    ),
    "the parent's unique index is replaced while the child is rebuilt": (
        "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT);\n"
        'CREATE UNIQUE INDEX "p code" ON p(code);\n'
        "CREATE TABLE kid (id INTEGER PRIMARY KEY, p_code TEXT REFERENCES p(code), n INTEGER);\n",
        {"p": [(1, "A"), (2, "b b")], "kid": [(1, "A", 1), (2, "b b", None), (3, None, 3)]},
        "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT);\n"
        'CREATE UNIQUE INDEX "p code ü" ON p(code);\n'
        "CREATE TABLE kid (id INTEGER PRIMARY KEY, p_code TEXT REFERENCES p(code), n TEXT);\n",
        {"p": [(1, "A"), (2, "b b")], "kid": [(1, "A", "1"), (2, "b b", None), (3, None, "3")]},
        [],
        [],
    ),
    "the child spells its parent and the renamed key in another case": (
        'CREATE TABLE "Parent ✓" (id INTEGER PRIMARY KEY, "Key Col" INTEGER UNIQUE);\n'
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "parent ✓"("key col"), n INTEGER);\n',
        {"Parent ✓": [(1, 10), (2, 11)], "kid": [(1, 10, 5), (2, 11, None), (3, None, -3)]},
        'CREATE TABLE "Parent ✓" (id INTEGER PRIMARY KEY, "Kéy" INTEGER UNIQUE);\n'
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "PARENT ✓"("kéy"), n TEXT);\n',
        {"Parent ✓": [(1, 10), (2, 11)], "kid": [(1, 10, "5"), (2, 11, None), (3, None, "-3")]},
        ["Parent ✓.Key Col=Kéy"],
        ["Parent ✓.Kéy=Key Col"],
    ),
}
#: A row whose key has no parent: (its table in the story's first state, in its second state, the row).
ORPHANS = {
    "parent table and key column renamed, both tables rebuilt": ("kid ✓", "kid ✓", (9, 99, 9)),
    "parent dropped and recreated by its rebuild while its key column is renamed": ("kid", "kid", (9, 99, 9)),
    "child rebuilt and renamed": ("kid", 'kid "2"', (9, 99, 9)),
    "grandchild chain: b rebuilt between a whose key is renamed and c": ("c", "c", (9, "nobody")),
    "self-referencing table rebuilt while its key column is renamed": ("nöde", "nöde", (9, 90, 99, 9)),
    "the parent's unique index is replaced while the child is rebuilt": ("kid", "kid", (9, "Z", 9)),
    "the child spells its parent and the renamed key in another case": ("kid", "kid", (9, 12, 9)),
}
