"""Fire arrival isochrones: buildings coloured by when a spreading fire reaches them.

Input is a fire-spread result (:class:`sim.fire.model.FireSpreadModel` ``ids`` and
``arrival_time_s``) turned into seconds *from now* by the caller: 0 for a building already
burning, NaN or inf for one not reached. Buildings reached within
:data:`layers.style.FIRE_BANDS_S` (10, 30, 60 min) are drawn in the band's colour, the same
footprint extruded to the same height as the buildings layer and pulled towards the camera
(``depthBias``) so the band colour covers the building instead of fighting with it.

Live updates carry only ``{building_id: colour}``: the browser takes the footprints from the
buildings layer it already holds (:func:`fire_values`), so no geometry is sent again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pydeck as pdk

from layers.buildings import building_heights_m
from layers.geojson import feature_collection
from layers.style import FIRE_BAND_COLOURS, FIRE_BANDS_S, PLAIN, MapStyle

FIRE_ID = "fire-arrival"
#: fill opacity of the band colours (opaque: the band replaces the building's use colour)
FIRE_ALPHA = 235
#: GPU polygon offset that draws the bands over the coincident building faces
FIRE_PARAMETERS = {"depthBias": -1.0, "depthBiasSlopeScale": -4.0}


def arrival_bands(arrival_s: Iterable[float]) -> np.ndarray:
    """Band of each arrival time (s from now): 0 ≤ 10 min, 1 ≤ 30 min, 2 ≤ 60 min, else -1.

    >>> arrival_bands([0.0, 600.0, 601.0, 3600.0, 3601.0, np.nan, np.inf]).tolist()
    [0, 0, 1, 2, -1, -1, -1]
    """
    t = np.asarray(list(arrival_s) if not isinstance(arrival_s, np.ndarray) else arrival_s, float)
    t = np.maximum(t, 0.0)  # already burning counts as reached now
    band = np.searchsorted(np.asarray(FIRE_BANDS_S), np.nan_to_num(t, nan=np.inf), side="left")
    return np.where(np.isfinite(t) & (band < len(FIRE_BANDS_S)), band, -1)


def band_colour(band: int) -> list[int]:
    """RGBA of a band index."""
    return [*FIRE_BAND_COLOURS[band][:3], FIRE_ALPHA]


def fire_values(building_ids: Iterable[str], arrival_s: Iterable[float]) -> dict[str, Any]:
    """Live values of the layer: reached buildings → ``{"band", "min", "c"}``.

    ``min`` is the arrival in minutes from now (0 = burning), ``c`` the RGBA fill.

    >>> v = fire_values(["B1", "B2", "B3"], [0.0, 1200.0, np.nan])
    >>> sorted(v), v["B2"]
    (['B1', 'B2'], {'band': 1, 'min': 20.0, 'c': [230, 159, 0, 235]})
    """
    ids = [str(b) for b in building_ids]
    t = np.asarray(list(arrival_s), dtype=float)
    bands = arrival_bands(t)
    return {
        b: {"band": int(k), "min": round(max(float(s), 0.0) / 60.0, 1), "c": band_colour(int(k))}
        for b, s, k in zip(ids, t.tolist(), bands.tolist(), strict=True)
        if k >= 0
    }


def build_fire_arrival_layer(
    buildings: gpd.GeoDataFrame,
    arrival_s: Mapping[str, float] | None = None,
    *,
    style: MapStyle = PLAIN,
) -> pdk.Layer:
    """Buildings reached within an hour, by band: ``GeoJsonLayer`` with id ``"fire-arrival"``.

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        The registry's ``buildings`` layer (``building_id``, ``height_m``, ``levels``).
    arrival_s : mapping of building_id → s from now, optional
        Arrival times; without them the layer is empty (no fire).
    style : MapStyle
        Accepted for the builder signature; band colours are the same on every style.

    Returns
    -------
    pydeck.Layer
        Features carry ``building_id``, ``height_m``, ``band``, ``minutes`` and ``fill``.
    """
    del style
    arrival_s = arrival_s or {}
    ids = buildings["building_id"].astype(str)
    values = fire_values(ids, [arrival_s.get(b, np.nan) for b in ids])
    reached = ids.isin(list(values)).to_numpy()
    frame = buildings.loc[reached, ["building_id", "geometry"]].copy()
    frame["height_m"] = np.round(building_heights_m(buildings)[reached], 1)
    frame["band"] = [values[b]["band"] for b in frame["building_id"]]
    frame["minutes"] = [values[b]["min"] for b in frame["building_id"]]
    frame["fill"] = [values[b]["c"] for b in frame["building_id"]]
    return pdk.Layer(
        "GeoJsonLayer",
        id=FIRE_ID,
        data=feature_collection(frame, ("building_id", "height_m", "band", "minutes", "fill")),
        filled=True,
        stroked=False,
        extruded=True,
        get_elevation="properties.height_m",
        get_fill_color="properties.fill",
        pickable=True,
        parameters=FIRE_PARAMETERS,
    )
