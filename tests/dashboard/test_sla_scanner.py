"""The serving process fires SLA timers on time and tells the open pages (``/ws/live``)."""

from __future__ import annotations

from dashboard.sla_scanner import SlaScanner
from tests.dashboard import dispatch_fixtures
from twin.events.lifecycle import Actor

dispatch_app = dispatch_fixtures.dispatch_app
registry = dispatch_fixtures.registry


class Feed:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def publish_event(self, event: dict) -> None:
        self.events.append(event)


def test_due_timers_fire_once_escalate_and_reach_the_live_feed(dispatch_app):
    svc, clock = dispatch_app.svc, dispatch_app.clock
    feed = Feed()
    svc.runtime = feed
    t0 = clock()
    op = Actor("op", "operator")
    # red water report: dispatch due within 300 s; reminder at 180 s, supervisor at 300 s
    t = svc.store.create(source="report", type="water", level="red", grid_code="G01", actor=op)
    scanner = SlaScanner(svc, clock=clock)
    assert scanner.run_once() == [] and feed.events == []
    clock.t = t0 + 180
    assert [(a.kind, a.notify_role) for a in scanner.run_once()] == [("remind", "operator")]
    clock.t = t0 + 300
    assert [(a.kind, a.stage) for a in scanner.run_once()] == [("escalate", 1)]
    assert scanner.run_once() == []  # each timer once
    kinds = [(e["type"], e.get("kind"), e.get("action")) for e in feed.events]
    assert kinds == [
        ("sla", "remind", None),
        ("sla", "escalate", None),
        ("ticket", None, "escalate"),
    ]
    assert feed.events[1]["notify"] == "manager" and feed.events[1]["ref"] == t.ref
    assert feed.events[2]["escalation"] == 1 and "id" not in feed.events[2]
    assert scanner.fired == 2
