"""Facilities of a district: key places (hospital, schools, shelters...) and infrastructure.

Indoor facilities take over a suitable building (and set its use); outdoor ones (squares, pump
stations on the river bank, drain inlets at low road points) are points with no building.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

#: kinds that count as critical for exposure
CRITICAL = {
    "pump_station",
    "substation",
    "shelter",
    "fire_station",
    "hospital",
    "school",
    "elderly_home",
}

N_DRAIN_INLETS = 80


def _take(
    rng, b: pd.DataFrame, mask: np.ndarray, k: int, taken: set, by_size: bool = False
) -> list[int]:
    idx = [i for i in np.flatnonzero(mask) if i not in taken]
    if by_size:
        idx = sorted(idx, key=lambda i: -b["area"].iat[i])[: max(k * 3, k)]
    idx = list(rng.permutation(idx)[:k]) if not by_size else idx[:k]
    taken.update(int(i) for i in idx)
    return [int(i) for i in idx]


def choose_facilities(
    rng: np.random.Generator,
    b: pd.DataFrame,
    road_points: np.ndarray,
    road_z: np.ndarray,
    river_bank_pts: np.ndarray,
    bank_z: np.ndarray,
    open_spaces: list,
    prefix: tuple[str, str] = ("东城", "Dongcheng"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pick facilities and adapt the buildings that host them.

    Parameters
    ----------
    b : DataFrame
        Buildings (metric) with ``geometry, use, levels, height_m, area, zone``; modified copy
        returned.
    road_points, road_z : arrays
        Candidate points for drain inlets (road junctions) and their elevation (m).
    river_bank_pts, bank_z : arrays
        Candidate points for pump stations and their elevation (m); may be empty.
    open_spaces : list of Polygon
        Parks and squares.

    Returns
    -------
    buildings, facilities : DataFrame
        Facilities carry ``kind, name_zh, name_en, building_idx (-1 outdoor), x, y, capacity,
        area_m2, critical``.
    """
    b = b.copy()
    zh, en = prefix
    rows: list[dict] = []
    taken: set[int] = set()
    nonvil = (b["zone"] != "village").to_numpy()
    use = b["use"].to_numpy()

    def indoor(i, kind, name_zh, name_en, capacity, new_use=None, min_levels=None):
        if new_use:
            b.iat[i, b.columns.get_loc("use")] = new_use
        if min_levels and b["levels"].iat[i] < min_levels:
            b.iat[i, b.columns.get_loc("levels")] = min_levels
            b.iat[i, b.columns.get_loc("height_m")] = round(min_levels * 3.3 + 1.0, 1)
        p = b["geometry"].iat[i].representative_point()
        floor = float(b["area"].iat[i] * b["levels"].iat[i])
        rows.append(
            {
                "kind": kind,
                "name_zh": name_zh,
                "name_en": name_en,
                "building_idx": i,
                "x": p.x,
                "y": p.y,
                "capacity": capacity(floor),
                "area_m2": round(floor, 1),
            }
        )

    def outdoor(x, y, kind, name_zh, name_en, capacity, area):
        rows.append(
            {
                "kind": kind,
                "name_zh": name_zh,
                "name_en": name_en,
                "building_idx": -1,
                "x": float(x),
                "y": float(y),
                "capacity": capacity,
                "area_m2": area,
            }
        )

    for i in _take(
        rng,
        b,
        nonvil & np.isin(use, ["commercial", "office", "public", "mixed", "residential"]),
        1,
        taken,
        by_size=True,
    ):
        indoor(
            i,
            "hospital",
            f"{zh}人民医院",
            f"{en} People's Hospital",
            lambda f: round(f / 60.0),
            "hospital",
            8,
        )
    schools = [i for i in np.flatnonzero(use == "school")]
    if not schools:
        schools = _take(
            rng,
            b,
            nonvil & np.isin(use, ["commercial", "office", "residential"]),
            3,
            taken,
            by_size=True,
        )
    seen_blocks, n = set(), 0
    for i in schools:
        blk = b["block"].iat[i]
        if blk in seen_blocks:
            b.iat[i, b.columns.get_loc("use")] = "school"
            continue
        seen_blocks.add(blk)
        taken.add(int(i))
        n += 1
        indoor(
            i,
            "school",
            f"{zh}第{n}小学",
            f"{en} Primary School No. {n}",
            lambda f: round(f / 8.0),
            "school",
            3,
        )
        indoor(
            i,
            "shelter",
            f"{zh}第{n}小学避难场所",
            f"Shelter at Primary School No. {n}",
            lambda f: round(f / 2.0),
        )
    for k, i in enumerate(
        _take(rng, b, nonvil & (use == "residential") & (b["levels"].to_numpy() < 12), 2, taken), 1
    ):
        indoor(
            i,
            "elderly_home",
            f"{zh}颐养院{k}",
            f"{en} Elderly Home {k}",
            lambda f: round(f / 25.0),
            "elderly_home",
        )
    for k, i in enumerate(
        _take(rng, b, ~nonvil | np.isin(use, ["commercial", "mixed"]), 3, taken, by_size=True), 1
    ):
        indoor(
            i,
            "market",
            f"{zh}第{k}市场",
            f"{en} Market {k}",
            lambda f: round(f / 3.0),
            "market",
            None,
        )
    for k, i in enumerate(
        _take(rng, b, nonvil & np.isin(use, ["commercial", "office", "public"]), 2, taken), 1
    ):
        indoor(
            i, "fire_station", f"{zh}消防站{k}", f"{en} Fire Station {k}", lambda f: 6.0, "public"
        )
    for k, i in enumerate(
        _take(
            rng,
            b,
            nonvil & np.isin(use, ["industrial", "commercial", "warehouse", "office"]),
            3,
            taken,
        ),
        1,
    ):
        indoor(
            i,
            "substation",
            f"{zh}110kV变电站{k}",
            f"{en} 110 kV Substation {k}",
            lambda f: 40_000.0,
            "public",
        )
    for k, i in enumerate(_take(rng, b, nonvil & (b["levels"].to_numpy() >= 15), 5, taken), 1):
        indoor(
            i,
            "underground_garage",
            f"地下车库{k}",
            f"Underground Garage {k}",
            lambda f: float(rng.integers(200, 800)),
        )
    for k, poly in enumerate(open_spaces[:4], 1):
        p = poly.representative_point()
        area = round(poly.area * 0.4, 1)
        outdoor(
            p.x,
            p.y,
            "square",
            f"{zh}广场{k}" if k > 1 else f"{zh}文化广场",
            f"{en} Square {k}",
            round(area / 1.5),
            area,
        )
        outdoor(
            p.x + 5,
            p.y + 5,
            "shelter",
            f"广场{k}应急避难场所",
            f"Square {k} Emergency Shelter",
            round(area / 2.0),
            area,
        )
    if len(river_bank_pts):
        # pumps where the bank is lowest, spread along the river
        order = np.argsort(bank_z)
        chosen: list[int] = []
        for j in order:
            if all(np.hypot(*(river_bank_pts[j] - river_bank_pts[c])) > 400 for c in chosen):
                chosen.append(int(j))
            if len(chosen) == 3:
                break
        for k, j in enumerate(chosen, 1):
            outdoor(
                *river_bank_pts[j],
                "pump_station",
                f"{zh}排涝站{k}",
                f"{en} Drainage Pump Station {k}",
                float(rng.uniform(2, 6)),
                400.0,
            )
    if len(road_points):
        low = np.argsort(road_z)[: N_DRAIN_INLETS // 2]
        rest = rng.permutation(np.setdiff1d(np.arange(len(road_points)), low))[
            : N_DRAIN_INLETS // 2
        ]
        for k, j in enumerate(np.sort(np.concatenate([low, rest])), 1):
            outdoor(*road_points[j], "drain_inlet", f"雨水口{k}", f"Drain Inlet {k}", 0.05, 0.5)
    fac = pd.DataFrame(rows)
    fac["critical"] = fac["kind"].isin(CRITICAL)
    fac["facility_id"] = [f"F{i + 1:04d}" for i in range(len(fac))]
    return b, fac


def bank_points(river_poly, step: float = 40.0, offset: float = 6.0) -> np.ndarray:
    """Points just outside a river polygon's edge, every ``step`` m."""
    ring = shapely.buffer(river_poly, offset).exterior
    d = np.arange(0, ring.length, step)
    return shapely.get_coordinates(shapely.line_interpolate_point(ring, d))
