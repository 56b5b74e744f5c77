"""Risk-based inspections: hand-checked grades, schedule by slot, idempotence, hazards found."""

from __future__ import annotations

import pandas as pd
import pytest

from twin.events.crews import CrewInfo, load_crews, upsert_crew
from twin.events.inspections import (
    generate_inspections,
    grade_building,
    month_bounds,
    report_hazard,
)
from twin.events.lifecycle import Actor

START, END = month_bounds("2026-11")
DAY = 86_400.0


def building(bid, use, year_built, occupants, elderly=0, disabled=0, fire="2", grid="G1"):
    return {"building_id": bid, "grid_id": grid, "community_id": "C1", "use": use,
            "year_built": year_built, "fire_resistance": fire, "occupants": occupants,
            "elderly_alone": elderly, "disabled": disabled,
            "lon": 113.75, "lat": 23.02}  # fmt: skip


# warehouse 3 + age 41y 2 + rating 4 2 + 120 people 1 = 8 → level 2 (3/month)
WAREHOUSE = building("B-wh", "warehouse", 1985, 120, fire="4")
# fire load 1, new, 40 people, nobody vulnerable → 1 → level 4 (1/month)
FLAT = building("B-flat", "residential", 2020, 40)
# elderly home 2 + use 2 + 30 y 1 + 600 people 2 + 52 vulnerable 2 = 9 → level 1 (4/month)
CARE = building("B-care", "elderly_home", 1996, 600, elderly=40, disabled=12, fire="1")


def test_grades_follow_the_documented_points():
    assert [(g.score, g.level, g.per_month) for g in (
        grade_building(WAREHOUSE, year=2026),
        grade_building(FLAT, year=2026),
        grade_building(CARE, year=2026),
    )] == [(8, 2, 3), (1, 4, 1), (9, 1, 4)]  # fmt: skip
    # three hazards last year add 2 points: the flat goes from level 4 to level 3
    assert grade_building(FLAT, year=2026, past_hazards=3).level == 3


def test_slots_open_through_the_month_and_reruns_create_nothing_twice(store):
    b = pd.DataFrame([WAREHOUSE, FLAT, CARE])
    first = generate_inspections(b, store, "2026-11", START + 1, assign=False)
    # at the start of the month: slot 1 of every building
    assert sorted(t.source_ref for t in first) == [
        "insp:B-care:2026-11:1", "insp:B-flat:2026-11:1", "insp:B-wh:2026-11:1"]  # fmt: skip
    assert generate_inspections(b, store, "2026-11", START + 1, assign=False) == []
    # day 10 of 30: the care home's 2nd slot (starts day 7.5); warehouse's 2nd starts day 10
    mid = generate_inspections(b, store, "2026-11", START + 10 * DAY, assign=False)
    assert sorted(t.source_ref for t in mid) == ["insp:B-care:2026-11:2", "insp:B-wh:2026-11:2"]
    end = generate_inspections(b, store, "2026-11", END - 1, assign=False)
    assert len(end) == (4 + 3 + 1) - 5
    assert all(t.state == "reported" and t.source == "inspection" for t in first + mid + end)


def test_inspections_go_to_a_free_crew_of_the_grid(store):
    upsert_crew(store.sessions, CrewInfo("g1", "grid 1", frozenset({"general"}), "a",
                                         grid_code="G1"))  # fmt: skip
    (t,) = generate_inspections(pd.DataFrame([FLAT]), store, "2026-11", START + 1)
    assert (t.state, t.crew_id) == ("dispatched", "g1")
    assert {c.id: c.state for c in load_crews(store.sessions)}["g1"] == "busy"


def test_hazard_found_on_inspection_becomes_a_ticket(store):
    upsert_crew(store.sessions, CrewInfo("g1", "grid 1", frozenset({"general"}), "a",
                                         grid_code="G1"))  # fmt: skip
    (insp,) = generate_inspections(pd.DataFrame([WAREHOUSE]), store, "2026-11", START + 1)
    inspector = Actor("gw", "crew", "g1")
    hazard = report_hazard(store, insp.id, type="fire", level="orange",
                           note="blocked fire exit", actor=inspector)  # fmt: skip
    assert (hazard.type, hazard.level, hazard.grid_code, hazard.state) == (
        "fire",
        "orange",
        "G1",
        "reported",
    )
    assert hazard.id != insp.id
    with pytest.raises(LookupError):  # another crew cannot file on this round
        report_hazard(store, insp.id, type="fire", level="red", note="x",
                      actor=Actor("zz", "crew", "other"))  # fmt: skip
