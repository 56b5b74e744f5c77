"""Fixtures for the dispatch API tests: an app on the tiny district with one account per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.app import create_app
from twin.events.crews import CrewInfo, upsert_crew
from twin.events.db import sqlite_url
from twin.events.totp import STEP_S, code_at
from twin.events.users import HashParams
from twin.samples import tiny_registry

#: 2026-11-23 08:00 UTC [s]
T0 = 1_795_420_800.0
PASSWORD = "correct horse battery staple"
#: account → (role, crew, grids)
ACCOUNTS = {
    "op": ("operator", None, ()),
    "mgr": ("manager", None, ()),
    "lead": ("leader", None, ()),
    "crew1": ("crew", "w1", ("G01",)),
    "crew2": ("crew", "w2", ("G02",)),
    "adm": ("admin", None, ()),
    "aud": ("auditor", None, ()),
}
#: ticket location: inside building B0001, grid G01
LON, LAT = 113.75034, 23.02026


class Clock:
    """A frozen wall clock the test moves."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class DispatchApp:
    app: object
    svc: object
    clock: Clock
    token: str  # bearer token of the "sensor-gw" system account
    #: TOTP secrets of the accounts that need a second factor (admin, auditor)
    totp: dict[str, str] = field(default_factory=dict)
    _used_step: dict[str, int] = field(default_factory=dict)

    def client(self):
        return self.app.server.test_client()

    def code(self, username: str) -> str:
        """The account's current one-time code; the clock moves one step on if this step's
        code was already used (each code logs in once)."""
        if self._used_step.get(username) == int(self.clock.t // STEP_S):
            self.clock.t += STEP_S
        self._used_step[username] = int(self.clock.t // STEP_S)
        return code_at(self.totp[username], self.clock.t)

    def login(self, username: str, password: str = PASSWORD):
        """A test client logged in as ``username``; returns (client, csrf token)."""
        c = self.client()
        body = {"username": username, "password": password}
        if username in self.totp:
            body["code"] = self.code(username)
        r = c.post("/api/login", json=body)
        assert r.status_code == 200, r.get_json()
        return c, r.get_json()["csrf_token"]


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


@pytest.fixture
def dispatch_app(tmp_path, registry):
    clock = Clock()
    app = create_app(
        registry,
        settings={
            "TESTING": True,
            "DATABASE_URL": sqlite_url(tmp_path / "events.sqlite"),
            "DATA_DIR": str(tmp_path),
            "AUTH_COOKIE_SECURE": False,
            "AUTH_HASH_PARAMS": HashParams(n=2**10),
            "AUTH_MAX_FAILURES": 3,
            "AUTH_IDLE_TIMEOUT_S": 600.0,
            "CLOCK": clock,
        },
    )
    svc = app.server.extensions["streettwin_dispatch"]
    for cid, skills, node in (("w1", {"water"}, "J01"), ("w2", {"water"}, "J05")):
        upsert_crew(svc.store.sessions, CrewInfo(cid, cid, frozenset(skills), node))
    for name, (role, crew, grids) in ACCOUNTS.items():
        svc.users.add_user(name, role, PASSWORD, crew_id=crew, grid_codes=grids)
    svc.users.add_user("sensor-gw", "system")
    token = svc.users.issue_token("sensor-gw")
    totp = {}
    for name in ("adm", "aud"):  # admin and auditor log in with a second factor
        uri = svc.users.enrol_totp(name)
        totp[name] = parse_qs(urlsplit(uri).query)["secret"][0]
    yield DispatchApp(app, svc, clock, token, totp)
    svc.store.engine.dispose()
