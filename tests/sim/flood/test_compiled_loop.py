"""Flood model: the compiled loop over steps equals stepping from Python, bit for bit."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sim.flood import FloodModel
from sim.flood import kernels as kern
from sim.flood.rain import chicago_storm
from sim.flood.validate import _grid, urban_dem

FIELDS = ("h", "qx", "qy", "max_depth", "t_first")


def _model(rain, parallel: bool) -> FloodModel:
    z, bld = urban_dem(60, 2.0)
    return FloodModel(
        _grid(z, 2.0),
        manning=0.03,
        building_mask=bld,
        drain_capacity_mm_h=10.0,
        boundaries={"west": ("level", float(z[:, 0].min()) + 0.05), "east": ("free", 0.002)},
        threshold=0.02,
        rain=rain,
        parallel=parallel,
    )


def _count_calls(model: FloodModel) -> list[int]:
    calls = [0]
    kernel = model._advance_kernel

    def counted(*args):
        calls[0] += 1
        return kernel(*args)

    model._advance_kernel = counted
    return calls


@pytest.mark.parametrize("parallel", [False, True])
def test_compiled_loop_equals_python_steps(parallel):
    # a Chicago storm (piecewise constant: the compiled loop evaluates it) against the same
    # storm behind a lambda (a callable: Python evaluates it and the kernel takes one step)
    storm = chicago_storm(5.0, duration_min=10.0, step_min=2.0)
    fast, slow = _model(storm, parallel), _model(lambda t: storm(t), parallel)
    fast_calls, slow_calls = _count_calls(fast), _count_calls(slow)
    for m in (fast, slow):
        m.run_until(900.0, output_interval=300.0)
    assert fast_calls[0] == 3  # one call per output interval
    assert slow_calls[0] == slow.n_steps > 100  # one per step
    assert fast.n_steps == slow.n_steps and fast.time == slow.time == 900.0
    for name in FIELDS:
        assert np.array_equal(getattr(fast, name), getattr(slow, name), equal_nan=True), name
    assert fast.volumes == slow.volumes
    assert fast.volumes["rain"] > 0 and fast.volumes["drained"] > 0
    assert fast.volumes["boundary_in"] > 0 and fast.volumes["boundary_out"] > 0
    assert np.isfinite(fast.t_first).sum() > 100
    assert abs(fast.mass_balance()["mass_balance_error"]) < 1e-6


@pytest.mark.parametrize("n", [1, 7, 8, 9, 127, 128, 129, 255, 1000, 1001, 4099])
def test_column_sum_is_numpy_sum(n):
    rng = np.random.default_rng(n)
    a = rng.normal(size=(n, 3)) * 10.0 ** rng.uniform(-6, 6, size=(n, 3))
    for col in range(3):
        assert kern.column_sum(a, col) == a[:, col].sum()


def test_volume_bookkeeping_is_plain_float64_arithmetic():
    # compiled as part of the fast-math step loop, the bookkeeping must still round every
    # operation as Python does (no fused multiply-add); these numbers tell the two apart
    _model(0.0, False).run_one_step(1.0)
    rate, vol, dt, ny, nx, area = 0.1 / 3600.0, 11.11111111111111, 5.0, 100, 100, 4.0
    acc = np.zeros(kern.N_ACC)
    acc[kern.ACC_RAIN], acc[kern.ACC_RAIN_RATE] = vol, rate
    run = np.zeros(kern.N_RUN)
    run[kern.RUN_UNIFORM], run[kern.RUN_AREA] = 1.0, area
    kern._book(acc, np.zeros((ny, kern.N_OUT)), np.zeros((1, nx), np.float32), dt, run)
    product = rate * ny * nx * area
    fused = float(Fraction(product) * Fraction(dt) + Fraction(vol))
    assert vol + product * dt != fused
    assert acc[kern.ACC_RAIN] == vol + product * dt
    assert acc[kern.ACC_TIME] == dt and acc[kern.ACC_STEPS] == 1.0


def test_rain_field_on_a_one_row_grid_is_booked():
    # a channel one cell wide given its rain as a (1, nx) field: what fell is booked
    rain = np.linspace(0.0, 2e-5, 50, dtype=np.float32)[None, :]
    m = FloodModel(_grid(np.zeros((1, 50)), 2.0), rain=rain)
    m.run_until(100.0)
    assert m.volumes["rain"] == pytest.approx(float(rain.sum(dtype=np.float64)) * 4.0 * 100.0)
    assert abs(m.mass_balance()["mass_balance_error"]) < 1e-6
