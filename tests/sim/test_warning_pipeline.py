"""Hazard → risk per building → grid levels → warning events → valid CAP, end to end."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from sim.warning.cap import to_cap
from sim.warning.cap_schema import validate_cap
from sim.warning.engine import WarningEngine
from sim.warning.risk import aggregate_risk, building_risk, place_risk, to_assessments
from sim.warning.thresholds import crowd_level, flood_level


def test_flood_forecast_becomes_grid_warnings_with_valid_cap() -> None:
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2", "B3"],
            "grid_id": ["G1", "G1", "G2"],
            "community_id": ["C1", "C1", "C1"],
            "occupants": [50, 20, 80],
            "elderly_alone": [0, 6, 0],
            "disabled": [0, 0, 0],
            "children": [0, 0, 0],
        },
        geometry=[box(114 + i / 1000, 22.5, 114 + i / 1000 + 5e-4, 22.5005) for i in range(3)],
        crs="EPSG:4326",
    )
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "name_zh": ["一网格", "二网格"], "name_en": ["G-1", "G-2"]},
        geometry=[box(113.99, 22.49, 114.0015, 22.51), box(114.0015, 22.49, 114.01, 22.51)],
        crs="EPSG:4326",
    )
    # forecast peak depth and time to flood per building (B3 stays dry)
    hazard = flood_level([0.20, 0.20, 0.0], [600.0, 900.0, np.inf])
    assert hazard.tolist() == [2, 2, 0]
    rows = building_risk(buildings, hazard)
    assess = to_assessments(aggregate_risk(rows, "grid_id", areas=grids))
    # B2 houses 6 elderly living alone → yellow raised to orange for grid G1
    assert assess["G1"]["level"] == 3 and assess["G2"]["level"] == 0

    places = pd.DataFrame({"facility_id": ["SQ"], "grid_id": ["G2"], "critical": [False]})
    crowd = place_risk(places, crowd_level([3.4]), [700.0])
    crowd_assess = to_assessments(aggregate_risk(crowd, "grid_id", areas=grids))

    engine = WarningEngine()
    events = engine.update("flood", assess, 1_782_885_600.0)
    events += engine.update("crowd", crowd_assess, 1_782_885_600.0)
    assert [(e["hazard"], e["area_id"], e["level"]) for e in events] == [
        ("flood", "G1", 3),
        ("crowd", "G2", 3),  # yellow density, 700 people ≥ 200 → orange
    ]
    assert events[0]["affected"]["elderly_alone"] == 6
    assert events[0]["headline_zh"] == "一网格内涝橙色预警"
    for ev in events:
        assert validate_cap(to_cap(ev)) == []
