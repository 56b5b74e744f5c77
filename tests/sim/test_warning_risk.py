"""Risk = hazard × exposure per building, aggregated per grid and community."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from sim.warning.risk import aggregate_risk, building_risk, place_risk, to_assessments


@pytest.fixture
def buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2", "B3", "B4"],
            "grid_id": ["G1", "G1", "G2", "G2"],
            "community_id": ["C1", "C1", "C1", "C1"],
            "occupants": [30, 0, 120, 10],
            "elderly_alone": [2, 0, 3, 0],
            "disabled": [1, 0, 1, 0],
            "children": [0, 0, 4, 0],
        },
        geometry=[
            box(114.000, 22.500, 114.001, 22.501),
            box(114.002, 22.500, 114.003, 22.501),
            box(114.010, 22.500, 114.011, 22.501),
            box(114.012, 22.500, 114.013, 22.501),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture
def facilities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "facility_id": ["F1", "F2"],
            "kind": ["elderly_home", "market"],
            "critical": [True, False],
            "building_id": ["B4", "B3"],
            "grid_id": ["G2", "G2"],
        }
    )


def test_exposure_and_levels_hand_checked(buildings, facilities) -> None:
    r = building_risk(buildings, [2, 2, 0, 2], facilities=facilities)
    # B1: 30 + 1.0 × 3 vulnerable; B2 empty; B3 no hazard; B4: 10 + 100 × 1 critical
    assert r["exposure"].tolist() == [33.0, 0.0, 128.0, 110.0]
    assert r["risk"].tolist() == [16.5, 0.0, 0.0, 55.0]
    # B2 empty → one level down (yellow → blue); B4 holds a critical facility → up
    assert r["risk_level"].tolist() == [2, 1, 0, 3]
    assert r["critical_facilities"].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_many_vulnerable_residents_raise_the_level(buildings) -> None:
    r = building_risk(buildings, [1, 0, 1, 1])
    # B3 has 3 + 1 + 4 = 8 vulnerable (≥ 5) → blue becomes yellow
    assert r["risk_level"].tolist() == [1, 0, 2, 1]


def test_red_stays_red_and_no_hazard_stays_zero(buildings, facilities) -> None:
    r = building_risk(buildings, [4, 0, 4, 4], facilities=facilities)
    assert r["risk_level"].tolist() == [4, 0, 4, 4]


def test_aggregate_per_grid_and_community(buildings, facilities) -> None:
    r = building_risk(buildings, [2, 2, 0, 2], facilities=facilities)
    grids = aggregate_risk(r, "grid_id")
    assert grids.loc["G1", "level"] == 2
    assert grids.loc["G2", "level"] == 3
    assert grids.loc["G1", "occupants"] == 30.0  # B2 is empty
    assert grids.loc["G2", "occupants"] == 10.0  # B3 has no hazard
    assert grids.loc["G2", "critical_facilities"] == 1.0
    assert grids.loc["G1", "rows_affected"] == 2
    comm = aggregate_risk(r, "community_id")
    assert comm.loc["C1", "level"] == 3
    assert comm.loc["C1", "risk"] == pytest.approx(71.5)
    assert comm.loc["C1", "elderly_alone"] == 2.0
    # hull of the affected footprints of G1 spans B1 and B2
    assert grids.loc["G1", "polygon"].bounds == pytest.approx((114.0, 22.5, 114.003, 22.501))


def test_area_polygons_and_names_come_from_the_area_layer(buildings) -> None:
    r = building_risk(buildings, [1, 1, 1, 1])
    areas = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "name_zh": ["一网格", "二网格"], "name_en": ["Grid 1", "Grid 2"]},
        geometry=[box(113.99, 22.49, 114.005, 22.51), box(114.005, 22.49, 114.02, 22.51)],
        crs="EPSG:4326",
    )
    a = to_assessments(aggregate_risk(r, "grid_id", areas=areas))
    assert a["G1"]["name_zh"] == "一网格"
    assert a["G1"]["polygon"].equals(box(113.99, 22.49, 114.005, 22.51))
    assert a["G2"]["affected"] == {
        "buildings": 2,
        "people": 130,
        "elderly_alone": 3,
        "disabled": 1,
        "children": 4,
        "critical_facilities": 0,
    }


def test_place_risk_uses_people_counted() -> None:
    places = gpd.GeoDataFrame(
        {"facility_id": ["SQ1"], "grid_id": ["G9"], "critical": [False]},
        geometry=[Point(114.0, 22.5)],
        crs="EPSG:4326",
    )
    r = place_risk(places, [3], [1500.0], community_of_grid={"G9": "C9"})
    assert r.loc[0, "community_id"] == "C9"
    assert r.loc[0, "risk_level"] == 4  # 1500 people ≥ high exposure (200)
    agg = aggregate_risk(r, "grid_id")
    # a single point is padded into a small polygon so a CAP area can be drawn
    assert agg.loc["G9", "polygon"].geom_type == "Polygon"
    assert agg.loc["G9", "polygon"].contains(Point(114.0, 22.5))
