"""The flood nowcast runs ahead from a copy of its live state, sampled where sensors stand."""

from __future__ import annotations

import numpy as np
import pytest

from sim.flood.model import FloodModel
from sim.nowcast.flood import FloodNowcast
from twin.samples import tiny_registry

T0 = 1_782_864_000.0
MM_H = 1.0 / 3.6e6


@pytest.fixture(scope="module")
def nowcast() -> FloodNowcast:
    return FloodNowcast(tiny_registry(), cell_m=10.0, horizon_s=1200.0, snapshot_s=300.0)


def test_forecast_copies_the_live_state_and_leaves_it_untouched(nowcast, monkeypatch) -> None:
    nowcast.reset()
    rain = np.full(len(nowcast.gauge_rows), 60.0 * MM_H)
    for k in range(4):  # 15 min of 60 mm/h observed
        nowcast.observe(T0 + 300.0 * k, rain)
    before = nowcast.model.depth.copy()
    t_before, steps_before = nowcast.model.time, nowcast.model.n_steps
    copies = []
    real_copy = FloodModel.copy
    monkeypatch.setattr(FloodModel, "copy", lambda m: copies.append(m) or real_copy(m))
    seen = []
    fc = nowcast.forecast(on_sample=lambda k, h: seen.append((k, float(h.sum()))))
    assert copies == [nowcast.model]  # one copy of the analysis, no run from the start
    assert nowcast.model.time == t_before and nowcast.model.n_steps == steps_before
    np.testing.assert_array_equal(nowcast.model.depth, before)
    assert fc.lead_s.tolist() == [0.0, 300.0, 600.0, 900.0, 1200.0]
    assert [k for k, _ in seen] == [0, 1, 2, 3, 4]
    # 20 more minutes of rain at 60 mm/h cannot leave less water than there is now
    assert seen[-1][1] > seen[0][1] == pytest.approx(float(before.sum()), rel=1e-6)
    assert fc.issued == pytest.approx(T0 + 900.0)


def test_sensor_reads_the_deepest_open_cell_within_its_radius(nowcast) -> None:
    h = np.zeros(nowcast.grid.shape)
    smp_near = nowcast.sensor_sampler_of(10.0)
    smp_far = nowcast.sensor_sampler_of(60.0)
    far_cells = np.setdiff1d(smp_far.flat, smp_near.flat)
    assert far_cells.size > 0
    h.ravel()[far_cells[0]] = 0.4  # a low spot 10–60 m from the sensor
    assert smp_near.max_of(h)[0] == 0.0
    assert smp_far.max_of(h)[0] == pytest.approx(0.4)
    # a radius below one cell is raised to one cell
    assert FloodNowcast(tiny_registry(), cell_m=10.0, sensor_radius_m=1.0).sensor_radius_m == 10.0
