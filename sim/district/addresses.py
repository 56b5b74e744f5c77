"""Standard addresses (标准地址): one entrance per building on its nearest named road.

House numbers run along each road in the order of the entrances' projection on it, odd on the
left side and even on the right, as Chinese door plates do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely


def make_addresses(
    buildings: pd.DataFrame,
    roads: pd.DataFrame,
    street_zh: str,
    street_en: str,
    community_names: dict[str, tuple[str, str]],
) -> pd.DataFrame:
    """Addresses of ``buildings`` (metric, with ``building_id, grid_id, community_id``).

    Returns
    -------
    DataFrame
        ``address_id, building_id, grid_id, text_zh, text_en, road_name_zh, house_number``,
        entrance ``x, y`` (m) and ``geometry``.
    """
    named = roads[roads["name_zh"] != ""].reset_index(drop=True)
    if named.empty:
        named = roads.reset_index(drop=True)
    rg = named["geometry"].to_numpy()
    bg = buildings["geometry"].to_numpy()
    j = shapely.STRtree(rg).nearest(bg)
    link = shapely.shortest_line(bg, rg[j])
    door = shapely.get_point(link, 0)
    onroad = shapely.get_point(link, 1)
    dxy = shapely.get_coordinates(door)
    name_zh = named["name_zh"].to_numpy()[j]
    name_en = named["name_en"].to_numpy()[j]
    # position along the road: project on the road's principal axis (roads of one name may be
    # several segments); side: sign of the cross product with the segment direction
    num = np.zeros(len(bg), dtype=int)
    seg_dir = _direction(rg[j], onroad)
    rel = dxy - shapely.get_coordinates(onroad)
    left = (seg_dir[:, 0] * rel[:, 1] - seg_dir[:, 1] * rel[:, 0]) > 0
    for nm in np.unique(name_zh):
        m = np.flatnonzero(name_zh == nm)
        pts = shapely.get_coordinates(onroad[m])
        axis = _principal_axis(shapely.get_coordinates(rg[named["name_zh"].to_numpy() == nm]))
        t = (pts - pts.mean(0)) @ axis
        for side, first in ((True, 1), (False, 2)):
            s = m[left[m] == side]
            order = np.argsort(t[left[m] == side], kind="stable")
            num[s[order]] = first + 2 * np.arange(len(s))
    comm = buildings["community_id"].map(lambda c: community_names[c]).to_numpy()
    text_zh = [f"{street_zh}{c[0]} {r}{n}号" for c, r, n in zip(comm, name_zh, num, strict=True)]
    text_en = [
        f"No. {n} {r}, {c[1]} Community, {street_en}"
        for c, r, n in zip(comm, name_en, num, strict=True)
    ]
    return pd.DataFrame(
        {
            "address_id": [f"A{b[1:]}" for b in buildings["building_id"]],
            "building_id": buildings["building_id"].to_numpy(),
            "grid_id": buildings["grid_id"].to_numpy(),
            "text_zh": text_zh,
            "text_en": text_en,
            "road_name_zh": name_zh,
            "house_number": [str(n) for n in num],
            "x": dxy[:, 0],
            "y": dxy[:, 1],
            "geometry": door,
        }
    )


def _direction(lines: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Unit direction of each line at the given points on it."""
    d = shapely.line_locate_point(lines, at)
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.maximum(d - 1.0, 0)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, d + 1.0))
    v = b - a
    return v / np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-9)[:, None]


def _principal_axis(xy: np.ndarray) -> np.ndarray:
    if len(xy) < 2:
        return np.array([1.0, 0.0])
    _, _, vt = np.linalg.svd(xy - xy.mean(0), full_matrices=False)
    axis = vt[0]
    return axis if axis[0] + 1e-9 * axis[1] >= 0 else -axis
