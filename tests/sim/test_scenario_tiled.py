"""Tiled city-scale flood: equal to the untiled run with the same steps; too small a halo is not."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sim.flood.rain import uniform_storm
from sim.scenario.tiled import TiledFlood, _ring


def _case(n: int = 36):
    rng = np.random.default_rng(3)
    x = (np.arange(n) + 0.5) * 2.0
    xx, yy = np.meshgrid(x, x)
    z = 0.004 * xx + 0.002 * yy + rng.normal(0, 0.03, (n, n))
    z -= 0.5 * np.exp(-((xx - 30) ** 2 + (yy - 40) ** 2) / 200.0)
    blocks = (np.arange(n) % 9) >= 5
    bld = blocks[:, None] & blocks[None, :]
    dem = xr.DataArray(z, dims=("y", "x"), coords={"y": x, "x": x})
    kw = {
        "manning": np.where(rng.random((n, n)) < 0.3, 0.015, 0.05),
        "building_mask": bld,
        "drain_capacity_mm_h": 15.0,
        "rain": uniform_storm(150.0, 300.0),
        "boundaries": {"west": ("free", 0.004)},
        "parallel": False,
    }
    return dem, kw


def _run(tiles, halo, sync=None, t_end=600.0):
    dem, kw = _case()
    m = TiledFlood(dem, tiles=tiles, halo=halo, sync_steps=sync, **kw)
    m.run_until(t_end)
    return m, m.fields()


@pytest.fixture(scope="module")
def untiled():
    return _run((1, 1), 4, sync=2)


def test_tiled_equals_untiled(untiled):
    ref_model, ref = untiled
    model, got = _run((2, 3), 4)  # halo 4 → 2 steps between exchanges
    assert model.n_tiles == 6 and model.sync_steps == 2
    assert model.n_steps == ref_model.n_steps
    assert float(ref["max_depth"].max()) > 0.05  # water moved across tile borders
    np.testing.assert_allclose(got["depth"], ref["depth"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got["max_depth"], ref["max_depth"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        got["time_first_exceedance"], ref["time_first_exceedance"], rtol=0, atol=1e-3
    )


def test_whole_row_tiles_equal_untiled_and_report_the_core_maximum(untiled):
    """Tiles of whole rows take their core maximum from the kernel's per-row maxima."""
    ref_model, ref = untiled
    model, got = _run((3, 1), 4)
    assert model.n_tiles == 3 and model.n_steps == ref_model.n_steps
    np.testing.assert_allclose(got["depth"], ref["depth"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got["max_depth"], ref["max_depth"], rtol=0, atol=1e-6)
    for tile in model.tiles:
        rows, cols = tile._core
        assert cols.start == 0 and cols.stop == tile.model.shape[1]
        core_max = float(tile.model.h[rows, cols].max())
        assert core_max > 0.0
        assert tile.advance(1.0, 1) == float(tile.model.h[rows, cols].max())
        assert tile.advance(1.0, 1) != core_max  # the figure follows the step


def test_too_small_halo_breaks_the_match():
    dem, kw = _case()
    m = TiledFlood(dem, tiles=(2, 3), halo=2, **kw)
    m.sync_steps = 8  # bypass the guard: wrong values now reach the cores
    m.run_until(600.0)
    _, same_steps = _run((1, 1), 4, sync=8)
    assert np.abs(m.fields()["depth"] - same_steps["depth"]).max() > 1e-5
    with pytest.raises(ValueError, match="sync_steps"):
        TiledFlood(_case()[0], tiles=(2, 2), halo=4, sync_steps=3)


def test_ring_rectangles_cover_outer_minus_inner_once():
    outer, inner = (0, 10, 0, 12), (2, 7, 3, 9)
    cover = np.zeros((10, 12), int)
    for r0, r1, c0, c1 in _ring(outer, inner):
        cover[r0:r1, c0:c1] += 1
    expect = np.ones((10, 12), int)
    expect[2:7, 3:9] = 0
    np.testing.assert_array_equal(cover, expect)
