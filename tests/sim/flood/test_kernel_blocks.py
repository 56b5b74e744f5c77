"""Flood kernel: row blocks and their edge tables never change a result, whatever the blocking."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sim.flood import MM_H, FloodModel
from sim.flood import kernels as kern


def _grid(z: np.ndarray, dx: float) -> xr.DataArray:
    ny, nx = z.shape
    return xr.DataArray(
        z,
        dims=("y", "x"),
        coords={"y": (np.arange(ny) + 0.5) * dx, "x": (np.arange(nx) + 0.5) * dx},
    )


def _model(parallel: bool, precision: str, blocks: int | None = None) -> FloodModel:
    # every edge kind at once, a rain field varying in time, a point inflow and roughness per
    # cell: the edge tables must carry level and free edges and field inputs across blocks
    ny, nx = 28, 24
    rng = np.random.default_rng(11)
    z = rng.normal(0.0, 0.04, (ny, nx)) + np.linspace(0.0, 0.3, nx)[None, :]
    z += np.linspace(0.0, 0.2, ny)[:, None]
    bld = np.zeros((ny, nx), bool)
    bld[12:16, 6:10] = True  # a building across a block edge
    pattern = 1.0 + 0.5 * np.sin(0.3 * np.arange(ny * nx)).reshape(ny, nx)
    m = FloodModel(
        _grid(z, 2.0),
        rain=lambda t: 120.0 * MM_H * pattern * (1.0 + 1e-3 * t),
        manning=0.02 + 0.03 * (z > 0.2),
        building_mask=bld,
        drain_capacity_mm_h=15.0,
        boundaries={
            "south": ("level", 0.25),
            "north": ("free", 0.01),
            "east": ("level", lambda t: 0.45 + 1e-4 * t),
            "west": ("free", 0.005),
        },
        inflows=[(10.0, 30.0, 0.2)],
        parallel=parallel,
        precision=precision,
    )
    if blocks is not None:
        m._alloc_scratch(blocks)
    return m


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_thinnest_blocks_equal_one_serial_sweep(precision):
    # 28 rows in 7 blocks of 4 (the minimum: the edge tables of both edges meet) and in 3
    # uneven blocks, against the serial kernel in one block
    ref = _model(False, precision)
    thin = _model(True, precision, blocks=7)
    uneven = _model(True, precision, blocks=3)
    assert np.diff(thin._blocks).min() == kern.MIN_BLOCK_ROWS
    for m in (ref, thin, uneven):
        m.run_until(240.0)
    assert float(ref.h.max()) > 0.1  # water has gathered: the comparison means something
    assert ref.volumes["boundary_in"] > 0.0 and ref.volumes["boundary_out"] > 0.0
    for other in (thin, uneven):
        assert np.array_equal(ref.h, other.h)
        assert np.array_equal(ref.qx, other.qx) and np.array_equal(ref.qy, other.qy)
        assert np.array_equal(ref.max_depth, other.max_depth)
        assert np.array_equal(ref.t_first, other.t_first, equal_nan=True)
        assert ref.volumes == other.volumes and ref.n_steps == other.n_steps
    assert abs(ref.mass_balance()["mass_balance_error"]) < 1e-6


def test_blocks_are_never_thinner_than_the_edge_tables_reach():
    m = _model(True, "float32", blocks=50)  # more blocks than 28 rows allow
    assert np.diff(m._blocks).min() >= kern.MIN_BLOCK_ROWS
    assert len(m._blocks) - 1 == 28 // kern.MIN_BLOCK_ROWS
