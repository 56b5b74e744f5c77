"""Inspections done vs due for the trends page: scheduled rounds counted by week and grid,
hazards found on a round left out."""

from __future__ import annotations

import pandas as pd

from twin.events.inspections import generate_inspections, report_hazard
from twin.events.kpi import inspection_figures, kpi_figures, kpi_figures_exact, rebuild_rollup
from twin.events.lifecycle import Actor, iso_week

OP = Actor("ann", "operator")
CREW = Actor("wu", "crew", "w1")

#: B1 scores 9 (level 1: four rounds a month), B2 scores 1 (level 4: one round)
BUILDINGS = pd.DataFrame(
    [
        {"building_id": "B1", "grid_id": "g1", "community_id": "c1", "use": "elderly_home",
         "year_built": 1985, "fire_resistance": "3", "occupants": 80, "elderly_alone": 40,
         "disabled": 12, "lon": 113.75, "lat": 23.02},
        {"building_id": "B2", "grid_id": "g2", "community_id": "c1", "use": "residential",
         "year_built": 2020, "fire_resistance": "1", "occupants": 10, "elderly_alone": 0,
         "disabled": 0, "lon": 113.76, "lat": 23.03},
    ]
)  # fmt: skip


def test_rounds_due_and_done_by_week_and_grid(store, clock):
    # 2026-11-23 08:00: B1's slots start on the 1st, 8th 12:00, 16th, 23rd 12:00 → 3 due
    made = generate_inspections(BUILDINGS, store, "2026-11", clock(), assign=False)
    assert len(made) == 4
    first = made[0]
    store.transition(first.id, "dispatch", actor=OP, crew_id="w1")
    for action in ("accept", "arrive"):
        store.transition(first.id, action, actor=CREW)
    report_hazard(store, first.id, type="fire", level="orange", note="blocked exit", actor=CREW)
    store.transition(first.id, "resolve", actor=CREW)
    week = iso_week(clock())
    rows = inspection_figures(store.engine, ("week",))
    assert [(r.key, r.due, r.done, r.done_rate) for r in rows] == [({"week": week}, 4, 1, 0.25)]
    by_grid = inspection_figures(store.engine, ("grid",))
    assert [(r.key["grid"], r.due, r.done) for r in by_grid] == [("g1", 3, 1), ("g2", 1, 0)]
    assert [r.due for r in inspection_figures(store.engine, ("week",), grid="g2")] == [1]
    assert inspection_figures(store.engine, ("week",), from_week=week + 1) == []


def test_hazards_found_leave_out_the_rounds_but_count_a_hazard_found_on_one(store, clock):
    """The leaders' "found vs handled" counts incidents: four rounds, one of them done, add
    nothing; the hazard found on that round is one found, handled once it is resolved."""
    (first, *_) = generate_inspections(BUILDINGS, store, "2026-11", clock(), assign=False)
    store.transition(first.id, "dispatch", actor=OP, crew_id="w1")
    for action in ("accept", "arrive"):
        store.transition(first.id, action, actor=CREW)
    hazard = report_hazard(store, first.id, type="fire", level="orange", note="exit", actor=CREW)
    store.transition(first.id, "resolve", actor=CREW)
    report = store.create(source="report", type="water", level="yellow", grid_code="g2",
                          actor=OP)  # fmt: skip

    def found_handled():
        rollup = [(r.key, r.found, r.handled) for r in kpi_figures(store.engine, ("type",))]
        exact = [(r.key, r.found, r.handled) for r in kpi_figures_exact(store.engine, ("type",))]
        assert rollup == exact
        return rollup

    assert found_handled() == [({"type": "fire"}, 1, 0), ({"type": "water"}, 1, 0)]
    store.transition(hazard.id, "dispatch", actor=OP, crew_id="w1")
    for action in ("accept", "arrive", "resolve"):
        store.transition(hazard.id, action, actor=CREW)
    store.transition(report.id, "dismiss", actor=OP)
    assert found_handled() == [({"type": "fire"}, 1, 1)]
    with store.sessions() as s, s.begin():
        rebuild_rollup(s)
    assert found_handled() == [({"type": "fire"}, 1, 1)]
