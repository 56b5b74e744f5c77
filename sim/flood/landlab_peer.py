"""Landlab's OverlandFlow (de Almeida et al. 2012) run on our grids: the peer for validation.

Landlab is a test dependency, imported only when these functions run. Our cells become the core
nodes of a Landlab raster with one closed ring of nodes around them.

Driving it: ``OverlandFlow.calc_time_step()`` gives Landlab's own CFL step
(``alpha * dx / sqrt(g * h_max)``) and ``run_one_step(dt)`` advances by it; point inflows are
added to the node depth before each step (Landlab has no point-source input of its own).

Speed: Landlab's Cython kernels use OpenMP ``prange``. On a shared 2-core machine whose cores
are also busy (our numba threads, other processes) OpenMP's spinning workers make every step
several times slower (measured here: 80 × 80 urban grid, 1,800 s of rain, 454 s of wall time
with the default two threads, 21 s with one). The peer therefore runs with ``threads`` OpenMP
threads (1 by default), set through ``threadpoolctl`` around its own steps only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np

G = 9.81  # m s-2, the value our model uses


class LandlabFlood:
    """OverlandFlow on an (ny, nx) elevation array with closed edges.

    Parameters
    ----------
    z : array (ny, nx)
        Elevation (m).
    dx : float
        Cell size (m).
    manning : float
        Manning's n.
    rain : float
        Rain intensity (m s-1), constant.
    inflows : sequence of ((i, j), Q)
        Point inflows at cells, Q in m3 s-1 (number or callable of time), added every step.
    theta, alpha : float
        Flux weighting and CFL coefficient (as in our model).
    closed : bool array (ny, nx), optional
        Cells closed to flow (buildings).
    threads : int or None
        OpenMP threads for Landlab's kernels while it steps (None: leave Landlab's default).
    dt_max : float
        Longest step (s), as in our model: on a dry grid (depth ``h_init``) Landlab's CFL step
        is about 1,400 s at 20 m, which would take in a whole rising hydrograph in one step.
    steep_slopes : bool
        Landlab's Froude and Courant discharge limiters (off by default: they change
        near-critical flow; see ``shared/pitfalls.md``).
    """

    def __init__(
        self,
        z: np.ndarray,
        dx: float,
        *,
        manning: float = 0.03,
        rain: float = 0.0,
        inflows: Sequence[tuple[tuple[int, int], float | Callable[[float], float]]] = (),
        theta: float = 0.7,
        alpha: float = 0.7,
        h_init: float = 1e-5,
        closed: np.ndarray | None = None,
        threads: int | None = 1,
        steep_slopes: bool = False,
        dt_max: float = 10.0,
    ) -> None:
        from landlab import RasterModelGrid
        from landlab.components import OverlandFlow

        ny, nx = z.shape
        self.shape = (ny, nx)
        self.grid = RasterModelGrid((ny + 2, nx + 2), xy_spacing=dx)
        zz = np.full((ny + 2, nx + 2), float(z.max()) + 100.0)
        zz[1:-1, 1:-1] = z
        self.grid.add_field("topographic__elevation", zz.ravel(), at="node")
        self.grid.add_zeros("surface_water__depth", at="node")
        self.grid.set_closed_boundaries_at_grid_edges(True, True, True, True)
        if closed is not None:  # buildings: closed nodes take no flow and no rain
            ring = np.zeros((ny + 2, nx + 2), bool)
            ring[1:-1, 1:-1] = closed
            self.grid.status_at_node[ring.ravel()] = self.grid.BC_NODE_IS_CLOSED
        self.flow = OverlandFlow(
            self.grid,
            mannings_n=manning,
            theta=theta,
            alpha=alpha,
            g=G,
            rainfall_intensity=rain,
            h_init=h_init,
            steep_slopes=steep_slopes,
        )
        self.h_init = h_init
        self.dt_max = float(dt_max)
        self.threads = threads
        self.area = dx * dx
        self.inflows = [((i + 1) * (nx + 2) + (j + 1), q) for (i, j), q in inflows]
        self.time = 0.0
        self.n_steps = 0
        self.n_cell_updates = 0

    @property
    def depth(self) -> np.ndarray:
        """Depth (m) at our cells, (ny, nx) (a view: Landlab's ``surface_water__depth``)."""
        ny, nx = self.shape
        h = self.grid.at_node["surface_water__depth"].reshape(ny + 2, nx + 2)
        return h[1:-1, 1:-1]

    def _thread_limit(self) -> contextlib.AbstractContextManager:
        if self.threads is None:
            return contextlib.nullcontext()
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn brings it
            return contextlib.nullcontext()
        # Landlab's compiled kernels (and their OpenMP runtime) are loaded by now
        return threadpool_limits(limits=self.threads, user_api="openmp")

    def run_until(self, t_end: float) -> None:
        """Advance to ``t_end`` (s) with Landlab's own CFL steps (at most ``dt_max``)."""
        h = self.grid.at_node["surface_water__depth"]
        n_cells = self.shape[0] * self.shape[1]
        with self._thread_limit():
            while self.time < t_end - 1e-9:
                dt = min(self.flow.calc_time_step(), self.dt_max, t_end - self.time)
                for node, q in self.inflows:
                    qv = q(self.time + 0.5 * dt) if callable(q) else q
                    h[node] += qv * dt / self.area
                self.flow.run_one_step(dt=dt)
                self.time += dt
                self.n_steps += 1
                self.n_cell_updates += n_cells
