"""Flood depth on the map: a depth raster drawn as one translucent bitmap in a blue ramp.

The depth comes from a flood model run (:class:`sim.flood.model.FloodModel`, or the live
nowcast's analysis run kept by the warning service) as an :class:`xarray.DataArray` on the
model's metric grid (dims ``("y", "x")``, cell-centre coordinates in m, ``attrs["crs"]``).
Cells are classed with :data:`layers.style.FLOOD_DEPTH_BREAKS_M`; dry cells (shallower than
:data:`layers.style.FLOOD_DRY_M`) are transparent. The image replaces the layer's ``image``
and ``bounds`` in the browser — a PNG of classes, never polygons, so a 10 m grid over a whole
street is a few kilobytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pydeck as pdk
import xarray as xr

from layers.raster import EMPTY_PNG_URL, downsample_step, grid_corners, png_data_url
from layers.style import (
    FLOOD_ALPHA,
    FLOOD_DEPTH_BREAKS_M,
    FLOOD_DEPTH_COLOURS,
    FLOOD_DRY_M,
    PLAIN,
    MapStyle,
)

FLOOD_ID = "flood-depth"
#: longest side of the depth image, px (a 10 m grid of 10 km still fits)
MAX_IMAGE_PX = 1024
#: bounds of the layer before any depth is known: a point, so nothing is drawn
EMPTY_BOUNDS = [0.0, 0.0, 0.0, 0.0]


def depth_classes(depth: np.ndarray) -> np.ndarray:
    """Class of each cell: ``-1`` dry, else the index into FLOOD_DEPTH_COLOURS.

    >>> depth_classes(np.array([0.0, 0.03, 0.05, 0.2, 0.9, np.nan])).tolist()
    [-1, 0, 1, 2, 4, -1]
    """
    d = np.asarray(depth, dtype=float)
    cls = np.searchsorted(np.asarray(FLOOD_DEPTH_BREAKS_M), np.nan_to_num(d), side="right")
    return np.where(np.isfinite(d) & (d >= FLOOD_DRY_M), cls, -1)


def depth_rgba(depth: np.ndarray) -> np.ndarray:
    """RGBA image of a depth grid (rows ascending in y): north up, dry cells transparent."""
    cls = depth_classes(depth)[::-1]  # image rows run north to south
    palette = np.array([(*c[:3], FLOOD_ALPHA) for c in FLOOD_DEPTH_COLOURS] + [(0, 0, 0, 0)])
    return palette[np.where(cls < 0, len(FLOOD_DEPTH_COLOURS), cls)].astype(np.uint8)


def flood_depth_values(depth: xr.DataArray | None) -> dict[str, Any]:
    """The layer's live values: ``image`` (PNG data URL), ``bounds`` (lon/lat corners),
    ``max_depth_m`` and ``wet_cells``; the empty image when ``depth`` is None or all dry.

    Parameters
    ----------
    depth : xarray.DataArray, optional
        Water depth (m), dims ``("y", "x")`` with ascending metric coordinates and the CRS in
        ``attrs["crs"]``.
    """
    if depth is None or depth.size == 0:
        return {"image": EMPTY_PNG_URL, "bounds": EMPTY_BOUNDS, "max_depth_m": 0.0, "wet_cells": 0}
    depth = depth.sortby("x").sortby("y")
    values = np.asarray(depth.values, dtype=float)
    wet = int(np.count_nonzero(depth_classes(values) >= 0))
    if wet == 0:
        return {"image": EMPTY_PNG_URL, "bounds": EMPTY_BOUNDS, "max_depth_m": 0.0, "wet_cells": 0}
    step = downsample_step(values.shape, MAX_IMAGE_PX)
    if step > 1:  # block maximum: a flooded street must not vanish when zoomed out
        ny, nx = (s // step * step for s in values.shape)
        blocks = values[:ny, :nx].reshape(ny // step, step, nx // step, step)
        values = np.nanmax(blocks, axis=(1, 3))
        x = depth.x.values[:nx:step] + (step - 1) * float(depth.x[1] - depth.x[0]) / 2
        y = depth.y.values[:ny:step] + (step - 1) * float(depth.y[1] - depth.y[0]) / 2
    else:
        x, y = depth.x.values, depth.y.values
    return {
        "image": png_data_url(depth_rgba(values)),
        "bounds": grid_corners(x, y, depth.attrs.get("crs", "EPSG:32649")),
        "max_depth_m": round(float(np.nanmax(values)), 3),
        "wet_cells": wet,
    }


def build_flood_depth_layer(
    depth: xr.DataArray | None = None, *, style: MapStyle = PLAIN
) -> pdk.Layer:
    """Flood depth as a ``BitmapLayer`` with id ``"flood-depth"`` (empty without ``depth``).

    Drawn flat over the base map and under the buildings (depth test off, no depth write).
    """
    del style  # the blue ramp is the same on every map style
    values = flood_depth_values(depth)
    return pdk.Layer(
        "BitmapLayer",
        id=FLOOD_ID,
        data=None,
        image=pdk.types.String(values["image"]),
        bounds=values["bounds"],
        pickable=False,
        parameters={"depthWriteEnabled": False, "depthCompare": "always"},
    )
