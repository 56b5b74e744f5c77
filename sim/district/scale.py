"""Scale benchmark: a synthetic Dongguan-sized registry built, saved, loaded and queried.

:func:`synthetic_city` lays out ``n`` buildings on square grid tiles (about 580 buildings per
grid, 5 grids per community, 6 micro-grids per grid — Dongguan has about 2,934 grids for
1.7 M buildings) with about 0.9 sensors per building, everything built with numpy arrays.
It is not a plausible town (that is :mod:`sim.district.generate`), only a registry with the
sizes, shapes and references of a real one. :func:`bench_scale` times the round trip and
the point → building lookups that the rest of the twin leans on.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from pyproj import Transformer
from tqdm import tqdm

from twin.fields import FIELDS, SENSOR_KINDS
from twin.registry import Registry
from twin.registry_io import load_registry, save_registry
from twin.schema import DEFAULT_METRIC_CRS, GEOGRAPHIC_CRS, LAYERS, LOCAL_UTC_OFFSET

DEFAULT_BUILDINGS = 1_700_000
SMOKE_BUILDINGS = 20_000
#: building slots per grid side: 24 × 24 = 576 ≈ 1.7 M / 2,934 Dongguan grids
SLOTS_PER_GRID_SIDE = 24
SLOT_M = 40.0  # building slot pitch (m)
ROAD_M = 20.0  # road corridor between grid tiles (m)
GRIDS_PER_COMMUNITY = 5
MICROGRID_STRIPS = 6  # micro-grids per grid, as vertical strips of 4 slot columns
#: building-bound sensor kinds and their mean count per building (sum ≈ 0.88)
BUILDING_SENSOR_RATES = {
    "smoke": 0.30,
    "power_meter": 0.25,
    "gas": 0.08,
    "gas_meter": 0.08,
    "temperature": 0.07,
    "humidity": 0.05,
    "elevator": 0.05,
}
#: south-west corner of the synthetic city (WGS 84 degrees), west of Dongguan's centre
CITY_ORIGIN_LONLAT = (113.55, 22.85)
LOOKUP_BATCH = 100_000
LOOKUP_POINTS_PER_RUN = 1_000_000
USES = np.array(["residential", "residential", "residential", "commercial", "office",
                 "industrial", "warehouse", "mixed", "school", "market"])  # fmt: skip
USE_ZH = {"residential": "住宅楼", "commercial": "商业楼", "office": "办公楼",
          "industrial": "厂房", "warehouse": "仓库", "mixed": "综合楼", "school": "学校",
          "market": "市场"}  # fmt: skip


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    return pd.Series([f"{prefix}{i:0{width}d}" for i in range(n)], dtype="str")


def synthetic_city(n_buildings: int, seed: int = 0, *, progress: bool = False) -> Registry:
    """Build a registry of ``n_buildings`` buildings with Dongguan's proportions.

    Parameters
    ----------
    n_buildings : int
        Number of buildings (≥ 1).
    seed : int
        Seed of the ``numpy.random.Generator`` drawing footprints, uses and sensors.
    progress : bool
        Show a tqdm bar on stderr.

    Returns
    -------
    Registry
        Valid under :func:`twin.registry_io.validate_layers`.
    """
    rng = np.random.default_rng(seed)
    bar = tqdm(total=8, desc="synthetic city", file=sys.stderr, disable=not progress)
    side = SLOTS_PER_GRID_SIDE
    per_grid = side * side
    n_grids = -(-n_buildings // per_grid)
    gcols = max(GRIDS_PER_COMMUNITY, int(np.ceil(np.sqrt(n_grids))))
    gcols = -(-gcols // GRIDS_PER_COMMUNITY) * GRIDS_PER_COMMUNITY  # whole communities per row
    tile = side * SLOT_M + ROAD_M
    fwd = Transformer.from_crs(GEOGRAPHIC_CRS, DEFAULT_METRIC_CRS, always_xy=True)
    inv = Transformer.from_crs(DEFAULT_METRIC_CRS, GEOGRAPHIC_CRS, always_xy=True)
    ox, oy = (round(v) for v in fwd.transform(*CITY_ORIGIN_LONLAT))

    def lonlat_polys(xy: np.ndarray) -> np.ndarray:
        """(n, k, 2) metric rings → shapely polygons in lon/lat."""
        lon, lat = inv.transform(xy[..., 0].ravel() + ox, xy[..., 1].ravel() + oy)
        ring = np.stack([lon, lat], axis=-1).reshape(xy.shape)
        return shapely.polygons(ring)

    def lonlat_points(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lon, lat = inv.transform(x + ox, y + oy)
        return shapely.points(lon, lat)

    def boxes(x0, y0, x1, y1) -> np.ndarray:
        xy = np.stack(
            [np.stack(p, axis=-1) for p in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))],
            axis=1,
        )
        return xy

    # -- hierarchy ------------------------------------------------------------------------
    g = np.arange(n_grids)
    grow, gcol = g // gcols, g % gcols
    gx0, gy0 = gcol * tile, grow * tile
    gx1, gy1 = gx0 + side * SLOT_M, gy0 + side * SLOT_M
    comm_of_grid = grow * (gcols // GRIDS_PER_COMMUNITY) + gcol // GRIDS_PER_COMMUNITY
    n_comm = int(comm_of_grid.max()) + 1
    grid_ids = _ids("G", n_grids, 5)
    comm_ids = _ids("C", n_comm, 4)
    layers: dict[str, gpd.GeoDataFrame] = {}

    def put(name: str, columns: dict[str, Any], geometry: np.ndarray) -> None:
        df = pd.DataFrame(columns)
        layers[name] = gpd.GeoDataFrame(df, geometry=geometry, crs=GEOGRAPHIC_CRS)

    first = np.zeros(n_comm, dtype=np.int64)
    last = np.zeros(n_comm, dtype=np.int64)
    np.maximum.at(last, comm_of_grid, g)
    first[:] = n_grids
    np.minimum.at(first, comm_of_grid, g)
    put("communities", {
        "community_id": comm_ids,
        "street_id": pd.Series([f"S{c // 20:03d}" for c in range(n_comm)], dtype="str"),
        "code": pd.Series([f"4419{c:08d}" for c in range(n_comm)], dtype="str"),
        "name_zh": pd.Series([f"第{c + 1}社区" for c in range(n_comm)], dtype="str"),
        "name_en": pd.Series([f"Community {c + 1}" for c in range(n_comm)], dtype="str"),
    }, lonlat_polys(boxes(gx0[first], gy0[first], gx1[last], gy1[last])))  # fmt: skip
    put("grids", {
        "grid_id": grid_ids,
        "community_id": comm_ids.to_numpy()[comm_of_grid],
        "code": pd.Series([f"4419{i:010d}" for i in range(n_grids)], dtype="str"),
        "name_zh": pd.Series([f"第{i + 1}网格" for i in range(n_grids)], dtype="str"),
        "name_en": pd.Series([f"Grid {i + 1}" for i in range(n_grids)], dtype="str"),
    }, lonlat_polys(boxes(gx0, gy0, gx1, gy1)))  # fmt: skip
    strip = side // MICROGRID_STRIPS
    m = np.arange(n_grids * MICROGRID_STRIPS)
    mg_grid, mg_k = m // MICROGRID_STRIPS, m % MICROGRID_STRIPS
    mx0 = gx0[mg_grid] + mg_k * strip * SLOT_M
    put("microgrids", {
        "microgrid_id": _ids("M", len(m), 6),
        "grid_id": grid_ids.to_numpy()[mg_grid],
        "code": pd.Series([f"{k + 1}" for k in mg_k], dtype="str"),
    }, lonlat_polys(boxes(mx0, gy0[mg_grid], mx0 + strip * SLOT_M, gy1[mg_grid])))  # fmt: skip
    bar.update()

    # -- buildings ------------------------------------------------------------------------
    n = n_buildings
    b = np.arange(n)
    bg, slot = b // per_grid, b % per_grid
    si, sj = slot % side, slot // side  # column, row inside the grid tile
    cx = gx0[bg] + (si + 0.5) * SLOT_M + rng.uniform(-2, 2, n)
    cy = gy0[bg] + (sj + 0.5) * SLOT_M + rng.uniform(-2, 2, n)
    w = rng.uniform(12, 30, n)
    h = rng.uniform(10, 25, n)
    ang = np.radians(rng.uniform(-15, 15, n))
    ca, sa = np.cos(ang), np.sin(ang)
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)], dtype=float) * 0.5
    dx = corners[None, :, 0] * w[:, None]
    dy = corners[None, :, 1] * h[:, None]
    ring = np.stack(
        [cx[:, None] + dx * ca[:, None] - dy * sa[:, None],
         cy[:, None] + dx * sa[:, None] + dy * ca[:, None]], axis=-1,
    )  # fmt: skip
    footprints = lonlat_polys(ring)
    del ring, dx, dy
    bar.update()
    mg_of_b = bg * MICROGRID_STRIPS + si // strip
    use = USES[rng.integers(0, len(USES), n)]
    levels = rng.integers(1, 33, n)
    grid_ids_np = grid_ids.to_numpy()
    building_ids = _ids("B", n, 7)
    address_ids = _ids("A", n, 7)
    node_ids = _ids("WN", n_grids, 5)
    feeder_ids = _ids("FD", n_grids, 5)
    occupants = np.where(use == "residential", levels * rng.integers(4, 12, n), levels * 10)
    put("buildings", {
        "building_id": building_ids,
        "address_id": address_ids,
        "microgrid_id": layers["microgrids"]["microgrid_id"].to_numpy()[mg_of_b],
        "grid_id": grid_ids_np[bg],
        "community_id": comm_ids.to_numpy()[comm_of_grid[bg]],
        "name_zh": pd.Series(pd.Series(use).map(USE_ZH), dtype="str"),
        "name_en": pd.Series(use, dtype="str"),
        "use": pd.Series(use, dtype="str"),
        "height_m": levels * 3.1,
        "levels": levels.astype(np.int64),
        "year_built": rng.integers(1980, 2025, n).astype(np.int64),
        "fire_resistance": pd.Series(np.array(["1", "2", "3", "4"])[rng.integers(0, 4, n)],
                                     dtype="str"),
        "occupants": occupants.astype(np.int64),
        "elderly_alone": rng.poisson(0.8, n).astype(np.int64),
        "disabled": rng.poisson(0.4, n).astype(np.int64),
        "children": rng.poisson(3.0, n).astype(np.int64),
        "ground_elev_m": np.round(5.0 + 0.0002 * cy, 2),
        "feeder_id": feeder_ids.to_numpy()[bg],
        "water_node_id": node_ids.to_numpy()[bg],
    }, footprints)  # fmt: skip
    bar.update()
    numbers = (si + 1).astype(str)
    road_zh = np.array([f"{r + 1}路" for r in range(int(gy0.max() // tile) + 2)])
    put("addresses", {
        "address_id": address_ids,
        "building_id": building_ids,
        "grid_id": grid_ids_np[bg],
        "text_zh": pd.Series([f"广东省东莞市{a}{s}号{k}栋" for a, s, k in
                              zip(road_zh[grow[bg]], numbers, sj + 1, strict=True)], dtype="str"),
        "text_en": pd.Series([f"Bldg {k}, No. {s}, Road {r + 1}, Dongguan" for r, s, k in
                              zip(grow[bg], numbers, sj + 1, strict=True)], dtype="str"),
        "road_name_zh": pd.Series(road_zh[grow[bg]], dtype="str"),
        "house_number": pd.Series(numbers, dtype="str"),
    }, lonlat_points(cx, cy - 0.5 * h * 0.9))  # fmt: skip
    bar.update()

    # -- facilities: per grid a drain inlet and a square; per community a substation,
    # a pump station and a weather station (rain gauge host)
    gcx, gcy = 0.5 * (gx0 + gx1), 0.5 * (gy0 + gy1)
    kinds = ["drain_inlet", "square"]
    fac_kind = np.concatenate([np.repeat(kinds, n_grids),
                               np.repeat(["substation", "pump_station", "weather_station"],
                                         n_comm)])  # fmt: skip
    fac_grid = np.concatenate([g, g, first, first, first])
    fx = np.concatenate([gx0 + 3.0, gcx, gx0[first] + 10, gx0[first] + 30, gx0[first] + 50])
    fy = np.concatenate([gy0 + 3.0, gcy + 0.5 * SLOT_M, gy0[first] + 3.0, gy0[first] + 3.0,
                         gy0[first] + 3.0])  # fmt: skip
    n_fac = len(fac_kind)
    fac_ids = _ids("F", n_fac, 6)
    put("facilities", {
        "facility_id": fac_ids,
        "kind": pd.Series(fac_kind, dtype="str"),
        "name_zh": pd.Series(fac_kind, dtype="str"),
        "name_en": pd.Series(fac_kind, dtype="str"),
        "building_id": pd.Series([""] * n_fac, dtype="str"),
        "grid_id": grid_ids_np[fac_grid],
        "capacity": np.where(fac_kind == "substation", 20000.0, 1.0),
        "area_m2": np.full(n_fac, 100.0),
        "critical": np.isin(fac_kind, ["substation", "pump_station"]),
    }, lonlat_points(fx, fy))  # fmt: skip
    substation_of_comm = fac_ids.to_numpy()[2 * n_grids : 2 * n_grids + n_comm]
    bar.update()

    # -- networks: roads along tile edges, one water node and one feeder per grid
    nrows = int(grow.max()) + 1
    jr, jc = np.meshgrid(np.arange(nrows + 1), np.arange(gcols + 1), indexing="ij")
    jid = lambda r, c: np.char.add("J", (r * (gcols + 1) + c).astype(str))  # noqa: E731
    jx, jy = jc * tile - ROAD_M / 2, jr * tile - ROAD_M / 2
    h_r, h_c = jr[:, :-1].ravel(), jc[:, :-1].ravel()
    v_r, v_c = jr[:-1, :].ravel(), jc[:-1, :].ravel()
    fr = np.concatenate([h_r, v_r])
    fc = np.concatenate([h_c, v_c])
    tr = np.concatenate([h_r, v_r + 1])
    tc = np.concatenate([h_c + 1, v_c])
    x0r, y0r = fc * tile - ROAD_M / 2, fr * tile - ROAD_M / 2
    x1r, y1r = tc * tile - ROAD_M / 2, tr * tile - ROAD_M / 2
    lon0, lat0 = inv.transform(x0r + ox, y0r + oy)
    lon1, lat1 = inv.transform(x1r + ox, y1r + oy)
    n_roads = len(fr)
    put("roads", {
        "road_id": _ids("R", n_roads, 6),
        "from_node": pd.Series(jid(fr, fc), dtype="str"),
        "to_node": pd.Series(jid(tr, tc), dtype="str"),
        "kind": pd.Series(np.where(fr % 4 == 0, "arterial", "secondary"), dtype="str"),
        "name_zh": pd.Series(np.char.add(np.where(fr == tr, fr, fc).astype(str), "号路"),
                             dtype="str"),
        "name_en": pd.Series(np.char.add("Road ", np.where(fr == tr, fr, fc).astype(str)),
                             dtype="str"),
        "width_m": np.full(n_roads, ROAD_M),
        "length_m": np.full(n_roads, tile),
        "speed_kmh": np.where(fr % 4 == 0, 60.0, 40.0),
    }, shapely.linestrings(np.stack([np.stack([lon0, lat0], -1), np.stack([lon1, lat1], -1)],
                                    axis=1)))  # fmt: skip
    del jx, jy
    put("water_nodes", {
        "node_id": node_ids,
        "kind": pd.Series(np.where(g == 0, "source", "junction"), dtype="str"),
        "elevation_m": np.round(3.5 + 0.0002 * gy0, 2),
    }, lonlat_points(gx0 - ROAD_M / 4, gy0 - ROAD_M / 4))  # fmt: skip
    right = g[(gcol < gcols - 1) & (g + 1 < n_grids)]
    up = g[g + gcols < n_grids]
    pu = np.concatenate([right, up])
    pv = np.concatenate([right + 1, up + gcols])
    nx_, ny_ = gx0 - ROAD_M / 4, gy0 - ROAD_M / 4
    plon0, plat0 = inv.transform(nx_[pu] + ox, ny_[pu] + oy)
    plon1, plat1 = inv.transform(nx_[pv] + ox, ny_[pv] + oy)
    put("water_pipes", {
        "pipe_id": _ids("P", len(pu), 6),
        "from_node": node_ids.to_numpy()[pu],
        "to_node": node_ids.to_numpy()[pv],
        "diameter_m": np.full(len(pu), 0.3),
        "length_m": np.full(len(pu), tile),
    }, shapely.linestrings(np.stack([np.stack([plon0, plat0], -1),
                                     np.stack([plon1, plat1], -1)], axis=1)))  # fmt: skip
    sub_x, sub_y = (gx0[first] + 10)[comm_of_grid], (gy0[first] + 3.0)[comm_of_grid]
    flon0, flat0 = inv.transform(sub_x + ox, sub_y + oy)
    flon1, flat1 = inv.transform(gcx + ox, gcy + oy)
    put("power_feeders", {
        "feeder_id": feeder_ids,
        "substation_id": substation_of_comm[comm_of_grid],
        "voltage_kv": np.full(n_grids, 10.0),
    }, shapely.linestrings(np.stack([np.stack([flon0, flat0], -1),
                                     np.stack([flon1, flat1], -1)], axis=1)))  # fmt: skip
    width_m = gcols * tile
    put("landuse", {
        "landuse_id": pd.Series(["L0000000", "L0000001"], dtype="str"),
        "kind": pd.Series(["water", "residential"], dtype="str"),
    }, lonlat_polys(boxes(np.array([-ROAD_M * 10, 0.0]), np.array([-ROAD_M * 8, 0.0]),
                          np.array([width_m, width_m]),
                          np.array([-ROAD_M, nrows * tile]))))  # fmt: skip
    bar.update()

    # -- sensors: building-bound at ~0.88 per building, plus per-grid network sensors
    kinds_b = np.array(list(BUILDING_SENSOR_RATES))
    rates = np.array(list(BUILDING_SENSOR_RATES.values()))
    counts = rng.poisson(rates.sum(), n)
    sb = np.repeat(b, counts)
    sk = kinds_b[rng.choice(len(kinds_b), size=len(sb), p=rates / rates.sum())]
    grid_kinds = ["drain_level", "people_counter", "water_pressure", "road_water"]
    gk = np.repeat(grid_kinds, n_grids)
    g4 = np.tile(g, len(grid_kinds))
    fac_np = fac_ids.to_numpy()
    road_np = layers["roads"]["road_id"].to_numpy()
    ent_grid = np.concatenate(
        [fac_np[: 2 * n_grids], node_ids.to_numpy(), road_np[np.minimum(g, n_roads - 1)]]
    )
    ck = np.array(["rain_gauge", "river_level"])
    comm_entities = np.concatenate([fac_np[2 * n_grids + 2 * n_comm :],
                                    np.repeat("L0000000", n_comm)])  # fmt: skip
    kind_all = np.concatenate([sk, gk, np.repeat(ck, n_comm)])
    entity_all = np.concatenate([building_ids.to_numpy()[sb], ent_grid, comm_entities])
    grid_all = np.concatenate([bg[sb], g4, np.tile(first, 2)])
    sx = np.concatenate([cx[sb], np.tile(gcx, len(grid_kinds)), np.tile(gx0[first] + 50, 2)])
    sy = np.concatenate([cy[sb], np.tile(gcy, len(grid_kinds)), np.tile(gy0[first] + 3.0, 2)])
    device = np.concatenate([mg_of_b[sb], g4 * MICROGRID_STRIPS,
                             np.tile(first * MICROGRID_STRIPS, 2)])  # fmt: skip
    order = np.argsort(device, kind="stable")
    rank = np.empty(len(device), dtype=np.int64)
    dsorted = device[order]
    starts = np.r_[0, np.flatnonzero(np.diff(dsorted)) + 1]
    pos = np.arange(len(dsorted)) - np.repeat(starts, np.diff(np.r_[starts, len(dsorted)]))
    rank[order] = pos
    spec = {k: SENSOR_KINDS[k] for k in np.unique(kind_all)}
    quantity = np.array([spec[k].quantity for k in spec])
    kidx = np.searchsorted(np.array(list(spec)), kind_all)
    n_s = len(kind_all)
    put("sensors", {
        "sensor_id": _ids("SN", n_s, 7),
        "kind": pd.Series(kind_all, dtype="str"),
        "quantity": pd.Series(quantity[kidx], dtype="str"),
        "unit": pd.Series(np.array([FIELDS[q].unit for q in quantity])[kidx], dtype="str"),
        "min_value": np.array([FIELDS[q].min_value for q in quantity])[kidx],
        "max_value": np.array([FIELDS[q].max_value for q in quantity])[kidx],
        "entity_type": pd.Series(np.array([spec[k].entity_type for k in spec])[kidx],
                                 dtype="str"),
        "entity_id": pd.Series(entity_all, dtype="str"),
        "grid_id": grid_ids_np[grid_all],
        "device_id": pd.Series(np.char.add("gw-", device.astype(str)), dtype="str"),
        "register_address": 2 * rank,
    }, lonlat_points(sx, sy))  # fmt: skip
    bar.update()

    # -- a coarse DEM over the city (200 m cells)
    xs = np.arange(-ROAD_M * 10, width_m + 200.0, 200.0) + ox
    ys = np.arange(-ROAD_M * 10, nrows * tile + 200.0, 200.0) + oy
    elev = 3.0 + 0.0002 * (ys - oy)[:, None] + 0.0 * xs[None, :]
    dem = xr.DataArray(elev, dims=("y", "x"), coords={"y": ys, "x": xs}, name="elevation",
                       attrs={"crs": DEFAULT_METRIC_CRS, "units": "m"})  # fmt: skip
    bar.update()
    bar.close()
    for name in layers:
        for col, kind in LAYERS[name].columns.items():
            if kind == "str" and layers[name][col].dtype != "str":
                layers[name][col] = layers[name][col].astype("str")
    meta = {
        "name_zh": "合成东莞规模城市",
        "name_en": "Synthetic Dongguan-scale city",
        "street_id": "DG",
        "metric_crs": DEFAULT_METRIC_CRS,
        "utc_offset": LOCAL_UTC_OFFSET,
        "seed": int(seed),
        "source": "sim.district.scale.synthetic_city",
    }
    return Registry(layers={k: layers[k] for k in LAYERS}, dem=dem, meta=meta)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def lookup_rate(reg: Registry, *, repeat: int = 3, seed: int = 1) -> dict[str, float]:
    """Point → building lookups per second (median of ``repeat`` runs of 1 M points).

    Half the points are drawn near building centres, half uniformly over the city, and sent
    in batches of 100,000 through the building index. Also checks 20,000 points against
    shapely and reports the mismatches (should be 0).
    """
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    index = reg.polygon_index("buildings")
    build_s = time.perf_counter() - t0
    x0, y0, x1, y1 = reg.grids.total_bounds
    c = shapely.centroid(reg.buildings.geometry.to_numpy()[
        rng.integers(0, len(reg.buildings), LOOKUP_POINTS_PER_RUN // 2)])  # fmt: skip
    lon = np.concatenate([shapely.get_x(c) + rng.normal(0, 1e-4, len(c)),
                          rng.uniform(x0, x1, LOOKUP_POINTS_PER_RUN - len(c))])  # fmt: skip
    lat = np.concatenate([shapely.get_y(c) + rng.normal(0, 1e-4, len(c)),
                          rng.uniform(y0, y1, LOOKUP_POINTS_PER_RUN - len(c))])  # fmt: skip
    perm = rng.permutation(len(lon))
    lon, lat = lon[perm], lat[perm]
    index.query(lon[:1000], lat[:1000])  # compile / load the kernel outside the timing
    rates, cpu_rates = [], []
    hits = 0
    for _ in range(max(1, repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        for s in range(0, len(lon), LOOKUP_BATCH):
            out = index.query(lon[s : s + LOOKUP_BATCH], lat[s : s + LOOKUP_BATCH])
            hits += int((out >= 0).sum())
        rates.append(len(lon) / (time.perf_counter() - t0))
        cpu_rates.append(len(lon) / (time.process_time() - c0))
    check = slice(0, 20_000)
    pts = shapely.points(lon[check], lat[check])
    tree = shapely.STRtree(reg.buildings.geometry.to_numpy())
    pi, bi = tree.query(pts, predicate="within")
    truth = np.full(len(pts), -1)
    truth[pi] = bi
    mismatches = int((index.query(lon[check], lat[check]) != truth).sum())
    return {
        "point_lookups_per_s": float(statistics.median(rates)),
        # per CPU-second of all threads: the figure that does not depend on other load
        "point_lookups_per_cpu_s": float(statistics.median(cpu_rates)),
        "lookup_index_build_s": build_s,
        "lookup_hit_fraction": hits / (len(lon) * max(1, repeat)),
        "lookup_mismatches_of_20000": mismatches,
    }


def bench_scale(args: Namespace) -> dict[str, Any]:
    """``streettwin bench scale``: build, save, load and query a Dongguan-sized registry.

    Parameters
    ----------
    args : argparse.Namespace
        ``buildings`` (default 1,700,000), ``smoke`` (20,000 buildings), ``repeat``.

    Returns
    -------
    dict
        ``buildings``, ``sensors``, ``grids``, ``build_s``, ``save_s``, ``load_s`` (s),
        ``gpkg_mb``, ``peak_rss_mb`` (MiB), ``point_lookups_per_s`` and the floors.
    """
    n = getattr(args, "buildings", None) or (
        SMOKE_BUILDINGS if getattr(args, "smoke", False) else DEFAULT_BUILDINGS
    )
    repeat = int(getattr(args, "repeat", 3) or 3)
    progress = n >= 200_000
    result: dict[str, Any] = {"buildings": int(n)}
    steps = tqdm(total=4, desc="bench scale", file=sys.stderr, disable=not progress)
    t0 = time.perf_counter()
    reg = synthetic_city(n, seed=0, progress=progress)
    result["build_s"] = time.perf_counter() - t0
    result["sensors"] = len(reg.sensors)
    result["grids"] = len(reg.grids)
    result["communities"] = len(reg.communities)
    steps.update()
    with tempfile.TemporaryDirectory(prefix="streettwin-scale-") as tmp:
        steps.set_postfix_str("save")
        t0 = time.perf_counter()
        save_registry(reg, tmp, validate=False)
        result["save_s"] = time.perf_counter() - t0
        result["gpkg_mb"] = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
        del reg
        gc.collect()
        steps.update()
        steps.set_postfix_str("load + validate")
        t0, c0 = time.perf_counter(), time.process_time()
        loaded = load_registry(tmp)
        result["load_s"] = time.perf_counter() - t0
        result["load_cpu_s"] = time.process_time() - c0
        steps.update()
    steps.set_postfix_str("lookups")
    result.update(lookup_rate(loaded, repeat=repeat))
    steps.update()
    steps.close()
    result["peak_rss_mb"] = _peak_rss_mb()
    # the machine may be shared: the load average tells how much of it the bench had
    result["loadavg_1min"] = os.getloadavg()[0]
    result["floors"] = {"load_s_max": 60.0, "peak_rss_mb_max": 8192.0,
                        "point_lookups_per_s_min": 1e6}  # fmt: skip
    result["floors_met"] = bool(
        result["load_s"] <= 60.0
        and result["peak_rss_mb"] <= 8192.0
        and result["point_lookups_per_s"] >= 1e6
    )
    return result
