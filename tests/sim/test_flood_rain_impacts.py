"""Design storms, gauge interpolation and flood impacts on a hand-made example."""

from __future__ import annotations

import argparse

import geopandas as gpd
import numpy as np
import pytest
import xarray as xr
from shapely.geometry import LineString, Point, box

from sim.flood.impacts import flood_impacts, hazard_band, hazard_rating
from sim.flood.rain import GUANGZHOU_2011, MM_H, chicago_storm, gauge_rain, idw_rain


def test_chicago_storm_holds_the_formula_depth_for_its_duration():
    storm = chicago_storm(3.0, duration_min=120.0, step_min=5.0)
    expected_mm = 120.0 * float(GUANGZHOU_2011.intensity_mm_min(120.0, 3.0))
    assert storm.total_depth_m() * 1000 == pytest.approx(expected_mm, rel=1e-9)
    peak = int(np.argmax(storm.intensity))
    assert storm.edges_s[peak] == pytest.approx(0.4 * 7200.0, abs=300.0)
    # q (L/s/ha) = 167 i (mm/min): Guangzhou, P = 1 y, t = 5 min: 3618.427 / 16.259^0.75
    assert GUANGZHOU_2011.q_l_s_ha(5.0, 1.0) == pytest.approx(3618.427 / 16.259**0.75, rel=1e-9)


def test_idw_rain_is_exact_at_gauges_and_between_them():
    x, y = np.array([0.0, 5.0, 10.0]), np.array([0.0])
    f = idw_rain([[0.0, 0.0], [10.0, 0.0]], [10.0 * MM_H, 30.0 * MM_H], (x, y))
    assert (f[0] / MM_H).tolist() == pytest.approx([10.0, 20.0, 30.0])
    rain = gauge_rain([[0.0, 0.0]], [0.0, 60.0], [[1.0], [2.0]], (x, y))
    assert rain(-1.0).max() == 0.0 and rain(30.0).max() == 1.0 and rain(90.0).max() == 2.0


def test_hazard_rating_follows_fd2320():
    # 0.5 m at 1 m/s: 0.5 × 1.5 + DF 1 (urban, > 0.25 m) = 1.75 → significant
    hr = hazard_rating([0.5, 0.2, 1.0], [1.0, 0.5, 2.0])
    assert hr.tolist() == pytest.approx([1.75, 0.2, 3.5])
    assert hazard_band(hr).tolist() == ["significant", "low", "extreme"]


def _result():
    # 10 × 10 cells of 1 m; a flooded strip x < 4 m (0.3 m deep from t = 60 s), dry elsewhere
    x = y = np.arange(10) + 0.5
    depth = np.zeros((2, 10, 10), np.float32)
    depth[1][:, :4] = 0.3
    speed = np.zeros_like(depth)
    speed[1][:, :4] = 0.5
    first = np.where(depth[1] >= 0.15, 60.0, np.nan).astype(np.float32)
    return xr.Dataset(
        {
            "depth": (("time", "y", "x"), depth),
            "speed": (("time", "y", "x"), speed),
            "max_depth": (("y", "x"), depth.max(axis=0)),
            "time_first_exceedance": (("y", "x"), first),
        },
        coords={"time": [0.0, 60.0], "y": y, "x": x},
        attrs={"threshold_m": 0.15},
    )


def test_impacts_on_a_hand_made_example():
    ds = _result()
    roads = gpd.GeoDataFrame(
        {"road_id": ["wet", "dry"]},
        geometry=[LineString([(0.5, 5), (3, 5)]), LineString([(6, 1), (9, 1)])],
    )
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2"],
            "occupants": [40, 7],
            "elderly_alone": [3, 1],
            "disabled": [2, 0],
            "children": [5, 1],
        },
        geometry=[box(4.0, 4.0, 6.0, 6.0), box(8.0, 7.0, 9.5, 9.5)],
    )
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["G1", "G2", "S1"],
            "kind": ["underground_garage", "underground_garage", "shelter"],
        },
        geometry=[Point(2.5, 2.5), Point(7.5, 2.5), Point(1.0, 1.0)],
    )
    out = flood_impacts(ds, roads=roads, buildings=buildings, facilities=facilities)
    r = out["roads"].set_index("road_id")
    assert r.loc["wet", "impassable"] and r.loc["wet", "max_depth_m"] == pytest.approx(0.3)
    assert r.loc["wet", "time_impassable_s"] == 60.0
    assert not r.loc["dry", "impassable"] and np.isnan(r.loc["dry", "time_impassable_s"])
    b = out["buildings"].set_index("building_id")
    assert b.loc["B1", "reached"] and b.loc["B1", "time_reached_s"] == 60.0
    # HR = 0.3 × (0.5 + 0.5) + 1 = 1.3 → significant
    assert b.loc["B1", "hazard_rating"] == pytest.approx(1.3, rel=1e-6)
    assert b.loc["B1", "hazard_band"] == "significant"
    assert not b.loc["B2", "reached"]
    assert out["people"] == {
        "buildings": 1,
        "occupants": 40,
        "elderly_alone": 3,
        "disabled": 2,
        "children": 5,
        "occupants_low": 0,
        "occupants_moderate": 0,
        "occupants_significant": 40,
        "occupants_extreme": 0,
    }
    g = out["garages"].set_index("facility_id")
    assert list(g.index) == ["G1", "G2"]
    assert g.loc["G1", "reached"] and not g.loc["G2", "reached"]


@pytest.mark.bench
def test_bench_flood_smoke_reports_its_figures():
    from sim.flood.bench import bench_flood

    out = bench_flood(argparse.Namespace(smoke=True, size=40, repeat=1))
    assert out["size"] == 40
    assert out["cell_updates_per_s"] > 0 and out["landlab_cell_updates_per_s"] > 0
    assert out["ratio_vs_landlab"] == pytest.approx(
        out["cell_updates_per_s"] / out["landlab_cell_updates_per_s"]
    )
    assert abs(out["storm_mass_balance_error"]) < 1e-4  # float32 depths; the floor is 1e-3
