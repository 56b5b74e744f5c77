"""The base map drawn from the twin's own data: land use and water, roads, grid boundaries.

No web tiles: the map under the buildings is the district's ``landuse`` polygons (kind
``"water"`` is the river and ponds), its ``roads`` drawn at their real width, and the
outlines of its management ``grids``. Flat layers do not write depth, so they stack in draw
order without z-fighting and never hide the extruded buildings drawn after them.

Roads and grid outlines are sent as *polygons* (centre lines buffered to their width in a
metric CRS), not as deck.gl paths: every flat layer then shares one GPU program (deck.gl's
solid polygon), and the wall screen's software WebGL (SwiftShader) neither compiles the path
shader nor shades round caps and joins per pixel. Measured on the demo district in headless
chromium, the first frame fell from ~16 s to ~5 s under load, roads alone from ~5 s to ~1 s.
Colours are per-feature accessors on every flat layer for the same reason: a constant colour
is a different vertex layout, hence one more pipeline for SwiftShader to compile.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pydeck as pdk
import shapely

from layers.geojson import feature_collection
from layers.style import PLAIN, MapStyle

LANDUSE_ID = "landuse"
ROADS_ID = "roads"
GRIDS_ID = "grids"

#: GPU state of flat layers: painted in order, leaving the depth buffer to the 3-D layers
FLAT_PARAMETERS = {"depthWriteEnabled": False, "depthCompare": "always"}
#: pydeck turns plain strings into accessor expressions ("@@="); enum props need String
#: road width drawn when the registry has none, m
DEFAULT_ROAD_WIDTH_M = 6.0
#: centre lines are simplified to this tolerance before buffering, m (well under a pixel at
#: the district zoom, ~2 m/px)
ROAD_SIMPLIFY_M = 0.5
#: segments per quarter circle of a road end or bend: ends overlap at junctions, few vertices
ROAD_QUAD_SEGS = 2
#: width of a grid outline, m (≈ 2 px at the zoom that fits the district on a wall screen)
GRID_OUTLINE_M = 4.0


def _metric_crs(frame: gpd.GeoDataFrame):
    """A metric CRS for ``frame``: its own if projected, else its UTM zone."""
    if frame.crs is not None and not frame.crs.is_geographic:
        return frame.crs
    return frame.estimate_utm_crs()


def road_polygons(roads: gpd.GeoDataFrame, width_m: np.ndarray) -> gpd.GeoSeries:
    """Road centre lines buffered to ``width_m`` (m, one per road) as polygons in EPSG:4326.

    Lines are simplified by :data:`ROAD_SIMPLIFY_M` first; ends are rounded with
    :data:`ROAD_QUAD_SEGS` segments so roads meeting at a junction overlap without gaps.

    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (100, 0)])], crs=32649)
    >>> round(road_polygons(g, np.array([10.0])).to_crs(32649).area.iloc[0])
    1071
    """
    if len(roads) == 0:
        return gpd.GeoSeries([], crs="EPSG:4326")
    crs = _metric_crs(roads)
    lines = shapely.simplify(np.asarray(roads.to_crs(crs).geometry.array), ROAD_SIMPLIFY_M)
    polys = shapely.buffer(lines, np.asarray(width_m, float) / 2, quad_segs=ROAD_QUAD_SEGS)
    return gpd.GeoSeries(polys, index=roads.index, crs=crs).to_crs("EPSG:4326")


def outline_polygons(areas: gpd.GeoDataFrame, width_m: float = GRID_OUTLINE_M) -> gpd.GeoSeries:
    """The boundaries of ``areas`` as rings ``width_m`` wide (m), polygons in EPSG:4326.

    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs=32649)
    >>> round(outline_polygons(g, 4.0).to_crs(32649).area.iloc[0])
    1600
    """
    if len(areas) == 0:
        return gpd.GeoSeries([], crs="EPSG:4326")
    crs = _metric_crs(areas)
    edges = shapely.boundary(np.asarray(areas.to_crs(crs).geometry.array))
    rings = shapely.buffer(edges, width_m / 2, quad_segs=1, join_style="mitre")
    return gpd.GeoSeries(rings, index=areas.index, crs=crs).to_crs("EPSG:4326")


def build_landuse_layer(landuse: gpd.GeoDataFrame, *, style: MapStyle = PLAIN) -> pdk.Layer:
    """Land-use polygons, water included, as a flat ``GeoJsonLayer`` with id ``"landuse"``.

    Parameters
    ----------
    landuse : geopandas.GeoDataFrame
        The registry's ``landuse`` layer (``landuse_id``, ``kind``), EPSG:4326.
    style : MapStyle
        Colours per kind (``style.landuse``), ``style.landuse_default`` otherwise.
    """
    frame = landuse.copy()
    # water last so rivers are painted over the blocks they cross
    frame = frame.iloc[np.argsort((frame["kind"] == "water").to_numpy(), kind="stable")]
    frame["fill"] = [list(style.landuse.get(k, style.landuse_default)) for k in frame["kind"]]
    return pdk.Layer(
        "GeoJsonLayer",
        id=LANDUSE_ID,
        data=feature_collection(frame, ("landuse_id", "kind", "fill")),
        filled=True,
        stroked=False,
        extruded=False,
        get_fill_color="properties.fill",
        pickable=False,
        parameters=FLAT_PARAMETERS,
    )


def build_roads_layer(roads: gpd.GeoDataFrame, *, style: MapStyle = PLAIN) -> pdk.Layer:
    """Roads at their width in metres, as a flat filled ``GeoJsonLayer`` with id ``"roads"``.

    Each feature is the road's centre line buffered to ``width_m`` (:func:`road_polygons`);
    properties keep ``road_id``, ``kind``, names, ``width_m`` and ``colour`` (RGBA). The line
    props (width in metres) stay set, so switching ``stroked`` on draws outlines sensibly.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        The registry's ``roads`` layer (``road_id``, ``kind``, ``width_m``, names), EPSG:4326.
    style : MapStyle
        Colours per road kind (``style.roads``).
    """
    frame = roads.copy()
    width = frame["width_m"].to_numpy(float) if "width_m" in frame else np.full(len(frame), np.nan)
    frame["width_m"] = np.round(np.where(width > 0, width, DEFAULT_ROAD_WIDTH_M), 1)
    # lanes first, arterials last: major roads are drawn on top at junctions
    rank = {"lane": 0, "secondary": 1, "arterial": 2}
    order = np.argsort([rank.get(k, 1) for k in frame["kind"]], kind="stable")
    frame = frame.iloc[order]
    frame["colour"] = [list(style.roads.get(k, style.road_default)) for k in frame["kind"]]
    for column in ("name_zh", "name_en"):
        if column not in frame:
            frame[column] = ""
    frame = frame.set_geometry(road_polygons(frame, frame["width_m"].to_numpy()).rename("geometry"))
    return pdk.Layer(
        "GeoJsonLayer",
        id=ROADS_ID,
        data=feature_collection(
            frame, ("road_id", "kind", "name_zh", "name_en", "width_m", "colour")
        ),
        stroked=False,
        filled=True,
        get_fill_color="properties.colour",
        get_line_color="properties.colour",
        get_line_width="properties.width_m",
        line_width_units=pdk.types.String("meters"),
        line_width_min_pixels=1,
        line_cap_rounded=True,
        line_joint_rounded=True,
        pickable=False,
        parameters=FLAT_PARAMETERS,
    )


def build_grids_layer(grids: gpd.GeoDataFrame, *, style: MapStyle = PLAIN) -> pdk.Layer:
    """Outlines of the management grids as a ``GeoJsonLayer`` with id ``"grids"``.

    The outlines are rings :data:`GRID_OUTLINE_M` wide (:func:`outline_polygons`), filled in
    ``style.grid_line``: the same GPU program as the other flat layers (see module notes).

    Parameters
    ----------
    grids : geopandas.GeoDataFrame
        The registry's ``grids`` layer (``grid_id``, ``code``, names), EPSG:4326.
    style : MapStyle
        Outline colour ``style.grid_line``.
    """
    frame = grids.set_geometry(outline_polygons(grids).rename("geometry"))
    # a per-feature colour, not a constant: constant attributes give the layer a GPU pipeline
    # of its own, which software WebGL compiles at first paint (~0.3 s each under load)
    frame["colour"] = [list(style.grid_line)] * len(frame)
    return pdk.Layer(
        "GeoJsonLayer",
        id=GRIDS_ID,
        data=feature_collection(frame, ("grid_id", "code", "name_zh", "name_en", "colour")),
        filled=True,
        stroked=False,
        extruded=False,
        get_fill_color="properties.colour",
        pickable=False,
        parameters=FLAT_PARAMETERS,
    )
