"""Fast point-in-polygon index: which building / grid contains each of many points.

Written by hand (a bucket grid plus a numba crossing-number kernel) because it is the
product's hot core: every located report, crowd sample and flood cell goes through it, and
the scale target is ≥ 1 M point→building lookups per second over a 1.7 M-building city on
two cores, which shapely's ``STRtree.query(points, predicate="within")`` does not reach.

The index works in scaled geographic coordinates, ``x = (lon - lon0) · kx``,
``y = (lat - lat0) · ky`` with ``k`` ≈ metres per degree at the district's latitude. That is
an affine map of the stored EPSG:4326 geometry, so containment answers are exactly those of
shapely on the stored polygons (edges are straight in lon/lat), while cell sizes and
distances stay roughly metric, and no projection of the query points is needed.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import shapely

EARTH_RADIUS_M = 6_371_008.8
#: upper bound of bucket cells per polygon of the index (memory guard)
MAX_CELLS_PER_POLYGON = 4


class PolygonIndex:
    """Bucket-grid index over (multi)polygons for vectorised point-in-polygon queries.

    Parameters
    ----------
    geometries : array_like of shapely Polygon / MultiPolygon
        In WGS 84 lon/lat degrees; valid and non-empty (validated registries are).
    cell_size_m : float, optional
        Bucket edge in (approximate) metres; by default the larger of the median polygon
        bounding-box side and the side giving about one polygon per cell.

    Notes
    -----
    Polygons are expected not to overlap; where they do, the lowest row wins. Holes and
    multi-part polygons are handled by the even-odd rule over all rings. A point exactly on
    an edge may be reported either inside or outside.
    """

    def __init__(self, geometries, cell_size_m: float | None = None) -> None:
        geoms = np.asarray(geometries, dtype=object)
        self.n = len(geoms)
        if self.n == 0:
            self._empty = True
            return
        self._empty = False
        bounds = shapely.bounds(geoms)
        self.lon0 = float(np.nanmin(bounds[:, 0]))
        self.lat0 = float(np.nanmin(bounds[:, 1]))
        lat_mid = 0.5 * (self.lat0 + float(np.nanmax(bounds[:, 3])))
        self.ky = EARTH_RADIUS_M * math.pi / 180.0
        self.kx = self.ky * math.cos(math.radians(lat_mid))

        gtype, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
        if gtype == shapely.GeometryType.POLYGON:
            ring_offsets, poly_offsets = offsets
            ring_lo, ring_hi = poly_offsets[:-1], poly_offsets[1:]
        elif gtype == shapely.GeometryType.MULTIPOLYGON:
            ring_offsets, part_offsets, multi_offsets = offsets
            ring_lo = part_offsets[multi_offsets[:-1]]
            ring_hi = part_offsets[multi_offsets[1:]]
        else:
            raise TypeError(f"PolygonIndex needs polygons, got {gtype!r}")
        self._cx = np.ascontiguousarray((coords[:, 0] - self.lon0) * self.kx)
        self._cy = np.ascontiguousarray((coords[:, 1] - self.lat0) * self.ky)
        self._ring_off = np.ascontiguousarray(ring_offsets, dtype=np.int64)
        self._ring_lo = np.ascontiguousarray(ring_lo, dtype=np.int64)
        self._ring_hi = np.ascontiguousarray(ring_hi, dtype=np.int64)
        bb = np.empty((self.n, 4))
        bb[:, 0] = (bounds[:, 0] - self.lon0) * self.kx
        bb[:, 1] = (bounds[:, 1] - self.lat0) * self.ky
        bb[:, 2] = (bounds[:, 2] - self.lon0) * self.kx
        bb[:, 3] = (bounds[:, 3] - self.lat0) * self.ky
        self._bbox = bb

        width = max(float(bb[:, 2].max()), 1e-6)
        height = max(float(bb[:, 3].max()), 1e-6)
        if cell_size_m is None:
            sides = np.maximum(bb[:, 2] - bb[:, 0], bb[:, 3] - bb[:, 1])
            cell_size_m = max(float(np.median(sides)), math.sqrt(width * height / self.n))
        cell = max(float(cell_size_m), 1e-3)
        # guard memory: never more than a few buckets per polygon
        while (width / cell + 1) * (height / cell + 1) > MAX_CELLS_PER_POLYGON * self.n + 64:
            cell *= 1.5
        self.cell_size_m = cell
        self._nx = int(width / cell) + 1
        self._ny = int(height / cell) + 1
        self._cell_start, items = _build_buckets(bb, 1.0 / cell, self._nx, self._ny)
        # one packed row per bucket entry — bbox, then the polygon's coordinate range — so a
        # query reads a bucket's candidates from consecutive memory; random access to the
        # per-polygon arrays (cache misses) is what bounds the lookup rate
        coord_lo = self._ring_off[self._ring_lo].astype(np.float64)
        coord_hi = self._ring_off[self._ring_hi].astype(np.float64)
        multi = (self._ring_hi - self._ring_lo) > 1
        # several rings: store -(first ring + 1) and the ring end instead
        coord_lo[multi] = -(self._ring_lo[multi] + 1.0)
        coord_hi[multi] = self._ring_hi[multi]
        table = np.empty((len(items), 6))
        table[:, :4] = bb[items]
        table[:, 4] = coord_lo[items]
        table[:, 5] = coord_hi[items]
        self._items = items
        self._table = table

    def query(self, lon, lat) -> np.ndarray:
        """Row of the polygon containing each point.

        Parameters
        ----------
        lon, lat : array_like of float
            WGS 84 degrees, same shape.

        Returns
        -------
        numpy.ndarray of int64
            Row position per point, ``-1`` where no polygon contains it (NaN → ``-1``).
        """
        lon = np.ascontiguousarray(lon, dtype=np.float64).ravel()
        lat = np.ascontiguousarray(lat, dtype=np.float64).ravel()
        out = np.full(lon.shape[0], -1, dtype=np.int64)
        if self._empty or lon.shape[0] == 0:
            return out
        _query(
            lon, lat, self.lon0, self.lat0, self.kx, self.ky, 1.0 / self.cell_size_m,
            self._nx, self._ny, self._cell_start, self._items, self._table,
            self._ring_off, self._cx, self._cy, out,
        )  # fmt: skip
        return out


@numba.njit(cache=True)
def _build_buckets(bb, inv_cell, nx, ny):
    n = bb.shape[0]
    counts = np.zeros(nx * ny + 1, dtype=np.int64)
    for j in range(n):
        ix0 = min(max(int(bb[j, 0] * inv_cell), 0), nx - 1)
        ix1 = min(max(int(bb[j, 2] * inv_cell), 0), nx - 1)
        iy0 = min(max(int(bb[j, 1] * inv_cell), 0), ny - 1)
        iy1 = min(max(int(bb[j, 3] * inv_cell), 0), ny - 1)
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                counts[iy * nx + ix + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    items = np.empty(start[-1], dtype=np.int64)
    for j in range(n):  # in row order, so each bucket lists rows ascending
        ix0 = min(max(int(bb[j, 0] * inv_cell), 0), nx - 1)
        ix1 = min(max(int(bb[j, 2] * inv_cell), 0), nx - 1)
        iy0 = min(max(int(bb[j, 1] * inv_cell), 0), ny - 1)
        iy1 = min(max(int(bb[j, 3] * inv_cell), 0), ny - 1)
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                c = iy * nx + ix
                items[fill[c]] = j
                fill[c] += 1
    return start, items


@numba.njit(inline="always")
def _crossings(x, y, lo, hi, cx, cy, inside):
    """Flip ``inside`` for each edge of coords ``lo..hi-1`` crossed by a ray to +x."""
    for e in range(lo, hi - 1):
        ya = cy[e]
        yb = cy[e + 1]
        if (ya > y) != (yb > y):
            xa = cx[e]
            if x < xa + (y - ya) * (cx[e + 1] - xa) / (yb - ya):
                inside = not inside
    return inside


@numba.njit(parallel=True, cache=True)
def _query(lon, lat, lon0, lat0, kx, ky, inv_cell, nx, ny, start, items, table,
           ring_off, cx, cy, out):  # fmt: skip
    for i in numba.prange(lon.shape[0]):
        x = (lon[i] - lon0) * kx
        y = (lat[i] - lat0) * ky
        fx = x * inv_cell
        fy = y * inv_cell
        if not (fx >= 0.0 and fy >= 0.0 and fx < nx and fy < ny):
            continue
        c = int(fy) * nx + int(fx)
        for k in range(start[c], start[c + 1]):
            if x < table[k, 0] or x > table[k, 2] or y < table[k, 1] or y > table[k, 3]:
                continue
            lo = int(table[k, 4])
            hi = int(table[k, 5])
            inside = False
            if lo >= 0:  # one ring: walk its coordinates directly
                inside = _crossings(x, y, lo, hi, cx, cy, inside)
            else:  # holes or several parts: even-odd over every ring
                for r in range(-lo - 1, hi):
                    inside = _crossings(x, y, ring_off[r], ring_off[r + 1], cx, cy, inside)
            if inside:
                out[i] = items[k]
                break
