"""Utility fault detector on hand-made series: sensor faults versus network faults."""

from __future__ import annotations

import numpy as np
import pytest

from sim.utility.sensor_faults import SensorFaultTracker
from tests.sim.utility_helpers import STEP, metered_registry, noisy, trained


@pytest.fixture(scope="module")
def registry():
    return metered_registry()


def col(registry, sensor_id):
    return int(np.flatnonzero(registry.sensors["sensor_id"].to_numpy() == sensor_id)[0])


def feed(det, registry, rng, t_end, minutes, edit):
    """Feed ``minutes`` of noisy readings after ``t_end``, each edited by ``edit(t, v, k)``."""
    events = []
    for k in range(minutes):
        t = t_end + STEP * (k + 1)
        v = noisy(registry, np.array([t]), rng)[0]
        edit(t, v, k)
        events += det.update(t, v)
    return events


def test_quiet_readings_raise_no_event(registry):
    det, rng, t_end = trained(registry)
    assert feed(det, registry, rng, t_end, 360, lambda t, v, k: None) == []


def test_stuck_pressure_sensor_is_a_sensor_fault_not_a_burst(registry):
    det, rng, t_end = trained(registry)
    i = col(registry, "SN010")
    held = {}

    def stuck(t, v, k):
        held.setdefault("v", v[i])
        v[i] = held["v"]

    events = feed(det, registry, rng, t_end, 60, stuck)
    kinds = [(e["kind"], e["target"]) for e in events]
    assert kinds == [("sensor_stuck", "SN010")]
    assert events[0]["detected_at"] - (t_end + STEP) == pytest.approx(8 * STEP)


def test_drifting_power_meter_is_flagged_as_drift(registry):
    det, rng, t_end = trained(registry)
    i = col(registry, "PM-B0003")
    events = feed(det, registry, rng, t_end, 600, lambda t, v, k: v.__setitem__(i, v[i] + 40.0 * k))
    assert [(e["kind"], e["target"]) for e in events] == [("sensor_drift", "PM-B0003")]
    # 1 % noise of 50 kW ≈ 0.5 kW sd (after the daily cycle): 5 sd ≈ 2.5 kW → ~1 h + 20 min
    assert 40 * 60 < events[0]["detected_at"] - t_end < 4 * 3600


def test_burst_on_p02_is_located_at_p02_with_its_downstream_buildings(registry):
    det, rng, t_end = trained(registry)
    p, f = col(registry, "SN010"), col(registry, "SN011")  # pressure at W03, flow in P02

    def burst(t, v, k):
        if k >= 30:
            v[p] *= 0.4
            v[f] += 0.05

    events = feed(det, registry, rng, t_end, 60, burst)
    assert [(e["kind"], e["target"]) for e in events] == [("pipe_burst", "P02")]
    ev = events[0]
    assert ev["detected_at"] == t_end + 31 * STEP
    # W03 and W05 hang below P02: B0004, B0009 (hospital) and B0010–B0012
    assert sorted(ev["affected"]["building_ids"]) == ["B0004", "B0009", "B0010", "B0011", "B0012"]
    assert ev["affected"]["people"] == 60 + 650 + 120 + 500 + 210
    assert {"facility_id": "F06", "kind": "hospital"} in ev["affected"]["critical_facilities"]


def test_outage_is_pinned_to_the_feeder_whose_meters_die_together(registry):
    det, rng, t_end = trained(registry)
    on_fd02 = registry.buildings.set_index("building_id")["feeder_id"] == "FD02"
    ids = registry.sensors["entity_id"].to_numpy()
    meters = (registry.sensors["kind"].to_numpy() == "power_meter") & np.isin(
        ids, on_fd02.index[on_fd02]
    )

    def outage(t, v, k):
        if 10 <= k < 40:
            v[meters] = 0.0

    events = feed(det, registry, rng, t_end, 60, outage)
    assert [(e["kind"], e["target"]) for e in events] == [("feeder_outage", "FD02")]
    assert events[0]["affected"]["buildings"] == 4
    assert events[0]["cleared_at"] == t_end + 41 * STEP
    # one dead meter on FD01 (8 buildings) is no outage
    det, rng, t_end = trained(registry)
    j = col(registry, "PM-B0001")
    assert feed(det, registry, rng, t_end, 30, lambda t, v, k: v.__setitem__(j, 0.0)) == [] or all(
        e["kind"] != "feeder_outage" for e in det.events
    )


def test_gas_detector_alarm_needs_two_readings_and_lists_neighbours(registry):
    det, rng, t_end = trained(registry)
    g = col(registry, "SN008")  # gas detector in B0002
    spike = feed(
        det, registry, rng, t_end, 5, lambda t, v, k: v.__setitem__(g, 0.3 if k == 2 else 0)
    )
    assert spike == []
    events = feed(det, registry, rng, t_end + 300, 5, lambda t, v, k: v.__setitem__(g, 0.3))
    assert [(e["kind"], e["target"]) for e in events] == [("gas_leak", "B0002")]
    assert events[0]["affected"]["building_ids"] == ["B0002"]  # B0001 is 51 m away
    assert "B0001" in det.impacts.around_building("B0002", 60.0)["building_ids"]


def test_silent_device_after_two_polls(registry):
    det, rng, t_end = trained(registry)
    dev = registry.sensors["device_id"].to_numpy() == "gw-02"
    events = feed(det, registry, rng, t_end, 5, lambda t, v, k: v.__setitem__(dev, np.nan))
    assert [(e["kind"], e["target"]) for e in events] == [("device_silent", "gw-02")]
    assert events[0]["detected_at"] == t_end + 2 * STEP


def test_a_change_of_all_sensors_together_is_no_drift():
    tracker = SensorFaultTracker(np.array(["p"] * 5), np.ones(5, bool))
    rng = np.random.default_rng(1)
    flagged = []
    for k in range(200):
        z = 0.05 * k + 0.3 * rng.standard_normal(5)  # everyone rises slowly: weather, demand
        z[4] += 0.05 * k  # ... and sensor 4 twice as fast: it drifts away from the others
        out = tracker.update(rng.standard_normal(5), z, np.zeros(5), np.zeros(5, bool))
        flagged += out["drift"].tolist()
    assert flagged == [4]
