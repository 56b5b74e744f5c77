"""The 3-D buildings layer: footprints extruded by height, coloured by use or warning level."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pydeck as pdk

from layers.geojson import feature_collection
from layers.style import DEFAULT_LEVEL_HEIGHT_M, PLAIN, MapStyle, use_colour, warning_colour

LAYER_ID = "buildings"

#: building use → (中文, English) shown in tooltips
USE_NAMES: dict[str, tuple[str, str]] = {
    "residential": ("住宅", "residential"),
    "commercial": ("商业", "commercial"),
    "office": ("办公", "office"),
    "industrial": ("工业", "industrial"),
    "school": ("学校", "school"),
    "hospital": ("医院", "hospital"),
    "elderly_home": ("养老院", "elderly home"),
    "market": ("市场", "market"),
    "public": ("公共建筑", "public building"),
    "warehouse": ("仓库", "warehouse"),
    "mixed": ("商住混合", "mixed use"),
    "garage": ("车库", "garage"),
}

#: properties sent to the browser for each building (tooltips and colouring)
PROPERTIES: tuple[str, ...] = (
    "building_id",
    "name_zh",
    "name_en",
    "use",
    "use_zh",
    "use_en",
    "levels",
    "height_m",
    "address_zh",
    "address_en",
    "fill",
)


def building_heights_m(buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Extrusion height of each building, m: ``height_m``, else levels × 3 m, else 3 m.

    >>> import shapely
    >>> g = gpd.GeoDataFrame({"height_m": [12.0, np.nan], "levels": [4, 2]},
    ...                      geometry=[shapely.box(0, 0, 1, 1)] * 2)
    >>> building_heights_m(g).tolist()
    [12.0, 6.0]
    """
    n = len(buildings)
    height = (
        buildings["height_m"].to_numpy(float) if "height_m" in buildings else np.full(n, np.nan)
    )
    levels = buildings["levels"].to_numpy(float) if "levels" in buildings else np.full(n, np.nan)
    from_levels = np.where(levels > 0, levels * DEFAULT_LEVEL_HEIGHT_M, DEFAULT_LEVEL_HEIGHT_M)
    return np.where(np.isfinite(height) & (height > 0), height, from_levels)


def build_buildings_layer(
    buildings: gpd.GeoDataFrame,
    *,
    style: MapStyle = PLAIN,
    addresses: gpd.GeoDataFrame | None = None,
    warning_levels: Mapping[str, str] | None = None,
) -> pdk.Layer:
    """Extruded building footprints as a deck.gl ``GeoJsonLayer`` with id ``"buildings"``.

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        The registry's ``buildings`` layer (EPSG:4326); uses ``building_id``, ``name_zh``,
        ``name_en``, ``use``, ``levels``, ``height_m`` (m) and ``address_id``.
    style : MapStyle
        Visual style; sets the fill opacity.
    addresses : geopandas.GeoDataFrame, optional
        The ``addresses`` layer; when given, tooltips show each building's standard address.
    warning_levels : mapping of building_id → level, optional
        When given, buildings are coloured by warning level (``"blue"`` … ``"red"``; absent
        means none) instead of by use.

    Returns
    -------
    pydeck.Layer
        Pickable, extruded; feature properties carry the tooltip fields and ``fill`` (RGBA).
    """
    frame = buildings.copy()
    frame["height_m"] = np.round(building_heights_m(buildings), 1)
    frame["levels"] = frame["levels"].fillna(0).astype(int) if "levels" in frame else 0
    for column in ("name_zh", "name_en", "use"):
        if column not in frame:
            frame[column] = ""
    frame["use_zh"] = [USE_NAMES.get(u, (u, u))[0] for u in frame["use"]]
    frame["use_en"] = [USE_NAMES.get(u, (u, u))[1] for u in frame["use"]]
    frame["address_zh"], frame["address_en"] = _address_text(frame, addresses)
    alpha = style.building_alpha
    if warning_levels is None:
        frame["fill"] = [list(use_colour(u, alpha=alpha)) for u in frame["use"]]
    else:
        frame["fill"] = [
            list(warning_colour(warning_levels.get(b), alpha=alpha)) for b in frame["building_id"]
        ]
    return pdk.Layer(
        "GeoJsonLayer",
        id=LAYER_ID,
        data=feature_collection(frame, PROPERTIES),
        filled=True,
        stroked=False,
        extruded=True,
        wireframe=False,
        get_elevation="properties.height_m",
        get_fill_color="properties.fill",
        pickable=True,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 160],
    )


def _address_text(
    buildings: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame | None
) -> tuple[list[str], list[str]]:
    """Chinese and English address text of each building ("" where unknown)."""
    if addresses is None or "address_id" not in buildings or len(addresses) == 0:
        return [""] * len(buildings), [""] * len(buildings)
    by_id = addresses.set_index("address_id")
    zh = by_id["text_zh"].reindex(buildings["address_id"]).fillna("")
    en = by_id["text_en"].reindex(buildings["address_id"]).fillna("")
    return zh.astype(str).tolist(), en.astype(str).tolist()
