"""Fixtures for the event-store tests: one migrated store per test on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest_pg import pg_server  # noqa: F401 - re-exported fixture
from twin.events.crews import CrewInfo, upsert_crew
from twin.events.db import make_engine, sqlite_url
from twin.events.migrations import upgrade
from twin.events.tickets import TicketStore

#: 2026-11-23 08:00 UTC, a Monday [s]
T0 = 1_795_420_800.0


class FrozenClock:
    """A clock that moves only when told to [UTC epoch s]."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


@pytest.fixture(scope="session")
def pg_events_template(pg_server):  # noqa: F811
    """A migrated database that per-test databases are copied from (fast CREATE DATABASE)."""
    url = pg_server.new_database(prefix="events_template")
    upgrade(url)
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def events_url(request, tmp_path):
    """URL of a freshly migrated event store on each backend."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "events.db")
        upgrade(url)
        return url
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_events_template")
    return server.new_database(template=template)


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def store(events_url, clock):
    """A TicketStore on a fresh database with three crews at nodes a, b, c."""
    engine = make_engine(events_url)
    st = TicketStore(engine, clock=clock)
    for cid, skills, node in (
        ("w1", {"water"}, "a"),
        ("w2", {"water", "general"}, "b"),
        ("p1", {"power"}, "c"),
    ):
        upsert_crew(st.sessions, CrewInfo(cid, f"crew {cid}", frozenset(skills), node))
    yield st
    engine.dispose()
