"""Live sensor layers: points (sent once) and grids coloured by the worst live state inside.

Geometry travels to the browser once, in the deck JSON. Live values and qualities arrive
later over ``/ws/live`` as compact arrays by sensor row; the browser recolours the layers
through deck.gl ``updateTriggers`` (``assets/streettwin_live.js``) with the same rules as
:func:`sensor_states` and :func:`worst_by_group` here, which the replay API uses server-side.

Every point carries its state row ``i`` (the order of ``registry.sensors``, which is the
order of :class:`twin.state.LiveState`), so a frame of rows maps straight onto the data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk

from layers.basemap import FLAT_PARAMETERS
from layers.buildings import building_heights_m
from layers.geojson import COORD_DECIMALS, feature_collection
from layers.style import (
    PLAIN,
    SENSOR_ALARM_SI,
    SENSOR_STATE_STYLE,
    SENSOR_STATES,
    MapStyle,
)

SENSORS_ID = "sensors"
SENSOR_GRIDS_ID = "sensor-grids"

#: state codes (index into :data:`layers.style.SENSOR_STATES`)
OK, STALE, REJECTED, ALARM = range(4)
#: twin.state.Quality values (GOOD=0, STALE=1, REJECTED=2, SIMULATED=3), kept as ints so
#: layers need not import the state store
_Q_STALE, _Q_REJECTED = 1, 2
#: a sensor inside a building is drawn this far above its roof, m (else hidden by the roof)
ROOF_CLEARANCE_M = 1.5
#: point radius on screen, px (pixels: readable at any zoom of a wall screen)
POINT_RADIUS_PX = 4
#: fill opacity of grids coloured by state (0–255): translucent, the map stays legible
GRID_FILL_ALPHA = 120


def sensor_states(value: np.ndarray, quality: np.ndarray, alarm_at: np.ndarray) -> np.ndarray:
    """State code of each sensor: ``alarm`` > ``rejected`` > ``stale`` > ``ok``.

    Parameters
    ----------
    value : array of float
        Live values, SI (NaN = none yet).
    quality : array of int
        :class:`twin.state.Quality` codes.
    alarm_at : array of float
        Alarm threshold per sensor, SI (NaN = never alarms).

    Returns
    -------
    numpy.ndarray of uint8
        Codes :data:`OK`, :data:`STALE`, :data:`REJECTED`, :data:`ALARM`. An alarm needs a
        value at or above the threshold; a stale value keeps its alarm (water does not
        recede because a gauge went quiet).

    Examples
    --------
    >>> sensor_states(np.array([0.1, 2.0, np.nan, 0.3]), np.array([0, 0, 1, 2]),
    ...               np.array([1.0, 1.0, 1.0, np.nan])).tolist()
    [0, 3, 1, 2]
    """
    value = np.asarray(value, dtype=float)
    quality = np.asarray(quality)
    out = np.full(value.shape, OK, dtype=np.uint8)
    out[quality == _Q_STALE] = STALE
    out[quality == _Q_REJECTED] = REJECTED
    with np.errstate(invalid="ignore"):
        out[np.asarray(value >= alarm_at)] = ALARM
    return out


def worst_by_group(states: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Worst state code in each group (``-1`` for a group with no sensor).

    >>> worst_by_group(np.array([0, 3, 1, 0]), np.array([0, 0, 1, 1]), 3).tolist()
    [3, 1, -1]
    """
    out = np.full(n_groups, -1, dtype=np.int16)
    np.maximum.at(out, np.asarray(group, dtype=np.int64), np.asarray(states, dtype=np.int16))
    return out


def alarm_thresholds(sensors: pd.DataFrame) -> np.ndarray:
    """Alarm threshold of each sensor from its quantity, SI (NaN where none).

    >>> alarm_thresholds(pd.DataFrame({"quantity": ["road__water_depth", "x"]})).tolist()
    [0.15, nan]
    """
    return sensors["quantity"].map(SENSOR_ALARM_SI).astype(float).to_numpy()


