"""The world driver: determinism, faults, sensor faults and readings on the tiny registry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from sim.world import COMPONENTS, World
from sim.world.base import WORLD
from twin.samples import tiny_registry

#: Monday 2026-06-15 00:00 local time (UTC+8), as UTC epoch seconds
T0 = datetime(2026, 6, 15, tzinfo=timezone(timedelta(hours=8))).timestamp()


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


def make_world(registry, **kw) -> World:
    kw.setdefault("seed", 3)
    kw.setdefault("t0", T0)
    return World(registry, **kw)


def sensor_index(registry, sensor_id: str) -> int:
    return int(np.flatnonzero(registry.sensors["sensor_id"].to_numpy() == sensor_id)[0])


def test_same_seed_same_calls_give_identical_values(registry):
    runs = []
    for _ in range(2):
        w = make_world(registry)
        w.start_storm(total_mm=40, duration_s=3600, at=T0 + 600)
        out = []
        for k in range(1, 8):
            w.advance_to(T0 + k * 700.0)
            out.append(w.sensor_values())
        runs.append(np.array(out))
    np.testing.assert_array_equal(runs[0], runs[1])
    other = make_world(registry, seed=4)
    other.advance_to(T0 + 7 * 700.0)
    assert not np.allclose(other.sensor_values(), runs[0][-1], equal_nan=True)


def test_state_does_not_depend_on_how_advance_calls_are_split(registry):
    a, b = make_world(registry), make_world(registry)
    for w in (a, b):
        w.start_storm(total_mm=50, duration_s=3600, at=T0 + 300)
    a.advance_to(T0 + 5000.0)
    for t in (T0 + 17.0, T0 + 61.5, T0 + 1000.0, T0 + 1033.3, T0 + 4999.0, T0 + 5000.0):
        b.advance_to(t)
    np.testing.assert_array_equal(a.sensor_values(), b.sensor_values())
    ta, tb = a.truth(), b.truth()
    np.testing.assert_array_equal(ta["roads"].to_numpy(), tb["roads"].to_numpy())
    np.testing.assert_array_equal(ta["buildings"].to_numpy(), tb["buildings"].to_numpy())


def test_cannot_go_back_in_time(registry):
    w = make_world(registry)
    w.advance_to(T0 + 120)
    with pytest.raises(ValueError):
        w.advance_to(T0 + 60)


def test_components_declare_their_fields_and_read_only_what_is_written_before():
    written: set[str] = set()
    for cls in COMPONENTS:
        assert cls._name and cls.FIELDS, cls
        for name, spec in cls.FIELDS.items():
            assert "__" in name and spec.units and spec.doc, (cls._name, name)
        for name in cls.input_var_names():
            if cls.FIELDS[name].intent == "in":
                assert name in written, f"{cls._name} reads {name} before anyone writes it"
        written |= set(cls.output_var_names())
    # a field written by two components would make the run order matter silently
    owners = [n for cls in COMPONENTS for n in cls.output_var_names()]
    assert len(owners) == len(set(owners))
    assert any(spec.location == WORLD for cls in COMPONENTS for spec in cls.FIELDS.values())


def test_burst_lowers_pressure_downstream_not_elsewhere_and_raises_flow_upstream(registry):
    w = make_world(registry, sensor_noise=False)
    w.advance_to(T0 + 10 * 3600)
    before = w.truth()
    w.inject_fault("pipe_burst", "P02")  # W02 → W03; W05 hangs below W03 through P04
    w.advance_to(T0 + 10 * 3600 + 300)
    after = w.truth()
    ratio = after["water_nodes"]["pressure"] / before["water_nodes"]["pressure"]
    assert ratio["W03"] < 0.5 and ratio["W05"] < 0.5
    assert ratio["W04"] > 0.9 and ratio["W01"] > 0.9
    flow = after["water_pipes"]["flow_rate"] - before["water_pipes"]["flow_rate"]
    assert flow["P01"] == pytest.approx(0.05, rel=0.2)  # the default 50 L/s leak
    assert flow["P02"] == pytest.approx(0.05, rel=0.2)
    assert abs(flow["P03"]) < 0.005
    # the pressure sensor SN010 on W03 sees it too
    assert (
        w.sensor_values()[sensor_index(registry, "SN010")]
        < 0.5 * before["sensors"].loc["SN010", "true_value"]
    )


def test_feeder_outage_zeroes_power_of_exactly_its_buildings(registry):
    w = make_world(registry)
    w.advance_to(T0 + 12 * 3600)
    w.inject_fault("feeder_outage", "FD02", duration_s=1800)
    w.advance_to(T0 + 12 * 3600 + 120)
    power = w.truth()["buildings"]["power_demand"]
    on_fd02 = registry.buildings.set_index("building_id")["feeder_id"] == "FD02"
    assert (power[on_fd02.index[on_fd02]] == 0).all()
    assert (power[on_fd02.index[~on_fd02]] > 1000).all()
    assert w.truth()["elevators"].loc["SN014", "status"] == 3  # B0011 is on FD02: off
    w.advance_to(T0 + 12 * 3600 + 1800 + 60)
    assert (w.truth()["buildings"]["power_demand"] > 1000).all()  # restored after 30 min


def test_smoke_sets_the_alarm_only_in_that_building_and_heats_it(registry):
    w = make_world(registry)
    w.advance_to(T0 + 3600)
    t_before = w.truth()["buildings"].loc["B0005", "air_temperature"]
    w.inject_fault("smoke", "B0005")
    w.advance_to(T0 + 3600 + 180)
    alarm = w.truth()["buildings"]["smoke_alarm"]
    assert alarm["B0005"] == 1 and alarm.drop("B0005").sum() == 0
    values = w.sensor_values()
    assert values[sensor_index(registry, "SN006")] == 1  # smoke detector in B0005
    assert values[sensor_index(registry, "SN005")] == 0  # the one in B0001
    assert values[sensor_index(registry, "SN007")] > t_before + 50  # 0.5 K/s for 3 min


def test_gas_leak_raises_concentration_with_a_room_filling_lag(registry):
    w = make_world(registry, sensor_noise=False)
    w.inject_fault("gas_leak", "B0002", concentration=0.4)
    w.advance_to(T0 + 600)  # one time constant: 1 - 1/e of the way
    c = w.truth()["buildings"]["gas_concentration"]
    assert c["B0002"] == pytest.approx(0.4 * (1 - np.exp(-1)), rel=0.02)
    assert c.drop("B0002").max() == 0


def test_stuck_sensor_holds_its_value_while_truth_moves(registry):
    w = make_world(registry)
    i = sensor_index(registry, "SN012")  # power meter of the hospital
    w.advance_to(T0 + 2 * 3600)
    w.inject_fault("sensor_stuck", "SN012", at=T0 + 2 * 3600 + 90)
    seen, truth = [], []
    for h in range(3, 12):
        w.advance_to(T0 + h * 3600 + 17)
        seen.append(w.sensor_values()[i])
        truth.append(w.sensor_truth()[i])
    assert len(set(seen)) == 1
    assert max(truth) / min(truth) > 1.3  # the hospital's demand climbs into the morning
    assert w.truth()["sensors"].loc["SN012", "fault"] == "sensor_stuck"


def test_drift_grows_linearly_with_time(registry):
    w = make_world(registry, sensor_noise=False)
    i = sensor_index(registry, "SN010")
    w.inject_fault("sensor_drift", "SN010", at=T0 + 600, rate=2.0)  # 2 Pa/s
    offsets = []
    for h in (1, 2, 3):
        w.advance_to(T0 + 600 + h * 3600)
        offsets.append(w.sensor_values()[i] - w.sensor_truth()[i])
    np.testing.assert_allclose(offsets, [7200.0, 14400.0, 21600.0], rtol=1e-9)


def test_silent_device_gives_nan_for_all_and_only_its_sensors(registry):
    w = make_world(registry)
    w.inject_fault("device_silent", "gw-02", at=T0 + 60, duration_s=600)
    w.advance_to(T0 + 120)
    values = w.sensor_values()
    on_device = registry.sensors["device_id"].to_numpy() == "gw-02"
    assert np.isnan(values[on_device]).all()
    assert np.isfinite(values[~on_device]).all()
    w.advance_to(T0 + 1200)
    assert np.isfinite(w.sensor_values()).all()  # back after 10 min


def power_at(registry, t_start: float, hours: float = 1.0):
    """Building power demand after ``hours`` of spin-up from ``t_start``."""
    w = make_world(registry, t0=t_start)
    w.advance_to(t_start + hours * 3600)
    return w.truth()["buildings"]["power_demand"]


def test_power_demand_at_3am_local_is_below_7pm_local(registry):
    night = power_at(registry, T0 + 2 * 3600)  # Monday 03:00 local
    evening = power_at(registry, T0 + 18 * 3600)  # Monday 19:00 local
    assert (night < evening).all()
    assert evening.sum() > 1.5 * night.sum()


def test_office_power_lower_on_sunday_than_on_monday(registry):
    monday = power_at(registry, T0 + 10 * 3600)["B0011"]  # Monday 11:00
    sunday = power_at(registry, T0 - 86400 + 10 * 3600)["B0011"]  # Sunday 11:00
    assert sunday < 0.6 * monday


def test_all_readings_stay_within_sensor_ranges(registry):
    w = make_world(registry, seed=11)
    w.start_storm(total_mm=150, duration_s=3600, at=T0 + 1800, speed_m_s=0.5)
    w.inject_fault("smoke", "B0005", at=T0 + 600)
    w.inject_fault("sensor_drift", "SN009", at=T0, rate=10.0)  # drives the counter past max
    w.inject_fault("sensor_drift", "SN011", at=T0, rate=-1e-3)
    w.inject_fault("pipe_burst", "P01", at=T0 + 3600, pressure_loss=1.0)
    lo = registry.sensors["min_value"].to_numpy()
    hi = registry.sensors["max_value"].to_numpy()
    for k in range(1, 9):
        w.advance_to(T0 + k * 3600.0)
        v = w.sensor_values()
        ok = np.isfinite(v)
        assert ok.all()
        assert ((v >= lo) & (v <= hi)).all(), (k, v)


def test_events_record_storms_faults_and_crowd_events_with_times(registry):
    w = make_world(registry, spontaneous_faults=False)
    sid = w.start_storm(total_mm=30, duration_s=1800, at=T0 + 100)
    fid = w.inject_fault("feeder_outage", "FD01", at=T0 + 200, duration_s=300)
    cid = w.schedule_crowd_event("F03", T0 + 400, 3600, 2000)
    rows = {e["event_id"]: e for e in w.events()}
    assert rows[sid]["kind"] == "storm" and rows[sid]["end"] == T0 + 1900
    assert rows[fid]["kind"] == "feeder_outage" and rows[fid]["end"] == T0 + 500
    assert rows[cid]["target"] == "F03" and rows[cid]["params"]["peak_people"] == 2000
    w.advance_to(T0 + 250)
    active = w.truth()["active_faults"]
    assert list(active["event_id"]) == [fid]


def test_unknown_fault_kind_target_or_parameter_is_refused(registry):
    w = make_world(registry)
    with pytest.raises(ValueError):
        w.inject_fault("meteor", "B0001")
    with pytest.raises(ValueError):
        w.inject_fault("smoke", "B9999")
    with pytest.raises(ValueError):
        w.inject_fault("pipe_burst", "P01", colour="red")
    with pytest.raises(ValueError):
        w.schedule_crowd_event("F01", T0, 60, 10)  # a pump station is no crowd place


def test_forced_elevator_trap_and_clear(registry):
    w = make_world(registry)
    fid = w.inject_fault("elevator_trapped", "B0011")
    w.advance_to(T0 + 120)
    assert w.sensor_values()[sensor_index(registry, "SN014")] == 2
    w.clear_fault(fid)
    w.advance_to(T0 + 240)
    assert w.sensor_values()[sensor_index(registry, "SN014")] == 0


def test_world_runs_on_a_district_without_buildings_roads_or_networks(registry):
    from twin.registry import Registry

    empty = ("buildings", "roads", "water_nodes", "water_pipes", "facilities")
    layers = {k: (v.iloc[:0] if k in empty else v) for k, v in registry.layers.items()}
    sensors = registry.sensors
    layers["sensors"] = sensors[sensors["kind"].isin(["rain_gauge", "river_level"])]
    w = World(Registry(layers=layers, dem=registry.dem, meta=registry.meta), seed=0, t0=T0)
    w.start_storm(total_mm=20, duration_s=600)
    w.advance_to(T0 + 900.5)
    assert np.isfinite(w.sensor_values()).all()
    assert w.truth()["buildings"].empty


def test_run_realtime_advances_at_most_speed_times_wall_time(registry):
    import threading
    import time

    w = make_world(registry, speed=600.0)
    stop, ticks = threading.Event(), []
    thread = threading.Thread(
        target=w.run_realtime, kwargs={"stop": stop, "tick_s": 0.05, "on_tick": ticks.append}
    )
    wall0 = time.monotonic()
    thread.start()
    while not ticks or w.t == T0:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    wall = time.monotonic() - wall0
    assert not thread.is_alive() and ticks[0] is w
    assert T0 < w.t <= T0 + 600.0 * wall
