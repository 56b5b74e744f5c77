"""Import of real data: OpenStreetMap .pbf (via pyrosm) or GeoJSON/GeoPackage building files.

Real buildings and roads are kept as they are; what the file lacks is synthesised: heights from
``building:levels``/``height`` (or a default by use), uses, people, a gentle DEM, facilities,
water and power networks, sensors, addresses and the community → grid → micro-grid hierarchy
from square tiles of the extent. The metric CRS is the place's own UTM zone.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from scipy import ndimage
from tqdm import tqdm

from sim.district import assemble, hierarchy, streets
from sim.district.terrain import DEM_CELL_M
from twin.registry import Registry
from twin.schema import GEOGRAPHIC_CRS

TILE_M = 200.0
HIGHWAY_KIND = {
    **dict.fromkeys(
        ["motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"], "arterial"
    ),
    **dict.fromkeys(["secondary", "tertiary", "secondary_link", "tertiary_link"], "secondary"),
}
#: OSM building / amenity tag → our use
USE_OF_TAG = {
    "apartments": "residential",
    "residential": "residential",
    "house": "residential",
    "detached": "residential",
    "terrace": "residential",
    "dormitory": "residential",
    "office": "office",
    "commercial": "commercial",
    "retail": "commercial",
    "hotel": "commercial",
    "industrial": "industrial",
    "warehouse": "warehouse",
    "school": "school",
    "university": "school",
    "college": "school",
    "kindergarten": "school",
    "hospital": "hospital",
    "church": "public",
    "public": "public",
    "civic": "public",
    "government": "public",
    "garage": "garage",
    "parking": "garage",
}
DEFAULT_LEVELS = {
    "residential": 5,
    "office": 6,
    "commercial": 4,
    "industrial": 2,
    "warehouse": 1,
    "school": 3,
    "hospital": 6,
    "public": 3,
    "garage": 1,
    "mixed": 4,
}


def district_from_osm(path, *, seed: int = 0, progress: bool = False) -> Registry:
    """Build a registry from a real OSM extract or a buildings file.

    Parameters
    ----------
    path : path
        ``.pbf`` (pyrosm: buildings + driving network) or any file geopandas reads (GeoJSON,
        GeoPackage): polygons are buildings, lines (if any) roads.
    seed : int
        Seed for everything synthesised.

    Returns
    -------
    Registry
        Every real building (same count) and road segment, in EPSG:4326.
    """
    rng = np.random.default_rng(seed)
    path = Path(path)
    bar = tqdm(total=3, desc="import", disable=not progress, unit="step")
    bgdf, rgdf = _read(path)
    crs = bgdf.estimate_utm_crs()
    metric = f"EPSG:{crs.to_epsg()}"
    bm = bgdf.to_crs(metric)
    rm = rgdf.to_crs(metric) if rgdf is not None and len(rgdf) else None
    bar.update(1)
    bounds = np.array(bm.total_bounds)
    if rm is not None:
        rb = rm.total_bounds
        bounds = np.array(
            [
                min(bounds[0], rb[0]),
                min(bounds[1], rb[1]),
                max(bounds[2], rb[2]),
                max(bounds[3], rb[3]),
            ]
        )
    x0, y0 = np.floor(bounds[:2]) - 20.0
    W, H = float(np.ceil(bounds[2] - x0 + 20)), float(np.ceil(bounds[3] - y0 + 20))
    shift = lambda g: shapely.transform(np.asarray(g, dtype=object), lambda c: c - [x0, y0])  # noqa: E731
    b = _buildings(rng, bm, shift)
    roads = _roads(rm, shift, W, H, rng)
    dem = _dem(rng, W, H)
    cells = hierarchy.square_cells((0.0, 0.0, W, H), TILE_M)
    landuse = pd.DataFrame(
        {"landuse_id": ["LU0001"], "kind": ["urban"], "geometry": [shapely.box(0, 0, W, H)]}
    )
    n_com = int(np.clip(round(W * H / 5e5), 3, 6))
    stem = path.stem.split(".")[0]
    frames = assemble.complete(
        rng, b=b, roads=roads, cells=cells, landuse=landuse, dem=dem,
        river_id=None, river_poly=None,
        open_spaces=[], street=("ST01", stem, stem), prefix=(stem, stem), n_communities=n_com,
        grids_per_community=6, extent=shapely.box(0, 0, W, H),
    )  # fmt: skip
    bar.update(1)
    lon = float(np.mean(bgdf.total_bounds[[0, 2]]))
    meta = {
        "name_zh": stem, "name_en": stem, "street_id": "ST01", "metric_crs": metric,
        "utc_offset": utc_offset_estimate(lon), "seed": int(seed), "source": f"osm:{path.name}",
        "area_km2": round(W * H / 1e6, 3),
    }  # fmt: skip
    reg = assemble.finalize(frames, dem, meta, metric, (x0, y0))
    bar.update(1)
    bar.close()
    return reg


def utc_offset_estimate(lon: float) -> str:
    """Standard-time UTC offset estimated from longitude (China uses +08:00 throughout).

    >>> utc_offset_estimate(24.94), utc_offset_estimate(87.6)
    ('+02:00', '+08:00')
    """
    if 73.0 <= lon <= 135.0 and lon > 80.0:
        return "+08:00"
    h = int(round(lon / 15.0))
    return f"{'+' if h >= 0 else '-'}{abs(h):02d}:00"


def _read(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    if path.suffix == ".pbf":
        import pyrosm

        osm = pyrosm.OSM(str(path))
        b = osm.get_buildings()
        _, r = osm.get_network(network_type="driving", nodes=True)
        return b, r
    g = gpd.read_file(path)
    if g.crs is None:
        g = g.set_crs(GEOGRAPHIC_CRS)
    t = g.geom_type
    b = g[t.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    r = g[t.isin(["LineString", "MultiLineString"])].reset_index(drop=True)
    return b, (r if len(r) else None)


def _num(v) -> float:
    m = re.match(r"\s*([0-9]+(?:[.,][0-9]+)?)", str(v)) if v is not None else None
    return float(m.group(1).replace(",", ".")) if m else np.nan


def _polygonal(g):
    """A valid (multi)polygon for an OSM footprint; degenerate ones become a 1 m buffer of it."""
    v = shapely.make_valid(g)
    if v.geom_type not in ("Polygon", "MultiPolygon"):
        v = shapely.union_all([p for p in shapely.get_parts(v) if p.geom_type == "Polygon"])
    if v.is_empty or v.area < 1.0:
        v = shapely.buffer(g, 1.0)
    return v


def _buildings(rng, bm: gpd.GeoDataFrame, shift) -> pd.DataFrame:
    raw = shift(bm.geometry.to_numpy())
    geom = np.array([_polygonal(g) for g in raw], dtype=object)
    col = lambda c: bm[c].to_numpy() if c in bm else np.full(len(bm), None)  # noqa: E731
    tag = [
        a if isinstance(a, str) and a in USE_OF_TAG else b
        for a, b in zip(col("amenity"), col("building"), strict=True)
    ]
    use = np.array([USE_OF_TAG.get(str(t), "mixed") for t in tag], dtype=object)
    levels = np.array([_num(v) for v in col("building:levels")])
    height = np.array([_num(v) for v in col("height")])
    default = np.array([DEFAULT_LEVELS[u] for u in use], dtype=float)
    levels = np.where(
        np.isnan(levels), np.where(np.isnan(height), default, np.round(height / 3.2)), levels
    )
    levels = np.maximum(levels, 1).astype(int)
    height = np.where(np.isnan(height), levels * 3.2 + 0.5, height)
    name = np.array([n if isinstance(n, str) else "" for n in col("name")], dtype=object)
    return pd.DataFrame({
        "geometry": geom, "zone": "osm", "block": np.arange(len(bm)), "use": use, "levels": levels,
        "height_m": np.round(height, 1), "year_built": rng.integers(1900, 2016, len(bm)),
        "fire_resistance": rng.choice(["1", "2", "3"], len(bm), p=[0.4, 0.45, 0.15]),
        "name_zh": name, "name_en": name,
    })  # fmt: skip


def _roads(rm, shift, W, H, rng) -> pd.DataFrame:
    """Real road segments (nodes from OSM ``u``/``v`` or from noding); a lattice if none."""
    if rm is None:  # a buildings-only file: lay a lattice of access roads over the tiles
        xs, ys = np.arange(0, W + 1, TILE_M), np.arange(0, H + 1, TILE_M)
        lines = [
            (shapely.LineString([(x, 0), (x, H)]), "secondary", (f"{i + 1}号路", f"Road {i + 1}"))
            for i, x in enumerate(xs)
        ]
        lines += [
            (shapely.LineString([(0, y), (W, y)]), "secondary", (f"{i + 1}号街", f"Street {i + 1}"))
            for i, y in enumerate(ys)
        ]
        df = streets.node_lines(lines, W, H, rng)
    else:
        rm = rm.explode(index_parts=False).reset_index(drop=True)
        geom = shift(rm.geometry.to_numpy())
        kind = (
            rm["highway"].map(lambda h: HIGHWAY_KIND.get(str(h), "lane")).to_numpy()
            if "highway" in rm
            else np.full(len(rm), "lane")
        )
        names = (
            rm["name"].fillna("").astype(str).to_numpy() if "name" in rm else np.full(len(rm), "")
        )
        if {"u", "v"} <= set(rm.columns):
            a = np.array([f"J{int(u)}" for u in rm["u"]], dtype=object)
            c = np.array([f"J{int(v)}" for v in rm["v"]], dtype=object)
        else:

            def ends(i):
                xy = shapely.get_coordinates(shapely.get_point(geom, i))
                return [f"J{x:.1f}_{y:.1f}" for x, y in xy]

            a, c = np.array(ends(0), dtype=object), np.array(ends(-1), dtype=object)
        df = pd.DataFrame(
            {
                "geometry": geom,
                "kind": kind,
                "name_zh": names,
                "name_en": names,
                "from_node": a,
                "to_node": c,
            }
        )
        df["length_m"] = shapely.length(geom)
    df["width_m"] = df["kind"].map(lambda k: streets.ROAD_KINDS[k][0] / 2)
    df["speed_kmh"] = df["kind"].map(lambda k: streets.ROAD_KINDS[k][1])
    return df.reset_index(drop=True)


def _dem(rng, W: float, H: float) -> xr.DataArray:
    """A gentle synthetic DEM (m): a slope, smooth relief and two hollows."""
    xs = np.arange(DEM_CELL_M / 2, W, DEM_CELL_M)
    ys = np.arange(DEM_CELL_M / 2, H, DEM_CELL_M)
    coarse = rng.normal(0, 1, (max(ys.size // 50, 2) + 1, max(xs.size // 50, 2) + 1))
    relief = ndimage.zoom(
        coarse, (ys.size / coarse.shape[0] + 1e-9, xs.size / coarse.shape[1] + 1e-9), order=1
    )[: ys.size, : xs.size]
    X, Y = np.meshgrid(xs, ys)
    z = 5.0 + 0.006 * Y + 0.8 * relief
    for _ in range(2):
        cx, cy = rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H
        z -= 1.5 * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * 80.0**2))
    return xr.DataArray(
        z.astype("float32"),
        dims=("y", "x"),
        coords={"y": ys, "x": xs},
        name="elevation",
        attrs={"units": "m"},
    )
