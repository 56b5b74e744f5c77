"""The threaded window maximum that tiled runs take after every halo exchange."""

import numpy as np
import pytest

from sim.flood.kernels import max_depth_over


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_maximum_equals_numpy_and_ignores_cells_outside(dtype):
    rng = np.random.default_rng(3)
    h = rng.uniform(0.0, 1.0, (40, 30)).astype(dtype)
    h[2, 1] = 9.0  # outside the window below: must not count
    h[35, 20] = 4.25  # inside
    got = max_depth_over(h, 5, 38, 3, 27)
    assert got == 4.25
    assert got == h[5:38, 3:27].max()
    assert max_depth_over(h, 0, 40, 0, 30) == 9.0


def test_dry_and_empty_windows_give_zero():
    h = np.zeros((6, 6), np.float32)
    assert max_depth_over(h, 0, 6, 0, 6) == 0.0
    h[1, 1] = 0.5
    assert max_depth_over(h, 3, 3, 0, 6) == 0.0  # no rows


def test_model_window_maximum_from_row_maxima_or_a_pass():
    """Whole rows come from the kernel's per-row maxima; other windows from a pass over h."""
    from sim.flood.model import FloodModel
    from sim.flood.rain import uniform_storm
    from sim.flood.validate import _grid, urban_dem

    z, bld = urban_dem(40, 2.0)
    m = FloodModel(_grid(z, 2.0), building_mask=bld, rain=uniform_storm(100.0, 600.0))
    m.run_until(300.0)
    ny, nx = m.shape
    assert m.max_depth_in(5, 30, 0, nx) == m.h[5:30].max() > 0.0
    assert m.max_depth_in(0, ny, 0, nx) == m.h.max()
    assert m.max_depth_in(5, 30, 4, 17) == m.h[5:30, 4:17].max()
    m._out[:, :] = 0.0  # the row maxima are what whole rows read
    assert m.max_depth_in(5, 30, 0, nx) == 0.0
    assert m.max_depth_in(5, 30, 0, nx - 1) == m.h[5:30, : nx - 1].max()
