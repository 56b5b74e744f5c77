"""Terrain of the demo district: a meandering river and a DEM that drains toward it.

Everything here works in a local metric frame: x east, y north, metres, origin at the district's
south-west corner; :mod:`sim.district.generate` shifts it to the metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import xarray as xr
from scipy import ndimage

DEM_CELL_M = 2.0
RIVER_HALF_WIDTH_M = 24.0
#: top of the river banks above datum (m); ground below it floods first when the river overtops
BANK_TOP_M = 4.0
RIVER_BED_M = 0.0
#: downstream fall of the whole valley toward the east (m per m)
VALLEY_SLOPE = 5e-4


@dataclass(frozen=True)
class River:
    """Meandering river centreline ``y = f(x)`` in the local frame."""

    y0: float
    amps: tuple[float, float]
    waves: tuple[float, float]
    phases: tuple[float, float]

    def y(self, x: np.ndarray) -> np.ndarray:
        """Centreline northing (m) at eastings ``x`` (m)."""
        out = np.full_like(np.asarray(x, dtype=float), self.y0)
        for a, w, p in zip(self.amps, self.waves, self.phases, strict=True):
            out = out + a * np.sin(2 * np.pi * x / w + p)
        return out

    def dydx(self, x: np.ndarray) -> np.ndarray:
        """Slope of the centreline."""
        out = np.zeros_like(np.asarray(x, dtype=float))
        for a, w, p in zip(self.amps, self.waves, self.phases, strict=True):
            out = out + a * 2 * np.pi / w * np.cos(2 * np.pi * x / w + p)
        return out

    def distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Approximate distance (m) from points to the centreline (signed: + north)."""
        return (y - self.y(x)) / np.sqrt(1.0 + self.dydx(x) ** 2)

    def centreline(
        self, width: float, pad: float = 200.0, step: float = 10.0
    ) -> shapely.LineString:
        """The centreline as a line from ``-pad`` to ``width + pad``."""
        xs = np.arange(-pad, width + pad + step, step)
        return shapely.LineString(np.column_stack([xs, self.y(xs)]))


def make_river(rng: np.random.Generator, height: float) -> River:
    """A river crossing the district west → east in its southern half."""
    return River(
        y0=float(height * rng.uniform(0.30, 0.38)),
        amps=(float(rng.uniform(90, 140)), float(rng.uniform(25, 45))),
        waves=(float(rng.uniform(1300, 1700)), float(rng.uniform(450, 650))),
        phases=(float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi))),
    )


def make_depressions(rng: np.random.Generator, river: River, width: float, n: int) -> np.ndarray:
    """Centres, radii and depths of local depressions near the river: rows ``(x, y, r, depth)``."""
    out = []
    while len(out) < n:
        x = rng.uniform(0.08, 0.92) * width
        side = rng.choice([-1.0, 1.0])
        off = rng.uniform(140, 420)
        out.append(
            (
                x,
                float(river.y(np.array([x]))[0] + side * off),
                rng.uniform(70, 130),
                rng.uniform(1.8, 3.2),
            )
        )
    return np.array(out)


def make_dem(
    rng: np.random.Generator,
    river: River,
    width: float,
    height: float,
    depressions: np.ndarray,
) -> xr.DataArray:
    """Ground elevation (m above datum) on a 2 m grid in the local frame.

    The ground rises gently from the banks (``BANK_TOP_M``) to about 12 m, with a hill in the
    north, low noise and the given depressions; the channel is carved to ``RIVER_BED_M``; the
    whole valley falls toward the east by ``VALLEY_SLOPE``.
    """
    xs = np.arange(DEM_CELL_M / 2, width, DEM_CELL_M)
    ys = np.arange(DEM_CELL_M / 2, height, DEM_CELL_M)
    X, Y = np.meshgrid(xs, ys)
    d = np.abs(river.distance(X, Y))
    z = BANK_TOP_M + 0.3 + 8.0 * (1.0 - np.exp(-np.maximum(d - RIVER_HALF_WIDTH_M, 0) / 700.0))
    hx, hy = rng.uniform(0.6, 0.9) * width, rng.uniform(0.82, 0.95) * height
    z += rng.uniform(14, 22) * np.exp(-((X - hx) ** 2 + (Y - hy) ** 2) / (2 * 260.0**2))
    # smooth random relief, a few decimetres
    coarse = rng.normal(0.0, 1.0, size=(ys.size // 25 + 2, xs.size // 25 + 2))
    relief = ndimage.zoom(
        coarse, (ys.size / (coarse.shape[0] - 1), xs.size / (coarse.shape[1] - 1)), order=3
    )
    z += 0.35 * relief[: ys.size, : xs.size]
    for cx, cy, r, depth in depressions:
        z -= depth * np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * r**2))
    # the channel: parabolic bed between the banks
    inside = d < RIVER_HALF_WIDTH_M
    bed = RIVER_BED_M + (BANK_TOP_M - 0.4 - RIVER_BED_M) * (d / RIVER_HALF_WIDTH_M) ** 2
    z = np.where(inside, np.minimum(z, bed), z)
    z -= VALLEY_SLOPE * (X - width / 2)
    return xr.DataArray(
        z.astype("float32"),
        dims=("y", "x"),
        coords={"y": ys, "x": xs},
        name="elevation",
        attrs={"units": "m"},
    )


def sample_dem(dem: xr.DataArray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Nearest-cell DEM value (m) at points; points outside take the edge cell."""
    xs, ys = dem["x"].values, dem["y"].values
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    i = np.clip(np.round((np.asarray(y) - ys[0]) / dy).astype(int), 0, ys.size - 1)
    j = np.clip(np.round((np.asarray(x) - xs[0]) / dx).astype(int), 0, xs.size - 1)
    return dem.values[i, j].astype(float)