def sensor_points(
    sensors: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None = None
) -> list[dict]:
    """One compact record per sensor, in state-row order (the browser indexes by ``i``).

    Keys: ``i`` row, ``id`` sensor id, ``p`` ``[lon, lat, z]`` (degrees, m), ``k`` kind,
    ``q`` quantity, ``g`` grid id, ``e`` entity id, ``a`` alarm threshold (SI or ``None``).
    Sensors bound to a building sit :data:`ROOF_CLEARANCE_M` above its roof.
    """
    pts = sensors.to_crs(4326) if sensors.crs is not None else sensors
    lon = np.round(pts.geometry.x.to_numpy(float), COORD_DECIMALS)
    lat = np.round(pts.geometry.y.to_numpy(float), COORD_DECIMALS)
    z = np.zeros(len(pts))
    if buildings is not None and len(buildings) and "entity_type" in pts:
        roof = pd.Series(building_heights_m(buildings), index=buildings["building_id"].to_numpy())
        on_building = (pts["entity_type"] == "building").to_numpy()
        heights = roof.reindex(pts["entity_id"].to_numpy()).to_numpy(float)
        z = np.where(on_building & np.isfinite(heights), heights + ROOF_CLEARANCE_M, 0.0)
    alarm = alarm_thresholds(pts)

    def col(name: str) -> list:
        return pts[name].astype(str).tolist() if name in pts else [""] * len(pts)

    return [
        {"i": i, "id": s, "p": [x, y, round(h, 1)], "k": k, "q": q, "g": g, "e": e,
         "a": None if a != a else float(a)}
        for i, (s, x, y, h, k, q, g, e, a) in enumerate(
            zip(
                col("sensor_id"), lon.tolist(), lat.tolist(), z.tolist(), col("kind"),
                col("quantity"), col("grid_id"), col("entity_id"), alarm.tolist(), strict=True,
            )
        )
    ]  # fmt: skip


def build_sensors_layer(
    sensors: gpd.GeoDataFrame,
    *,
    style: MapStyle = PLAIN,
    buildings: gpd.GeoDataFrame | None = None,
) -> pdk.Layer:
    """Sensor points as a ``ScatterplotLayer`` with id ``"sensors"``, all shown as stale.

    The browser recolours them from live frames (``getFillColor`` by row, bumped through
    ``updateTriggers``); until the first frame every sensor is grey "stale", which is the
    truth before any reading arrives.

    Parameters
    ----------
    sensors : geopandas.GeoDataFrame
        The registry's ``sensors`` layer, in state-row order.
    style : MapStyle
        Visual style (outline colour follows the map text colour).
    buildings : geopandas.GeoDataFrame, optional
        Lifts sensors bound to a building onto its roof.
    """
    stale = list(SENSOR_STATE_STYLE["stale"][0][:3]) + [255]
    outline = list(style.text[:3]) + [200]
    return pdk.Layer(
        "ScatterplotLayer",
        id=SENSORS_ID,
        data=sensor_points(sensors, buildings),
        get_position="p",
        get_fill_color=stale,
        get_line_color=outline,
        stroked=True,
        line_width_min_pixels=1,
        radius_units=pdk.types.String("pixels"),
        get_radius=POINT_RADIUS_PX,
        pickable=True,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 200],
        # drawn over the buildings (and picked first): a sensor behind a tower stays visible
        parameters={"depthCompare": "always"},
    )


def build_sensor_grids_layer(grids: gpd.GeoDataFrame, *, style: MapStyle = PLAIN) -> pdk.Layer:
    """Grids filled by the worst live state of their sensors: ``GeoJsonLayer`` ``"sensor-grids"``.

    Flat and translucent, drawn under the buildings; every grid starts "stale" until the
    browser has live frames. Features carry ``grid_id``, ``name_zh``, ``name_en``.
    ``style`` is accepted for the builder signature; fills come from the state palette.
    """
    del style
    frame = grids.copy()
    for column in ("name_zh", "name_en"):
        if column not in frame:
            frame[column] = frame["grid_id"]
    stale = list(SENSOR_STATE_STYLE["stale"][0][:3]) + [GRID_FILL_ALPHA]
    return pdk.Layer(
        "GeoJsonLayer",
        id=SENSOR_GRIDS_ID,
        data=feature_collection(frame, ("grid_id", "name_zh", "name_en")),
        filled=True,
        stroked=False,  # the base map's "grids" layer draws the outlines
        extruded=False,
        get_fill_color=stale,
        pickable=True,
        parameters=FLAT_PARAMETERS,
    )


def state_colours(alpha: int = 255) -> list[list[int]]:
    """RGBA colour of each state code, in code order (the browser's palette)."""
    return [list(SENSOR_STATE_STYLE[s][0][:3]) + [alpha] for s in SENSOR_STATES]
