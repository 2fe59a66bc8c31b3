"""What a bare SQL identifier is made of, as regular-expression classes: shared by the script
splitters and :mod:`dbshift.dialects.statement_writes` without the splitters importing the
latter's patterns (compiling them took ~13 ms of every ``dbshift lint`` start)."""

#: A bare identifier's first character (a letter, ``_`` or any non-ASCII character) and the
#: following ones (those, digits and ``$``). Written as "not these ASCII characters": a class
#: holding the range \u0080-\uffff takes 6 ms to compile, and with the patterns of
#: statement_writes importing that module took 0.55 s, paid by every PostgreSQL and MySQL command.
IDENTIFIER_START = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]"
IDENTIFIER_PART = r"[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"
