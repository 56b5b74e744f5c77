"""The base map drawn from the twin's own data: land use and water, roads, grid boundaries.

No web tiles: the map under the buildings is the district's ``landuse`` polygons (kind
``"water"`` is the river and ponds), its ``roads`` drawn at their real width, and the
outlines of its management ``grids``. Flat layers do not write depth, so they stack in draw
order without z-fighting and never hide the extruded buildings drawn after them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pydeck as pdk

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
    """Road centre lines at their width in metres, as a ``GeoJsonLayer`` with id ``"roads"``.

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
    return pdk.Layer(
        "GeoJsonLayer",
        id=ROADS_ID,
        data=feature_collection(
            frame, ("road_id", "kind", "name_zh", "name_en", "width_m", "colour")
        ),
        stroked=True,
        filled=False,
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

    Parameters
    ----------
    grids : geopandas.GeoDataFrame
        The registry's ``grids`` layer (``grid_id``, ``code``, names), EPSG:4326.
    style : MapStyle
        Outline colour ``style.grid_line``.
    """
    return pdk.Layer(
        "GeoJsonLayer",
        id=GRIDS_ID,
        data=feature_collection(grids, ("grid_id", "code", "name_zh", "name_en")),
        filled=False,
        stroked=True,
        get_line_color=list(style.grid_line),
        get_line_width=2,
        line_width_units=pdk.types.String("pixels"),
        pickable=False,
        parameters=FLAT_PARAMETERS,
    )
