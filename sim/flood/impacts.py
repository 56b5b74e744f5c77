"""Flood impacts: roads made impassable, buildings and garages reached, hazard to people.

Pure functions of a flood result Dataset (:meth:`sim.flood.FloodModel.to_dataset`) and registry
GeoDataFrames in the same metric CRS (columns of :mod:`twin.schema`): they need no registry
object.

Hazard to people follows the UK Defra/Environment Agency method, FD2320/TR2 *Flood Risks to
People Phase 2* (HR Wallingford, 2006) and FD2321/TR1 *Flood Hazard Research* (2008)::

    HR = d (v + 0.5) + DF

with depth d (m), speed v (m s-1) and debris factor DF; for urban land DF = 0 where d ≤ 0.25 m
and 1 above (FD2320 Table 3.1). Bands (FD2320 Table 13.1): HR < 0.75 low ("caution"),
0.75–1.25 moderate ("danger for some"), 1.25–2.0 significant ("danger for most"),
> 2.0 extreme ("danger for all").
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

IMPASSABLE_DEPTH_M = 0.15  # cars and pedestrians: common Chinese urban waterlogging threshold
REACH_DEPTH_M = 0.05  # water at a door or garage ramp
HAZARD_BANDS = (0.75, 1.25, 2.0)
HAZARD_LABELS = ("low", "moderate", "significant", "extreme")
VULNERABLE = ("elderly_alone", "disabled", "children")


def hazard_rating(depth, speed, *, debris: str = "urban") -> np.ndarray:
    """Flood hazard rating HR = d (v + 0.5) + DF (FD2320/FD2321).

    Parameters
    ----------
    depth : array
        Water depth (m).
    speed : array
        Flow speed (m s-1).
    debris : {"urban", "none"}
        Debris factor: urban (0 up to 0.25 m, 1 above) or none (0).

    Examples
    --------
    >>> hazard_rating([0.2, 0.5], [1.0, 1.0]).tolist()
    [0.30000000000000004, 1.75]
    """
    d = np.asarray(depth, float)
    v = np.asarray(speed, float)
    df = np.where(d > 0.25, 1.0, 0.0) if debris == "urban" else 0.0
    return np.where(d > 0.0, d * (v + 0.5) + df, 0.0)


def hazard_band(hr) -> np.ndarray:
    """Band label per hazard rating: low, moderate, significant, extreme.

    >>> hazard_band([0.1, 0.8, 1.5, 2.5]).tolist()
    ['low', 'moderate', 'significant', 'extreme']
    """
    idx = np.searchsorted(np.asarray(HAZARD_BANDS), np.asarray(hr, float), side="right")
    return np.asarray(HAZARD_LABELS, dtype=object)[idx]


def max_hazard(ds: xr.Dataset, *, debris: str = "urban") -> xr.DataArray:
    """Maximum over the snapshots of the hazard rating per cell (dimensionless)."""
    hr = hazard_rating(ds["depth"].to_numpy(), ds["speed"].to_numpy(), debris=debris).max(axis=0)
    return xr.DataArray(
        hr,
        dims=("y", "x"),
        coords={"y": ds["y"], "x": ds["x"]},
        attrs={"long_name": "maximum flood hazard rating (FD2320)", "units": "1"},
    )


class _Raster:
    """Cell lookup for a result grid."""

    def __init__(self, ds: xr.Dataset) -> None:
        self.x = ds["x"].to_numpy()
        self.y = ds["y"].to_numpy()
        self.dx = float(self.x[1] - self.x[0]) if self.x.size > 1 else 1.0
        self.dy = float(self.y[1] - self.y[0]) if self.y.size > 1 else self.dx

    def cells(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        j = np.rint((np.asarray(xs) - self.x[0]) / self.dx).astype(int)
        i = np.rint((np.asarray(ys) - self.y[0]) / self.dy).astype(int)
        ok = (i >= 0) & (i < self.y.size) & (j >= 0) & (j < self.x.size)
        return i[ok], j[ok]

    def cells_in(self, geom) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = geom.bounds
        jx = np.nonzero((self.x >= x0) & (self.x <= x1))[0]
        iy = np.nonzero((self.y >= y0) & (self.y <= y1))[0]
        if jx.size == 0 or iy.size == 0:
            return np.empty(0, int), np.empty(0, int)
        jj, ii = np.meshgrid(jx, iy)
        inside = shapely.contains_xy(geom, self.x[jj], self.y[ii])
        return ii[inside], jj[inside]

    def cells_along(self, line) -> tuple[np.ndarray, np.ndarray]:
        step = 0.5 * min(self.dx, self.dy)
        n = max(int(np.ceil(line.length / step)), 1)
        pts = shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n + 1))
        return self.cells(shapely.get_x(pts), shapely.get_y(pts))


def _first_times(ds: xr.Dataset, depth_threshold: float) -> np.ndarray:
    """Per cell, the first time (s) the depth reached ``depth_threshold`` (NaN: never)."""
    if np.isclose(ds.attrs.get("threshold_m", np.nan), depth_threshold):
        return ds["time_first_exceedance"].to_numpy().astype(float)
    depth = ds["depth"].to_numpy()
    hit = depth >= depth_threshold
    first = np.argmax(hit, axis=0)
    times = ds["time"].to_numpy().astype(float)[first]
    return np.where(hit.any(axis=0), times, np.nan)


def _min_nan(a: np.ndarray) -> float:
    a = a[~np.isnan(a)]
    return float(a.min()) if a.size else np.nan


def road_impacts(
    ds: xr.Dataset, roads: gpd.GeoDataFrame, *, impassable_depth: float = IMPASSABLE_DEPTH_M
) -> pd.DataFrame:
    """Per road segment: maximum depth along it, impassable flag and time it became impassable.

    Parameters
    ----------
    ds : xarray.Dataset
        Flood result.
    roads : GeoDataFrame
        ``road_id`` and line geometries in the grid's metric CRS.
    impassable_depth : float
        Depth (m) at which a road counts as impassable (0.15 m by default).

    Returns
    -------
    DataFrame
        ``road_id``, ``max_depth_m``, ``impassable``, ``time_impassable_s`` (NaN if never).
    """
    r = _Raster(ds)
    dmax = ds["max_depth"].to_numpy()
    tfirst = _first_times(ds, impassable_depth)
    rows = []
    for rid, geom in zip(roads["road_id"], roads.geometry, strict=True):
        i, j = r.cells_along(geom)
        md = float(dmax[i, j].max()) if i.size else 0.0
        rows.append((rid, md, md >= impassable_depth, _min_nan(tfirst[i, j]) if i.size else np.nan))
    return pd.DataFrame(rows, columns=["road_id", "max_depth_m", "impassable", "time_impassable_s"])


def building_impacts(
    ds: xr.Dataset,
    buildings: gpd.GeoDataFrame,
    *,
    reach_depth: float = REACH_DEPTH_M,
    ring_m: float | None = None,
    debris: str = "urban",
) -> pd.DataFrame:
    """Per building: does water reach its walls and entrances, when, and how hazardous it is.

    The building's surroundings are the cells within ``ring_m`` (default 1.5 cells) of its
    footprint and outside it, where its doors open.

    Returns
    -------
    DataFrame
        ``building_id``, ``max_depth_m``, ``reached``, ``time_reached_s``, ``hazard_rating``,
        ``hazard_band``, and the people columns carried over (``occupants``, ``elderly_alone``,
        ``disabled``, ``children``) where present.
    """
    r = _Raster(ds)
    ring = ring_m if ring_m is not None else 1.5 * max(r.dx, r.dy)
    dmax = ds["max_depth"].to_numpy()
    tfirst = _first_times(ds, reach_depth)
    hr = max_hazard(ds, debris=debris).to_numpy()
    rows = []
    for geom in buildings.geometry:
        i, j = r.cells_in(geom.buffer(ring).difference(geom))
        if i.size == 0:
            rows.append((0.0, False, np.nan, 0.0))
            continue
        md = float(dmax[i, j].max())
        rows.append((md, md >= reach_depth, _min_nan(tfirst[i, j]), float(hr[i, j].max())))
    out = pd.DataFrame(rows, columns=["max_depth_m", "reached", "time_reached_s", "hazard_rating"])
    out.insert(0, "building_id", buildings["building_id"].to_numpy())
    out["hazard_band"] = hazard_band(out["hazard_rating"].to_numpy())
    for col in ("occupants", *VULNERABLE):
        if col in buildings:
            out[col] = buildings[col].to_numpy()
    return out


def garage_impacts(
    ds: xr.Dataset, facilities: gpd.GeoDataFrame, *, reach_depth: float = REACH_DEPTH_M
) -> pd.DataFrame:
    """Per underground garage (``kind == "underground_garage"``): water at its ramp and when.

    Returns
    -------
    DataFrame
        ``facility_id``, ``depth_m`` (maximum at the entrance point), ``reached``,
        ``time_reached_s``.
    """
    r = _Raster(ds)
    garages = facilities[facilities["kind"] == "underground_garage"]
    dmax = ds["max_depth"].to_numpy()
    tfirst = _first_times(ds, reach_depth)
    rows = []
    for fid, geom in zip(garages["facility_id"], garages.geometry, strict=True):
        i, j = r.cells([geom.x], [geom.y])
        d = float(dmax[i, j].max()) if i.size else 0.0
        t = float(tfirst[i[0], j[0]]) if i.size else np.nan
        rows.append((fid, d, d >= reach_depth, t))
    return pd.DataFrame(rows, columns=["facility_id", "depth_m", "reached", "time_reached_s"])


def people_affected(building_table: pd.DataFrame) -> dict[str, int]:
    """People and vulnerable residents in buildings reached by water, by hazard band.

    Parameters
    ----------
    building_table : DataFrame
        Output of :func:`building_impacts`.

    Returns
    -------
    dict
        ``buildings``, ``occupants``, ``elderly_alone``, ``disabled``, ``children`` for reached
        buildings, and ``occupants_<band>`` per hazard band.
    """
    hit = building_table[building_table["reached"]]
    out = {"buildings": len(hit)}
    for col in ("occupants", *VULNERABLE):
        out[col] = int(hit[col].sum()) if col in hit else 0
    for label in HAZARD_LABELS:
        sel = hit[hit["hazard_band"] == label]
        out[f"occupants_{label}"] = int(sel["occupants"].sum()) if "occupants" in sel else 0
    return out


def flood_impacts(
    ds: xr.Dataset,
    *,
    roads: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    impassable_depth: float = IMPASSABLE_DEPTH_M,
    reach_depth: float = REACH_DEPTH_M,
) -> dict:
    """All impacts at once: tables for roads, buildings, garages and a people summary."""
    out: dict = {}
    if roads is not None:
        out["roads"] = road_impacts(ds, roads, impassable_depth=impassable_depth)
    if buildings is not None:
        out["buildings"] = building_impacts(ds, buildings, reach_depth=reach_depth)
        out["people"] = people_affected(out["buildings"])
    if facilities is not None:
        out["garages"] = garage_impacts(ds, facilities, reach_depth=reach_depth)
    return out
