"""The live nowcaster: the twin's own readings → hazard models → warnings, never the truth."""

from __future__ import annotations

import numpy as np
import pytest

from sim.nowcast.driver import Nowcaster
from sim.nowcast.rainfc import GaugeSeries
from sim.nowcast.raster import CellSampler, coarsen_dem
from sim.world import World
from twin.samples import tiny_registry
from twin.state import LiveState

T0 = 1_782_864_000.0
MM_H = 1.0 / 3.6e6


def test_trend_forecast_extrapolates_a_rising_gauge_and_caps_it() -> None:
    s = GaugeSeries(1, trend_window_s=900.0, trend_cap_s=1800.0, trend_max_ratio=2.5)
    for k in range(4):  # 10, 20, 30, 40 mm/h at 5-minute steps: +10 mm/h per 300 s
        s.add(T0 + 300.0 * k, np.array([10.0 * (k + 1) * MM_H]))
    fc = s.forecast(np.array([0.0, 300.0, 3600.0])) / MM_H
    # now 40; +300 s → 50; trend held after 1800 s → 40 + 60 = 100 = 2.5 × (40 + 10)... capped
    assert fc[:, 0] == pytest.approx([40.0, 50.0, 100.0], abs=1e-6)
    persist = GaugeSeries(1, mode="persistence")
    persist.add(T0, np.array([40.0 * MM_H]))
    assert persist.forecast(np.array([3600.0]))[0, 0] / MM_H == pytest.approx(40.0)


def test_sampler_takes_the_max_over_the_cells_of_each_place() -> None:
    import shapely
    import xarray as xr

    dem = xr.DataArray(
        np.zeros((4, 4)), dims=("y", "x"), coords={"y": [5.0, 15, 25, 35], "x": [5.0, 15, 25, 35]}
    )
    grid = coarsen_dem(dem, 10.0)
    line = shapely.LineString([(0, 5), (40, 5)])  # the bottom row of cells
    point = shapely.Point(35, 35)
    smp = CellSampler(grid, [line, point], radius_m=4.0)
    h = np.arange(16.0).reshape(4, 4)
    assert smp.max_of(h).tolist() == [3.0, 15.0]


def _feed(state: LiveState, world: World, rows: np.ndarray) -> None:
    """What the field devices and ingest do: the readings of these sensor rows, no more."""
    v = world.sensor_values()
    state.apply(rows, v[rows], np.full(len(rows), world.t), world.t)


def test_flood_warning_comes_before_the_road_sensor_sees_water() -> None:
    registry = tiny_registry()
    # a street whose road inlets are blocked (1 mm/h) meets an extreme storm
    world = World(
        registry,
        seed=5,
        t0=T0,
        background_rain=False,
        spontaneous_faults=False,
        params={"RoadPonding": {"inlet_capacity_m_s": 1.0 * MM_H}},
    )
    world.start_storm(total_mm=250.0, duration_s=5400.0, at=T0 + 600.0)
    state = LiveState(registry.sensors["sensor_id"].tolist())
    # depth_scale 5: this street's calibration (kerbs and gullies concentrate water on the
    # road more than the 10 m grid shows)
    nc = Nowcaster(
        registry,
        state,
        hazards=("flood",),
        flood_kwargs={
            "depth_scale": 5.0,
            "horizon_s": 2400.0,
            "cell_m": 10.0,
            "sensor_radius_m": 10.0,
        },
    )
    gauges = nc.flood.gauge_rows
    road = int(nc.flood.road_sensor_rows[0])
    road_grid = registry.sensors["grid_id"].iloc[road]
    warned_at = seen_at = None
    for k in range(1, 30):
        t = T0 + 300.0 * k
        world.advance_to(t)
        _feed(state, world, gauges)  # the twin hears only its rain gauge
        assert np.isnan(state.value[road])  # and never the road sensor in this test
        nc.cycle(t)
        if warned_at is None and nc.latest["flood"]["levels"]["sensor"][0] >= 2:
            warned_at = t
            active = {(w["hazard"], w["area_id"]): w["level"] for w in nc.engine.active()}
            assert active[("flood", road_grid)] >= 2
        if world.sensor_truth()[road] >= 0.15:
            seen_at = t
            break
    assert warned_at is not None and seen_at is not None
    lead_min = (seen_at - warned_at) / 60.0
    assert lead_min >= 15.0, lead_min


def test_a_live_smoke_alarm_raises_a_fire_warning_for_its_grid() -> None:
    registry = tiny_registry()
    state = LiveState(registry.sensors["sensor_id"].tolist())
    nc = Nowcaster(registry, state, hazards=("fire",))
    row = int(state.index_of("SN006")[0])  # smoke alarm of building B0005
    state.apply(np.array([row]), np.array([0.0]), np.array([T0]), T0)
    assert nc.cycle(T0) == []
    state.apply(np.array([row]), np.array([1.0]), np.array([T0 + 60]), T0 + 60)
    events = nc.cycle(T0 + 60)
    grid = registry.buildings.set_index("building_id").loc["B0005", "grid_id"]
    assert [(e["hazard"], e["area_id"], e["level"]) for e in events] == [("fire", grid, 4)]
    assert nc.latest["fire"]["burning"] == ["B0005"]


def test_a_dense_crowd_at_a_counted_place_raises_a_crowd_warning() -> None:
    registry = tiny_registry()
    state = LiveState(registry.sensors["sensor_id"].tolist())
    nc = Nowcaster(registry, state, hazards=("crowd",))
    row = int(state.index_of("SN009")[0])  # people counter of square F03, 3000 m²
    state.apply(np.array([row]), np.array([3000.0]), np.array([T0]), T0)  # 1 p/m²
    assert nc.cycle(T0) == []
    state.apply(np.array([row]), np.array([12600.0]), np.array([T0 + 60]), T0 + 60)  # 4.2
    events = nc.cycle(T0 + 60)
    # 4.2 p/m² is orange; 12 600 people exposed (≥ 200) escalate it to red
    assert [(e["hazard"], e["level"]) for e in events] == [("crowd", 4)]


def test_stale_readings_are_not_used() -> None:
    registry = tiny_registry()
    state = LiveState(registry.sensors["sensor_id"].tolist())
    nc = Nowcaster(registry, state, hazards=("fire",))
    row = int(state.index_of("SN006")[0])
    state.apply(np.array([row]), np.array([1.0]), np.array([T0]), T0)
    state.mark_stale(T0 + 3600, 60.0)
    assert nc.cycle(T0 + 3600) == []
