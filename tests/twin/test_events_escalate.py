"""Manual escalation: one stage up the chain, recorded as a step with its audit row, the SLA
escalations it makes redundant cancelled, and every refusal leaving the ticket untouched."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from twin.events.audit import verify_chain
from twin.events.lifecycle import (
    Actor,
    InvalidTransitionError,
    StaleTicketError,
    TicketNotFoundError,
)
from twin.events.models import AuditEntry
from twin.events.roles import PermissionDeniedError
from twin.events.sla import due_actions

OP = Actor("ann", "operator")
CREW = Actor("wu", "crew", "w1")
LEADER = Actor("lee", "leader")


def _audit(store, action):
    with store.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_escalate_goes_to_supervisor_then_next_level_and_records_who_when(store, clock):
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    clock.advance(60)
    step = store.escalate(t.id, actor=OP, note="no crew answers")
    assert (step.action, step.from_state, step.to_state) == ("escalate", "reported", "reported")
    assert (step.actor, step.actor_role, step.at, step.seq) == ("ann", "operator", clock(), 2)
    after = store.get(t.id)
    assert (after.escalation, after.version, after.state) == (1, 2, "reported")
    clock.advance(5)
    store.escalate(t.id, actor=OP, expected_version=2)
    assert store.get(t.id).escalation == 2
    history = store.history(t.id)
    assert [h.action for h in history] == ["create", "escalate", "escalate"]
    assert history[1].note == "no crew answers"
    rows = _audit(store, "ticket.escalate")
    assert [r.actor for r in rows] == ["ann", "ann"]
    assert ['"notify":"manager"' in r.detail.replace(" ", "") for r in rows] == [True, False]
    with store.sessions() as s:
        assert verify_chain(s).ok


def test_top_stage_closed_ticket_and_stale_version_are_refused(store, clock):
    t = store.create(source="report", type="water", level="yellow", grid_code="g1", actor=OP)
    with pytest.raises(StaleTicketError):
        store.escalate(t.id, actor=OP, expected_version=7)
    store.escalate(t.id, actor=OP)
    store.escalate(t.id, actor=OP)
    with pytest.raises(InvalidTransitionError, match="already escalated"):
        store.escalate(t.id, actor=OP)
    store.transition(t.id, "dismiss", actor=OP)
    with pytest.raises(InvalidTransitionError, match="dismissed"):
        store.escalate(t.id, actor=OP)
    with pytest.raises(TicketNotFoundError):
        store.escalate(9999, actor=OP)
    assert store.get(t.id).version == 4  # create, 2 escalations, dismiss


def test_crew_and_leader_may_not_escalate_and_the_denial_is_audited(store):
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    for who in (CREW, LEADER):
        with pytest.raises(PermissionDeniedError):
            store.escalate(t.id, actor=who)
    assert store.get(t.id).escalation == 0
    assert [r.actor for r in _audit(store, "access.denied")] == ["wu", "lee"]


def test_manual_escalation_cancels_sla_escalations_it_makes_redundant(store, clock):
    # red water, reported at t0: manager is due at t0+300, leader at t0+900 (see test_events_sla)
    t0 = clock()
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    store.escalate(t.id, actor=OP)  # the manager is told now
    fired = [(a.kind, a.stage) for a in due_actions(store.sessions, t0 + 300)]
    assert fired == [("remind", 0)]  # the reminder still goes out; stage 1 does not again
    fired = [(a.kind, a.stage, a.notify_role) for a in due_actions(store.sessions, t0 + 900)]
    assert fired == [("escalate", 2, "leader")]
    assert store.get(t.id).escalation == 2
    # the next lifecycle step starts the next milestone at stage 0 again
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    assert store.get(t.id).escalation == 0
