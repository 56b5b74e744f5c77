"""Second factor over HTTP: the JSON login takes a code, the login form asks for it in a
second step (handle cookie, code-only form), replays and wrong codes are refused and lock out."""

from __future__ import annotations

import flask

from tests.dashboard import dispatch_fixtures
from tests.dashboard.dispatch_fixtures import PASSWORD
from tests.dashboard.pages_app import page_module
from twin.events.totp import code_at

dispatch_app = dispatch_fixtures.dispatch_app
registry = dispatch_fixtures.registry


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_json_login_of_an_admin_needs_a_fresh_valid_code(dispatch_app):
    app = dispatch_app
    c = app.client()
    creds = {"username": "adm", "password": PASSWORD}
    r = c.post("/api/login", json=creds)
    assert (r.status_code, r.get_json()["error"]) == (401, "code_required")
    r = c.post("/api/login", json={**creds, "password": "wrong " + PASSWORD})
    assert (r.status_code, r.get_json()["error"]) == (401, "login_failed")  # no hint then
    code = code_at(app.totp["adm"], app.clock.t)
    assert c.post("/api/login", json={**creds, "code": _wrong(code)}).status_code == 401
    r = c.post("/api/login", json={**creds, "code": code})
    assert r.status_code == 200 and r.get_json()["role"] == "admin"
    assert c.get("/api/me").get_json()["user"] == "adm"
    r = app.client().post("/api/login", json={**creds, "code": code})  # replay
    assert (r.status_code, r.get_json()["error"]) == (401, "login_failed")


def test_wrong_codes_lock_the_admin_out(dispatch_app):
    app = dispatch_app
    c = app.client()
    creds = {"username": "aud", "password": PASSWORD}
    code = code_at(app.totp["aud"], app.clock.t)
    for _ in range(3):  # AUTH_MAX_FAILURES = 3 in the fixture
        assert c.post("/api/login", json={**creds, "code": _wrong(code)}).status_code == 401
    assert c.post("/api/login", json={**creds, "code": code}).status_code == 401  # locked
    app.clock.t += 901
    r = c.post("/api/login", json={**creds, "code": code_at(app.totp["aud"], app.clock.t)})
    assert r.status_code == 200


def test_operator_login_is_unchanged(dispatch_app):
    r = dispatch_app.client().post("/api/login", json={"username": "op", "password": PASSWORD})
    assert r.status_code == 200


def test_form_login_asks_for_the_code_in_a_second_step(dispatch_app):
    app = dispatch_app
    c = app.client()
    c.get("/api/me")  # any response hands out the CSRF cookie
    csrf = c.get_cookie("st_csrf").value
    r = c.post(
        "/auth/login",
        data={"username": "adm", "password": PASSWORD, "csrf_token": csrf, "next": "/dispatch"},
    )
    assert (r.status_code, r.headers["Location"]) == (303, "/login?step=code&next=%2Fdispatch")
    handle = c.get_cookie("st_2fa")
    assert handle is not None and handle.http_only and handle.same_site == "Strict"
    assert c.get("/api/me").status_code == 401  # no session yet
    step2 = {"step": "code", "csrf_token": csrf, "next": "/dispatch"}
    code = code_at(app.totp["adm"], app.clock.t)
    r = c.post("/auth/login", data={**step2, "code": _wrong(code)})
    assert r.headers["Location"] == "/login?step=code&failed=1&next=%2Fdispatch"
    r = c.post("/auth/login", data={**step2, "code": code})
    assert (r.status_code, r.headers["Location"]) == (303, "/dispatch")
    assert c.get("/api/me").get_json()["role"] == "admin"
    assert c.get_cookie("st_2fa") is None  # the handle is spent and deleted
    # a second step without a live handle starts over
    other = app.client()
    other.get("/api/me")
    tok = other.get_cookie("st_csrf").value
    r = other.post("/auth/login", data={**step2, "csrf_token": tok, "code": code})
    assert r.headers["Location"] == "/login?failed=1&next=%2Fdispatch"


def test_login_page_shows_the_code_field_only_in_the_second_step(dispatch_app):
    server: flask.Flask = dispatch_app.app.server
    login_page = page_module("login")  # pages load only after an app exists
    with server.test_request_context("/login?step=code"):
        second = str(login_page.layout(lang="en", step="code"))
        first = str(login_page.layout(lang="en"))
        failed = str(login_page.layout(lang="en", step="code", failed="1"))
    assert "one-time-code" in second and "name='code'" not in first
    assert "st-login-code-form" in second and "password" not in second
    assert "st-login-form" in first and "st-login-code-form" not in first
    assert "Wrong or already used code" in failed
