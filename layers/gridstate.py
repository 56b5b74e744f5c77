"""Grid boundaries coloured by their worst live state: the highest active warning inside.

The outlines (rings :data:`OUTLINE_M` wide, the same flat polygons as the base map's grid
outlines) are sent once; live updates carry ``{grid_id: {"level", "c"}}``. A warning names
its area (``area_id``): a grid, a community (all its grids) or the street (every grid).
Grids with no warning are not outlined by this layer (the base map's outline stays).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import pydeck as pdk

from layers.basemap import FLAT_PARAMETERS, outline_polygons
from layers.geojson import feature_collection
from layers.style import PLAIN, WARNING_LEVELS, MapStyle, warning_colour

GRID_STATE_ID = "grid-state"
#: ring width, m: wider than the base map's outline so the state reads from afar
OUTLINE_M = 10.0
CLEAR = [0, 0, 0, 0]


def level_name(level: Any) -> str | None:
    """Colour name of a warning level given as a name or as 1–4 (blue … red).

    >>> level_name(4), level_name("yellow"), level_name(0)
    ('red', 'yellow', None)
    """
    if level in WARNING_LEVELS:
        return str(level)
    try:
        n = int(level)
    except (TypeError, ValueError):
        return None
    return WARNING_LEVELS[n - 1] if 1 <= n <= len(WARNING_LEVELS) else None


def worst_levels(
    grids: gpd.GeoDataFrame,
    warnings: Iterable[Mapping[str, Any]],
    street_ids: Iterable[str] = ("street",),
) -> dict[str, str]:
    """Grid id → highest active warning level naming it (directly, by community or street).

    ``street_ids`` are area ids meaning the whole district (the registry's ``street_id``;
    street-wide rainstorm signals carry it).

    >>> import pandas as pd
    >>> g = pd.DataFrame({"grid_id": ["G1", "G2"], "community_id": ["C1", "C2"]})
    >>> worst_levels(g, [{"area_id": "G1", "level": 2}, {"area_id": "S1", "level": 1},
    ...                  {"area_id": "C2", "level": "orange"}], street_ids=["S1"])
    {'G1': 'yellow', 'G2': 'orange'}
    """
    grid_ids = grids["grid_id"].astype(str).tolist()
    communities = grids.get("community_id", grid_ids)
    community = dict(zip(grid_ids, [str(c) for c in communities], strict=True))
    street = {str(s) for s in street_ids}
    out: dict[str, str] = {}
    for w in warnings:
        level = level_name(w.get("level"))
        if level is None or w.get("status") in ("cancelled", "expired"):
            continue
        area = str(w.get("area_id", ""))
        hit = grid_ids if area in street else [g for g in grid_ids if area in (g, community[g])]
        for g in hit:
            if g not in out or WARNING_LEVELS.index(level) > WARNING_LEVELS.index(out[g]):
                out[g] = level
    return out


def grid_state_values(
    grids: gpd.GeoDataFrame,
    warnings: Iterable[Mapping[str, Any]],
    street_ids: Iterable[str] = ("street",),
) -> dict[str, dict[str, Any]]:
    """Live values: grid id → ``{"level": name, "c": RGBA}`` for grids under a warning."""
    return {
        g: {"level": lv, "c": list(warning_colour(lv))}
        for g, lv in worst_levels(grids, warnings, street_ids).items()
    }


def build_grid_state_layer(
    grids: gpd.GeoDataFrame,
    *,
    warnings: Iterable[Mapping[str, Any]] = (),
    street_ids: Iterable[str] = ("street",),
    style: MapStyle = PLAIN,
) -> pdk.Layer:
    """Grid outlines by worst warning level: flat ``GeoJsonLayer`` with id ``"grid-state"``.

    Features carry ``grid_id``, names, ``level`` ("" for none) and ``colour`` (RGBA, clear
    for none).
    """
    del style
    frame = grids.set_geometry(outline_polygons(grids, OUTLINE_M).rename("geometry"))
    values = grid_state_values(grids, warnings, street_ids)
    ids = frame["grid_id"].astype(str)
    frame["level"] = [values.get(g, {}).get("level", "") for g in ids]
    frame["colour"] = [values.get(g, {}).get("c", CLEAR) for g in ids]
    return pdk.Layer(
        "GeoJsonLayer",
        id=GRID_STATE_ID,
        data=feature_collection(frame, ("grid_id", "name_zh", "name_en", "level", "colour")),
        filled=True,
        stroked=False,
        extruded=False,
        get_fill_color="properties.colour",
        pickable=True,
        parameters=FLAT_PARAMETERS,
    )
