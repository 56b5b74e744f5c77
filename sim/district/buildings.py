"""Building footprints of the demo district: zones per block and street-aligned packing.

Each city block gets a zone (urban village, residential towers, mid-rise estates, commercial,
industrial, school, park). Lots are blocks minus road corridors and the river; buildings are
rotated rectangles (some L-shaped) laid out on a lattice aligned to the lot, one per lattice
cell, so footprints never overlap and never sit on a road or in the river.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from sim.district.streets import ROAD_KINDS

#: extra clearance (m) between a road's edge and a building, by road kind
SETBACK_M = {"arterial": 10.0, "secondary": 5.0, "lane": 0.6}
RIVER_GREEN_M = 35.0  # greenway kept free of buildings along each bank


@dataclass(frozen=True)
class Pattern:
    """Lattice cell (m), footprint as fractions of the cell, keep probability, L-shape chance."""

    cell: tuple[float, float]
    fill: tuple[float, float]
    keep: float
    l_shape: float
    max_per_lot: int = 10_000


PATTERNS: dict[str, Pattern] = {
    "village": Pattern((9.2, 10.2), (0.88, 0.9), 0.97, 0.08),
    "towers": Pattern((50.0, 46.0), (0.62, 0.48), 0.92, 0.35),
    "midrise": Pattern((40.0, 24.0), (0.9, 0.52), 0.92, 0.1),
    "commercial": Pattern((36.0, 30.0), (0.78, 0.72), 0.9, 0.25),
    "industrial": Pattern((64.0, 44.0), (0.82, 0.75), 0.9, 0.15),
    "school": Pattern((62.0, 34.0), (0.75, 0.42), 1.0, 0.0, 5),
}


def assign_zones(rng: np.random.Generator, faces: np.ndarray, river_line, arterials) -> np.ndarray:
    """A zone for every block: industry toward the south-east, towers near arterials, a few
    schools and parks; urban villages are applied later per lot."""
    c = shapely.get_coordinates(shapely.centroid(faces))
    area = shapely.area(faces)
    d_art = shapely.distance(shapely.centroid(faces), arterials)
    south = np.array([river_line.y(np.array([x]))[0] > y for x, y in c])
    zones = np.empty(len(faces), dtype=object)
    for i in range(len(faces)):
        r = rng.random()
        if south[i]:
            zones[i] = "industrial" if r < 0.6 else ("midrise" if r < 0.85 else "commercial")
        elif d_art[i] < 200:
            zones[i] = "towers" if r < 0.45 else ("commercial" if r < 0.75 else "midrise")
        else:
            zones[i] = "midrise" if r < 0.5 else ("towers" if r < 0.75 else "commercial")
    mid = np.flatnonzero((area > 8_000) & (area < 60_000) & ~south)
    picks = rng.permutation(mid)
    for i in picks[:4]:
        zones[i] = "school"
    for i in picks[4:6]:
        zones[i] = "park"
    return zones


def make_lots(faces, zones, roads: pd.DataFrame, river_poly, villages) -> pd.DataFrame:
    """Buildable lots: blocks minus road corridors and the river greenway, split by villages."""
    widths = roads["kind"].map(lambda k: ROAD_KINDS[k][0] / 2 + SETBACK_M[k]).to_numpy()
    corridor = shapely.union_all(shapely.buffer(roads["geometry"].to_numpy(), widths, quad_segs=2))
    blocked = shapely.union_all([corridor, river_poly.buffer(RIVER_GREEN_M)])
    vil = shapely.union_all([v for v, _, _ in villages])
    vtree = [(v, a) for v, _, a in villages]
    rows = []
    for i, (face, zone) in enumerate(zip(faces, zones, strict=True)):
        free = face.difference(blocked)
        for part, z in ((free.intersection(vil), "village"), (free.difference(vil), zone)):
            if z == "park":
                continue
            for lot in shapely.get_parts(part):
                if isinstance(lot, shapely.Polygon) and lot.area > 60:
                    ang = np.nan
                    if z == "village":  # align to the village's lanes
                        ang = next((a for v, a in vtree if v.intersects(lot)), np.nan)
                    rows.append((lot, z, i, ang))
    return pd.DataFrame(rows, columns=["geometry", "zone", "block", "angle"])


def _orientation(lot: shapely.Polygon) -> float:
    """Angle (rad) of the long side of the lot's minimum rotated rectangle."""
    xy = np.asarray(shapely.minimum_rotated_rectangle(lot).exterior.coords)
    e = np.diff(xy[:3], axis=0)
    k = int(np.argmax(np.hypot(e[:, 0], e[:, 1])))
    return float(np.arctan2(e[k, 1], e[k, 0]))


