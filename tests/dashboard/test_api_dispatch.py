"""The dispatch API end to end: the closed loop with the operator confirming a suggestion,
reports in (photo checks, rate limit, receipt status), events → tickets, audited vulnerable
counts, and no secrets or personal data in the logs."""

from __future__ import annotations

import io
import logging
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tests.dashboard import dispatch_fixtures
from tests.dashboard.dispatch_fixtures import LAT, LON, PASSWORD
from twin.events.models import AuditEntry, Report

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# fixtures of the shared module, bound here so pytest finds them
dispatch_app = dispatch_fixtures.dispatch_app
registry = dispatch_fixtures.registry


def test_closed_loop_through_the_api_with_suggested_crew(dispatch_app):
    op, op_csrf = dispatch_app.login("op")
    crew, crew_csrf = dispatch_app.login("crew1")
    h, hc = {"X-CSRF-Token": op_csrf}, {"X-CSRF-Token": crew_csrf}
    body = {"type": "water", "level": "red", "lon": LON, "lat": LAT}
    t = op.post("/api/tickets", json=body, headers=h).get_json()
    assert (t["grid"], t["node"], t["state"]) == ("G01", "J01", "reported")
    sug = op.get(f"/api/tickets/{t['ref']}/suggest").get_json()
    # w1 waits at J01 (the ticket's node), w2 at J05: 23.4 s away on the tiny road graph
    assert [(r["crew_id"], r["travel_time_s"]) for r in sug["ranked"]] == [
        ("w1", 0.0),
        ("w2", 23.4),
    ]
    # the operator picks the other crew instead of the suggestion
    r = op.post(f"/api/tickets/{t['ref']}/dispatch", json={"crew_id": "w2"}, headers=h)
    assert r.get_json()["to"] == "dispatched"
    r = op.post(f"/api/tickets/{t['ref']}/reassign", json={"crew_id": "w1"}, headers=h)
    assert r.get_json()["crew_id"] == "w1"
    for action in ("accept", "arrive", "resolve"):
        assert (
            crew.post(f"/api/tickets/{t['ref']}/{action}", json={}, headers=hc).status_code == 200
        )
    r = crew.post(f"/api/tickets/{t['ref']}/verify", json={}, headers=hc)
    assert r.status_code == 403
    for action in ("verify", "close"):
        assert op.post(f"/api/tickets/{t['ref']}/{action}", json={}, headers=h).status_code == 200
    r = op.post(f"/api/tickets/{t['ref']}/close", json={}, headers=h)
    assert r.status_code == 409 and "from closed you may reopen" in r.get_json()["detail"]
    steps = op.get(f"/api/tickets/{t['ref']}/history").get_json()["steps"]
    assert [s["to"] for s in steps] == ["reported", "dispatched", "dispatched", "accepted",
                                        "on_site", "resolved", "verified", "closed"]  # fmt: skip
    assert [s["actor"] for s in steps][3:6] == ["crew1"] * 3
    rows = op.get("/api/kpi?by=type,grid").get_json()["rows"]
    assert rows == [{"type": "water", "grid": "G01", "found": 1, "handled": 1,
                     "handling_rate": 1.0, "mean_time_to_dispatch_s": 0.0,
                     "mean_time_to_accept_s": 0.0, "mean_time_to_arrive_s": 0.0,
                     "mean_time_to_close_s": 0.0}]  # fmt: skip


def test_suggestion_avoids_impassable_roads(dispatch_app):
    op, _ = dispatch_app.login("op")
    store = dispatch_app.svc.store
    from twin.events.lifecycle import Actor

    t = store.create(source="report", type="water", level="red", grid_code="G01", node="J02",
                     actor=Actor("op", "operator"))  # fmt: skip
    before = op.get(f"/api/tickets/{t.ref}/suggest").get_json()["suggested"]
    g = dispatch_app.app.server.extensions["streettwin_dispatch"].registry.road_graph()
    closed = {(u, v, k) for u, v, k in g.edges(keys=True) if "J02" in (u, v)}
    dispatch_app.svc.impassable = lambda: closed  # the flood nowcast closes every road to J02
    after = op.get(f"/api/tickets/{t.ref}/suggest").get_json()
    assert before is not None and after["suggested"] is None and after["ranked"] == []


