"""Crowding: densities and bands, forecast skill against persistence, flags before danger."""

from __future__ import annotations

import numpy as np
import pytest

from sim.crowd.bench import bench_crowd, run_crowd_bench
from sim.crowd.density import (
    DANGEROUS_DENSITY,
    crowd_density,
    density_edges,
    level_of_service,
    safety_band,
)
from sim.crowd.flags import crowding_flags, flag_lead_times
from sim.crowd.synthetic import synthetic_crowd_series

#: the flag must come at least this long before the dangerous density is reached
MIN_LEAD_MIN = 5.0


def test_density_hand_checked() -> None:
    # 1200 people on a 600 m² square; 300 on 1000 m²; unknown area
    d = crowd_density([1200, 300, 50], [600.0, 1000.0, np.nan])
    assert d[:2].tolist() == [2.0, 0.3]
    assert np.isnan(d[2])


def test_fruin_walkway_bands_from_square_feet() -> None:
    # 35, 25, 15, 10, 5 ft²/person → p/m²
    assert density_edges("walkway") == pytest.approx([0.3075, 0.4306, 0.7176, 1.0764, 2.1528], 1e-3)
    assert level_of_service([0.30, 0.31, 0.5, 0.9, 1.5, 2.2]).tolist() == [
        "A",
        "B",
        "C",
        "D",
        "E",
        "F",
    ]
    # standing crowds: 13, 10, 7, 3, 2 ft²/person
    assert level_of_service([0.8, 1.0, 1.2, 2.0, 4.0, 6.0], "queuing").tolist() == [
        "A",
        "B",
        "C",
        "D",
        "E",
        "F",
    ]


def test_still_safety_bands() -> None:
    bands = safety_band([0.5, 2.0, 2.9, 3.0, 4.99, 5.0, 7.5, np.nan]).tolist()
    assert bands == [
        "free",
        "flow_peak",
        "flow_peak",
        "restricted",
        "restricted",
        "dangerous",
        "turbulent",
        "",
    ]
    assert DANGEROUS_DENSITY == 5.0


def test_synthetic_series_is_seeded_and_has_a_daily_cycle() -> None:
    t1, y1, e1 = synthetic_crowd_series(np.random.default_rng(3), days=3)
    _, y2, _ = synthetic_crowd_series(np.random.default_rng(3), days=3)
    assert np.array_equal(y1, y2)
    assert t1.size == 3 * 1440
    hour = ((t1 + 8 * 3600) % 86400) / 3600
    quiet = np.median(y1[(hour > 2) & (hour < 4)])
    evening = np.median(y1[(hour > 19.5) & (hour < 20.5)])
    assert quiet < 0.2 < 1.0 < evening


def test_flags_and_lead_time_hand_checked() -> None:
    y = np.array([1.0, 1.5, 2.5, 4.0, 5.5, 6.0])
    path = np.array([[1.2], [2.0], [5.2], [5.6], [6.0], [6.0]])
    flags = crowding_flags(y, path)
    assert flags.tolist() == [False, False, True, True, True, True]
    assert flag_lead_times(flags, y, 60.0).tolist() == [120.0]


@pytest.fixture(scope="module")
def bench() -> dict:
    # 28 days of training, 7 held out; three horizons to keep the test quick
    return run_crowd_bench(seed=7, horizons_s=(600, 1200, 1800), train_every=3)


def test_forecast_beats_persistence_on_held_out_week(bench) -> None:
    print(
        "crowd forecast MAE (p/m²) at",
        bench["horizons_min"],
        "min: model",
        bench["mae_model"],
        "persistence",
        bench["mae_persistence"],
    )
    for model, persistence in zip(bench["mae_model"], bench["mae_persistence"], strict=True):
        assert model < 0.85 * persistence


def test_flag_comes_before_the_dangerous_density(bench) -> None:
    print("flag lead times (min):", bench["flag_lead_min"], "false runs", bench["false_flag_runs"])
    assert bench["crossings"] >= 3
    assert min(bench["flag_lead_min"]) >= MIN_LEAD_MIN
    assert bench["median_flag_lead_min"] >= 10.0
    assert bench["false_flag_runs"] <= 2


@pytest.mark.bench
def test_crowd_bench_smoke_returns_figures() -> None:
    class Args:
        smoke, quick, json = True, False, True

    out = bench_crowd(Args())
    assert len(out["mae_model"]) == len(out["mae_persistence"]) == 2
    assert out["days_test"] == 3
