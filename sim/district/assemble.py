"""Assembly of a district registry from streets, buildings and terrain in a metric frame.

Shared by the demo generator and the OSM import: hierarchy, facilities, networks, addresses,
people and sensors are derived here, then every layer is shifted to the metric CRS, reprojected
to EPSG:4326 and typed to the schema of :mod:`twin.schema`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from sim.district import addresses, facilities, hierarchy, networks, sensors
from sim.district import buildings as bld
from sim.district.terrain import sample_dem
from twin.registry import Registry
from twin.schema import GEOGRAPHIC_CRS, LAYERS

_DTYPES = {"str": "str", "int": "int64", "float": "float64", "bool": "bool"}


def complete(
    rng: np.random.Generator,
    *,
    b: pd.DataFrame,
    roads: pd.DataFrame,
    cells: np.ndarray,
    landuse: pd.DataFrame,
    dem: xr.DataArray,
    river_id: str | None,
    river_poly,
    open_spaces: list,
    street: tuple[str, str, str],
    prefix: tuple[str, str],
    n_communities: int,
    grids_per_community: int,
    extent,
) -> dict[str, pd.DataFrame]:
    """Derive every layer (metric frames) from buildings, roads, cells and terrain.

    ``b`` carries ``geometry, zone, block, use, levels, height_m, year_built, fire_resistance``
    and optionally ``name_zh, name_en``; ``roads`` the street columns with ``from_node,
    to_node``; ``street`` is ``(street_id, name_zh, name_en)``.
    """
    street_id, street_zh, street_en = street
    b = b.reset_index(drop=True).copy()
    b["area"] = shapely.area(b["geometry"].to_numpy())
    elev = lambda x, y: sample_dem(dem, x, y)  # noqa: E731
    # roads: positions for sensors and drain inlets
    mid = shapely.line_interpolate_point(roads["geometry"].to_numpy(), 0.5, normalized=True)
    roads = roads.copy()
    roads["x"], roads["y"] = shapely.get_x(mid), shapely.get_y(mid)
    roads["z"] = elev(roads["x"].to_numpy(), roads["y"].to_numpy())
    roads["road_id"] = [f"R{i + 1:05d}" for i in range(len(roads))]
    node_xy = {}
    for g, a, c in zip(roads["geometry"], roads["from_node"], roads["to_node"], strict=True):
        xy = shapely.get_coordinates(g)
        node_xy.setdefault(a, tuple(xy[0]))
        node_xy.setdefault(c, tuple(xy[-1]))
    jn = sorted(node_xy)
    jxy = np.array([node_xy[n] for n in jn])
    inside = shapely.contains_xy(extent.buffer(-5), jxy[:, 0], jxy[:, 1])
    bank = facilities.bank_points(river_poly) if river_poly is not None else np.zeros((0, 2))
    if len(bank):
        bank = bank[shapely.contains_xy(extent.buffer(-10), bank[:, 0], bank[:, 1])]
    b, fac = facilities.choose_facilities(
        rng,
        b,
        jxy[inside],
        elev(*jxy[inside].T),
        bank,
        elev(*bank.T) if len(bank) else np.zeros(0),
        open_spaces,
        prefix,
    )
    # people, now that facilities have set their uses
    ppl = bld.people(
        rng,
        b["use"].to_numpy(),
        b["area"].to_numpy() * b["levels"].to_numpy(),
        b["zone"].to_numpy(),
    )
    for c in ppl:
        b[c] = ppl[c].to_numpy()
    cxy = shapely.get_coordinates(shapely.centroid(b["geometry"].to_numpy()))
    com, grids, micro, assign = hierarchy.partition(
        rng,
        cells,
        cxy,
        street_id=street_id,
        n_communities=n_communities,
        grids_per_community=grids_per_community,
    )
    for c in assign:
        b[c] = assign[c].to_numpy()
    b["building_id"] = [f"B{i + 1:06d}" for i in range(len(b))]
    b["address_id"] = [f"A{i + 1:06d}" for i in range(len(b))]
    cnames = dict(
        zip(com["community_id"], zip(com["name_zh"], com["name_en"], strict=True), strict=True)
    )
    addr = addresses.make_addresses(b, roads, street_zh, street_en, cnames)
    b["x"], b["y"] = addr["x"].to_numpy(), addr["y"].to_numpy()
    b["ground_elev_m"] = elev(b["x"].to_numpy(), b["y"].to_numpy()).round(2)
    if "name_zh" not in b or "name_en" not in b:
        b["name_zh"], b["name_en"] = "", ""
    unnamed = b["name_zh"].fillna("").to_numpy() == ""
    b.loc[unnamed, "name_zh"] = (
        addr.loc[unnamed, "road_name_zh"] + addr.loc[unnamed, "house_number"] + "号"
    )
    b.loc[unnamed, "name_en"] = addr.loc[unnamed, "text_en"].str.split(",").str[0]
    grid_tree = shapely.STRtree(grids["geometry"].to_numpy())

    def grid_at(x, y):
        pts = shapely.points(np.column_stack([x, y]))
        gi = grid_tree.nearest(pts)  # inside → distance 0; just outside the edge → nearest
        return grids["grid_id"].to_numpy()[gi]

    fac["grid_id"] = grid_at(fac["x"].to_numpy(), fac["y"].to_numpy())
    fac["building_id"] = [b["building_id"].iat[i] if i >= 0 else "" for i in fac["building_idx"]]
    for i, kind, name_zh in zip(fac["building_idx"], fac["kind"], fac["name_zh"], strict=True):
        if i >= 0 and kind not in ("shelter", "underground_garage"):
            b.iat[i, b.columns.get_loc("name_zh")] = name_zh
            b.iat[i, b.columns.get_loc("name_en")] = fac.loc[
                fac["name_zh"] == name_zh, "name_en"
            ].iat[0]
    fac["geometry"] = shapely.points(fac[["x", "y"]].to_numpy())
    wn, pipes = networks.water_network(roads, node_xy, elev)
    wn["x"], wn["y"] = (
        shapely.get_x(wn["geometry"].to_numpy()),
        shapely.get_y(wn["geometry"].to_numpy()),
    )
    pm = shapely.line_interpolate_point(pipes["geometry"].to_numpy(), 0.5, normalized=True)
    pipes["x"], pipes["y"] = shapely.get_x(pm), shapely.get_y(pm)
    b["water_node_id"] = networks.nearest_ids(cxy, wn[["x", "y"]].to_numpy(), wn["node_id"])
    subs = fac[fac["kind"] == "substation"]
    feeders, feeder_of = networks.power_feeders(rng, subs, cxy, roads, node_xy)
    b["feeder_id"] = feeder_of
    river = None
    if river_id is not None:
        line = (
            shapely.get_parts(river_poly)[0].exterior
            if river_poly.geom_type != "Polygon"
            else river_poly.exterior
        )
        pts = shapely.get_coordinates(
            shapely.line_interpolate_point(line, np.linspace(0.1, 0.4, 3), normalized=True)
        )
        rp = np.array(
            [
                shapely.get_coordinates(
                    shapely.shortest_line(shapely.points(p), river_poly.buffer(-8))
                )[1]
                for p in pts
            ]
        )
        river = (river_id, rp)
    sens = sensors.build_sensors(rng, b, fac, roads, wn, pipes, river, grid_at)
    sens["geometry"] = shapely.points(sens[["x", "y"]].to_numpy())
    return {
        "communities": com,
        "grids": grids,
        "microgrids": micro,
        "buildings": b,
        "addresses": addr,
        "facilities": fac,
        "sensors": sens,
        "roads": roads,
        "water_nodes": wn,
        "water_pipes": pipes,
        "power_feeders": feeders,
        "landuse": landuse,
    }


def _polygonal(g):
    if g.is_valid:
        return g
    parts = [p for p in shapely.get_parts(shapely.make_valid(g)) if p.geom_type == "Polygon"]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def finalize(
    frames: dict[str, pd.DataFrame],
    dem: xr.DataArray,
    meta: dict[str, Any],
    metric_crs: str,
    offset=(0.0, 0.0),
) -> Registry:
    """Shift local frames by ``offset`` (m) into ``metric_crs``, reproject, type and wrap."""
    layers = {}
    for name, schema in LAYERS.items():
        df = frames[name]
        geom = shapely.transform(
            np.asarray(df["geometry"].to_numpy(), dtype=object), lambda c: c + np.asarray(offset)
        )
        data = {c: df[c].astype(_DTYPES[k]).to_numpy() for c, k in schema.columns.items()}
        gdf = gpd.GeoDataFrame(
            pd.DataFrame(data), geometry=gpd.GeoSeries(geom, crs=metric_crs)
        ).to_crs(GEOGRAPHIC_CRS)
        for c, k in schema.columns.items():
            gdf[c] = gdf[c].astype(_DTYPES[k])
        if "Polygon" in schema.geometry:  # reprojection can pinch thin slivers: repair them
            gdf.geometry = [_polygonal(g) for g in gdf.geometry.to_numpy()]
        layers[name] = gdf.reset_index(drop=True)
    out = xr.DataArray(
        dem.values,
        dims=("y", "x"),
        coords={"y": dem["y"].values + offset[1], "x": dem["x"].values + offset[0]},
        name="elevation",
        attrs={"crs": metric_crs, "units": "m"},
    )
    return Registry(layers=layers, dem=out, meta=meta)
