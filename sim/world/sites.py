"""The places where the world keeps state, read once from the registry (metric CRS, metres).

Each *location* is a table (one row per site) that components index by position:

========== ===================================================== ==========================
location   one row per                                           notable columns
========== ===================================================== ==========================
gauge      rain-gauge sensor                                     x, y
river      river entity watched by a river-level sensor          x, y, bank_m, surface_m
drain      drain inlet facility (or drain-level sensor entity)   x, y, elev_m
road       road segment                                          x, y, elev_m, low_factor
place      crowd place (square, market, people-counter entity)   kind, capacity, area_m2
building   building                                              use, occupants, floor_m2, ...
water_node water network node                                    kind, elevation_m
water_pipe water main                                            from_node, to_node, ...
elevator   elevator monitor sensor                               building (row position)
catchment  sample point of the upstream catchment grid           x, y
========== ===================================================== ==========================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

#: facility kinds that gather crowds (people counted by the crowd model)
CROWD_KINDS = ("square", "market", "shelter", "park", "station", "mall")
#: facility kinds that are drain inlets / storm-sewer points
DRAIN_KINDS = ("drain_inlet", "outfall", "manhole")
#: how far from a river gauge to look for the channel's water surface in the DEM, m
RIVER_SEARCH_M = 60.0
#: points per side of the catchment sampling grid
CATCHMENT_SIDE = 5


@dataclass
class Sites:
    """Location tables of a district (see module doc) and its extent.

    Attributes
    ----------
    tables : dict of str → pandas.DataFrame
        One table per location, indexed by the site id.
    center : tuple of float
        District centre (x, y) in the metric CRS, m.
    bounds : tuple of float
        (xmin, ymin, xmax, ymax) in the metric CRS, m.
    """

    tables: dict[str, pd.DataFrame]
    center: tuple[float, float]
    bounds: tuple[float, float, float, float]

    def size(self, location: str) -> int:
        """Number of sites of a location."""
        return len(self.tables[location])

    def __getitem__(self, location: str) -> pd.DataFrame:
        return self.tables[location]

    def xy(self, location: str) -> tuple[np.ndarray, np.ndarray]:
        """Site coordinates (m, metric CRS)."""
        t = self.tables[location]
        return t["x"].to_numpy(float), t["y"].to_numpy(float)

    def position(self, location: str) -> dict[str, int]:
        """Map site id → row position."""
        return {str(k): i for i, k in enumerate(self.tables[location].index)}


def _points(geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """x, y of representative points (line midpoints, polygon centroids)."""
    arr = np.asarray(geoms)
    if len(arr) == 0:
        return np.zeros(0), np.zeros(0)
    pts = shapely.centroid(arr)
    lines = np.isin(shapely.get_type_id(arr), (1, 5))  # LineString, MultiLineString
    if lines.any():  # a line's midpoint along itself lies on it (a centroid may not)
        pts[lines] = shapely.line_interpolate_point(arr[lines], 0.5, normalized=True)
    return shapely.get_x(pts), shapely.get_y(pts)


def sample_dem(dem: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ground elevation (m) at metric points by nearest DEM cell; 0 where there is no DEM."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if dem is None or len(x) == 0:
        return np.zeros(len(x))
    xs = np.asarray(dem["x"].values, float)
    ys = np.asarray(dem["y"].values, float)
    values = np.asarray(dem.values, float)
    ix = np.clip(np.searchsorted(xs, x), 1, len(xs) - 1)
    ix = np.where(np.abs(xs[ix - 1] - x) < np.abs(xs[ix] - x), ix - 1, ix)
    iy = np.clip(np.searchsorted(ys, y), 1, len(ys) - 1)
    iy = np.where(np.abs(ys[iy - 1] - y) < np.abs(ys[iy] - y), iy - 1, iy)
    out = values[iy, ix]
    return np.where(np.isfinite(out), out, np.nanmean(values))


def _lowest_near(dem: Any, x: np.ndarray, y: np.ndarray, radius_m: float) -> np.ndarray:
    """Lowest DEM value (m) within ``radius_m`` of each point: the water surface of a channel."""
    out = sample_dem(dem, x, y)
    for dx in np.linspace(-radius_m, radius_m, 13):
        for dy in np.linspace(-radius_m, radius_m, 13):
            if dx * dx + dy * dy <= radius_m * radius_m:
                out = np.minimum(out, sample_dem(dem, x + dx, y + dy))
    return out


def _metric(registry: Any, layer: str) -> Any:
    try:
        return registry.metric(layer)
    except (KeyError, AttributeError):
        return None


def _road_low_points(roads: Any, dem: Any) -> np.ndarray:
    """Lowest DEM value among five points along each road (m): where water gathers."""
    geoms = roads.geometry.to_numpy()
    lows = np.full(len(geoms), np.inf)
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        p = shapely.line_interpolate_point(geoms, frac, normalized=True)
        lows = np.minimum(lows, sample_dem(dem, shapely.get_x(p), shapely.get_y(p)))
    return lows


def build_sites(registry: Any) -> Sites:
    """Read every location table of the world from a :class:`twin.registry.Registry`.

    Parameters
    ----------
    registry : twin.registry.Registry
        The district; layers are taken in its metric CRS.

    Returns
    -------
    Sites
    """
    dem = getattr(registry, "dem", None)
    sensors = _metric(registry, "sensors")
    facilities = _metric(registry, "facilities")
    buildings = _metric(registry, "buildings")
    roads = _metric(registry, "roads")
    nodes = _metric(registry, "water_nodes")
    pipes = _metric(registry, "water_pipes")
    tables: dict[str, pd.DataFrame] = {}

    sx, sy = _points(sensors.geometry.to_numpy())
    s_kind = sensors["kind"].astype(str).to_numpy()
    s_ent = sensors["entity_id"].astype(str).to_numpy()
    s_id = sensors["sensor_id"].astype(str).to_numpy()

    g = s_kind == "rain_gauge"
    tables["gauge"] = pd.DataFrame(
        {"x": sx[g], "y": sy[g], "facility_id": s_ent[g]}, index=pd.Index(s_id[g], name="id")
    )

    # rivers: one site per river entity; its stage sits below the bank at the sensor
    r = np.flatnonzero(s_kind == "river_level")
    _, first = np.unique(s_ent[r], return_index=True)
    r = r[np.sort(first)]
    tables["river"] = pd.DataFrame(
        {
            "x": sx[r],
            "y": sy[r],
            "bank_m": sample_dem(dem, sx[r], sy[r]),
            "surface_m": _lowest_near(dem, sx[r], sy[r], RIVER_SEARCH_M),
        },
        index=pd.Index(s_ent[r], name="id"),
    )

    fx, fy = _points(facilities.geometry.to_numpy())
    f_id = facilities["facility_id"].astype(str).to_numpy()
    f_kind = facilities["kind"].astype(str).to_numpy()
    f_pos = {k: i for i, k in enumerate(f_id)}

    def facility_sites(kinds: tuple[str, ...], sensor_kind: str) -> list[tuple[str, float, float]]:
        rows = [(f_id[i], fx[i], fy[i]) for i in np.flatnonzero(np.isin(f_kind, kinds))]
        seen = {row[0] for row in rows}
        for i in np.flatnonzero(s_kind == sensor_kind):
            if s_ent[i] in seen:
                continue
            seen.add(s_ent[i])
            j = f_pos.get(s_ent[i])
            rows.append((s_ent[i], fx[j], fy[j]) if j is not None else (s_ent[i], sx[i], sy[i]))
        return rows

    d_rows = facility_sites(DRAIN_KINDS, "drain_level")
    dx = np.array([row[1] for row in d_rows], float)
    dy = np.array([row[2] for row in d_rows], float)
    tables["drain"] = pd.DataFrame(
        {"x": dx, "y": dy, "elev_m": sample_dem(dem, dx, dy)},
        index=pd.Index([row[0] for row in d_rows], name="id", dtype=object),
    )

    p_rows = facility_sites(CROWD_KINDS, "people_counter")
    cap = facilities["capacity"].to_numpy(float)
    area = facilities["area_m2"].to_numpy(float)
    place = pd.DataFrame(
        {
            "x": np.array([row[1] for row in p_rows], float),
            "y": np.array([row[2] for row in p_rows], float),
            "kind": [f_kind[f_pos[row[0]]] if row[0] in f_pos else "square" for row in p_rows],
            "capacity": [cap[f_pos[row[0]]] if row[0] in f_pos else 0.0 for row in p_rows],
            "area_m2": [area[f_pos[row[0]]] if row[0] in f_pos else 0.0 for row in p_rows],
        },
        index=pd.Index([row[0] for row in p_rows], name="id", dtype=object),
    )
    # a place with no stated capacity holds about one person per 2 m² (Fruin LoS C/D edge)
    fallback = np.maximum(place["area_m2"].to_numpy(float) * 0.5, 200.0)
    place["capacity"] = np.where(place["capacity"] > 0, place["capacity"], fallback)
    tables["place"] = place

    rx, ry = _points(roads.geometry.to_numpy())
    r_low = _road_low_points(roads, dem) if len(roads) else np.zeros(0)
    tables["road"] = pd.DataFrame(
        {"x": rx, "y": ry, "elev_m": r_low},
        index=pd.Index(roads["road_id"].astype(str).to_numpy(), name="id"),
    )

    bx, by = _points(buildings.geometry.to_numpy())
    footprint = shapely.area(buildings.geometry.to_numpy()) if len(buildings) else np.zeros(0)
    levels = np.maximum(buildings["levels"].to_numpy(float), 1.0)
    tables["building"] = pd.DataFrame(
        {
            "x": bx,
            "y": by,
            "use": buildings["use"].astype(str).to_numpy(),
            "occupants": buildings["occupants"].to_numpy(float),
            "floor_m2": np.maximum(footprint * levels, 20.0),
            "feeder_id": buildings["feeder_id"].astype(str).to_numpy(),
            "water_node_id": buildings["water_node_id"].astype(str).to_numpy(),
        },
        index=pd.Index(buildings["building_id"].astype(str).to_numpy(), name="id"),
    )

    nx_, ny_ = _points(nodes.geometry.to_numpy())
    tables["water_node"] = pd.DataFrame(
        {
            "x": nx_,
            "y": ny_,
            "kind": nodes["kind"].astype(str).to_numpy(),
            "elevation_m": nodes["elevation_m"].to_numpy(float),
        },
        index=pd.Index(nodes["node_id"].astype(str).to_numpy(), name="id"),
    )
    px, py = _points(pipes.geometry.to_numpy())
    tables["water_pipe"] = pd.DataFrame(
        {
            "x": px,
            "y": py,
            "from_node": pipes["from_node"].astype(str).to_numpy(),
            "to_node": pipes["to_node"].astype(str).to_numpy(),
            "diameter_m": pipes["diameter_m"].to_numpy(float),
            "length_m": np.maximum(pipes["length_m"].to_numpy(float), 1.0),
        },
        index=pd.Index(pipes["pipe_id"].astype(str).to_numpy(), name="id"),
    )

    b_pos = {k: i for i, k in enumerate(tables["building"].index)}
    e = np.flatnonzero(s_kind == "elevator")
    tables["elevator"] = pd.DataFrame(
        {
            "x": sx[e],
            "y": sy[e],
            "building_id": s_ent[e],
            "building": [b_pos.get(s_ent[i], -1) for i in e],
        },
        index=pd.Index(s_id[e], name="id"),
    )

    xs = np.concatenate([bx, rx, sx, fx])
    ys = np.concatenate([by, ry, sy, fy])
    if len(xs) == 0:
        xs, ys = np.zeros(1), np.zeros(1)
    bounds = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    center = ((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0)
    gx, gy = np.meshgrid(
        np.linspace(bounds[0], bounds[2], CATCHMENT_SIDE),
        np.linspace(bounds[1], bounds[3], CATCHMENT_SIDE),
    )
    tables["catchment"] = pd.DataFrame(
        {"x": gx.ravel(), "y": gy.ravel()},
        index=pd.Index([f"C{i:02d}" for i in range(gx.size)], name="id"),
    )
    return Sites(tables=tables, center=center, bounds=bounds)
