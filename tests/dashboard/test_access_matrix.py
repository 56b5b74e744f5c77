"""The whole role × route matrix of the dispatch API, from one table; plus CSRF, lockout, idle
logout, session renewal on login and cookie flags."""

from __future__ import annotations

from http.cookies import SimpleCookie

from tests.dashboard import dispatch_fixtures
from tests.dashboard.dispatch_fixtures import LAT, LON, PASSWORD
from twin.events.lifecycle import Actor

OP = Actor("op", "operator")
WHO = ("anon", "badtoken", "system", "op", "mgr", "lead", "crew1", "crew2", "adm", "aud")
HUMANS = ("op", "mgr", "lead", "crew1", "crew2", "adm", "aud")

# fixtures of the shared module, bound here so pytest finds them
dispatch_app = dispatch_fixtures.dispatch_app
registry = dispatch_fixtures.registry


def row(default: int, **over: int) -> dict[str, int]:
    """Expected status for every caller: anonymous and a wrong token 401 unless said."""
    out = {w: default for w in WHO}
    out.update(anon=401, badtoken=401)
    out.update(over)
    return out


# route → expected status per caller. Objects: "T" a ticket dispatched to crew w1 (grid G01),
# "R" a fresh reported ticket, "D" a fresh ticket dispatched to w1, "receipt" a report receipt.
MATRIX = [
    ("GET", "/api/tickets", None,
     row(403, op=200, mgr=200, lead=200, crew1=200, crew2=200)),
    ("POST", "/api/tickets", {"type": "water", "level": "red", "lon": LON, "lat": LAT},
     row(403, system=201, op=201, mgr=201)),
    ("GET", "/api/tickets/{T}", None,
     row(403, op=200, mgr=200, lead=200, crew1=200, crew2=404)),
    ("GET", "/api/tickets/{T}/history", None,
     row(403, op=200, mgr=200, lead=200, crew1=200, crew2=404)),
    ("GET", "/api/tickets/{R}/suggest", None, row(403, op=200, mgr=200)),
    ("POST", "/api/tickets/{R}/dismiss", {"note": "false alarm"},
     row(403, op=200, mgr=200, crew1=404, crew2=404)),
    ("POST", "/api/tickets/{D}/accept", {},
     row(403, crew1=200, crew2=404)),
    ("GET", "/api/tickets/0000000000000000", None,
     row(403, op=404, mgr=404, lead=404, crew1=404, crew2=404)),
    ("GET", "/api/crews", None, row(403, op=200, mgr=200, lead=200)),
    ("GET", "/api/kpi?by=type,week", None, row(403, op=200, mgr=200, lead=200)),
    ("POST", "/api/reports", {"category": "water", "lon": LON, "lat": LAT, "text": "drain"},
     row(403, anon=201, system=201, op=201, crew1=201, crew2=201)),
    ("GET", "/api/reports/{receipt}", None, row(200, anon=200)),
    ("GET", "/api/buildings/B0001/vulnerable", None, row(403, op=200, mgr=200)),
    ("GET", "/api/me", None, row(200)),
]  # fmt: skip


def _clients(app):
    """caller → (test client, headers for a state-changing request)."""
    out = {"anon": (app.client(), {})}
    out["badtoken"] = (app.client(), {"Authorization": "Bearer sensor-gw.wrong-secret"})
    out["system"] = (app.client(), {"Authorization": f"Bearer {app.token}"})
    for name in HUMANS:
        c, csrf = app.login(name)
        out[name] = (c, {"X-CSRF-Token": csrf})
    return out


def _objects(app) -> dict[str, str]:
    store = app.svc.store
    new = {"source": "report", "type": "water", "level": "red", "grid_code": "G01", "node": "J01"}
    t = store.create(actor=OP, **new)
    store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    receipt = app.svc.submit_report(
        category="water", text="x", lon=LON, lat=LAT, address=None, photo=None, actor=OP
    )
    return {"T": t.ref, "receipt": receipt}


def _fresh(app, placeholder: str) -> str:
    store = app.svc.store
    new = {"source": "report", "type": "general", "level": "blue", "grid_code": "G01"}
    t = store.create(actor=OP, node="J02", **new)
    if placeholder == "D":
        from twin.events.crews import CrewInfo, upsert_crew

        upsert_crew(store.sessions, CrewInfo("w1", "w1", frozenset({"water"}), "J01"))  # free
        store.transition(t.id, "dispatch", actor=OP, crew_id="w1")
    return t.ref


def test_every_role_gets_the_expected_status_on_every_route(dispatch_app):
    app = dispatch_app
    clients = _clients(app)
    objects = _objects(app)
    wrong = []
    for method, pattern, body, expected in MATRIX:
        for who in WHO:
            path = pattern
            for name in ("R", "D"):
                if "{" + name + "}" in path:
                    path = path.replace("{" + name + "}", _fresh(app, name))
            path = path.format(**objects)
            client, headers = clients[who]
            if method == "GET":
                r = client.get(path, headers=headers)
            else:
                r = client.post(path, json=body, headers=headers)
            if r.status_code != expected[who]:
                wrong.append((method, pattern, who, r.status_code, expected[who]))
    assert wrong == []


