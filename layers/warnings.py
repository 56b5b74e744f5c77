"""Active warnings on the map: a ring per warning at its place, coloured by level.

Warnings come as plain records (the event shape documented in :mod:`dashboard.api_live`:
``id, hazard, level, area_id, lon, lat, headline_zh, headline_en, issued``) or a DataFrame of
them; the wall screen replaces the data in the browser as warnings arrive, so the page
usually starts with none. Colour is never the only cue: the ticker and banner say the level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pydeck as pdk

from layers.style import PLAIN, WARNING_LEVELS, MapStyle, warning_colour

WARNINGS_ID = "warnings"
#: ring radius on screen by level, px: more severe is bigger
RING_RADIUS_PX: dict[str, int] = {"blue": 14, "yellow": 16, "orange": 20, "red": 24}
#: ring line width, px
RING_WIDTH_PX = 5
#: rings sit on the ground and are drawn over everything (depth test off), m
RING_ELEVATION_M = 0.0


def warning_points(warnings: Iterable[Mapping[str, Any]] | pd.DataFrame) -> list[dict]:
    """Compact records for the layer: ``p`` [lon, lat, z], ``level``, ``c`` RGBA, ``r`` px.

    Records with an unknown level or no position are left out.

    >>> warning_points([{"id": "W1", "level": "red", "lon": 113.7, "lat": 23.0}])[0]["c"]
    [215, 25, 32, 255]
    """
    rows = warnings.to_dict("records") if isinstance(warnings, pd.DataFrame) else list(warnings)
    out = []
    for w in rows:
        level, lon, lat = w.get("level"), w.get("lon"), w.get("lat")
        if level not in WARNING_LEVELS or not _finite(lon) or not _finite(lat):
            continue
        out.append(
            {
                "id": str(w.get("id", "")),
                "p": [float(lon), float(lat), RING_ELEVATION_M],
                "level": level,
                "c": list(warning_colour(level)),
                "r": RING_RADIUS_PX[level],
            }
        )
    return out


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def build_warnings_layer(
    warnings: Iterable[Mapping[str, Any]] | pd.DataFrame = (), *, style: MapStyle = PLAIN
) -> pdk.Layer:
    """Warning rings as a ``ScatterplotLayer`` with id ``"warnings"`` (unfilled, pickable)."""
    del style  # level colours are the same on every map style
    return pdk.Layer(
        "ScatterplotLayer",
        id=WARNINGS_ID,
        data=warning_points(warnings),
        get_position="p",
        get_line_color="c",
        get_radius="r",
        radius_units=pdk.types.String("pixels"),
        filled=False,
        stroked=True,
        line_width_units=pdk.types.String("pixels"),
        get_line_width=RING_WIDTH_PX,
        pickable=True,
        parameters={"depthCompare": "always"},
    )
