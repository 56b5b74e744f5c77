"""The flood grid of a district: coarsened DEM, building mask, Manning map and impact cells.

Prepared once per (registry, cell size) and shared by every run and ensemble member, so a
member only steps the model and reduces ``max_depth`` over precomputed cell lists:

* the DEM (2 m in the demo district) is block-averaged to ``cell_size_m``;
* a cell is a building (wall) when its centre lies inside a footprint;
* Manning's n is ``manning_road`` where the cell centre lies on a road (within half its
  width), ``manning_yard`` elsewhere;
* a building's *surroundings* are the cells whose centres lie within 1.5 cells outside its
  footprint (where its doors open; as :func:`sim.flood.impacts.building_impacts`), a road's
  cells are those its centre line passes through (sampled every half cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
import xarray as xr

#: people columns carried per building
PEOPLE = ("occupants", "elderly_alone", "disabled", "children")


@dataclass
class FloodGrid:
    """Everything a flood run on a district needs, on one raster (SI units).

    Attributes
    ----------
    dem : xarray.DataArray
        Ground elevation (m), dims (y, x), cell centres in the metric CRS.
    building_mask : bool array (ny, nx)
    manning : float array (ny, nx)
        Manning's n (s m^-1/3).
    building_ids, road_ids : arrays of str
    building_cells, road_cells : (offsets, flat indices)
        CSR lists of raster cells per building surroundings and per road.
    people : DataFrame
        :data:`PEOPLE` columns per building (0 where the registry lacks them).
    """

    dem: xr.DataArray
    building_mask: np.ndarray
    manning: np.ndarray
    building_ids: np.ndarray
    road_ids: np.ndarray
    building_cells: tuple[np.ndarray, np.ndarray]
    road_cells: tuple[np.ndarray, np.ndarray]
    people: pd.DataFrame

    @property
    def cell_size_m(self) -> float:
        """Cell side (m)."""
        return float(self.dem["x"][1] - self.dem["x"][0])

    def per_building_max(self, field: np.ndarray) -> np.ndarray:
        """Maximum of a (ny, nx) field over each building's surroundings (0 if none)."""
        return _csr_max(field.ravel(), *self.building_cells)

    def per_road_max(self, field: np.ndarray) -> np.ndarray:
        """Maximum of a (ny, nx) field along each road (0 if it misses the grid)."""
        return _csr_max(field.ravel(), *self.road_cells)


def _csr_max(flat: np.ndarray, offsets: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.zeros(offsets.size - 1)
    if idx.size == 0:
        return out
    counts = np.diff(offsets)
    vals = flat[idx].astype(float)
    nonempty = counts > 0
    out[nonempty] = np.maximum.reduceat(vals, offsets[:-1][nonempty])
    return out


def coarsen_dem(dem: xr.DataArray, cell_size_m: float) -> xr.DataArray:
    """Block-average a DEM to about ``cell_size_m`` (an integer multiple of its spacing)."""
    dem = dem.sortby("y").sortby("x")
    dx = float(dem["x"][1] - dem["x"][0])
    f = max(int(round(cell_size_m / dx)), 1)
    if f == 1:
        return dem
    out = dem.coarsen(y=f, x=f, boundary="trim").mean()
    out.attrs = dict(dem.attrs)
    return out


def _cell_centres(dem: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    xx, yy = np.meshgrid(dem["x"].to_numpy(), dem["y"].to_numpy())
    return xx.ravel(), yy.ravel()


def _cells_in(polys: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(polygon index, flat cell index) pairs of cell centres inside the polygons."""
    if len(polys) == 0:
        return np.zeros(0, int), np.zeros(0, int)
    tree = shapely.STRtree(polys)
    pt_idx, poly_idx = tree.query(shapely.points(xs, ys), predicate="within")
    return poly_idx, pt_idx


def _csr(owner: np.ndarray, cells: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((cells, owner))
    owner, cells = owner[order], cells[order]
    offsets = np.searchsorted(owner, np.arange(n + 1))
    return offsets.astype(np.int64), cells.astype(np.int64)


def flood_grid(
    registry,
    *,
    cell_size_m: float = 4.0,
    manning_road: float = 0.015,
    manning_yard: float = 0.05,
) -> FloodGrid:
    """Prepare the flood grid of a registry (see the module docstring).

    Parameters
    ----------
    registry : twin.registry.Registry
        Needs ``dem`` (metric cell centres), ``buildings`` and ``roads``.
    cell_size_m : float
        Target cell size (m); the DEM spacing times an integer factor.
    manning_road, manning_yard : float
        Manning's n (s m^-1/3) of road and other open cells.
    """
    if registry.dem is None:
        raise ValueError("the registry has no DEM; flood scenarios need one")
    dem = coarsen_dem(registry.dem, cell_size_m)
    dem = dem.fillna(float(np.nanmin(dem.to_numpy())))
    ny, nx = dem.shape
    dx = float(dem["x"][1] - dem["x"][0])
    xs, ys = _cell_centres(dem)
    buildings = registry.metric("buildings")
    roads = registry.metric("roads")
    bgeom = buildings.geometry.to_numpy()
    _, cells = _cells_in(bgeom, xs, ys)
    mask = np.zeros(ny * nx, bool)
    mask[cells] = True
    mask = mask.reshape(ny, nx)

    manning = np.full(ny * nx, float(manning_yard))
    if len(roads):
        width = roads["width_m"].to_numpy(float) if "width_m" in roads else np.full(len(roads), 6)
        width = np.where(np.isfinite(width) & (width > 0), width, 6.0)
        road_polys = shapely.buffer(roads.geometry.to_numpy(), 0.5 * width, cap_style="flat")
        _, rcells = _cells_in(road_polys, xs, ys)
        manning[rcells] = float(manning_road)
    manning = manning.reshape(ny, nx)

    ring = shapely.difference(shapely.buffer(bgeom, 1.5 * dx), bgeom)
    owner, cells = _cells_in(ring, xs, ys)
    bcells = _csr(owner, cells, len(buildings))

    rows, rc = [], []
    x0, y0 = float(dem["x"][0]), float(dem["y"][0])
    for k, line in enumerate(roads.geometry.to_numpy()):
        n = max(int(np.ceil(line.length / (0.5 * dx))), 1)
        pts = shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n + 1))
        j = np.rint((shapely.get_x(pts) - x0) / dx).astype(int)
        i = np.rint((shapely.get_y(pts) - y0) / dx).astype(int)
        ok = (i >= 0) & (i < ny) & (j >= 0) & (j < nx)
        flat = np.unique(i[ok] * nx + j[ok])
        rows.append(np.full(flat.size, k))
        rc.append(flat)
    rcsr = _csr(
        np.concatenate(rows) if rows else np.zeros(0, int),
        np.concatenate(rc) if rc else np.zeros(0, int),
        len(roads),
    )
    people = pd.DataFrame(
        {
            c: (buildings[c].fillna(0).to_numpy(float) if c in buildings else np.zeros(len(bgeom)))
            for c in PEOPLE
        }
    )
    return FloodGrid(
        dem=dem.rename("elevation"),
        building_mask=mask,
        manning=manning,
        building_ids=buildings["building_id"].astype(str).to_numpy(),
        road_ids=roads["road_id"].astype(str).to_numpy(),
        building_cells=bcells,
        road_cells=rcsr,
        people=people,
    )
