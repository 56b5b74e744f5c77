"""The crew phone's offline queue on the server: in order, each idempotency key once."""

from __future__ import annotations

import base64
import io
import threading

import pytest
from PIL import Image

from dashboard.api_crew_sync import apply_queue
from tests.dashboard.pages_app import PASSWORD, build_pages_app


@pytest.fixture(scope="module")
def pa(tmp_path_factory):
    return build_pages_app(tmp_path_factory.mktemp("crew-sync"))


def _dispatched(pa, tag: str, crew: str = "K1"):
    """A ticket dispatched to ``crew`` (freed first: a crew holds one ticket at a time)."""
    from dataclasses import replace

    from tests.dashboard.pages_app import CREWS
    from twin.events.crews import upsert_crew

    upsert_crew(pa.store.sessions, replace(next(c for c in CREWS if c.id == crew), state="free"))
    t = pa.store.create(
        source="warning", type="water", level="orange", grid_code="G01", node="J03", source_ref=tag
    )
    pa.store.transition(t.id, "dispatch", actor=pa.actor("op"), crew_id=crew)
    return t


def _crew(pa):
    import flask

    return flask.g.st_principal[0]


def test_queue_applies_in_order_and_a_replay_changes_nothing(pa):
    t = _dispatched(pa, "W-sync-1")
    rc = pa.as_user("crew1")
    try:
        items = [
            {"key": "k1", "ticket_id": t.ref, "action": "accept"},
            {"key": "k2", "ticket_id": t.ref, "action": "arrive"},
            {"key": "k3", "ticket_id": t.ref, "action": "resolve", "note": "pumped out"},
        ]
        first = apply_queue(pa.store, _crew(pa), items[:2])
        assert [r["status"] for r in first] == ["applied", "applied"]
        # the phone never heard the answer: it sends everything again, plus its next tap
        again = apply_queue(pa.store, _crew(pa), items)
        assert [r["status"] for r in again] == ["duplicate", "duplicate", "applied"]
        steps = pa.store.history(t.id)
        assert [s.action for s in steps] == ["create", "dispatch", "accept", "arrive", "resolve"]
        assert steps[-1].note == "pumped out"
    finally:
        rc.pop()


def test_another_crews_ticket_is_refused_and_remembered(pa):
    t = _dispatched(pa, "W-sync-2", crew="K2")
    rc = pa.as_user("crew1")
    try:
        out = apply_queue(
            pa.store, _crew(pa), [{"key": "k9", "ticket_id": t.ref, "action": "accept"}]
        )
        assert out[0]["status"] == "refused"
        assert pa.store.get(t.id).state == "dispatched"
        # refused once is final: a retry does not try again
        out = apply_queue(
            pa.store, _crew(pa), [{"key": "k9", "ticket_id": t.ref, "action": "accept"}]
        )
        assert out == [{"key": "k9", "status": "duplicate", "detail": "refused"}]
    finally:
        rc.pop()


def test_two_retries_at_once_apply_a_key_once(pa):
    t = _dispatched(pa, "W-sync-3")
    results: list = []
    barrier = threading.Barrier(2)

    def send():
        rc = pa.as_user("crew1")
        try:
            barrier.wait()
            results.extend(
                apply_queue(
                    pa.store, _crew(pa), [{"key": "same", "ticket_id": t.ref, "action": "accept"}]
                )
            )
        finally:
            rc.pop()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(r["status"] for r in results) == ["applied", "duplicate"]
    assert [s.action for s in pa.store.history(t.id)].count("accept") == 1


def test_route_needs_a_crew_session_and_its_csrf_token(pa):
    t = _dispatched(pa, "W-sync-4")
    client = pa.app.server.test_client()
    body = {"actions": [{"key": "r1", "ticket_id": t.ref, "action": "accept"}]}
    assert client.post("/api/crew/sync", json=body).status_code == 401
    token = client.post("/api/login", json={"username": "crew1", "password": PASSWORD}).json
    assert client.post("/api/crew/sync", json=body).status_code == 403  # no CSRF token
    r = client.post("/api/crew/sync", json=body, headers={"X-CSRF-Token": token["csrf_token"]})
    assert r.status_code == 200 and r.json["results"][0]["status"] == "applied"
    op = pa.app.server.test_client()
    tok = op.post("/api/login", json={"username": "op", "password": PASSWORD}).json["csrf_token"]
    r = op.post("/api/crew/sync", json=body, headers={"X-CSRF-Token": tok})
    assert r.status_code == 403


def test_photo_is_kept_and_named_in_the_note(pa, tmp_path):
    t = _dispatched(pa, "W-sync-5")
    pa.store.transition(t.id, "accept", actor=pa.actor("crew1"))
    pa.store.transition(t.id, "arrive", actor=pa.actor("crew1"))
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(buf, format="JPEG")
    photo = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    rc = pa.as_user("crew1")
    try:
        item = {
            "key": "p1",
            "ticket_id": t.ref,
            "action": "resolve",
            "note": "done",
            "photo": photo,
        }
        assert apply_queue(pa.store, _crew(pa), [item])[0]["status"] == "applied"
    finally:
        rc.pop()
    note = pa.store.history(t.id)[-1].note
    assert note.startswith("done [photo:") and note.endswith(".jpg]")
    name = note.split("[photo:")[1].rstrip("]")
    assert (pa.svc.data_dir / "photos" / name).read_bytes() == buf.getvalue()
