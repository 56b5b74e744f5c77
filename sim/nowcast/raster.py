"""The nowcast grid: a coarsened DEM, building walls on it, and samplers from cells to places.

A nowcast must run in a fraction of its cycle, so the district DEM (2 m in a generated
district) is block-averaged to ``cell_m`` (20 m by default in the flood nowcast). A coarse
cell is a building wall when at least :data:`BUILDING_COVER` of its fine points fall inside
footprints; narrower buildings are left open so that 10 m streets between them stay connected.

:class:`CellSampler` maps each place (road-water sensor, road, building) to the coarse cells
that represent it once at start-up; afterwards "maximum depth at each place" is one
``numpy.maximum.reduceat`` over a flat index array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
import xarray as xr

#: share of a coarse cell covered by footprints that makes it a wall
BUILDING_COVER = 0.6


def coarsen_dem(dem: xr.DataArray, cell_m: float) -> xr.DataArray:
    """Block-mean a metric DEM to cells of about ``cell_m`` metres (ascending x and y).

    >>> d = xr.DataArray(np.arange(16.0).reshape(4, 4), dims=("y", "x"),
    ...                  coords={"y": [1.0, 3.0, 5.0, 7.0], "x": [1.0, 3.0, 5.0, 7.0]})
    >>> c = coarsen_dem(d, 4.0)
    >>> c.shape, c.x.values.tolist(), float(c[0, 0])
    ((2, 2), [2.0, 6.0], 2.5)
    """
    dem = dem.sortby("x").sortby("y")
    dx = float(abs(dem.x[1] - dem.x[0])) if dem.sizes["x"] > 1 else cell_m
    factor = max(1, int(round(cell_m / dx)))
    if factor == 1:
        return dem.astype(float)
    out = dem.coarsen(x=factor, y=factor, boundary="trim").mean()
    out.attrs = dict(dem.attrs)
    return out.astype(float)


def building_mask(grid: xr.DataArray, footprints: Sequence, *, sub: int = 4) -> np.ndarray:
    """Coarse cells covered at least :data:`BUILDING_COVER` by footprints (metric polygons).

    Each cell is probed at ``sub × sub`` points; only points within a footprint's bounding
    box are tested, so the cost grows with the built area, not the grid.
    """
    x = grid.x.to_numpy().astype(float)
    y = grid.y.to_numpy().astype(float)
    dx = float(x[1] - x[0]) if x.size > 1 else 1.0
    dy = float(y[1] - y[0]) if y.size > 1 else dx
    offs = (np.arange(sub) + 0.5) / sub - 0.5
    hits = np.zeros((y.size, x.size), np.int32)
    for geom in footprints:
        if geom is None or geom.is_empty:
            continue
        x0, y0, x1, y1 = geom.bounds
        j0, j1 = np.searchsorted(x, [x0 - dx, x1 + dx])
        i0, i1 = np.searchsorted(y, [y0 - dy, y1 + dy])
        if j1 <= j0 or i1 <= i0:
            continue
        px = (x[j0:j1, None] + offs[None, :] * dx).ravel()
        py = (y[i0:i1, None] + offs[None, :] * dy).ravel()
        gx, gy = np.meshgrid(px, py)
        inside = shapely.contains_xy(geom, gx, gy)
        counts = inside.reshape(i1 - i0, sub, j1 - j0, sub).sum(axis=(1, 3))
        hits[i0:i1, j0:j1] += counts
    return hits >= BUILDING_COVER * sub * sub


class CellSampler:
    """Places → coarse cells, for fast per-place maxima of a cell field.

    Parameters
    ----------
    grid : xarray.DataArray
        The coarse grid (``x``, ``y`` ascending cell centres, m).
    geoms : sequence of shapely geometries
        One per place, metric CRS: points (a ``radius_m`` disc), lines (cells along) or
        polygons (a ring of ``ring_m`` around the footprint, where the doors are).
    open_cells : bool array, optional
        Cells that can hold water; wall cells are left out where a place has other cells.
    """

    def __init__(
        self,
        grid: xr.DataArray,
        geoms: Sequence,
        *,
        radius_m: float | None = None,
        ring_m: float | None = None,
        open_cells: np.ndarray | None = None,
    ) -> None:
        self.x = grid.x.to_numpy().astype(float)
        self.y = grid.y.to_numpy().astype(float)
        self.shape = (self.y.size, self.x.size)
        self.dx = float(self.x[1] - self.x[0]) if self.x.size > 1 else 1.0
        radius = self.dx if radius_m is None else radius_m
        ring = 1.5 * self.dx if ring_m is None else ring_m
        cells: list[np.ndarray] = []
        for geom in geoms:
            if geom is None or geom.is_empty:
                area = None
            elif geom.geom_type == "Point":
                area = geom.buffer(radius)
            elif geom.geom_type in ("LineString", "MultiLineString"):
                area = geom.buffer(0.5 * self.dx)
            else:
                area = geom.buffer(ring).difference(geom)
            idx = self._cells_in(area) if area is not None else np.zeros(0, np.int64)
            if open_cells is not None and idx.size:
                wet = idx[open_cells.ravel()[idx]]
                idx = wet if wet.size else idx
            if idx.size == 0:
                c = geom.centroid if geom is not None and not geom.is_empty else None
                idx = np.array([self._nearest(c.x, c.y) if c is not None else 0], np.int64)
            cells.append(idx)
        self.n = len(cells)
        self.counts = np.array([c.size for c in cells], np.int64)
        self.flat = np.concatenate(cells) if cells else np.zeros(0, np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)

    def _nearest(self, px: float, py: float) -> int:
        j = int(np.clip(np.searchsorted(self.x, px) - 0, 0, self.x.size - 1))
        i = int(np.clip(np.searchsorted(self.y, py) - 0, 0, self.y.size - 1))
        return i * self.shape[1] + j

    def _cells_in(self, area) -> np.ndarray:
        x0, y0, x1, y1 = area.bounds
        j0, j1 = np.searchsorted(self.x, [x0, x1])
        i0, i1 = np.searchsorted(self.y, [y0, y1])
        if j1 <= j0 or i1 <= i0:
            return np.zeros(0, np.int64)
        gx, gy = np.meshgrid(self.x[j0:j1], self.y[i0:i1])
        inside = shapely.contains_xy(area, gx, gy)
        ii, jj = np.nonzero(inside)
        return ((ii + i0) * self.shape[1] + (jj + j0)).astype(np.int64)

    def max_of(self, field: np.ndarray) -> np.ndarray:
        """Per place, the maximum of a cell field (ny, nx) or of several ((k, ny, nx) → (k, n))."""
        a = np.asarray(field)
        flat = a.reshape(*a.shape[:-2], -1)[..., self.flat]
        if self.n == 0:
            return np.zeros((*a.shape[:-2], 0))
        return np.maximum.reduceat(flat, self.starts, axis=-1)
