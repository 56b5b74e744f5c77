"""Demo crews and accounts, so a new user of ``make demo`` can walk the whole closed loop.

Only for the demo: on an event store with no accounts, one crew per grid (general, water and
power skills; at the road junction nearest the grid's centre) and one street-wide fire and
medical crew are added, plus four accounts — ``demo-op`` (operator), ``demo-mgr`` (manager),
``demo-lead`` (leader) and ``demo-crew`` (the first grid's crew) — sharing one random password
written to ``demo-accounts.txt`` (mode 600) in the data folder and printed once. No admin or
auditor is created: those need a second factor (``streettwin users``, ``streettwin totp``).
A store that already has accounts is left alone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from twin.events.crews import CrewInfo, upsert_crew
from twin.events.db import make_engine
from twin.events.migrations import upgrade
from twin.events.users import UserStore

#: account name → role
DEMO_ACCOUNTS = {"demo-op": "operator", "demo-mgr": "manager", "demo-lead": "leader",
                 "demo-crew": "crew"}  # fmt: skip
GRID_SKILLS = frozenset({"general", "water", "power"})
STREET_SKILLS = frozenset({"fire", "medical", "gas"})


def demo_crews(registry: Any) -> list[CrewInfo]:
    """One crew per grid at the junction nearest its centre, and one street-wide crew."""
    grids = registry.grids
    inside = grids.geometry.representative_point()
    nodes = registry.nearest_road_nodes(inside.x.to_numpy(), inside.y.to_numpy())
    crews = [
        CrewInfo(f"crew-{g}", f"{g} 网格队", GRID_SKILLS, node, grid_code=str(g))
        for g, node in zip(grids["grid_id"], nodes, strict=True)
    ]
    (lon0, lat0, lon1, lat1) = grids.total_bounds
    (middle,) = registry.nearest_road_nodes([(lon0 + lon1) / 2], [(lat0 + lat1) / 2])
    crews.append(CrewInfo("crew-street", "街道应急队", STREET_SKILLS, middle))
    return crews


def seed_demo(url: str, registry: Any, data_dir: Path) -> str | None:
    """Add demo crews and accounts to the store at ``url`` if it has no accounts.

    Returns the shared password when accounts were created, else None.
    """
    upgrade(url)
    engine = make_engine(url)
    try:
        users = UserStore(engine)
        if users.count() > 0:
            return None
        from sqlalchemy.orm import sessionmaker

        sessions = sessionmaker(engine)
        crews = demo_crews(registry)
        for crew in crews:
            upsert_crew(sessions, crew)
        password = secrets.token_urlsafe(12)
        for name, role in DEMO_ACCOUNTS.items():
            crew_id = crews[0].id if role == "crew" else None
            users.add_user(name, role, password, crew_id=crew_id)
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "demo-accounts.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(f"{n}\t{r}\t{password}\n" for n, r in DEMO_ACCOUNTS.items()))
        return password
    finally:
        engine.dispose()
