"""Rasters on the map: RGBA arrays → PNG data URLs and metric grids → deck.gl bitmap corners.

deck.gl's ``BitmapLayer`` draws one image between four corners given in longitude/latitude.
Our rasters (the DEM, the flood model's depth grid) live on the district's metric grid, whose
edges are not parallel to meridians, so the corners are projected one by one and the layer
takes them as a quadrilateral. The PNG is written here with :mod:`zlib` alone (no imaging
library in the serving path): rows are filtered with the "up" filter, which suits smooth
fields and flat colour classes.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import numpy as np
from pyproj import Transformer

#: zlib level of generated PNGs: 6 is the usual balance of size and time
PNG_LEVEL = 6
#: a 1×1 transparent PNG: the image of a raster layer with nothing to show yet
EMPTY_PNG_URL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg=="
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bytes(rgba: np.ndarray) -> bytes:
    """An 8-bit RGBA PNG of ``rgba`` (rows, cols, 4), first row at the top of the image.

    >>> png_bytes(np.zeros((1, 1, 4), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    img = np.ascontiguousarray(rgba, dtype=np.uint8)
    if img.ndim != 3 or img.shape[2] != 4:
        raise ValueError(f"expected an (rows, cols, 4) array, got {img.shape}")
    h, w, _ = img.shape
    rows = img.reshape(h, w * 4)
    # filter type 2 ("up"): each byte minus the one above, wrapping like uint8 arithmetic
    up = np.empty_like(rows)
    up[0] = rows[0]
    up[1:] = rows[1:] - rows[:-1]
    raw = np.hstack([np.full((h, 1), 2, np.uint8), up]).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, PNG_LEVEL))
        + _chunk(b"IEND", b"")
    )


def png_data_url(rgba: np.ndarray) -> str:
    """``data:image/png;base64,...`` of :func:`png_bytes`."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode("ascii")


def grid_corners(x: np.ndarray, y: np.ndarray, crs: Any) -> list[list[float]]:
    """Corners of a grid of cell centres ``x``, ``y`` (m, ascending) in ``crs`` as lon/lat.

    Returns deck.gl's quadrilateral order: bottom-left, top-left, top-right, bottom-right
    (degrees, 6 decimals), taken at the outer cell edges.

    >>> c = grid_corners(np.array([5.0, 15.0]), np.array([5.0, 15.0]), "EPSG:3857")
    >>> c[0], c[2]
    ([0.0, 0.0], [0.00018, 0.00018])
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    dx = float(x[1] - x[0]) if len(x) > 1 else 1.0
    dy = float(y[1] - y[0]) if len(y) > 1 else 1.0
    west, east = x[0] - dx / 2, x[-1] + dx / 2
    south, north = y[0] - dy / 2, y[-1] + dy / 2
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(
        np.array([west, west, east, east]), np.array([south, north, north, south])
    )
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]


def downsample_step(shape: tuple[int, int], max_px: int) -> int:
    """Stride that keeps both sides of an image of ``shape`` at most ``max_px`` pixels.

    >>> downsample_step((1000, 400), 512)
    2
    """
    return max(1, int(np.ceil(max(shape) / max_px)))
