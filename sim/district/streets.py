"""Street network of the demo district: curving arterials, a perturbed secondary grid, lanes.

Lines are drawn as a planner would (arterials, a riverside road, two secondary grids rotated
differently on each bank, dense lane clusters in urban villages), then noded into segments
between junctions so that the result is a routable graph with shared junction ids.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from sim.district import names
from sim.district.terrain import River

#: kind → (width m, speed km/h, priority when lines overlap)
ROAD_KINDS: dict[str, tuple[float, float, int]] = {
    "arterial": (36.0, 60.0, 3),
    "secondary": (16.0, 40.0, 2),
    "lane": (4.0, 15.0, 1),
}
RIVERSIDE_OFFSET_M = 58.0
N_VILLAGES = 12
SNAP_DECIMALS = 2


def wiggle(rng: np.random.Generator, pts: np.ndarray, amp: float, step: float = 15.0) -> np.ndarray:
    """Densify a polyline and offset it sideways by a smooth random curve of amplitude ``amp``."""
    line = shapely.LineString(pts)
    n = max(int(line.length / step), 2)
    xy = shapely.get_coordinates(
        shapely.line_interpolate_point(line, np.linspace(0, line.length, n + 1))
    )
    t = np.linspace(0, 1, xy.shape[0])
    off = np.zeros_like(t)
    for k in (1, 2, 3):
        off += amp / k * rng.uniform(-1, 1) * np.sin(np.pi * k * t + rng.uniform(0, np.pi))
    d = np.gradient(xy, axis=0)
    normal = (
        np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    )
    return xy + normal * off[:, None]


def _blob(rng: np.random.Generator, cx: float, cy: float, r: float) -> shapely.Polygon:
    a = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    rr = np.full_like(a, r)
    for k in (2, 3, 5):
        rr += r * rng.uniform(0.04, 0.14) * np.sin(k * a + rng.uniform(0, 2 * np.pi))
    return shapely.Polygon(np.column_stack([cx + rr * np.cos(a), cy + rr * np.sin(a)]))


def _grid_lines(rng, region, theta, spacing, amp, partial, kind, pool):
    """Two families of wiggled lines rotated by ``theta`` covering ``region``."""
    out = []
    c = np.array(region.centroid.coords[0])
    R = max(region.bounds[2] - region.bounds[0], region.bounds[3] - region.bounds[1])
    for fam in (0, 1):
        ang = theta + fam * (np.pi / 2 + rng.uniform(-0.12, 0.12))
        u = np.array([np.cos(ang), np.sin(ang)])
        v = np.array([-u[1], u[0]])
        pos = -R + rng.uniform(0, spacing[1])
        while pos < R:
            p0, p1 = c + v * pos - u * R, c + v * pos + u * R
            line = shapely.LineString(wiggle(rng, np.array([p0, p1]), amp))
            if rng.random() < partial:  # a road that stops at a junction part way
                a, b = np.sort(rng.uniform(0, 2 * R, 2))
                if b - a > 250:
                    line = substring(line, a, b)
            clipped = line.intersection(region)
            for g in getattr(clipped, "geoms", [clipped]):
                if isinstance(g, shapely.LineString) and g.length > 30:
                    out.append((g, kind, pool.pop(0) if pool else ("", "")))
            pos += rng.uniform(*spacing)
    return out


def draw_street_lines(rng: np.random.Generator, river: River, width: float, height: float):
    """Planned street lines and urban-village outlines.

    Returns
    -------
    lines : list of (LineString, kind, (name_zh, name_en))
    villages : list of (Polygon, (name_zh, name_en), lane angle rad)
    """
    extent = shapely.box(0, 0, width, height)
    art_names = names.pick(rng, names.ARTERIAL_NAMES, 3)
    sec_pool = names.pick(rng, names.SECONDARY_NAMES, 60)
    lines: list = []
    # east-west arterial north of the river, north-south arterial crossing it (a bridge)
    y_a = height * rng.uniform(0.64, 0.72)
    lines.append(
        (
            shapely.LineString(
                wiggle(rng, np.array([[-60, y_a], [width + 60, y_a + rng.uniform(-120, 120)]]), 70)
            ),
            "arterial",
            art_names[0],
        )
    )
    x_a = width * rng.uniform(0.38, 0.55)
    lines.append(
        (
            shapely.LineString(
                wiggle(rng, np.array([[x_a, -60], [x_a + rng.uniform(-250, 250), height + 60]]), 90)
            ),
            "arterial",
            art_names[1],
        )
    )
    # riverside road on the north bank, following the meanders
    xs = np.arange(-60.0, width + 60, 10.0)
    n = np.sqrt(1 + river.dydx(xs) ** 2)
    lines.append(
        (
            shapely.LineString(np.column_stack([xs, river.y(xs) + RIVERSIDE_OFFSET_M * n])),
            "secondary",
            ("滨河路", "Binhe Road"),
        )
    )
    # part of the south bank has its own riverside road
    xs_s = xs[(xs > width * rng.uniform(0.0, 0.3)) & (xs < width * rng.uniform(0.6, 1.0))]
    ys_s = river.y(xs_s) - RIVERSIDE_OFFSET_M * np.sqrt(1 + river.dydx(xs_s) ** 2)
    lines.append(
        (shapely.LineString(np.column_stack([xs_s, ys_s])), "secondary", ("南滨路", "Nanbin Road"))
    )
    # secondary grids: differently rotated on each bank, stopping short of the riverside road
    bank = river.centreline(width).buffer(RIVERSIDE_OFFSET_M - 6)
    north = shapely.Polygon(
        [(x, river.y(np.array([x]))[0]) for x in xs]
        + [(width + 60, height + 60), (-60, height + 60)]
    )
    north = north.difference(bank).intersection(extent.buffer(40))
    south = (
        extent.buffer(40)
        .difference(north)
        .difference(river.centreline(width).buffer(RIVER_CLEAR_M))
    )
    theta_n, theta_s = rng.uniform(-0.25, 0.25), rng.uniform(0.2, 0.5) * rng.choice([-1, 1])
    lines += _grid_lines(rng, north, theta_n, (120, 250), 28, 0.4, "secondary", sec_pool)
    lines += _grid_lines(rng, south, theta_s, (170, 320), 22, 0.35, "secondary", sec_pool)
    # one more bridge: a secondary crossing the river
    x_b = width * rng.uniform(0.72, 0.85)
    lines.append(
        (
            shapely.LineString(
                wiggle(rng, np.array([[x_b, -40], [x_b + rng.uniform(-80, 80), y_a]]), 25)
            ),
            "secondary",
            sec_pool.pop(0),
        )
    )
    # urban villages: a ring lane and a dense, broken mesh of lanes
    villages = []
    vnames = names.pick(rng, names.VILLAGE_NAMES, N_VILLAGES)
    tries = 0
    while len(villages) < N_VILLAGES and tries < 400:
        tries += 1
        r = rng.uniform(140, 220)
        cx, cy = rng.uniform(r, width - r), rng.uniform(r, height - r)
        if abs(river.distance(np.array(cx), np.array(cy))) < r + 70:
            continue
        blob = _blob(rng, cx, cy, r)
        if any(blob.buffer(5).intersects(v) for v, _, _ in villages):
            continue
        villages.append((blob, vnames[len(villages)], float(rng.uniform(0, np.pi / 2))))
    for blob, vname, theta in villages:
        k = 1
        lines.append((blob.exterior, "lane", names.lane_name(vname, k)))
        mesh = _grid_lines(rng, blob.buffer(3), theta, (24, 36), 3, 0.0, "lane", [])
        for g, _, _ in mesh:
            k += 1
            # break lanes into pieces and drop some: dead ends and irregular blocks
            cuts = np.cumsum(rng.uniform(25, 70, 20))
            cuts = np.concatenate([[0], cuts[cuts < g.length], [g.length]])
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                if rng.random() < 0.78 and b - a > 8:
                    lines.append((substring(g, a, b), "lane", names.lane_name(vname, k)))
    return lines, villages


RIVER_CLEAR_M = 40.0


def node_lines(lines: list, width: float, height: float, rng: np.random.Generator) -> pd.DataFrame:
    """Node planned lines into segments between junctions and keep the largest connected graph.

    Returns a frame with ``geometry, kind, name_zh, name_en, from_node, to_node, length_m``.
    """
    extent = shapely.box(0, 0, width, height)
    geoms = np.array([shapely.intersection(g, extent) for g, _, _ in lines], dtype=object)
    kinds = np.array([k for _, k, _ in lines])
    prio = np.array([ROAD_KINDS[k][2] for k in kinds])
    parts = shapely.get_parts(geoms[~shapely.is_empty(geoms)])
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(list(parts))))
    noded = noded[shapely.length(noded) > 0.05]
    # attribute each piece to the highest-priority planned line it lies on
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    pi, li = tree.query(mid, predicate="dwithin", distance=0.05)
    best = pd.DataFrame({"p": pi, "l": li, "prio": prio[li]}).sort_values(
        ["p", "prio", "l"], ascending=[True, False, True]
    )
    best = (
        best.drop_duplicates("p")
        .set_index("p")["l"]
        .reindex(range(len(noded)))
        .fillna(-1)
        .astype(int)
        .to_numpy()
    )
    keep = best >= 0
    noded, best = noded[keep], best[keep]
    df = pd.DataFrame({"geometry": noded, "src": best, "kind": kinds[best]})
    df["name_zh"] = [lines[i][2][0] for i in best]
    df["name_en"] = [lines[i][2][1] for i in best]
    start = shapely.get_coordinates(shapely.get_point(noded, 0)).round(SNAP_DECIMALS)
    end = shapely.get_coordinates(shapely.get_point(noded, -1)).round(SNAP_DECIMALS)
    df["a"] = [tuple(p) for p in start]
    df["b"] = [tuple(p) for p in end]
    on_edge = lambda p: min(p[0], p[1], width - p[0], height - p[1]) < 1.0  # noqa: E731
    df = _prune(df, on_edge)
    g = nx.MultiGraph()
    g.add_edges_from(zip(df["a"], df["b"], df.index, strict=True))
    comp = max(nx.connected_components(g), key=len)
    df = df[df["a"].isin(comp)].reset_index(drop=True)
    nodes = sorted(set(df["a"]) | set(df["b"]))
    node_id = {p: f"J{i:05d}" for i, p in enumerate(nodes)}
    df["from_node"] = df["a"].map(node_id)
    df["to_node"] = df["b"].map(node_id)
    df["length_m"] = shapely.length(df["geometry"].to_numpy())
    return df.drop(columns=["a", "b", "src"])


def _prune(df: pd.DataFrame, on_edge) -> pd.DataFrame:
    """Drop dead-end stubs: short lane ends and arterial/secondary ends not at the district edge."""
    for _ in range(50):
        deg = pd.concat([df["a"], df["b"]]).value_counts()
        da, db = df["a"].map(deg), df["b"].map(deg)
        dead_a = (da == 1) & ~df["a"].map(on_edge)
        dead_b = (db == 1) & ~df["b"].map(on_edge)
        dead = dead_a | dead_b
        length = shapely.length(df["geometry"].to_numpy())
        drop = dead & ((df["kind"] != "lane") | (length < 15.0))
        drop |= (df["a"] == df["b"]) & (length < 50)  # tiny loops left by noding
        if not drop.any():
            break
        df = df[~drop].reset_index(drop=True)
    return df


def blocks(roads: pd.DataFrame, width: float, height: float) -> np.ndarray:
    """Faces of the arterial + secondary network and the district edge: the city blocks."""
    major = roads.loc[roads["kind"] != "lane", "geometry"].to_numpy()
    edge = shapely.box(0, 0, width, height).exterior
    merged = shapely.node(shapely.multilinestrings(list(shapely.get_parts(np.append(major, edge)))))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(merged)))
    return faces[shapely.area(faces) > 1.0]