def test_leaders_only_read(dispatch_app):
    c, csrf = dispatch_app.login("lead")
    h = {"X-CSRF-Token": csrf}
    t = _objects(dispatch_app)["T"]
    for action in ("dispatch", "reassign", "verify", "close", "merge", "dismiss", "reopen"):
        assert c.post(f"/api/tickets/{t}/{action}", json={}, headers=h).status_code == 403
    assert c.get(f"/api/tickets/{t}").get_json()["actions"] == []


def test_crew_sees_only_its_own_tickets(dispatch_app):
    objs = _objects(dispatch_app)
    c1, _ = dispatch_app.login("crew1")
    c2, _ = dispatch_app.login("crew2")
    assert [t["ref"] for t in c1.get("/api/tickets").get_json()["tickets"]] == [objs["T"]]
    assert c2.get("/api/tickets").get_json()["tickets"] == []


def test_missing_or_wrong_csrf_token_is_refused_and_audited(dispatch_app):
    c, csrf = dispatch_app.login("op")
    body = {"type": "water", "level": "red", "lon": LON, "lat": LAT}
    assert c.post("/api/tickets", json=body).status_code == 403
    assert c.post("/api/tickets", json=body, headers={"X-CSRF-Token": "x" * 43}).status_code == 403
    assert c.post("/api/tickets", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    # the anonymous report FORM needs the double-submit token too (JSON cannot come cross-site)
    anon = dispatch_app.client()
    form = {"category": "water", "lon": str(LON), "lat": str(LAT), "text": "x"}
    assert anon.post("/api/reports", data=form).status_code == 403
    assert (
        anon.post("/auth/login", data={"username": "op", "password": PASSWORD}).status_code == 403
    )
    from sqlalchemy import select

    from twin.events.models import AuditEntry

    with dispatch_app.svc.store.sessions() as s:
        reasons = s.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "access.denied")
        ).all()
    assert reasons.count('{"reason":"csrf"}') == 2


def test_form_login_with_double_submit_token_redirects_locally(dispatch_app):
    c = dispatch_app.client()
    assert c.get("/api/tickets").status_code == 401  # any response hands out the CSRF cookie
    token = c.get_cookie("st_csrf").value
    form = {"username": "op", "password": PASSWORD, "csrf_token": token,
            "next": "https://evil.example/"}  # fmt: skip
    r = c.post("/auth/login", data=form)
    assert (r.status_code, r.headers["Location"]) == (303, "/ops")
    assert c.get("/api/me").get_json()["role"] == "operator"


def test_lockout_after_repeated_failures(dispatch_app):
    c = dispatch_app.client()
    for _ in range(3):  # AUTH_MAX_FAILURES = 3 in the fixture
        r = c.post("/api/login", json={"username": "op", "password": "wrong password!"})
        assert r.status_code == 401
    r = c.post("/api/login", json={"username": "op", "password": PASSWORD})
    assert r.status_code == 401  # locked: even the right password is refused
    dispatch_app.clock.t += 901  # lockout 900 s
    assert c.post("/api/login", json={"username": "op", "password": PASSWORD}).status_code == 200


def test_idle_session_is_logged_out(dispatch_app):
    c, _ = dispatch_app.login("op")
    dispatch_app.clock.t += 599
    assert c.get("/api/me").status_code == 200  # use keeps it alive
    dispatch_app.clock.t += 599
    assert c.get("/api/me").status_code == 200
    dispatch_app.clock.t += 601  # idle limit 600 s
    r = c.get("/api/me")
    assert (r.status_code, r.get_json()["detail"]) == (401, "session_idle")


def test_login_issues_a_new_session_id_and_drops_the_old(dispatch_app):
    c, _ = dispatch_app.login("op")
    first = c.get_cookie("st_session").value
    r = c.post("/api/login", json={"username": "mgr", "password": PASSWORD})
    second = c.get_cookie("st_session").value
    assert r.status_code == 200 and second != first
    other = dispatch_app.client()
    other.set_cookie("st_session", first)  # the pre-login id is dead: no fixation
    assert other.get("/api/me").status_code == 401


def test_cookie_flags(dispatch_app):
    r = dispatch_app.client().post("/api/login", json={"username": "op", "password": PASSWORD})
    cookies = r.headers.getlist("Set-Cookie")
    session = next(h for h in cookies if h.startswith("st_session="))
    csrf = next(h for h in cookies if h.startswith("st_csrf="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
    assert "HttpOnly" not in csrf and "SameSite=Strict" in csrf  # page scripts read it
    assert "Secure" not in session  # AUTH_COOKIE_SECURE=False in the fixture (http tests)


def test_production_cookies_are_secure_by_default(dispatch_app):
    from dashboard.auth import AuthService

    svc = AuthService(dispatch_app.svc.users, dispatch_app.svc.sessions)
    assert svc.secure and svc.session_cookie == "__Host-st_session"
    with dispatch_app.app.server.test_request_context("/"):
        dispatch_app.app.server.extensions["streettwin_auth"] = svc
        import flask

        from dashboard.auth import _set_cookie

        resp = flask.Response()
        _set_cookie(resp, svc.session_cookie, "x", http_only=True)
        header = resp.headers["Set-Cookie"]
    morsel = SimpleCookie(header)["__Host-st_session"]
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Strict"
