"""``make demo`` seeds crews and accounts once, so the closed loop can be walked at once."""

from __future__ import annotations

import stat

from sqlalchemy.orm import sessionmaker

from dashboard.demo_accounts import DEMO_ACCOUNTS, seed_demo
from twin.events.crews import load_crews
from twin.events.db import make_engine, sqlite_url
from twin.events.users import UserStore
from twin.samples import tiny_registry


def test_demo_gets_a_crew_per_grid_and_four_accounts_once(tmp_path):
    registry = tiny_registry()
    url = sqlite_url(tmp_path / "events.sqlite")
    password = seed_demo(url, registry, tmp_path)
    assert password and len(password) >= 12
    path = tmp_path / "demo-accounts.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [line.split("\t")[0] for line in path.read_text().splitlines()] == list(DEMO_ACCOUNTS)
    assert seed_demo(url, registry, tmp_path) is None  # an existing store is left alone

    engine = make_engine(url)
    crews = load_crews(sessionmaker(engine))
    by_grid = {c.grid_code: c for c in crews}
    assert set(by_grid) == set(registry.grids["grid_id"]) | {None}
    nodes = set(registry.roads["from_node"]) | set(registry.roads["to_node"])
    assert all(c.node in nodes for c in crews)
    users = UserStore(engine)
    crew = users.authenticate("demo-crew", password)
    assert crew.role == "crew" and crew.crew_id == by_grid[registry.grids["grid_id"][0]].id
    assert users.authenticate("demo-lead", password).role == "leader"
    engine.dispose()
