"""A StreetTwin app with dispatch, accounts and crews wired, for the working-page tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask

from twin.events.crews import CrewInfo, upsert_crew
from twin.events.users import HashParams

#: one password for every test account (long enough for the policy)
PASSWORD = "correct-horse-battery"
#: username → (role, crew id)
ACCOUNTS = {
    "op": ("operator", None),
    "mgr": ("manager", None),
    "boss": ("leader", None),
    "crew1": ("crew", "K1"),
}
#: crews on the tiny registry's road graph (junctions J01..J07)
CREWS = (
    CrewInfo("K1", "Water team 1", frozenset({"water", "general"}), node="J01"),
    CrewInfo("K2", "Power team", frozenset({"power"}), node="J07"),
)


def page_module(name: str):
    """A page module as Dash loaded it for the newest app (import pages only after an app)."""
    import importlib

    return importlib.import_module(f"dashboard.pages.{name}")


@dataclass
class PagesApp:
    app: Any
    svc: Any

    @property
    def store(self):
        return self.svc.store

    def actor(self, username: str):
        return self.svc.users.get(username).actor

    def as_user(self, username: str | None):
        """A request context in which ``username`` is the logged-in caller (None: nobody)."""
        from dashboard.auth import Principal

        rc = self.app.server.test_request_context("/")
        rc.push()
        if username is None:
            flask.g.st_principal = (None, "no_credentials")
        else:
            user = self.svc.users.get(username)
            ws = self.svc.sessions.create(user)
            flask.g.st_principal = (Principal(user, "session", ws), "")
        return rc


def build_pages_app(
    data_dir: Path, runtime: Any = None, registry: Any = None, clock: Any = None
) -> PagesApp:
    """The real app factory with an SQLite event store in ``data_dir``, accounts and crews."""
    from dashboard.api_crew_sync import register_crew_sync
    from dashboard.app import create_app
    from twin.samples import tiny_registry

    settings = {
        "TESTING": True,
        "DATABASE_URL": None,
        "DATA_DIR": str(data_dir),
        "AUTH_COOKIE_SECURE": False,
        "AUTH_HASH_PARAMS": HashParams(n=2**10, r=8, p=1),
    }
    if clock is not None:
        settings["CLOCK"] = clock
    app = create_app(registry or tiny_registry(), settings=settings, runtime=runtime)
    if "api_crew_sync" not in app.server.blueprints:  # until the app factory wires it
        register_crew_sync(app.server)
    svc = app.server.extensions["streettwin_dispatch"]
    for name, (role, crew_id) in ACCOUNTS.items():
        if crew_id is not None:
            upsert_crew(svc.store.sessions, next(c for c in CREWS if c.id == crew_id))
        svc.users.add_user(name, role, PASSWORD, crew_id=crew_id)
    for crew in CREWS:
        upsert_crew(svc.store.sessions, crew)
    return PagesApp(app, svc)
