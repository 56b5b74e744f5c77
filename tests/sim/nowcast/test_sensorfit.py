"""Per-sensor depth factors: each sensor's ratio to the model, shrunk toward the pooled one."""

from __future__ import annotations

import numpy as np
import pytest

from sim.nowcast.flood import FloodNowcast
from sim.nowcast.sensorfit import fit_sensor_factors
from twin.samples import tiny_registry

T0 = 1_782_864_000.0
MM_H = 1.0 / 3.6e6


def test_factors_are_the_shrunk_ratio_over_the_pooled_one() -> None:
    # two storms (rows), three sensors: sensor 1 reads twice sensor 0, sensor 2 never wet
    # in the model; pooled a = Σmt / Σm² = 15 / 10 = 1.5, λ = mean(m²) = 10 / 6
    m = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0]])
    t = np.array([[1.0, 2.0, 0.05], [2.0, 4.0, 0.05]])
    # own ratios 1 and 2, over the pooled 1.5; the dry sensor has no evidence: 1
    np.testing.assert_allclose(fit_sensor_factors(m, t, prior_storms=0.0), [2 / 3, 4 / 3, 1.0])
    # a_0 = (5 + 2.5) / (5 + 10/6) = 1.125, a_1 = (10 + 2.5) / (5 + 10/6) = 1.875
    np.testing.assert_allclose(fit_sensor_factors(m, t, prior_storms=1.0), [0.75, 1.25, 1.0])
    # a heavy prior pulls every sensor to the pooled ratio
    np.testing.assert_allclose(fit_sensor_factors(m, t, prior_storms=1e9), 1.0, atol=1e-6)


def test_factors_are_one_when_the_model_never_had_water() -> None:
    out = fit_sensor_factors(np.zeros((3, 4)), np.full((3, 4), 0.1))
    assert out.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_nowcast_scales_each_sensor_by_its_own_factor() -> None:
    reg = tiny_registry()
    kw = {"cell_m": 10.0, "horizon_s": 600.0, "snapshot_s": 300.0}
    plain = FloodNowcast(reg, depth_scale=1.0, **kw)
    n = len(plain.road_sensor_rows)
    per = 0.5 * np.arange(1, n + 1)
    scaled = FloodNowcast(reg, depth_scale=0.5, sensor_depth_scale=per, **kw)
    assert scaled.sensor_depth_scale.tolist() == per.tolist()
    assert FloodNowcast(reg, depth_scale=0.3, **kw).sensor_depth_scale.tolist() == [0.3] * n
    rain = np.full(len(plain.gauge_rows), 80.0 * MM_H)
    for nc in (plain, scaled):
        for k in range(4):
            nc.observe(T0 + 300.0 * k, rain)
    a, b = plain.forecast(), scaled.forecast()
    assert a.sensor_depth.max() > 0.0
    np.testing.assert_allclose(b.sensor_depth, a.sensor_depth * per, rtol=1e-6)
    # roads and buildings keep the scalar scale
    np.testing.assert_allclose(b.road_depth, a.road_depth * 0.5, rtol=1e-6)
    np.testing.assert_allclose(b.building_depth, a.building_depth * 0.5, rtol=1e-6)
    with pytest.raises(ValueError):
        FloodNowcast(reg, sensor_depth_scale=np.ones(n + 1), **kw)
