"""The damped rain trend: the slope of a gauge decays to persistence with an e-folding time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.nowcast import rainfc
from sim.nowcast.flood import FloodNowcast
from sim.nowcast.rainfc import GaugeSeries
from twin.samples import tiny_registry

T0 = 1_782_864_000.0
MM_H = 1.0 / 3.6e6


def _ramp(series: GaugeSeries, values_mm_h: list[float]) -> GaugeSeries:
    for k, v in enumerate(values_mm_h):  # one reading every 5 minutes
        series.add(T0 + 300.0 * k, np.array([v * MM_H]))
    return series


def test_damped_trend_decays_to_persistence_with_the_efolding_time() -> None:
    # 10, 20, 30, 40 mm/h: slope +10 mm/h per 300 s; tau = 600 s
    s = _ramp(GaugeSeries(1, trend_efold_s=600.0), [10.0, 20.0, 30.0, 40.0])
    fc = s.forecast(np.array([0.0, 300.0, 3600.0])) / MM_H
    # reach(300) = 600 (1 - e^-0.5) = 236.08 s -> 40 + 236.08/30 = 47.869 mm/h
    # reach(3600) = 600 (1 - e^-3) = 570.13 s (cap 1800 s: min(3600, 1800) / 600 = 3)
    #   -> 40 + 570.13/30 = 59.004 mm/h, below the ratio cap 2.5 x (40 + 10) = 125
    assert fc[:, 0] == pytest.approx([40.0, 47.869, 59.004], abs=1e-3)
    # the undamped line reaches the cap of 100 mm/h (40 + 60) at the same lead
    straight = _ramp(GaugeSeries(1), [10.0, 20.0, 30.0, 40.0])
    assert straight.forecast(np.array([3600.0]))[0, 0] / MM_H == pytest.approx(100.0)


def test_damped_trend_of_a_falling_gauge_stops_short_of_zero() -> None:
    s = _ramp(GaugeSeries(1, trend_efold_s=600.0), [40.0, 30.0, 20.0, 10.0])
    fc = s.forecast(np.array([300.0, 3600.0]))[:, 0] / MM_H
    # 10 - 236.08/30 = 2.131 mm/h; at 1 h 10 - 19.004 < 0 -> clipped to 0
    assert fc == pytest.approx([2.131, 0.0], abs=1e-3)


def test_trend_reach_limits() -> None:
    lead = np.array([0.0, 60.0, 1800.0, 7200.0])
    assert GaugeSeries(1).trend_reach(lead) == pytest.approx([0.0, 60.0, 1800.0, 1800.0])
    damped = GaugeSeries(1, trend_efold_s=900.0).trend_reach(lead)
    expect = [900.0 * (1.0 - math.exp(-x / 900.0)) for x in (0.0, 60.0, 1800.0, 1800.0)]
    assert damped == pytest.approx(expect)
    assert damped[1] == pytest.approx(60.0, rel=0.04)  # short leads: still the line
    with pytest.raises(ValueError):
        GaugeSeries(1, trend_efold_s=0.0)


def test_flood_nowcast_damps_with_the_module_efolding_time_across_resets() -> None:
    nowcast = FloodNowcast(tiny_registry(), cell_m=20.0, horizon_s=600.0, snapshot_s=300.0)
    assert nowcast.series.efold == rainfc.TREND_EFOLD_S
    nowcast.reset()
    assert nowcast.series.efold == rainfc.TREND_EFOLD_S and nowcast.series.mode == "trend"
