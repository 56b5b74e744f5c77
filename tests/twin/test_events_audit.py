"""Hash-chained audit log: verification, refusal of edits, and tamper detection naming the row."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from twin.events.audit import GENESIS_HASH, append, canonical, chain_hash, verify_chain
from twin.events.lifecycle import Actor

OP = Actor("ann", "operator")
DROP_GUARDS = {
    "sqlite": ["DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete"],
    "postgresql": ["DROP TRIGGER audit_no_change ON audit"],
}


def five_rows(store):
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    store.transition(t.id, "accept", actor=Actor("bob", "crew", "w1"))
    store.transition(t.id, "arrive", actor=Actor("bob", "crew", "w1"))
    store.transition(t.id, "resolve", actor=Actor("bob", "crew", "w1"))


def raw(store, *sql):
    with store.engine.begin() as conn:
        for stmt in sql:
            conn.execute(text(stmt))


def check(store):
    with store.sessions() as s:
        return verify_chain(s)


def test_first_hash_is_sha256_of_genesis_and_canonical_row(store, clock):
    with store.sessions() as s, s.begin():
        e = append(s, at=clock(), actor="ann", role="operator", action="auth.login",
                   object_type="user", object_id="ann")  # fmt: skip
    row = canonical(1, clock(), "ann", "operator", "auth.login", "user", "ann", True, "{}")
    assert e.hash == chain_hash(GENESIS_HASH, row)
    assert check(store).ok


def test_database_refuses_to_edit_or_delete_audit_rows(store):
    five_rows(store)
    with pytest.raises(DBAPIError, match="append-only"):
        raw(store, "UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    with pytest.raises(DBAPIError, match="append-only"):
        raw(store, "DELETE FROM audit WHERE seq = 5")
    assert check(store).rows == 5


def test_edited_row_is_named_even_with_the_guards_dropped(store):
    five_rows(store)
    dialect = store.engine.dialect.name
    raw(store, *DROP_GUARDS[dialect], "UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    report = check(store)
    assert (report.ok, report.bad_seq) == (False, 3)
    assert report.reason == "row 3 was changed after it was written"


def test_deleted_rows_are_detected(store):
    five_rows(store)
    raw(store, *DROP_GUARDS[store.engine.dialect.name], "DELETE FROM audit WHERE seq = 2")
    assert (check(store).bad_seq, check(store).reason) == (2, "row 2 is missing")


def test_truncated_tail_is_detected_by_the_head(store):
    five_rows(store)
    raw(store, *DROP_GUARDS[store.engine.dialect.name], "DELETE FROM audit WHERE seq = 5")
    report = check(store)
    assert (report.ok, report.bad_seq) == (False, 5)
    assert "head says row 5" in report.reason
