"""Inspections on schedule: a month of wake-ups opens each level's number of rounds, reruns and
restarts open none, past hazards (found on rounds too) raise the level, the thread runs."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from dashboard.inspection_scheduler import (
    InspectionScheduler,
    month_of,
    start_inspection_scheduler,
)
from tests.dashboard import dispatch_fixtures
from tests.dashboard.dispatch_fixtures import LAT, LON
from twin.events.crews import CrewInfo, load_crews, upsert_crew
from twin.events.db import make_engine, sqlite_url
from twin.events.inspections import hazard_counts, month_bounds
from twin.events.lifecycle import Actor
from twin.events.migrations import upgrade
from twin.events.tickets import TicketStore

dispatch_app = dispatch_fixtures.dispatch_app
registry = dispatch_fixtures.registry

DAY = 86_400.0
MANAGER = Actor("mgr", "manager")
NOV, NOV_END = month_bounds("2026-11")  # 30 days


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def building(bid, use, year_built, occupants, elderly=0, disabled=0, fire="2"):
    return {"building_id": bid, "grid_id": "G1", "community_id": "C1", "use": use,
            "year_built": year_built, "fire_resistance": fire, "occupants": occupants,
            "elderly_alone": elderly, "disabled": disabled,
            "lon": 113.75, "lat": 23.02}  # fmt: skip


# hand-graded (see twin.events.inspections): elderly home 2 + use 2 + age 30 y 1 + 600 people 2
# + 52 vulnerable 2 = 9 → level 1; warehouse 3 + age 41 y 2 + rating 4 2 + 120 people 1 = 8 →
# level 2; flat 1 + age 30 y 1 + 150 people 1 = 3 → level 3; new flat 1 → level 4
BUILDINGS = pd.DataFrame([
    building("B-care", "elderly_home", 1996, 600, elderly=40, disabled=12, fire="1"),
    building("B-wh", "warehouse", 1985, 120, fire="4"),
    building("B-old", "residential", 1996, 150),
    building("B-new", "residential", 2020, 40),
])  # fmt: skip
PER_MONTH = {"B-care": 4, "B-wh": 3, "B-old": 2, "B-new": 1}


@pytest.fixture
def store(tmp_path):
    url = sqlite_url(tmp_path / "events.db")
    upgrade(url)
    engine = make_engine(url)
    yield TicketStore(engine, clock=Clock(NOV))
    engine.dispose()


def rounds(store: TicketStore) -> dict[str, list[str]]:
    """Inspection rounds per building: their ``yyyy-mm:k`` keys."""
    out: dict[str, list[str]] = {}
    for t in store.list_visible(MANAGER):
        if t.source == "inspection" and (t.source_ref or "").startswith("insp:"):
            _, bid, month, k = t.source_ref.split(":")
            out.setdefault(bid, []).append(f"{month}:{k}")
    return {b: sorted(v) for b, v in out.items()}


def test_month_of_is_the_utc_month():
    assert month_of(NOV) == "2026-11" and month_of(NOV_END - 1) == "2026-11"
    assert month_of(NOV_END) == "2026-12"


def test_a_month_of_runs_opens_each_levels_rounds_and_reruns_open_none(store):
    clock = store.clock
    sched = InspectionScheduler(store, BUILDINGS, clock=clock, assign=False)
    counts = []
    while clock.t < NOV_END:  # every 6 hours through November
        counts.append(len(sched.run_once()))
        clock.t += 6 * 3600
    got = rounds(store)
    assert {b: len(v) for b, v in got.items()} == PER_MONTH
    assert got["B-care"] == ["2026-11:1", "2026-11:2", "2026-11:3", "2026-11:4"]
    # 120 runs: 4 at the first, then one each time a slot opens (care days 7.5, 15, 22.5; warehouse
    # 10, 20; old flat 15 — the care home's and the old flat's day-15 slots open together)
    assert (len(counts), counts[0], sum(counts)) == (120, 4, 10)
    assert counts[30] == 1 and counts[40] == 1 and counts[60] == 2  # day 7.5, 10, 15
    # a restart (new scheduler, same store) late in the month opens nothing again
    clock.t = NOV_END - 1
    assert InspectionScheduler(store, BUILDINGS, clock=clock, assign=False).run_once() == []
    # December's first run opens each building's first round
    clock.t = NOV_END + 60
    dec = sched.run_once()
    assert sorted(t.source_ref for t in dec) == sorted(f"insp:{b}:2026-12:1" for b in PER_MONTH)
    assert (sched.runs, sched.created) == (121, 14)


def test_rounds_go_to_a_free_crew_of_the_grid_and_waiting_ones_later(store):
    upsert_crew(store.sessions, CrewInfo("g1", "grid 1", frozenset({"general"}), "a",
                                         state="off_duty", grid_code="G1"))  # fmt: skip
    sched = InspectionScheduler(store, BUILDINGS.iloc[[3]], clock=store.clock)
    (t,) = sched.run_once()
    assert (t.state, t.crew_id) == ("reported", None)  # nobody free in G1
    upsert_crew(store.sessions, CrewInfo("g1", "grid 1", frozenset({"general"}), "a",
                                         state="free", grid_code="G1"))  # fmt: skip
    assert sched.run_once() == []  # nothing new is due ...
    (waiting,) = store.list_visible(MANAGER)
    assert (waiting.state, waiting.crew_id) == ("dispatched", "g1")  # ... the round went out
    assert {c.id: c.state for c in load_crews(store.sessions)}["g1"] == "busy"


def test_hazards_of_the_year_before_raise_the_level_and_rounds_do_not_count(dispatch_app):
    app = dispatch_app
    store = app.svc.store
    # B0001 (tiny registry): residential 1 + age 28 y 1 + 120 people 1 + 6 vulnerable 1 = 4
    # → level 3 (2 a month); 3 hazards in the year before → +2 = 6 → level 2 (3 a month)
    app.clock.t = month_bounds("2026-12")[0] - 100 * DAY
    place = {"grid_code": "G01", "lon": LON, "lat": LAT}
    for _ in range(2):
        store.create(source="report", type="water", level="yellow", **place)
    store.create(source="inspection", source_ref="hazard:abc", type="fire", level="orange",
                 **place)  # fmt: skip
    store.create(source="inspection", source_ref="insp:B0001:2026-08:1", type="general",
                 level="blue", **place)  # fmt: skip
    reg = app.svc.registry
    assert hazard_counts(store, reg.buildings, reg, 0.0) == {"B0001": 3}
    sched = start_inspection_scheduler(app.app, start=False, assign=False)
    app.clock.t = month_bounds("2026-12")[1] - 1
    sched.run_once()
    assert rounds(store)["B0001"] == ["2026-08:1", "2026-12:1", "2026-12:2", "2026-12:3"]
    assert len(rounds(store)["B0002"]) == 2  # no hazards: level 3 as graded
    made = [t for t in store.list_visible(MANAGER) if (t.source_ref or "").endswith("2026-12:1")]
    assert {t.node for t in made if t.source_ref == "insp:B0001:2026-12:1"} == {"J01"}


def test_thread_runs_at_start_and_stops(dispatch_app):
    sched = start_inspection_scheduler(dispatch_app.svc, interval_s=3600)
    try:
        deadline = time.monotonic() + 20
        while sched.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        # 2026-11-23 is in the 4th week: every building's first rounds are due
        assert sched.runs == 1 and sched.created >= len(dispatch_app.svc.registry.buildings)
    finally:
        sched.stop()
    assert not sched._thread.is_alive()
    assert start_inspection_scheduler(object()) is None