def pack_lot(
    rng: np.random.Generator,
    lot: shapely.Polygon,
    pattern: Pattern,
    angle: float = np.nan,
    tries: int = 3,
) -> list:
    """Footprints laid out on a lattice aligned to ``lot``; each fits inside its own cell.

    Several lattice offsets are tried and the fullest layout kept.
    """
    best: list = []
    for _ in range(tries):
        fps = _pack_once(rng, lot, pattern, angle)
        if len(fps) > len(best):
            best = fps
    return best


def _pack_once(
    rng: np.random.Generator, lot: shapely.Polygon, pattern: Pattern, angle: float
) -> list:
    ang = _orientation(lot) if np.isnan(angle) else angle
    ca, sa = np.cos(ang), np.sin(ang)
    c = np.array(lot.centroid.coords[0])
    xy = np.asarray(lot.exterior.coords) - c
    uv = np.column_stack([xy @ [ca, sa], xy @ [-sa, ca]])
    (u0, v0), (u1, v1) = uv.min(0), uv.max(0)
    cu, cv = pattern.cell
    us = np.arange(u0 + rng.uniform(0, 0.6) * cu, u1 - cu * 0.4, cu)
    vs = np.arange(v0 + rng.uniform(0, 0.6) * cv, v1 - cv * 0.4, cv)
    if us.size == 0 or vs.size == 0:
        return []
    U, V = (a.ravel() for a in np.meshgrid(us, vs))
    n = U.size
    fu = pattern.fill[0] * rng.uniform(0.8, 1.0, n) * cu
    fv = pattern.fill[1] * rng.uniform(0.8, 1.0, n) * cv
    ou = U + rng.uniform(0, 1, n) * (cu - fu)
    ov = V + rng.uniform(0, 1, n) * (cv - fv)
    out = []
    for k in np.flatnonzero(rng.random(n) < pattern.keep):
        rect = np.array([[0, 0], [fu[k], 0], [fu[k], fv[k]], [0, fv[k]]])
        if rng.random() < pattern.l_shape:  # an L: cut one corner away
            cut_u, cut_v = fu[k] * rng.uniform(0.35, 0.6), fv[k] * rng.uniform(0.35, 0.55)
            rect = np.array(
                [
                    [0, 0],
                    [fu[k], 0],
                    [fu[k], fv[k] - cut_v],
                    [fu[k] - cut_u, fv[k] - cut_v],
                    [fu[k] - cut_u, fv[k]],
                    [0, fv[k]],
                ]
            )
        p = rect + [ou[k], ov[k]]
        world = np.column_stack([p[:, 0] * ca - p[:, 1] * sa, p[:, 0] * sa + p[:, 1] * ca]) + c
        out.append(shapely.Polygon(world))
    if not out:
        return []
    arr = np.array(out, dtype=object)
    shapely.prepare(lot)
    arr = arr[shapely.contains_properly(lot, arr)]
    return list(arr[: pattern.max_per_lot])


def place_buildings(rng: np.random.Generator, lots: pd.DataFrame) -> pd.DataFrame:
    """All candidate footprints with their zone and block."""
    rows = []
    for lot, zone, block, angle in lots.itertuples(index=False):
        for fp in pack_lot(rng, lot, PATTERNS[zone], angle):
            rows.append((fp, zone, block))
    return pd.DataFrame(rows, columns=["geometry", "zone", "block"])


