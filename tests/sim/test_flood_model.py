"""Flood model: hand-checked cases, conservation, analytic channels, outputs, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sim.flood import MM_H, FloodModel
from sim.flood.validate import lake_at_rest, macdonald


def grid(z, dx=1.0):
    z = np.asarray(z, float)
    ny, nx = z.shape
    return xr.DataArray(
        z,
        dims=("y", "x"),
        name="elevation",
        attrs={"dx": dx},  # a one-cell grid cannot show its spacing in its coordinates
        coords={"y": (np.arange(ny) + 0.5) * dx, "x": (np.arange(nx) + 0.5) * dx},
    )


@pytest.mark.parametrize(("precision", "rel"), [("float64", 1e-12), ("float32", 1e-6)])
def test_single_cell_rain_accumulates_rain_times_time(precision, rel):
    m = FloodModel(grid([[0.0]]), rain=36.0 * MM_H, parallel=False, precision=precision)
    m.run_until(100.0)  # 36 mm/h = 1e-5 m/s for 100 s
    assert m.h.dtype == np.dtype(precision)
    assert m.h[0, 0] == pytest.approx(1e-3, rel=rel)
    assert m.mass_balance()["volume_rain_m3"] == pytest.approx(1e-3, rel=1e-12)
    assert abs(m.mass_balance()["mass_balance_error"]) < rel


def test_drain_removes_exactly_its_capacity():
    m = FloodModel(
        grid([[0.0]], dx=2.0),
        rain=100.0 * MM_H,
        drain_capacity_mm_h=60.0,
        parallel=False,
        precision="float64",
    )
    m.run_until(3600.0)
    assert m.h[0, 0] == pytest.approx(0.040, rel=1e-9)
    assert m.volumes["drained"] == pytest.approx(0.060 * 4.0, rel=1e-9)
    assert abs(m.mass_balance()["mass_balance_error"]) < 1e-12


def test_tilted_plane_reaches_manning_normal_depth():
    # q = 0.1 m2/s on a 1 % plane, n = 0.03: h_n = (n q / sqrt(S))^(3/5) = 0.03^0.6 = 0.1220 m
    n_cells, dx, slope, q = 100, 2.0, 0.01, 0.1
    z = (slope * dx * (n_cells - np.arange(n_cells)))[None, :]
    m = FloodModel(
        grid(z, dx),
        manning=0.03,
        inflows=[(1.0, 1.0, q * dx)],
        boundaries={"east": ("free", slope)},
        parallel=False,
        precision="float64",
    )
    m.run_until(3000.0)
    h_n = (0.03 * q / np.sqrt(slope)) ** 0.6
    assert h_n == pytest.approx(0.1220, abs=1e-4)
    assert m.h[0, 40:90] == pytest.approx(h_n, rel=0.01)
    assert m.qx[0, 50] == pytest.approx(q, rel=0.01)
    assert abs(m.mass_balance()["mass_balance_error"]) < 1e-12


def test_buildings_block_flow_and_send_roof_rain_to_the_sewer():
    z = np.zeros((1, 3))
    m = FloodModel(
        grid(z),
        building_mask=np.array([[False, True, False]]),
        parallel=False,
        initial_depth=np.array([[0.5, 0.0, 0.0]]),
        rain=36.0 * MM_H,
        precision="float64",
    )
    m.run_until(100.0)
    assert m.h[0, 1] == 0.0
    assert m.h[0, 2] == pytest.approx(1e-3, rel=1e-12)  # only its own rain
    assert m.volumes["drained"] == pytest.approx(1e-3, rel=1e-12)  # the roof's rain


def test_lake_at_rest_stays_at_rest_and_conserves_mass():
    case = lake_at_rest(n=24, t_end=120.0)
    assert case["figure"] < 1e-6
    assert case["mass_balance_error"] < 1e-6  # float32 storage rounds each depth to 6e-8
    assert case["passed"]


@pytest.mark.parametrize(("rain", "tol"), [(False, 0.03), (True, 0.035)])
def test_macdonald_channel_matches_swashes(rain, tol):
    case = macdonald(rain=rain, cells=200, t_end=5000.0)
    assert case["figure"] < tol, case
    assert case["mass_balance_error"] < 1e-6


def test_dataset_has_cf_attributes_and_round_trips_netcdf(tmp_path):
    z = np.add.outer(np.zeros(6), np.linspace(0.5, 0.0, 8))
    m = FloodModel(grid(z), rain=200.0 * MM_H, threshold=0.01, parallel=False, precision="float64")
    m.run_until(600.0, output_interval=300.0)
    ds = m.to_dataset()
    assert ds["depth"].shape == (3, 6, 8)
    assert ds["time"].values.tolist() == [0.0, 300.0, 600.0]
    assert ds["depth"].attrs["units"] == "m" and ds["speed"].attrs["units"] == "m s-1"
    assert ds["elevation"].attrs["standard_name"] == "surface_altitude"
    assert ds.attrs["Conventions"] == "CF-1.8"
    assert abs(ds.attrs["mass_balance_error"]) < 1e-12
    first = ds["time_first_exceedance"].to_numpy()
    assert np.nanmin(first) > 0.0 and np.nanmax(first) <= 600.0
    path = tmp_path / "flood.nc"
    ds.to_netcdf(path)
    back = xr.load_dataset(path)
    xr.testing.assert_identical(back, ds)


def _storm_model(parallel, precision="float32", blocks=None):
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 0.05, (30, 40)) + np.linspace(0, 0.3, 40)[None, :]
    bld = np.zeros(z.shape, bool)
    bld[10:14, 10:16] = True
    m = FloodModel(
        grid(z, 2.0),
        rain=150.0 * MM_H,
        manning=0.02 + 0.03 * (z > 0.1),
        building_mask=bld,
        drain_capacity_mm_h=20.0,
        parallel=parallel,
        boundaries={"west": ("free", 0.005)},
        precision=precision,
    )
    if blocks is not None:
        m._alloc_scratch(blocks)  # force a row-block split (the default follows the threads)
    return m


def test_runs_are_deterministic_and_parallel_equals_serial():
    # 30 rows in 2 and 5 blocks (halo snapshots at the block edges) against one serial sweep
    a, b, c, d = (
        _storm_model(True, blocks=2),
        _storm_model(True, blocks=2),
        _storm_model(False),
        _storm_model(True, blocks=5),
    )
    for m in (a, b, c, d):
        m.run_until(300.0)
    assert a._blocks.tolist() == [0, 15, 30] and len(d._blocks) == 6
    assert np.array_equal(a.h, b.h)
    for other in (c, d):
        assert np.array_equal(a.h, other.h)
        assert np.array_equal(a.qx, other.qx) and np.array_equal(a.qy, other.qy)
        assert np.array_equal(a.max_depth, other.max_depth)
        assert np.array_equal(a.t_first, other.t_first, equal_nan=True)
        assert a.volumes == other.volumes
    assert abs(a.mass_balance()["mass_balance_error"]) < 1e-6
    assert a.volumes["boundary_out"] > 0.0 and a.volumes["drained"] > 0.0


def test_float32_storage_agrees_with_float64():
    a, b = _storm_model(False, "float32"), _storm_model(False, "float64")
    for m in (a, b):
        m.run_until(300.0)
    assert b.h.dtype == np.float64 and a.h.dtype == np.float32
    assert float(b.h.max()) > 0.05  # water has gathered, so the comparison means something
    assert np.abs(a.h - b.h).max() < 1e-4
    assert a.volumes["boundary_out"] == pytest.approx(b.volumes["boundary_out"], rel=1e-3)
    assert abs(b.mass_balance()["mass_balance_error"]) < 1e-12


def test_copy_runs_independently():
    m = _storm_model(False)
    m.run_until(60.0)
    fc = m.copy()
    fc.run_until(120.0)
    assert m.time == 60.0 and fc.time == 120.0
    assert not np.shares_memory(m.h, fc.h) and not np.shares_memory(m._qx_b, fc._qx_b)
    m.run_until(120.0)
    assert np.array_equal(m.h, fc.h) and m.volumes == fc.volumes
