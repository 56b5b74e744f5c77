"""FireSpreadModel on tiny hand-made rows: arrival times, outputs, inputs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from sim.fire.hamada import hamada_times_min
from sim.fire.model import BURNING, BURNT, FireSpreadModel
from sim.fire.validate import WEST, arrival_at, grid_of_buildings, row_of_buildings

T_D, T_S, T_U = (60.0 * t for t in hamada_times_min(10.0, 3.0, 5.0, 0.0))


def test_downwind_row_arrives_every_hamada_time() -> None:
    model = FireSpreadModel(row_of_buildings(), wind_speed_m_s=5.0, wind_dir_deg=WEST)
    model.ignite("b0", 0.0)
    model.run_until(3600.0)
    np.testing.assert_allclose(model.arrival_time_s, np.arange(6) * T_D, rtol=1e-12)


def test_upwind_and_sideways_rows_use_their_hamada_times() -> None:
    assert arrival_at(row_of_buildings(), "b5", "b0", speed=5.0) == pytest.approx(5 * T_U)
    assert arrival_at(row_of_buildings(), "b0", "b5", speed=5.0, from_deg=180.0) == pytest.approx(
        5 * T_S
    )


def test_stronger_wind_is_faster_downwind_and_upwind_is_slower_than_calm() -> None:
    rows = row_of_buildings()
    down = [arrival_at(rows, "b0", "b5", speed=v) for v in (0.0, 3.0, 6.0, 9.0)]
    assert np.all(np.diff(down) < 0)
    assert arrival_at(rows, "b5", "b0", speed=6.0) > arrival_at(rows, "b5", "b0", speed=0.0)


def test_fire_protected_row_is_slower_and_resistive_building_stops_it() -> None:
    bare = arrival_at(row_of_buildings(classes="4"), "b0", "b5", speed=5.0)
    prot = arrival_at(row_of_buildings(classes="3"), "b0", "b5", speed=5.0)
    assert prot == pytest.approx(5 * 60.0 * hamada_times_min(10.0, 3.0, 5.0, 1.0)[0])
    assert prot > bare
    blocked = row_of_buildings(classes=["4", "4", "1", "4", "4", "4"])
    assert np.isnan(arrival_at(blocked, "b0", "b3", speed=5.0))


def test_gap_wider_than_spreading_distance_stops_the_fire() -> None:
    reach = float(FireSpreadModel(row_of_buildings(n=2)).props.spread_distance_m[0])
    assert 9.0 < reach < 12.0  # 10 x 6 m facade at 84 kW/m2 down to 12.6 kW/m2
    assert np.isnan(arrival_at(row_of_buildings(n=2, gaps_m=reach + 0.5), "b0", "b1"))
    assert np.isfinite(arrival_at(row_of_buildings(n=2, gaps_m=reach - 0.5), "b0", "b1"))


def test_same_seed_gives_the_same_fire_and_another_seed_differs() -> None:
    def run(seed: int) -> np.ndarray:
        model = FireSpreadModel(
            grid_of_buildings(8, 8),
            wind_speed_m_s=4.0,
            rng=np.random.default_rng(seed),
            spread_time_cv=0.3,
        )
        model.ignite("g4_0")
        model.run_until(3600.0)
        return model.arrival_time_s

    assert np.array_equal(run(3), run(3), equal_nan=True)
    assert not np.array_equal(run(3), run(4), equal_nan=True)


def test_random_spread_without_a_generator_is_refused() -> None:
    with pytest.raises(ValueError, match="Generator"):
        FireSpreadModel(row_of_buildings(), spread_time_cv=0.2)


def test_resistive_ignition_probability_one_lets_fire_through() -> None:
    rows = row_of_buildings(classes=["4", "4", "1", "4", "4", "4"])
    model = FireSpreadModel(rows, rng=np.random.default_rng(0), resistive_ignition_prob=1.0)
    model.ignite("b0")
    model.run_until(86400.0)
    assert np.all(np.isfinite(model.arrival_time_s))


def test_stepping_gives_the_same_arrivals_as_one_run() -> None:
    one = FireSpreadModel(grid_of_buildings(6, 6), wind_speed_m_s=3.0, wind_dir_deg=200.0)
    one.ignite("g0_0")
    one.run_until(1800.0)
    steps = FireSpreadModel(grid_of_buildings(6, 6), wind_speed_m_s=3.0, wind_dir_deg=200.0)
    steps.ignite("g0_0")
    for _ in range(6):
        steps.run_one_step(300.0)
    assert steps.time == 1800.0
    assert np.array_equal(one.arrival_time_s, steps.arrival_time_s, equal_nan=True)


def test_scenario_with_staggered_ignitions() -> None:
    model = FireSpreadModel(row_of_buildings(n=11), wind_speed_m_s=5.0, wind_dir_deg=WEST)
    model.ignite(["b0", "b10"], [0.0, 600.0])
    model.run_until(3600.0)
    assert model.arrival_time_s[10] == 600.0
    assert model.arrival_time_s[9] == pytest.approx(600.0 + 5 * T_U / 5)  # b10 spreads upwind


def test_unknown_building_id_raises() -> None:
    model = FireSpreadModel(row_of_buildings())
    with pytest.raises(KeyError, match="nope"):
        model.ignite("nope")


def test_point_rows_with_side_give_the_same_row_arrivals() -> None:
    rows = row_of_buildings()
    points = rows.copy()
    points["side_m"] = 10.0
    points = points.set_geometry(rows.geometry.centroid)
    model = FireSpreadModel(points, wind_speed_m_s=5.0, wind_dir_deg=WEST)
    model.ignite("b0")
    model.run_until(3600.0)
    np.testing.assert_allclose(model.arrival_time_s, np.arange(6) * T_D, rtol=1e-12)


def test_states_people_at_risk_and_roads_cut_in_the_result(tmp_path) -> None:
    rows = row_of_buildings()
    roads = gpd.GeoDataFrame(
        {"road_id": ["near", "far"]},
        geometry=[
            shapely.LineString([(0, -5), (80, -5)]),
            shapely.LineString([(0, -500), (80, -500)]),
        ],
        crs=rows.crs,
    )
    model = FireSpreadModel(rows, wind_speed_m_s=5.0, wind_dir_deg=WEST)
    model.ignite("b0", 0.0)
    model.run_until(3600.0)
    ds = model.result(roads=roads)
    # at T+10 min (600 s) b0..b3 are reached: 0, 176, 353, 529 s
    assert ds["n_burning"].values.tolist()[0] == 4
    assert ds["occupants_at_risk"].values[0] == 40
    assert ds["elderly_alone_at_risk"].values[0] == 4
    assert ds["road_cut"].sel(horizon=600.0).values.tolist() == [1, 0]
    # dwelling burns 3525 s: b0 is burnt by T+60 min
    assert model.state_at(3600.0)[0] == BURNT and model.state_at(3600.0)[5] == BURNING
    ds.to_netcdf(tmp_path / "fire.nc")
    model.to_frame().to_csv(tmp_path / "fire.csv", index=False)
    assert (tmp_path / "fire.csv").read_text().count("\n") == 7


def test_component_declares_fields_with_units() -> None:
    assert FireSpreadModel.var_units("building__fire_arrival_time") == "s"
    assert "building__fire_state" in FireSpreadModel.output_var_names()
    model = FireSpreadModel(row_of_buildings())
    model.ignite("b0")
    model.run_one_step(60.0)
    assert model.field("building__fire_state")[0] == BURNING
