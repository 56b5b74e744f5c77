"""``streettwin bench warning`` smoke: storms replayed, calibrated on other seeds, scored."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from sim.nowcast import bench
from sim.nowcast.flood import FloodNowcast
from sim.nowcast.replay import storm_params


def test_storms_are_seeded_and_within_their_ranges() -> None:
    a, b = storm_params(1000, (0.0, 0.0)), storm_params(1000, (0.0, 0.0))
    assert a == b and a != storm_params(1001, (0.0, 0.0))
    for seed in range(1000, 1020):
        p = storm_params(seed, (0.0, 0.0))
        assert 10.0 <= p["total_mm"] <= 90.0 and 3600.0 <= p["duration_s"] <= 3 * 3600.0
        assert max(abs(p["center"][0]), abs(p["center"][1])) <= 3000.0


def test_training_and_scored_seeds_do_not_overlap() -> None:
    train = set(range(bench.TRAIN_SEED0, bench.TRAIN_SEED0 + bench.N_TRAIN))
    scored = set(range(bench.SCORE_SEED0, bench.SCORE_SEED0 + bench.N_STORMS))
    assert not train & scored and bench.N_STORMS >= 20


@pytest.mark.bench
def test_bench_warning_smoke_scores_every_sensor_storm_once(monkeypatch) -> None:
    monkeypatch.setattr(bench, "RADII_M", (10.0, 20.0))
    monkeypatch.setattr(bench, "SCALES", (0.5, 1.0))
    seen: list[np.ndarray] = []
    real_observe = FloodNowcast.observe

    def spy(self, t, rates):
        seen.append(np.asarray(rates))
        return real_observe(self, t, rates)

    monkeypatch.setattr(FloodNowcast, "observe", spy)
    out = bench.bench_warning(argparse.Namespace(smoke=True, json=True))
    # the twin heard its rain gauges and nothing else
    assert seen and all(r.shape == (out["gauges"],) for r in seen)
    assert all(np.all(np.nan_to_num(r) >= 0.0) for r in seen)
    assert out["storms"] == bench.N_STORMS_SMOKE and out["training_storms"] == bench.N_TRAIN_SMOKE
    assert out["score_seeds"][0] == bench.SCORE_SEED0
    assert out["training_seeds"][0] == bench.TRAIN_SEED0
    assert out["sensor_radius_m"] in (10.0, 20.0) and out["depth_scale"] in (0.5, 1.0)
    table = out["hits"] + out["late"] + out["misses"] + out["false_alarms"]
    assert table + out["correct_negatives"] == out["pairs"] == out["storms"] * out["sensors"]
    assert out["events"] == out["hits"] + out["late"] + out["misses"]
    assert len(out["storms_detail"]) == out["storms"]
    assert isinstance(out["passed"], bool) and out["horizon_min"] >= 30.0
