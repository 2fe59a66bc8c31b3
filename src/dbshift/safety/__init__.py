"""The safety net: fingerprints and verify, preflight, rehearsals, rollback plans, migration records.

Everything here works through the :class:`~dbshift.dialects.base.Database` contract; the
dialect files supply the SQL (integrity checks, row serialization, copies, restore).
"""
