"""Headless scenario runs on the tiny registry: NetCDF written, summary row kept and listed."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sim.flood.impacts import building_impacts, road_impacts
from sim.scenario.run import run_scenario
from sim.scenario.spec import parse_scenario
from sim.scenario.store import list_results, save_result
from twin.samples import tiny_registry

STORM = {
    "name": "tiny storm",
    "hazard": "flood",
    "duration_min": 20,
    "flood": {
        "cell_size_m": 10,
        "drain_capacity_mm_h": 0,
        "output_interval_min": 10,
        "rain": {"kind": "uniform", "total_mm": 60, "duration_min": 20},
    },
}


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


@pytest.fixture(scope="module")
def flood_run(registry):
    return run_scenario(parse_scenario(STORM, "storm.toml"), registry)


def test_flood_run_keeps_volume_and_per_building_maxima_match_flood_impacts(flood_run, registry):
    ds, summary = flood_run
    assert list(ds["time"].to_numpy()) == [0.0, 600.0, 1200.0]
    # no drains: the rain that fell on open ground stays there (roofs go to the sewer)
    assert abs(ds.attrs["mass_balance_error"]) < 1e-6
    open_cells = int((ds["building"] == 0).sum())
    stored = float(ds["depth"].isel(time=-1).sum()) * 100.0
    assert stored == pytest.approx(open_cells * 100.0 * 0.060, rel=1e-5)
    # the cell lists prepared once per grid agree with sim.flood.impacts' own geometry
    ref = building_impacts(ds, registry.metric("buildings"))
    np.testing.assert_allclose(ds["building_max_depth"], ref["max_depth_m"], atol=1e-6)
    roads = road_impacts(ds, registry.metric("roads"))
    np.testing.assert_allclose(ds["road_max_depth"], roads["max_depth_m"], atol=1e-6)
    reached = ref["reached"].to_numpy()
    assert summary["buildings_reached"] == int(reached.sum())
    occupants = registry.buildings["occupants"].to_numpy()
    assert summary["people_affected"] == int(occupants[reached].sum())


def test_saved_result_is_netcdf_and_listed_in_the_index(flood_run, tmp_path):
    ds, summary = flood_run
    first = save_result(ds, summary, tmp_path / "a.nc", tmp_path)
    second = save_result(ds, {**summary, "name": "again"}, tmp_path / "b.nc", tmp_path)
    assert (first["run_id"], second["run_id"]) == (1, 2)
    back = xr.open_dataset(tmp_path / "a.nc")
    np.testing.assert_array_equal(back["max_depth"], ds["max_depth"])
    back.close()
    table = list_results(tmp_path)
    assert table["name"].tolist() == ["tiny storm", "again"]
    assert table["result"].tolist() == [str(tmp_path / "a.nc"), str(tmp_path / "b.nc")]
    assert (tmp_path / "scenarios" / "index.csv").exists()
    assert list_results(tmp_path / "nowhere").empty


def test_fire_run_reaches_the_ignited_building_and_counts_its_people(registry):
    s = parse_scenario(
        {"hazard": "fire", "duration_min": 60, "fire": {"ignition": "B0001", "wind_speed_m_s": 5}},
        "fire.toml",
    )
    ds, summary = run_scenario(s, registry)
    reached = ds["reached"].to_numpy().astype(bool)
    assert reached[list(ds["building_id"].to_numpy()).index("B0001")]
    assert summary["people_affected"] == int(registry.buildings["occupants"][reached].sum())
    with pytest.raises(ValueError, match=r"fire.ignition: unknown building\(s\) \['NOPE'\]"):
        run_scenario(
            parse_scenario({"hazard": "fire", "duration_min": 5, "fire": {"ignition": "NOPE"}}),
            registry,
        )


def test_utility_faults_cut_power_to_the_feeder_buildings_and_leak(registry):
    s = parse_scenario(
        {
            "hazard": "utility",
            "duration_min": 20,
            "faults": [
                {"kind": "feeder_outage", "target": "FD01", "start_min": 5, "duration_min": 10},
                {"kind": "pipe_burst", "target": "P01", "params": {"leak_m3_s": 0.07}},
            ],
        }
    )
    ds, summary = run_scenario(s, registry)
    on_fd01 = registry.buildings["feeder_id"].eq("FD01").to_numpy()
    assert summary["buildings_without_power"] == int(on_fd01.sum())
    power = ds["power_available"].sel(building=registry.buildings["building_id"][on_fd01].tolist())
    assert int(power.sel(time=0.0).min()) == 1 and int(power.sel(time=600.0).max()) == 0
    assert int(power.sel(time=1200.0).min()) == 1  # restored after 10 min
    assert summary["max_leak_flow_m3_s"] == pytest.approx(0.07)


def test_crowd_event_reaches_its_peak_at_the_square(registry):
    s = parse_scenario(
        {
            "hazard": "crowd",
            "duration_min": 40,
            "crowd": {"place": "F03", "peak_people": 2500, "start_min": 0, "duration_min": 40},
        }
    )
    ds, summary = run_scenario(s, registry)
    assert summary["peak_people"] == pytest.approx(2500, rel=0.02)
    area = float(registry.facilities.set_index("facility_id").loc["F03", "area_m2"])
    assert summary["peak_density_p_m2"] == pytest.approx(summary["peak_people"] / area)
