"""Ticket lifecycle on SQLite and a real PostgreSQL: allowed and forbidden steps, crews,
merge, reopen, permissions and privacy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from twin.events.audit import verify_chain
from twin.events.crews import load_crews
from twin.events.lifecycle import (
    Actor,
    InvalidTransitionError,
    StaleTicketError,
    TicketNotFoundError,
    TransitionRequest,
)
from twin.events.models import AuditEntry, Transition
from twin.events.roles import PermissionDeniedError

OP = Actor("ann", "operator")
W1 = Actor("bob", "crew", "w1")
W2 = Actor("cat", "crew", "w2")
LEADER = Actor("lee", "leader")


def new_ticket(store, **kw):
    args = {"source": "report", "type": "water", "level": "red", "grid_code": "g1"}
    return store.create(actor=OP, **(args | kw))


def crew_states(store):
    return {c.id: c.state for c in load_crews(store.sessions)}


def test_full_lifecycle_records_who_when_from_to_and_note(store, clock):
    t = new_ticket(store, reporter_ref="rep-7f3a")
    steps = [
        ("dispatch", OP, {"crew_id": "w1"}),
        ("accept", W1, {}),
        ("arrive", W1, {}),
        ("resolve", W1, {}),
        ("verify", OP, {}),
        ("close", OP, {}),
    ]
    for action, actor, kw in steps:
        clock.advance(60)
        store.transition(t.id, action, actor=actor, note=f"{action} note", **kw)
    hist = store.history(t.id)
    assert [(h.from_state, h.to_state) for h in hist] == [
        (None, "reported"),
        ("reported", "dispatched"),
        ("dispatched", "accepted"),
        ("accepted", "on_site"),
        ("on_site", "resolved"),
        ("resolved", "verified"),
        ("verified", "closed"),
    ]
    assert [h.actor for h in hist] == ["ann", "ann", "bob", "bob", "bob", "ann", "ann"]
    assert [h.at - hist[0].at for h in hist] == [0, 60, 120, 180, 240, 300, 360]
    assert hist[3].note == "arrive note"
    final = store.get(t.id)
    assert (final.state, final.version) == ("closed", 7)
    assert crew_states(store)["w1"] == "free"  # freed when the work was resolved
    with store.sessions() as s:
        assert verify_chain(s).ok
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 7


def test_forbidden_transition_names_state_and_allowed_actions(store):
    t = new_ticket(store)
    with pytest.raises(InvalidTransitionError) as err:
        store.transition(t.id, "close", actor=OP)
    assert str(err.value) == (
        f"cannot close ticket {t.id}: it is reported; "
        "from reported you may dismiss, dispatch, merge"
    )
    assert store.get(t.id).state == "reported"
    assert len(store.history(t.id)) == 1  # nothing half-written


def test_dispatch_needs_a_free_crew(store):
    a, b = new_ticket(store), new_ticket(store)
    store.transition(a.id, "dispatch", actor=OP, crew_id="w1")
    with pytest.raises(InvalidTransitionError, match="crew w1 is busy, not free"):
        store.transition(b.id, "dispatch", actor=OP, crew_id="w1")
    with pytest.raises(InvalidTransitionError, match="dispatch needs a crew_id"):
        store.transition(b.id, "dispatch", actor=OP)
    with pytest.raises(TicketNotFoundError):
        store.transition(999_999, "dispatch", actor=OP, crew_id="w2")


def test_crew_reject_returns_ticket_to_queue_and_frees_crew(store):
    t = new_ticket(store)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    step = store.transition(t.id, "reject", actor=W1, note="truck broken")
    assert (step.from_state, step.to_state, step.note) == ("dispatched", "reported", "truck broken")
    assert store.get(t.id).crew_id is None
    assert crew_states(store)["w1"] == "free"


def test_reassign_moves_ticket_between_crews(store):
    t = new_ticket(store)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    store.transition(t.id, "accept", actor=W1)
    step = store.transition(t.id, "reassign", actor=OP, crew_id="w2", note="w2 is closer")
    assert (step.from_state, step.to_state, step.crew_id) == ("accepted", "dispatched", "w2")
    assert crew_states(store) == {"w1": "free", "w2": "busy", "p1": "free"}
    with pytest.raises(PermissionDeniedError):  # the old crew lost it
        store.transition(t.id, "accept", actor=W1)
    store.transition(t.id, "accept", actor=W2)
    assert store.get(t.id).state == "accepted"


def test_merge_duplicate_into_original(store):
    original, dup = new_ticket(store), new_ticket(store)
    store.transition(dup.id, "dispatch", actor=OP, crew_id="w2")
    step = store.transition(dup.id, "merge", actor=OP, into=original.id, note="same burst pipe")
    assert step.to_state == "merged"
    merged = store.get(dup.id)
    assert merged.merged_into_id == original.id
    assert crew_states(store)["w2"] == "free"
    with pytest.raises(InvalidTransitionError, match="from merged you may nothing"):
        store.transition(dup.id, "reopen", actor=OP)
    with pytest.raises(InvalidTransitionError, match="merge needs another ticket"):
        store.transition(original.id, "merge", actor=OP, into=original.id)


def test_reopen_after_close_restarts_the_loop(store, clock):
    t = new_ticket(store)
    for action, actor, kw in [
        ("dispatch", OP, {"crew_id": "w1"}),
        ("accept", W1, {}),
        ("arrive", W1, {}),
        ("resolve", W1, {}),
        ("verify", OP, {}),
        ("close", OP, {}),
    ]:
        store.transition(t.id, action, actor=actor, **kw)
    clock.advance(3600)
    step = store.transition(t.id, "reopen", actor=OP, note="water again")
    assert (step.from_state, step.to_state) == ("closed", "reported")
    again = store.get(t.id)
    assert (again.state, again.crew_id, again.version) == ("reported", None, 8)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w2")


def test_verifier_rejects_fix_back_to_the_crew(store):
    t = new_ticket(store)
    for action, actor, kw in [
        ("dispatch", OP, {"crew_id": "w1"}),
        ("accept", W1, {}),
        ("arrive", W1, {}),
        ("resolve", W1, {}),
    ]:
        store.transition(t.id, action, actor=actor, **kw)
    step = store.transition(t.id, "reject_fix", actor=OP, note="still leaking")
    assert (step.to_state, step.crew_id) == ("accepted", "w1")
    assert crew_states(store)["w1"] == "busy"


def test_denials_are_refused_and_audited(store):
    t = new_ticket(store)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    with pytest.raises(PermissionDeniedError, match="not dispatched to crew 'w2'"):
        store.transition(t.id, "accept", actor=W2)
    with pytest.raises(PermissionDeniedError, match="role 'leader' may not ticket.verify"):
        store.transition(t.id, "verify", actor=LEADER)
    with pytest.raises(PermissionDeniedError):
        store.create(source="report", type="water", level="red", grid_code="g1", actor=LEADER)
    with store.sessions() as s:
        denied = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.denied").order_by(AuditEntry.seq)
        ).all()
        assert [(d.actor, d.success) for d in denied] == [
            ("cat", False),
            ("lee", False),
            ("lee", False),
        ]
        assert verify_chain(s).ok
    assert store.get(t.id).state == "dispatched"


def test_crew_sees_only_its_own_tickets(store):
    mine, other = new_ticket(store), new_ticket(store)
    store.transition(mine.id, "dispatch", actor=OP, crew_id="w1")
    assert [v.id for v in store.list_visible(W1)] == [mine.id]
    with pytest.raises(TicketNotFoundError):  # looks absent, not forbidden: no id probing
        store.get(other.id, actor=W1)
    assert {v.id for v in store.list_visible(LEADER)} == {mine.id, other.id}


def test_stale_version_is_refused(store):
    t = new_ticket(store)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1", expected_version=1)
    with pytest.raises(StaleTicketError):
        store.transition(t.id, "reassign", actor=OP, crew_id="w2", expected_version=1)


def test_batch_applies_good_steps_and_reports_bad_ones(store):
    a, b = new_ticket(store), new_ticket(store)
    results = store.apply(
        [
            TransitionRequest(a.id, "dispatch", OP, crew_id="w1"),
            TransitionRequest(b.id, "close", OP),
            TransitionRequest(b.id, "dispatch", OP, crew_id="w2"),
        ]
    )
    assert results[0].to_state == "dispatched"
    assert isinstance(results[1], InvalidTransitionError)
    assert results[2].to_state == "dispatched"
    with store.sessions() as s:
        n = s.scalar(select(func.count()).select_from(Transition))
        assert n == 4  # two creates + two dispatches


def test_reporter_personal_data_is_refused(store):
    for bad in ("13812345678", "someone@example.org"):
        with pytest.raises(ValueError, match="opaque id"):
            new_ticket(store, reporter_ref=bad)


def test_open_warning_ticket_is_not_duplicated(store):
    a = new_ticket(store, source="warning", source_ref="alert-42")
    b = new_ticket(store, source="warning", source_ref="alert-42")
    assert a.id == b.id
    store.transition(a.id, "dismiss", actor=OP)
    c = new_ticket(store, source="warning", source_ref="alert-42")
    assert c.id != a.id


def test_unknown_type_is_refused(store):
    with pytest.raises(ValueError, match="unknown type 'lava'"):
        new_ticket(store, type="lava")
