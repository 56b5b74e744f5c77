"""Crowd density on the map: counted places as discs coloured by Fruin level of service.

Places are the facilities that carry a people counter (``sensors.kind == "people_counter"``,
bound by ``entity_id``), drawn once as discs of about their walkable area. Density (people
per m² of walkable area) comes from the nowcast (``latest["crowd"]["density"]``) or any crowd
model; its Fruin level of service (:func:`sim.crowd.density.level_of_service`, queuing bands
for squares where crowds stand, walkway bands elsewhere) picks the colour. Live updates carry
``{facility_id: {"d", "los", "c"}}`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pydeck as pdk

from layers.geojson import COORD_DECIMALS
from layers.style import LOS_COLOURS, PLAIN, MapStyle
from sim.crowd.density import level_of_service

CROWD_ID = "crowd-density"
#: place kinds where people stand rather than walk: Fruin's queuing bands apply
QUEUING_KINDS = frozenset({"square", "shelter", "station", "stadium"})
#: disc radius bounds, m (a disc of the walkable area, kept legible)
MIN_RADIUS_M, MAX_RADIUS_M = 12.0, 60.0
FILL_ALPHA = 200
#: fill of a place with no density yet (outline only)
NO_DATA = [0, 0, 0, 0]


def los_of(density: float, kind: str) -> str:
    """Fruin LOS letter of a density (p/m²) at a place of ``kind`` ("" when unknown).

    >>> los_of(1.0, "market"), los_of(1.0, "square"), los_of(float("nan"), "square")
    ('D', 'B', '')
    """
    band = "queuing" if kind in QUEUING_KINDS else "walkway"
    return str(level_of_service([density], band)[0])


def crowd_values(
    places: gpd.GeoDataFrame | None, density: Mapping[str, float] | None
) -> dict[str, Any]:
    """Live values: facility id → ``{"d": p/m², "los": letter, "c": RGBA}`` of known places.

    >>> import pandas as pd
    >>> crowd_values(pd.DataFrame({"facility_id": ["F03"], "kind": ["square"]}), {"F03": 2.0})
    {'F03': {'d': 2.0, 'los': 'D', 'c': [253, 141, 60, 200]}}
    """
    if places is None or not density:
        return {}
    out = {}
    for fid, kind in zip(
        places["facility_id"].astype(str), places["kind"].astype(str), strict=True
    ):
        d = density.get(fid)
        if d is None or not np.isfinite(d):
            continue
        los = los_of(float(d), kind)
        out[fid] = {"d": round(float(d), 3), "los": los, "c": [*LOS_COLOURS[los][:3], FILL_ALPHA]}
    return out


def crowd_places(
    facilities: gpd.GeoDataFrame, sensors: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Facilities watched by a people counter (all with a walkable area if ``sensors`` is None)."""
    if sensors is not None and "kind" in sensors:
        counted = set(sensors.loc[sensors["kind"] == "people_counter", "entity_id"].astype(str))
        keep = facilities["facility_id"].astype(str).isin(counted)
    else:
        keep = facilities["area_m2"].astype(float) > 0
    return facilities.loc[keep.to_numpy()]


def build_crowd_layer(
    facilities: gpd.GeoDataFrame,
    *,
    sensors: gpd.GeoDataFrame | None = None,
    density: Mapping[str, float] | None = None,
    style: MapStyle = PLAIN,
) -> pdk.Layer:
    """Counted places as a ``ScatterplotLayer`` with id ``"crowd-density"``.

    Records: ``id``, ``p`` [lon, lat], ``r`` radius (m), names, ``kind``, ``c`` RGBA (clear
    until a density is known), ``d`` density and ``los`` letter (None / "" when unknown).
    """
    places = crowd_places(facilities, sensors)
    values = crowd_values(places, density)
    pts = places.to_crs(4326) if places.crs is not None else places
    area = pts["area_m2"].to_numpy(float)
    radius = np.clip(np.sqrt(np.nan_to_num(area) / np.pi), MIN_RADIUS_M, MAX_RADIUS_M)
    data = []
    for i, (fid, geom) in enumerate(zip(pts["facility_id"].astype(str), pts.geometry, strict=True)):
        v = values.get(fid, {})
        data.append({
            "id": fid,
            "p": [round(geom.x, COORD_DECIMALS), round(geom.y, COORD_DECIMALS)],
            "r": round(float(radius[i]), 1),
            "name_zh": str(pts["name_zh"].iloc[i]),
            "name_en": str(pts["name_en"].iloc[i]),
            "kind": str(pts["kind"].iloc[i]),
            "c": v.get("c", NO_DATA),
            "d": v.get("d"),
            "los": v.get("los", ""),
        })  # fmt: skip
    outline = [*style.text[:3], 200]
    return pdk.Layer(
        "ScatterplotLayer",
        id=CROWD_ID,
        data=data,
        get_position="p",
        get_radius="r",
        get_fill_color="c",
        get_line_color=outline,
        stroked=True,
        line_width_min_pixels=2,
        pickable=True,
        parameters={"depthCompare": "always"},
    )
