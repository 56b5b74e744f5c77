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
