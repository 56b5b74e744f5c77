"""SLA timers: reminders and escalations at the right times with a frozen clock, and
timers that survive a restart (a new engine on the same database)."""

from __future__ import annotations

from twin.events.db import make_engine
from twin.events.lifecycle import Actor
from twin.events.sla import DEFAULT_POLICY, due_actions
from twin.events.tickets import TicketStore

OP = Actor("ann", "operator")


def fire(store, at):
    return [(a.kind, a.stage, a.milestone, a.notify_role) for a in due_actions(store.sessions, at)]


def test_red_water_ticket_reminds_then_escalates_twice(store, clock):
    # red: dispatch within 300 s, reminder 120 s before, next level 600 s after the deadline
    t0 = clock()
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    assert fire(store, t0 + 179) == []
    assert fire(store, t0 + 180) == [("remind", 0, "dispatched", "operator")]
    assert fire(store, t0 + 299) == []
    assert fire(store, t0 + 300) == [("escalate", 1, "dispatched", "manager")]
    assert store.get(t.id).escalation == 1
    assert fire(store, t0 + 899) == []
    assert fire(store, t0 + 900) == [("escalate", 2, "dispatched", "leader")]
    assert store.get(t.id).escalation == 2
    assert fire(store, t0 + 10_000) == []  # each timer fires once


def test_reaching_the_milestone_cancels_its_timers_and_starts_the_next(store, clock):
    t0 = clock()
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    clock.advance(100)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    # accept deadline t0+600: crew reminded at t0+480, manager at t0+600, leader at t0+1200
    assert fire(store, t0 + 479) == []
    assert fire(store, t0 + 480) == [("remind", 0, "accepted", "crew")]
    assert fire(store, t0 + 600) == [("escalate", 1, "accepted", "manager")]
    clock.advance(1000)  # t0 + 1100: accepted late, after the supervisor was told
    store.transition(t.id, "accept", actor=Actor("bob", "crew", "w1"))
    assert store.get(t.id).escalation == 0
    # arrive deadline t0+1800 is the next one; the accept leader escalation is cancelled
    assert fire(store, t0 + 1200) == []
    assert fire(store, t0 + 1680) == [("remind", 0, "on_site", "crew")]


def test_late_state_change_schedules_no_useless_reminder(store, clock):
    t0 = clock()
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    clock.advance(700)  # dispatch (300) and accept (600) deadlines both passed
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    # the dispatch cancelled the dispatch timers; the accept deadline already passed, so no
    # reminder — the supervisor is told at once and the leader 600 s after that deadline
    assert fire(store, t0 + 700) == [("escalate", 1, "accepted", "manager")]
    assert fire(store, t0 + 1199) == []
    assert fire(store, t0 + 1200) == [("escalate", 2, "accepted", "leader")]


def test_rules_are_data_with_type_overrides():
    assert DEFAULT_POLICY.rule("water", "red").on_site_s == 1800
    assert DEFAULT_POLICY.rule("gas", "red").on_site_s == 900
    assert DEFAULT_POLICY.rule("gas", "blue").on_site_s == 8 * 3600


def test_timers_survive_a_restart(events_url, clock):
    t0 = clock()
    engine = make_engine(events_url)
    t = TicketStore(engine, clock=clock).create(
        source="device", source_ref="dev-9", type="power", level="yellow", grid_code="g2"
    )
    engine.dispose()  # the process goes away; only the database remains
    engine2 = make_engine(events_url)
    store2 = TicketStore(engine2, clock=clock)
    # yellow: dispatch within 1800 s, reminder 600 s before
    assert fire(store2, t0 + 1199) == []
    actions = due_actions(store2.sessions, t0 + 1200)
    assert [(a.ticket_id, a.kind, a.due_at - t0) for a in actions] == [(t.id, "remind", 1200.0)]
    engine2.dispose()


def test_wall_counts_open_and_overdue_tickets_from_the_running_clocks(store, clock):
    # red water: dispatch deadline t0+300; once dispatched, accept deadline t0+600
    t0 = clock()
    t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
    other = store.create(source="report", type="water", level="blue", grid_code="g1", actor=OP)
    # a scheduled patrol round is routine work: the wall screen does not count it
    store.create(source="inspection", type="general", level="blue", grid_code="g1", actor=OP,
                 source_ref="insp:B1:2026-11:1")  # fmt: skip
    assert store.wall_counts(t0) == {"open": 2, "overdue": 0}
    # a hazard found on a round is an incident
    hazard = store.create(source="inspection", type="fire", level="blue", grid_code="g1",
                          actor=OP, source_ref="hazard:insp:B1:2026-11:1")  # fmt: skip
    assert store.wall_counts(t0) == {"open": 3, "overdue": 0}
    store.transition(hazard.id, "dismiss", actor=OP)
    assert store.wall_counts(t0 + 299) == {"open": 2, "overdue": 0}
    assert store.wall_counts(t0 + 300) == {"open": 2, "overdue": 1}  # escalated now, too
    fire(store, t0 + 300)  # fired timers still count until the milestone is reached
    assert store.wall_counts(t0 + 301)["overdue"] == 1
    clock.advance(400)  # t0 + 400: dispatched late; the next clock (accept) runs to t0+600
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    assert store.wall_counts(t0 + 400) == {"open": 2, "overdue": 0}
    assert store.wall_counts(t0 + 600) == {"open": 2, "overdue": 1}
    store.transition(other.id, "dismiss", actor=OP)  # no longer open, no clock
    assert store.wall_counts(t0 + 600) == {"open": 1, "overdue": 1}
    assert store.wall_counts() == store.wall_counts(clock())  # default: the store's clock
    assert store.wall_counts(t0 + 10**6) == {"open": 1, "overdue": 1}  # the round never counts


def test_a_raised_warning_raises_its_ticket_and_tightens_the_running_clock(store, clock):
    # yellow water: dispatch within 1800 s; raised to red at t0+100: within 300 s of t0
    from twin.events.tickets import RELEVEL

    t0 = clock()
    t = store.create(source="warning", source_ref="W-9", type="water", level="yellow",
                     grid_code="g1", actor=OP, description="积水黄色预警")  # fmt: skip
    clock.advance(100)
    step = store.raise_level(t.id, "red", description="积水红色预警")
    assert (step.action, step.from_state, step.to_state, step.note) == (
        RELEVEL,
        "reported",
        "reported",
        "yellow → red",
    )
    view = store.get(t.id)
    assert (view.level, view.version) == ("red", 2)
    assert [h.action for h in store.history(t.id)] == ["create", RELEVEL]
    assert fire(store, t0 + 179) == []
    assert fire(store, t0 + 180) == [("remind", 0, "dispatched", "operator")]
    assert fire(store, t0 + 300) == [("escalate", 1, "dispatched", "manager")]
    assert fire(store, t0 + 1800) == [("escalate", 2, "dispatched", "leader")]  # t0+900
    # never lowered; a repeated warning of the same level changes nothing
    assert store.raise_level(t.id, "orange") is None
    assert store.raise_level(t.id, "red") is None
    assert store.get(t.id).version == view.version
    # a warning raised after its ticket was closed leaves the closed ticket alone
    done = store.create(source="warning", source_ref="W-10", type="water", level="blue",
                        grid_code="g1", actor=OP)  # fmt: skip
    store.transition(done.id, "dismiss", actor=OP)
    assert store.raise_level(done.id, "red") is None and store.get(done.id).level == "blue"
