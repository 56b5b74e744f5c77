"""Escalation through the API, and every ticket change — REST steps, reports, events from
devices — published on the live feed as a ``ticket`` event without database ids or free text."""

from __future__ import annotations

from tests.dashboard import dispatch_fixtures
from tests.dashboard.dispatch_fixtures import LAT, LON
from twin.events.models import AuditEntry

dispatch_app = dispatch_fixtures.dispatch_app
registry = dispatch_fixtures.registry


class Feed:
    """A stand-in runtime: keeps what is published (listeners as the real one has)."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.listeners: list = []

    def publish_event(self, event: dict) -> None:
        self.events.append(event)


def _new(op, h, level="red"):
    body = {"type": "water", "level": level, "lon": LON, "lat": LAT, "description": "secret text"}
    return op.post("/api/tickets", json=body, headers=h).get_json()


def test_operator_escalates_twice_then_is_refused_and_leader_may_not(dispatch_app):
    op, csrf = dispatch_app.login("op")
    lead, lead_csrf = dispatch_app.login("lead")
    h = {"X-CSRF-Token": csrf}
    t = _new(op, h)
    assert "escalate" in t["actions"]
    r = op.post(f"/api/tickets/{t['ref']}/escalate", json={"note": "no answer"}, headers=h)
    assert r.status_code == 200
    step = r.get_json()
    assert (step["action"], step["from"], step["to"], step["seq"]) == (
        "escalate", "reported", "reported", 2,
    )  # fmt: skip
    r = op.post(f"/api/tickets/{t['ref']}/escalate", json={"expected_version": 2}, headers=h)
    assert r.status_code == 200
    after = op.get(f"/api/tickets/{t['ref']}").get_json()
    assert (after["escalation"], after["state"]) == (2, "reported")
    assert "escalate" not in after["actions"]  # already at the next level
    r = op.post(f"/api/tickets/{t['ref']}/escalate", json={}, headers=h)
    assert r.status_code == 409 and "already escalated" in r.get_json()["detail"]
    r = lead.post(f"/api/tickets/{t['ref']}/escalate", json={}, headers={"X-CSRF-Token": lead_csrf})
    assert r.status_code == 403
    steps = op.get(f"/api/tickets/{t['ref']}/history").get_json()["steps"]
    assert [(s["action"], s["actor"], s["note"]) for s in steps[1:]] == [
        ("escalate", "op", "no answer"),
        ("escalate", "op", ""),
    ]
    with dispatch_app.svc.store.sessions() as s:
        actions = [a.action for a in s.query(AuditEntry).order_by(AuditEntry.seq)]
    assert actions.count("ticket.escalate") == 2 and "access.denied" in actions


def test_rest_steps_reports_and_device_events_are_pushed_live(dispatch_app):
    feed = Feed()
    svc = dispatch_app.svc
    svc.runtime = feed
    op, csrf = dispatch_app.login("op")
    crew, crew_csrf = dispatch_app.login("crew1")
    h, hc = {"X-CSRF-Token": csrf}, {"X-CSRF-Token": crew_csrf}
    t = _new(op, h)
    op.post(f"/api/tickets/{t['ref']}/dispatch", json={"crew_id": "w1"}, headers=h)
    crew.post(f"/api/tickets/{t['ref']}/accept", json={}, headers=hc)
    op.post(f"/api/tickets/{t['ref']}/escalate", json={}, headers=h)
    # a refused step changes nothing and publishes nothing
    assert crew.post(f"/api/tickets/{t['ref']}/close", json={}, headers=hc).status_code == 403
    ev = [(e["action"], e["state"], e["crew_id"], e["escalation"]) for e in feed.events]
    assert ev == [
        ("create", "reported", None, 0),
        ("dispatch", "dispatched", "w1", 0),
        ("accept", "accepted", "w1", 0),
        ("escalate", "accepted", "w1", 1),
    ]
    first = feed.events[0]
    assert first["type"] == "ticket" and first["ref"] == t["ref"] and first["grid"] == "G01"
    assert "id" not in first and "secret text" not in str(feed.events)
    # a report and a device going offline open tickets: both pushed, a repeat is not
    r = op.post(
        "/api/reports",
        json={"category": "water", "text": "drain", "lon": LON, "lat": LAT},
        headers=h,
    )
    assert r.status_code == 201
    device = str(svc.registry.sensors["device_id"].iloc[0])
    svc.on_event({"type": "device_offline", "device_id": device})
    svc.on_event({"type": "device_offline", "device_id": device})
    created = [e for e in feed.events if e["action"] == "create"]
    assert len(created) == 3 and feed.events[-1]["level"] == "yellow"
