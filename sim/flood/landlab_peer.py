"""Landlab's OverlandFlow (de Almeida et al. 2012) run on our grids: the peer for validation.

Landlab is a test dependency, imported only when these functions run. Our cells become the core
nodes of a Landlab raster with one closed ring of nodes around them.
"""

from __future__ import annotations

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
            steep_slopes=False,
        )
        self.area = dx * dx
        self.inflows = [((i + 1) * (nx + 2) + (j + 1), q) for (i, j), q in inflows]
        self.time = 0.0
        self.n_cell_updates = 0

    @property
    def depth(self) -> np.ndarray:
        """Depth (m) at our cells, (ny, nx)."""
        ny, nx = self.shape
        h = self.grid.at_node["surface_water__depth"].reshape(ny + 2, nx + 2)
        return h[1:-1, 1:-1]

    def run_until(self, t_end: float) -> None:
        """Advance to ``t_end`` (s) with Landlab's own CFL steps."""
        h = self.grid.at_node["surface_water__depth"]
        n_cells = self.shape[0] * self.shape[1]
        while self.time < t_end - 1e-9:
            dt = min(self.flow.calc_time_step(), t_end - self.time)
            for node, q in self.inflows:
                qv = q(self.time + 0.5 * dt) if callable(q) else q
                h[node] += qv * dt / self.area
            self.flow.run_one_step(dt=dt)
            self.time += dt
            self.n_cell_updates += n_cells
