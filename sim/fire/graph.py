"""The graph of buildings within spreading distance of each other: who can ignite whom.

An edge ``i → j`` exists when the gap between the footprints of ``i`` and ``j`` is at most
``i``'s spreading distance (the radiation-based critical separation, :mod:`sim.fire.radiation`).
Two builders:

- :func:`graph_from_footprints` — exact footprint-to-footprint gaps from polygons (shapely
  STRtree ``dwithin`` query), for districts;
- :func:`graph_from_centroids` — centroids plus an equivalent square side, for city-scale
  registries (millions of rows): a chunked ``scipy.spatial.cKDTree`` k-nearest query on both
  cores, gap ``= L - (a_i + a_j)/2`` (the gap of two squares facing each other, a lower bound
  of the true gap, so spread is never missed for that reason). Each building looks at its
  ``k`` nearest centroids only; :attr:`SpreadGraph.saturated` counts buildings whose ``k``-th
  neighbour was still within reach, where an edge may have been cut.

Edges are stored sorted by source (CSR order) with their footprint gap; centroid distances
and directions are derived from the centroids when needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

#: neighbours each building looks at in the centroid builder
DEFAULT_K_NEIGHBOURS = 24
_CHUNK = 1 << 18


@dataclass(frozen=True)
class SpreadGraph:
    """Directed edges ``src → dst`` between buildings within spreading distance.

    Attributes
    ----------
    n : int
        Number of buildings.
    src, dst : numpy.ndarray of int32
        Edge ends, sorted by ``src``.
    gap_m : numpy.ndarray
        Footprint-to-footprint gap (m).
    indptr : numpy.ndarray of int64
        CSR row pointer: the edges of building ``i`` are ``indptr[i]:indptr[i+1]``.
    saturated : int
        Buildings whose neighbour search was cut at ``k`` (centroid builder only).
    """

    n: int
    src: np.ndarray
    dst: np.ndarray
    gap_m: np.ndarray
    indptr: np.ndarray
    saturated: int = 0

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.src.size)

    def geometry(self, x: np.ndarray, y: np.ndarray):
        """Centroid distance (m) and unit vector ``(ux, uy)`` of every edge, source to target."""
        dx = x[self.dst] - x[self.src]
        dy = y[self.dst] - y[self.src]
        dist = np.hypot(dx, dy)
        safe = np.where(dist > 0.0, dist, 1.0)
        return dist, np.where(dist > 0.0, dx / safe, 0.0), np.where(dist > 0.0, dy / safe, 0.0)


def _finish(n, src, dst, gap, saturated=0, presorted=False) -> SpreadGraph:
    if not presorted:
        order = np.lexsort((dst, src))
        src, dst, gap = src[order], dst[order], gap[order]
    counts = np.bincount(src, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return SpreadGraph(
        n=n,
        src=src.astype(np.int32),
        dst=dst.astype(np.int32),
        gap_m=gap.astype(float),
        indptr=indptr,
        saturated=int(saturated),
    )


def graph_from_footprints(polygons, max_gap_m) -> SpreadGraph:
    """Edges between footprints whose gap is within the source's spreading distance.

    Parameters
    ----------
    polygons : array_like of shapely geometries
        Footprints in a metric CRS.
    max_gap_m : numpy.ndarray
        Spreading distance of each building as a source (m).

    Returns
    -------
    SpreadGraph

    >>> import shapely
    >>> boxes = [shapely.box(0, 0, 10, 10), shapely.box(13, 0, 23, 10), shapely.box(40, 0, 50, 10)]
    >>> g = graph_from_footprints(boxes, np.full(3, 10.0))
    >>> g.src.tolist(), g.dst.tolist(), g.gap_m.tolist()
    ([0, 1], [1, 0], [3.0, 3.0])
    """
    geoms = np.asarray(polygons, dtype=object)
    reach = np.asarray(max_gap_m, dtype=float)
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    src, dst = tree.query(geoms, predicate="dwithin", distance=reach)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    gap = shapely.distance(geoms[src], geoms[dst])
    keep = gap <= reach[src]
    return _finish(n, src[keep], dst[keep], gap[keep])


def graph_from_centroids(x, y, side_m, max_gap_m, *, k=DEFAULT_K_NEIGHBOURS, workers=2):
    """Edges between equivalent squares around centroids, within spreading distance.

    Parameters
    ----------
    x, y : numpy.ndarray
        Centroids (m).
    side_m : numpy.ndarray
        Equivalent square side (m).
    max_gap_m : numpy.ndarray
        Spreading distance of each building as a source (m).
    k : int
        Nearest neighbours looked at per building.
    workers : int
        Threads for the k-d tree query.

    Returns
    -------
    SpreadGraph

    >>> x, ten = np.array([0.0, 13.0, 40.0]), np.full(3, 10.0)
    >>> g = graph_from_centroids(x, np.zeros(3), ten, ten)
    >>> g.src.tolist(), g.dst.tolist(), g.gap_m.tolist()
    ([0, 1], [1, 0], [3.0, 3.0])
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    side = np.asarray(side_m, dtype=float)
    reach = np.asarray(max_gap_m, dtype=float)
    n = x.size
    if n == 0:
        return _finish(0, np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    kk = min(k + 1, n)
    tree = cKDTree(np.column_stack([x, y]))
    radius = float(reach.max() + side.max()) + 1e-9
    parts_src, parts_dst, parts_gap = [], [], []
    saturated = 0
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        dist, idx = tree.query(
            np.column_stack([x[start:stop], y[start:stop]]),
            k=kk,
            distance_upper_bound=radius,
            workers=workers,
        )
        dist = dist.reshape(stop - start, kk)
        idx = idx.reshape(stop - start, kk)
        rows = np.arange(start, stop)[:, None]
        valid = (idx < n) & (idx != rows)
        jj = np.where(valid, idx, 0)
        gap = np.maximum(dist - 0.5 * (side[rows] + side[jj]), 0.0)
        keep = valid & (gap <= reach[rows])
        if kk == k + 1:
            saturated += int(np.count_nonzero(keep[:, -1]))
        srcs = np.broadcast_to(rows, idx.shape)
        parts_src.append(srcs[keep])
        parts_dst.append(idx[keep])
        parts_gap.append(gap[keep])
    return _finish(
        n,
        np.concatenate(parts_src),
        np.concatenate(parts_dst),
        np.concatenate(parts_gap),
        saturated,
        presorted=True,  # chunks come in row order, so sources are already ascending
    )
