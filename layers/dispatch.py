"""Open tickets and crews at their locations: tickets filled by level, crews ringed by state.

Input is plain records, as the dispatch store holds them: tickets ``{ref, level, state, type,
lon, lat}`` (or a road ``node`` when no coordinates were given), crews ``{id, name, state,
lon, lat}`` (or ``node``). Positions of road nodes come from :func:`road_node_positions`.
Both layers start empty and are replaced whole by the browser: a few hundred points, no
shared geometry to protect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import pydeck as pdk

from layers.geojson import COORD_DECIMALS
from layers.style import CREW_STATE_STYLE, PLAIN, WARNING_LEVELS, MapStyle, warning_colour

TICKETS_ID = "tickets"
CREWS_ID = "crews"
#: ticket dot and crew ring radius on screen by level / fixed, px
TICKET_RADIUS_PX: dict[str, int] = {"blue": 6, "yellow": 7, "orange": 8, "red": 9}
CREW_RADIUS_PX = 9
CREW_RING_PX = 3
#: ticket states that are still open (twin.events.lifecycle.OPEN_STATES)
OPEN_STATES = frozenset({"reported", "dispatched", "accepted", "on_site"})


def road_node_positions(roads: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """Lon/lat of every road junction, from the ends of the road segments.

    >>> import shapely
    >>> r = gpd.GeoDataFrame({"from_node": ["J1"], "to_node": ["J2"]},
    ...                      geometry=[shapely.LineString([(113.0, 23.0), (113.1, 23.0)])])
    >>> road_node_positions(r)["J2"]
    (113.1, 23.0)
    """
    out: dict[str, tuple[float, float]] = {}
    lines = roads.to_crs(4326) if roads.crs is not None else roads
    for a, b, geom in zip(lines["from_node"], lines["to_node"], lines.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        coords = list(geom.geoms[0].coords if hasattr(geom, "geoms") else geom.coords)
        out.setdefault(str(a), (coords[0][0], coords[0][1]))
        end = list(geom.geoms[-1].coords if hasattr(geom, "geoms") else geom.coords)[-1]
        out.setdefault(str(b), (end[0], end[1]))
    return out


def _position(rec: Mapping[str, Any], nodes: Mapping[str, tuple[float, float]]):
    lon, lat = rec.get("lon"), rec.get("lat")
    try:
        if lon is not None and lat is not None and math.isfinite(lon) and math.isfinite(lat):
            return [round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)]
    except TypeError:
        return None
    xy = nodes.get(str(rec.get("node")))
    return None if xy is None else [round(xy[0], COORD_DECIMALS), round(xy[1], COORD_DECIMALS)]


def ticket_points(
    tickets: Iterable[Mapping[str, Any]], nodes: Mapping[str, tuple[float, float]] | None = None
) -> list[dict[str, Any]]:
    """Records of open tickets with a position: ``id`` (ref), ``p``, ``level``, ``state``,
    ``type``, ``c`` RGBA, ``r`` px; most urgent last, so they are drawn on top.

    >>> ticket_points([{"ref": "T1", "level": "red", "state": "reported", "lon": 113.7,
    ...                 "lat": 23.0}, {"ref": "T2", "level": "red", "state": "closed",
    ...                 "lon": 113.7, "lat": 23.0}])[0]["c"]
    [215, 25, 32, 255]
    """
    nodes = nodes or {}
    out = []
    for t in tickets:
        level, state = t.get("level"), t.get("state")
        p = _position(t, nodes)
        if level not in WARNING_LEVELS or state not in OPEN_STATES or p is None:
            continue
        out.append({
            "id": str(t.get("ref", "")), "p": p, "level": level, "state": state,
            "type": str(t.get("type", "")), "c": list(warning_colour(level)),
            "r": TICKET_RADIUS_PX[level],
        })  # fmt: skip
    out.sort(key=lambda r: WARNING_LEVELS.index(r["level"]))
    return out


def crew_points(
    crews: Iterable[Mapping[str, Any]], nodes: Mapping[str, tuple[float, float]] | None = None
) -> list[dict[str, Any]]:
    """Records of crews with a known position: ``id``, ``name``, ``p``, ``state``, ``c`` RGBA.

    >>> crew_points([{"id": "C1", "name": "A", "state": "busy", "lon": 113.7, "lat": 23.0}])[0]["c"]
    [204, 121, 167, 255]
    """
    nodes = nodes or {}
    out = []
    for c in crews:
        state = c.get("state")
        p = _position(c, nodes)
        if state not in CREW_STATE_STYLE or p is None:
            continue
        colour = [*CREW_STATE_STYLE[state][0][:3], 255]
        out.append({"id": str(c.get("id", "")), "name": str(c.get("name", "")), "p": p,
                    "state": state, "c": colour})  # fmt: skip
    return out


def build_tickets_layer(
    tickets: Iterable[Mapping[str, Any]] = (),
    *,
    nodes: Mapping[str, tuple[float, float]] | None = None,
    style: MapStyle = PLAIN,
) -> pdk.Layer:
    """Open tickets as filled dots: ``ScatterplotLayer`` with id ``"tickets"``."""
    outline = [*style.text[:3], 220]
    return pdk.Layer(
        "ScatterplotLayer",
        id=TICKETS_ID,
        data=ticket_points(tickets, nodes),
        get_position="p",
        get_fill_color="c",
        get_line_color=outline,
        get_radius="r",
        radius_units=pdk.types.String("pixels"),
        stroked=True,
        line_width_min_pixels=1,
        pickable=True,
        parameters={"depthCompare": "always"},
    )


def build_crews_layer(
    crews: Iterable[Mapping[str, Any]] = (),
    *,
    nodes: Mapping[str, tuple[float, float]] | None = None,
    style: MapStyle = PLAIN,
) -> pdk.Layer:
    """Crews as rings coloured by state: ``ScatterplotLayer`` with id ``"crews"``."""
    del style
    return pdk.Layer(
        "ScatterplotLayer",
        id=CREWS_ID,
        data=crew_points(crews, nodes),
        get_position="p",
        get_line_color="c",
        get_radius=CREW_RADIUS_PX,
        radius_units=pdk.types.String("pixels"),
        filled=False,
        stroked=True,
        line_width_units=pdk.types.String("pixels"),
        get_line_width=CREW_RING_PX,
        pickable=True,
        parameters={"depthCompare": "always"},
    )