#: zone → (levels low, high), use choices with weights, year range, fire-resistance weights 1..4
ZONE_ATTRS: dict[str, tuple] = {
    "village": ((4, 8), {"residential": 0.8, "mixed": 0.2}, (1985, 2012), (0.0, 0.15, 0.6, 0.25)),
    "towers": ((18, 32), {"residential": 0.9, "mixed": 0.1}, (2004, 2022), (0.9, 0.1, 0.0, 0.0)),
    "midrise": ((6, 9), {"residential": 0.85, "mixed": 0.15}, (1992, 2012), (0.2, 0.7, 0.1, 0.0)),
    "commercial": (
        (3, 12),
        {"commercial": 0.55, "office": 0.35, "public": 0.1},
        (1998, 2020),
        (0.5, 0.5, 0.0, 0.0),
    ),
    "industrial": (
        (1, 3),
        {"industrial": 0.75, "warehouse": 0.25},
        (1990, 2016),
        (0.0, 0.5, 0.4, 0.1),
    ),
    "school": ((3, 5), {"school": 1.0}, (1995, 2018), (0.3, 0.7, 0.0, 0.0)),
}
#: floor area per usual occupant (m2) by use
AREA_PER_PERSON_M2 = {
    "residential": 28.0,
    "mixed": 24.0,
    "commercial": 12.0,
    "office": 10.0,
    "industrial": 18.0,
    "warehouse": 80.0,
    "school": 8.0,
    "hospital": 12.0,
    "elderly_home": 25.0,
    "market": 6.0,
    "public": 20.0,
    "garage": 200.0,
}
STOREY_M = 3.0


def building_attributes(rng: np.random.Generator, zone: np.ndarray) -> pd.DataFrame:
    """Use, levels, height, year and fire-resistance class drawn per zone."""
    n = zone.size
    use = np.empty(n, dtype=object)
    levels = np.zeros(n, dtype=int)
    year = np.zeros(n, dtype=int)
    fire = np.empty(n, dtype=object)
    for z, (lv, uses, years, fr) in ZONE_ATTRS.items():
        m = zone == z
        k = int(m.sum())
        if not k:
            continue
        use[m] = rng.choice(list(uses), size=k, p=list(uses.values()))
        levels[m] = rng.integers(lv[0], lv[1] + 1, size=k)
        year[m] = rng.integers(years[0], years[1] + 1, size=k)
        fire[m] = rng.choice(["1", "2", "3", "4"], size=k, p=fr)
    storey = np.where(np.isin(use, ["industrial", "warehouse"]), 6.0, STOREY_M)
    height = levels * storey + rng.uniform(0.3, 1.5, n)
    return pd.DataFrame(
        {
            "use": use,
            "levels": levels,
            "height_m": height.round(1),
            "year_built": year,
            "fire_resistance": fire,
        }
    )


def people(
    rng: np.random.Generator, use: np.ndarray, floor_area: np.ndarray, zone: np.ndarray
) -> pd.DataFrame:
    """Usual occupants and aggregated vulnerable counts per building (never persons)."""
    per = np.array([AREA_PER_PERSON_M2[u] for u in use])
    occ = rng.poisson(floor_area / per).astype(int)
    home = np.isin(use, ["residential", "mixed"])
    old = np.where(zone == "village", 0.03, 0.012)
    elderly = np.where(home, rng.binomial(occ, np.where(home, old, 0.0)), 0)
    disabled = np.where(home, rng.binomial(occ, 0.012), 0)
    children = np.where(home, rng.binomial(occ, 0.16), 0)
    care = use == "elderly_home"
    disabled = np.where(care, rng.binomial(occ, 0.35), disabled)
    children = np.where(use == "school", (occ * 0.92).astype(int), children)
    return pd.DataFrame(
        {"occupants": occ, "elderly_alone": elderly, "disabled": disabled, "children": children}
    )
