"""The seeded demo district: about 3 km² of a south-China street near Dongguan.

:func:`build_district` draws the river and terrain, the street network, blocks and building
footprints, then derives facilities, networks, hierarchy, addresses and sensors
(:mod:`sim.district.assemble`). Same seed → identical registry; randomness only through one
``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from tqdm import tqdm

from sim.district import assemble, names, streets, terrain
from sim.district import buildings as bld
from twin.registry import Registry
from twin.schema import DEFAULT_METRIC_CRS, GEOGRAPHIC_CRS, LOCAL_UTC_OFFSET

WIDTH_M = 2000.0
HEIGHT_M = 1500.0
CENTRE_LONLAT = (113.75, 23.02)
DEFAULT_BUILDINGS = 4000
STREET_ID = "ST01"


def build_district(seed: int, *, n_buildings: int | None = None, progress: bool = True) -> Registry:
    """Build the demo district.

    Parameters
    ----------
    seed : int
        Seed of the ``numpy.random.Generator`` driving every choice.
    n_buildings : int, optional
        Upper bound on the number of buildings (default ``DEFAULT_BUILDINGS``); candidates
        beyond it are dropped at random, so small values give a sparse but complete district.
    progress : bool
        Show a tqdm bar on stderr.

    Returns
    -------
    Registry
        Layers in EPSG:4326, DEM (2 m cells, UTM 49N) and meta.
    """
    rng = np.random.default_rng(seed)
    target = DEFAULT_BUILDINGS if n_buildings is None else int(n_buildings)
    steps = ["terrain", "streets", "blocks", "buildings", "networks & sensors", "registry"]
    bar = tqdm(total=len(steps), desc="district", disable=not progress, unit="step")

    def step(name):
        bar.set_postfix_str(name)
        bar.update(1)

    W, H = WIDTH_M, HEIGHT_M
    river = terrain.make_river(rng, H)
    dem = terrain.make_dem(rng, river, W, H, terrain.make_depressions(rng, river, W, 6))
    river_poly = shapely.intersection(
        river.centreline(W).buffer(terrain.RIVER_HALF_WIDTH_M), shapely.box(0, 0, W, H)
    )
    step("terrain")
    lines, villages = streets.draw_street_lines(rng, river, W, H)
    roads = streets.node_lines(lines, W, H, rng)
    roads["width_m"] = roads["kind"].map(lambda k: streets.ROAD_KINDS[k][0])
    roads["speed_kmh"] = roads["kind"].map(lambda k: streets.ROAD_KINDS[k][1])
    step("streets")
    faces = streets.blocks(roads, W, H)
    art = shapely.union_all(roads.loc[roads["kind"] == "arterial", "geometry"].to_numpy())
    zones = bld.assign_zones(rng, faces, river, art)
    lots = bld.make_lots(faces, zones, roads, river_poly, villages)
    step("blocks")
    b = bld.place_buildings(rng, lots)
    if len(b) > target:
        b = b.iloc[np.sort(rng.choice(len(b), size=target, replace=False))].reset_index(drop=True)
    attrs = bld.building_attributes(rng, b["zone"].to_numpy())
    b = pd.concat([b, attrs], axis=1)
    step("buildings")
    landuse, open_spaces = _landuse(faces, zones, villages, river_poly)
    frames = assemble.complete(
        rng,
        b=b,
        roads=roads,
        cells=faces,
        landuse=landuse,
        dem=dem,
        river_id="LU0001",
        river_poly=river_poly,
        open_spaces=open_spaces,
        street=(STREET_ID, *names.STREET_NAME),
        prefix=("东城", "Dongcheng"),
        n_communities=int(rng.integers(4, 6)),
        grids_per_community=8,
        extent=shapely.box(0, 0, W, H),
    )
    step("networks & sensors")
    fwd = Transformer.from_crs(GEOGRAPHIC_CRS, DEFAULT_METRIC_CRS, always_xy=True)
    cx, cy = fwd.transform(*CENTRE_LONLAT)
    offset = (round(cx - W / 2), round(cy - H / 2))
    meta = {
        "name_zh": names.STREET_NAME[0],
        "name_en": names.STREET_NAME[1],
        "street_id": STREET_ID,
        "metric_crs": DEFAULT_METRIC_CRS,
        "utc_offset": LOCAL_UTC_OFFSET,
        "seed": int(seed),
        "source": "sim.district.generate",
        "river_name_zh": names.RIVER_NAME[0],
        "river_name_en": names.RIVER_NAME[1],
        "river_bank_top_m": terrain.BANK_TOP_M,
        "area_km2": round(W * H / 1e6, 3),
    }
    reg = assemble.finalize(frames, dem, meta, DEFAULT_METRIC_CRS, offset)
    step("registry")
    bar.close()
    return reg


def _landuse(faces, zones, villages, river_poly) -> tuple[pd.DataFrame, list]:
    """Land-use polygons (river first, as LU0001) and the open spaces for squares."""
    kind_of = {
        "village": "village",
        "towers": "residential",
        "midrise": "residential",
        "commercial": "commercial",
        "industrial": "industrial",
        "school": "education",
        "park": "park",
    }
    rows = [("water", river_poly)]
    vil = shapely.union_all([v for v, _, _ in villages])
    green = shapely.difference(river_poly.buffer(45), river_poly)
    open_spaces = []
    for face, zone in zip(faces, zones, strict=True):
        land = face.difference(river_poly.buffer(45))
        if zone == "park":
            open_spaces.append(land)
        for part, k in ((land.intersection(vil), "village"), (land.difference(vil), kind_of[zone])):
            for p in shapely.get_parts(part):
                if isinstance(p, shapely.Polygon) and p.area > 200:
                    rows.append((k, p))
    for p in shapely.get_parts(green):
        if isinstance(p, shapely.Polygon) and p.area > 200:
            rows.append(("park", p))
            open_spaces.append(p)
    df = pd.DataFrame(rows, columns=["kind", "geometry"])
    df["landuse_id"] = [f"LU{i + 1:04d}" for i in range(len(df))]
    open_spaces.sort(key=lambda p: -p.area)
    return df, open_spaces