def test_report_by_address_becomes_a_ticket_in_its_grid_and_reporter_sees_status(dispatch_app):
    anon = dispatch_app.client()
    r = anon.post("/api/reports", json={"category": "fire", "address": "No. 10 Rongshu Road",
                                        "text": "smoke from the basement"})  # fmt: skip
    assert r.status_code == 201
    receipt = r.get_json()["receipt"]
    status = anon.get(f"/api/reports/{receipt}").get_json()
    assert (status["grid"], status["status"], status["category"]) == ("G02", "received", "fire")
    assert "ticket" not in str(status) and "id" not in status
    tickets = dispatch_app.svc.store.list_visible(dispatch_app.svc.users.get("op").actor)
    assert [(t.type, t.level, t.grid_code, t.source) for t in tickets] == [
        ("fire", "orange", "G02", "report")]  # fmt: skip
    assert anon.get("/api/reports/not-a-receipt").status_code == 404
    bad = anon.post("/api/reports", json={"category": "fire", "lon": 0.0, "lat": 0.0})
    assert bad.status_code == 422


def test_report_form_with_photo_checks_type_and_size_and_stores_it(dispatch_app, tmp_path):
    anon = dispatch_app.client()
    anon.get("/api/me")  # any response hands out the double-submit cookie
    token = anon.get_cookie("st_csrf").value
    form = {"category": "water", "lon": str(LON), "lat": str(LAT), "text": "pipe burst",
            "csrf_token": token}  # fmt: skip
    r = anon.post("/api/reports", data={**form, "photo": (io.BytesIO(b"GIF89a..."), "a.gif")},
                  content_type="multipart/form-data")  # fmt: skip
    # a form is a person at a browser: back to the form with the reason, the place and
    # category kept, the text not (it must not travel in a URL into access logs)
    assert r.status_code == 303
    back = parse_qs(urlsplit(r.headers["Location"]).query)
    assert back["error"] == ["photo must be a JPEG or PNG image"]
    assert (back["category"], back["lon"]) == (["water"], [str(LON)]) and "text" not in back
    r = anon.post("/api/reports", data={**form, "photo": (io.BytesIO(PNG), "leak.png")},
                  content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 303 and "receipt=" in r.headers["Location"]
    with dispatch_app.svc.store.sessions() as s:
        (path,) = s.scalars(select(Report.photo_path).where(Report.photo_path.is_not(None)))
    assert (tmp_path / path).read_bytes() == PNG and path.endswith(".png")
    assert "leak" not in path  # stored under a random name, never the client's


def test_reports_are_rate_limited_per_client(dispatch_app):
    anon = dispatch_app.client()
    body = {"category": "general", "lon": LON, "lat": LAT, "text": "x"}
    codes = [anon.post("/api/reports", json=body).status_code for _ in range(6)]
    assert codes == [201] * 5 + [429]


def test_device_offline_and_warning_events_open_one_ticket_each(dispatch_app, registry):
    svc = dispatch_app.svc
    device = str(registry.sensors["device_id"].iloc[0])
    a = svc.on_event({"type": "device_offline", "device_id": device, "detail": "timeout"})
    b = svc.on_event({"type": "device_offline", "device_id": device, "detail": "timeout"})
    assert a.id == b.id and a.source == "device"  # deduplicated while open
    w = svc.on_event({"type": "warning", "id": "W1", "hazard": "flood", "level": "red",
                      "area_id": "G03", "lon": LON, "lat": LAT})  # fmt: skip
    assert (w.source, w.type, w.level, w.grid_code) == ("warning", "water", "red", "G03")
    assert svc.on_event({"type": "warning", "id": "W2", "status": "cancelled"}) is None
    # a warning raised from yellow to orange: the same ticket, raised, with the new headline
    w3 = {"type": "warning", "id": "W3", "hazard": "flood", "level": "yellow", "area_id": "G03",
          "lon": LON, "lat": LAT, "headline_zh": "积水黄色预警"}  # fmt: skip
    first = svc.on_event(w3)
    raised = svc.on_event({**w3, "level": "orange", "headline_zh": "积水橙色预警"})
    assert raised.id == first.id and (first.level, raised.level) == ("yellow", "orange")
    assert svc.on_event({**w3, "level": "yellow"}).level == "orange"  # never lowered


def test_runtime_events_reach_the_store_through_the_listener(dispatch_app, registry):
    from dashboard.dispatch_service import subscribe

    class Runtime:
        listeners: list = []

        def publish_event(self, event):
            for fn in self.listeners:
                fn(event)

    rt = Runtime()
    subscribe(rt, dispatch_app.svc)
    device = str(registry.sensors["device_id"].iloc[0])
    rt.publish_event({"type": "device_offline", "device_id": device})
    dispatch_app.svc.event_worker.submit(lambda: None).result(timeout=30)  # drain
    op = dispatch_app.svc.users.get("op").actor
    assert [t.source_ref for t in dispatch_app.svc.store.list_visible(op)] == [device]


def test_vulnerable_counts_only_for_operators_and_managers_and_every_read_audited(dispatch_app):
    op, _ = dispatch_app.login("op")
    r = op.get("/api/buildings/B0005/vulnerable").get_json()
    assert r == {"building_id": "B0005", "grid": "G02", "elderly_alone": 40, "disabled": 12,
                 "children": 0}  # fmt: skip
    crew, _ = dispatch_app.login("crew1")
    assert crew.get("/api/buildings/B0005/vulnerable").status_code == 403
    assert op.get("/api/buildings/NOPE/vulnerable").status_code == 404
    with dispatch_app.svc.store.sessions() as s:
        rows = s.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.object_id, AuditEntry.success)
            .where(AuditEntry.object_type == "building")
            .order_by(AuditEntry.seq)
        ).all()
        denied = s.scalars(
            select(AuditEntry.detail).where(AuditEntry.actor == "crew1",
                                            AuditEntry.action == "access.denied")
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("op", "vulnerable.read", "B0005", True),
        ("op", "vulnerable.read", "NOPE", False),
    ]
    assert denied == ['{"wanted":"vulnerable.read"}']


