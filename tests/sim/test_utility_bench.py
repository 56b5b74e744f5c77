"""Smoke run of ``streettwin bench faults`` on the tiny district."""

from __future__ import annotations

import argparse

import pytest

from sim.utility.bench import bench_faults


@pytest.mark.bench
def test_bench_faults_smoke_scores_every_injected_kind():
    out = bench_faults(argparse.Namespace(smoke=True, json=True, buildings=None))
    assert out["district"] == "tiny"
    assert set(out["per_kind"]) == {
        "pipe_burst",
        "feeder_outage",
        "gas_leak",
        "device_silent",
        "sensor_stuck",
        "sensor_drift",
    }
    assert out["faults_injected"] == 7
    assert out["per_kind"]["pipe_burst"]["detection_rate"] == 1.0
    assert out["per_kind"]["device_silent"]["detection_rate"] == 1.0
    assert out["burst_location_error_m"] is not None
    assert out["false_alarms_per_sensor_week"] <= 1.0 * 7  # tiny: 15 sensors, half a day
