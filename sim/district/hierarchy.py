"""Management hierarchy of a district: communities, grids and micro-grids tiling its extent.

Cells that tile the extent (city blocks, or square tiles for imported data) are grouped into
communities and grids with a seeded k-means; each grid is then cut into micro-grids by the
Voronoi cells of building clusters, so every building centroid falls in exactly one of each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from sim.district import names


def kmeans(
    rng: np.random.Generator, xy: np.ndarray, k: int, weights=None, iters: int = 30
) -> np.ndarray:
    """Seeded Lloyd k-means: the cluster label (0..k-1, numbered north-west first) of each point."""
    k = max(1, min(k, len(xy)))
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, float)
    centres = xy[rng.choice(len(xy), size=k, replace=False, p=w / w.sum())]
    for _ in range(iters):
        lab = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            m = lab == j
            if m.any():
                centres[j] = np.average(xy[m], axis=0, weights=w[m])
    lab = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    # stable, readable numbering: order clusters north-west first
    used = np.unique(lab)
    key = -centres[used, 1] // 300 * 1e6 + centres[used, 0]
    remap = {int(c): i for i, c in enumerate(used[np.argsort(key)])}
    return np.array([remap[int(v)] for v in lab])


def square_cells(width_bounds: tuple[float, float, float, float], size: float) -> np.ndarray:
    """Square tiles of side ``size`` (m) covering ``(xmin, ymin, xmax, ymax)`` exactly."""
    x0, y0, x1, y1 = width_bounds
    xs = np.append(np.arange(x0, x1, size), x1)
    ys = np.append(np.arange(y0, y1, size), y1)
    return np.array(
        [
            shapely.box(a, b, c, d)
            for a, c in zip(xs[:-1], xs[1:], strict=True)
            for b, d in zip(ys[:-1], ys[1:], strict=True)
            if c - a > 1 and d - b > 1
        ]
    )


def partition(
    rng: np.random.Generator,
    cells: np.ndarray,
    centroids: np.ndarray,
    *,
    street_id: str,
    n_communities: int,
    grids_per_community: int,
    buildings_per_microgrid: int = 40,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Group ``cells`` into communities → grids → micro-grids and place buildings in them.

    Parameters
    ----------
    cells : array of Polygon
        Tiles covering the extent (m, metric frame).
    centroids : (n, 2) array
        Building centroids (m).

    Returns
    -------
    communities, grids, microgrids : DataFrame
        Rows with ``geometry`` and the schema's columns.
    assignment : DataFrame
        Per building: ``microgrid_id, grid_id, community_id``.
    """
    cxy = shapely.get_coordinates(shapely.centroid(cells))
    tree = shapely.STRtree(cells)
    pts = shapely.points(centroids)
    bi, ci = tree.query(pts, predicate="intersects")
    cell_of = np.full(len(centroids), -1)
    cell_of[bi[::-1]] = ci[::-1]
    if (cell_of < 0).any():  # numerically on no cell: take the nearest
        miss = np.flatnonzero(cell_of < 0)
        cell_of[miss] = tree.nearest(pts[miss])
    per_cell = np.bincount(cell_of, minlength=len(cells))
    com = kmeans(rng, cxy, n_communities, weights=per_cell + 1.0)
    cnames = names.pick(rng, names.COMMUNITY_NAMES, com.max() + 1)
    communities, grids, micro = [], [], []
    mg_of = np.empty(len(centroids), dtype=object)
    g_of = np.empty(len(centroids), dtype=object)
    c_of = np.empty(len(centroids), dtype=object)
    for c in range(com.max() + 1):
        cid = f"C{c + 1:02d}"
        in_c = np.flatnonzero(com == c)
        communities.append(
            {
                "community_id": cid,
                "street_id": street_id,
                "code": cid,
                "name_zh": cnames[c][0],
                "name_en": f"{cnames[c][1]} Community",
                "geometry": _union(cells[in_c]),
            }
        )
        glab = kmeans(rng, cxy[in_c], grids_per_community, weights=per_cell[in_c] + 1.0)
        for g in range(glab.max() + 1):
            gcode = f"G{c + 1:02d}{g + 1:02d}"
            in_g = in_c[glab == g]
            gpoly = _union(cells[in_g])
            grids.append(
                {
                    "grid_id": gcode,
                    "community_id": cid,
                    "code": gcode,
                    "name_zh": f"{cnames[c][0]}第{names.zh_number(g + 1)}网格",
                    "name_en": f"{cnames[c][1]} Grid {g + 1}",
                    "geometry": gpoly,
                }
            )
            bidx = np.flatnonzero(np.isin(cell_of, in_g))
            g_of[bidx], c_of[bidx] = gcode, cid
            for m, (poly, members) in enumerate(
                _split_grid(rng, gpoly, centroids[bidx], buildings_per_microgrid)
            ):
                mid = f"M{c + 1:02d}{g + 1:02d}{m + 1:02d}"
                micro.append(
                    {
                        "microgrid_id": mid,
                        "grid_id": gcode,
                        "code": f"{gcode}-{m + 1:02d}",
                        "geometry": poly,
                    }
                )
                mg_of[bidx[members]] = mid
    assignment = pd.DataFrame({"microgrid_id": mg_of, "grid_id": g_of, "community_id": c_of})
    return pd.DataFrame(communities), pd.DataFrame(grids), pd.DataFrame(micro), assignment


def _union(polys: np.ndarray):
    u = shapely.union_all(polys)
    return u if u.is_valid else shapely.make_valid(u)


def _split_grid(rng, gpoly, xy: np.ndarray, per: int) -> list:
    """Voronoi cells of building clusters clipped to the grid: ``[(polygon, member indices)]``."""
    k = int(np.ceil(len(xy) / per))
    if k <= 1:
        return [(gpoly, np.arange(len(xy)))]
    lab = kmeans(rng, xy, k)
    centres = np.array([xy[lab == j].mean(0) for j in range(lab.max() + 1)])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=gpoly)
    )
    out = []
    taken = np.zeros(len(xy), bool)
    for cell in cells:
        part = shapely.intersection(cell, gpoly)
        part = shapely.make_valid(part) if not part.is_valid else part
        polys = [
            p for p in shapely.get_parts(part) if isinstance(p, shapely.Polygon) and p.area > 1
        ]
        if not polys:
            continue
        poly = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        members = np.flatnonzero(shapely.contains_xy(poly, xy[:, 0], xy[:, 1]) & ~taken)
        taken[members] = True
        out.append((poly, members))
    rest = np.flatnonzero(~taken)  # on a Voronoi edge: give them to the nearest cell
    if rest.size and out:
        d = np.array([shapely.distance(p, shapely.points(xy[rest])) for p, _ in out])
        for r, j in zip(rest, d.argmin(0), strict=True):
            out[j] = (out[j][0], np.append(out[j][1], r))
    return out