def test_logs_carry_no_passwords_tokens_or_reporter_details(dispatch_app, caplog):
    phone = "13812345678"
    with caplog.at_level(logging.DEBUG):
        c = dispatch_app.client()
        c.post("/api/login", json={"username": "op", "password": "wrong " + PASSWORD})
        c.post("/api/login", json={"username": PASSWORD, "password": PASSWORD})
        c, csrf = dispatch_app.login("op")
        c.get("/api/me", headers={"Authorization": "Bearer sensor-gw.not-the-secret"})
        dispatch_app.client().get(
            "/api/tickets", headers={"Authorization": f"Bearer {dispatch_app.token}"}
        )
        r = dispatch_app.client().post("/api/reports", json={
            "category": "gas", "lon": LON, "lat": LAT,
            "text": f"gas smell, call me on {phone}"})  # fmt: skip
        receipt = r.get_json()["receipt"]
        c.post("/api/logout", headers={"X-CSRF-Token": csrf})
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    secret = dispatch_app.token.split(".", 1)[1]
    for needle in (PASSWORD, secret, "not-the-secret", phone, csrf, receipt):
        assert needle not in text
    with dispatch_app.svc.store.sessions() as s:
        audit_text = " ".join(s.scalars(select(AuditEntry.detail)).all()) + " ".join(
            s.scalars(select(AuditEntry.object_id)).all()
        )
    for needle in (PASSWORD, secret, phone, receipt):
        assert needle not in audit_text
