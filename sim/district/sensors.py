"""Sensor points of a district: every kind of :data:`twin.fields.SENSOR_KINDS`, bound to entities.

Each sensor gets its physical range from :data:`twin.fields.FIELDS`, the Modbus gateway of its
grid (``gw-<grid code>``) and a register address on that gateway two registers apart from the
previous one (a float32 spans two 16-bit registers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.fields import FIELDS, SENSOR_KINDS

REGISTER_STRIDE = 2

#: share of buildings fitted with each building-bound kind, by building use
BUILDING_SHARE: dict[str, tuple[float, tuple[str, ...]]] = {
    "smoke": (0.5, ()),
    "temperature": (0.15, ()),
    "humidity": (0.05, ()),
    "gas": (0.3, ("residential", "mixed", "market", "commercial")),
    "gas_meter": (0.15, ("residential", "mixed", "commercial")),
    "power_meter": (0.25, ()),
}
ALWAYS_SMOKE = ("school", "hospital", "elderly_home", "market", "public")


def device_of(grid_code: str) -> str:
    """The Modbus gateway serving a grid.

    >>> device_of("G0101")
    'gw-G0101'
    """
    return f"gw-{grid_code}"


def build_sensors(
    rng: np.random.Generator,
    buildings: pd.DataFrame,
    facilities: pd.DataFrame,
    roads: pd.DataFrame,
    water_nodes: pd.DataFrame,
    pipes: pd.DataFrame,
    river: tuple[str, np.ndarray] | None,
    grid_at,
) -> pd.DataFrame:
    """All sensors, with positions ``x, y`` (m) and the schema's columns.

    Parameters
    ----------
    buildings, facilities, roads, water_nodes, pipes : DataFrame
        Metric frames; buildings carry ``x, y`` (entrance) and ``grid_id``; facilities ``x, y``
        and ``grid_id``; roads ``z`` (lowest ground elevation, m); nodes and pipes ``x, y``.
    river : (landuse_id, (k, 2) points) or None
        River polygon id and gauge positions.
    grid_at : callable
        ``grid_at(x, y) -> grid_id array`` for outdoor points.
    """
    rows: list[tuple] = []  # (kind, entity_type, entity_id, x, y, grid_id)

    def add(kind, etype, ids, xs, ys, grids):
        for e, x, y, g in zip(ids, xs, ys, grids, strict=True):
            rows.append((kind, etype, e, float(x), float(y), g))

    fk = facilities["kind"].to_numpy()

    def fac(kinds, kind, dx=2.0):
        f = facilities[np.isin(fk, kinds)]
        add(kind, "facility", f["facility_id"], f["x"] + dx, f["y"], f["grid_id"])

    fac(["pump_station", "school", "fire_station"], "rain_gauge")
    if river is not None:
        rid, pts = river
        add(
            "river_level",
            "landuse",
            [rid] * len(pts),
            pts[:, 0],
            pts[:, 1],
            grid_at(pts[:, 0], pts[:, 1]),
        )
    inlets = facilities[fk == "drain_inlet"]
    pick = np.sort(rng.permutation(len(inlets))[: max(1, len(inlets) // 3)])
    f = pd.concat([inlets.iloc[pick], facilities[fk == "pump_station"]])
    add("drain_level", "facility", f["facility_id"], f["x"], f["y"] + 1.0, f["grid_id"])
    low = roads.nsmallest(min(40, len(roads)), "z")
    add(
        "road_water",
        "road",
        low["road_id"],
        low["x"],
        low["y"],
        grid_at(low["x"].to_numpy(), low["y"].to_numpy()),
    )
    use = buildings["use"].to_numpy()
    for kind, (share, uses) in BUILDING_SHARE.items():
        m = rng.random(len(buildings)) < share
        if uses:
            m &= np.isin(use, uses)
        if kind == "smoke":
            m |= np.isin(use, ALWAYS_SMOKE)
        if kind == "power_meter":
            m |= np.isin(use, ["industrial", "commercial", "office", "hospital", "public"])
        b = buildings[m]
        add(
            kind,
            "building",
            b["building_id"],
            b["x"] + _jit(rng, len(b)),
            b["y"] + _jit(rng, len(b)),
            b["grid_id"],
        )
    lv = buildings["levels"].to_numpy()
    b = buildings[(lv >= 9) | ((lv >= 7) & (buildings["zone"].to_numpy() != "village"))]
    add("elevator", "building", b["building_id"], b["x"], b["y"] - 1.0, b["grid_id"])
    fac(["square", "market", "hospital", "shelter"], "people_counter", dx=-2.0)
    wn = water_nodes.iloc[
        np.sort(rng.permutation(len(water_nodes))[: max(1, int(0.4 * len(water_nodes)))])
    ]
    add(
        "water_pressure",
        "water_node",
        wn["node_id"],
        wn["x"],
        wn["y"],
        grid_at(wn["x"].to_numpy(), wn["y"].to_numpy()),
    )
    first = pipes["from_node"].isin(water_nodes.loc[water_nodes["kind"] != "junction", "node_id"])
    wp = pipes[first | (rng.random(len(pipes)) < 0.12)]
    add(
        "water_flow",
        "water_pipe",
        wp["pipe_id"],
        wp["x"],
        wp["y"],
        grid_at(wp["x"].to_numpy(), wp["y"].to_numpy()),
    )

    df = pd.DataFrame(rows, columns=["kind", "entity_type", "entity_id", "x", "y", "grid_id"])
    df["sensor_id"] = [f"SN{i + 1:06d}" for i in range(len(df))]
    df["quantity"] = df["kind"].map(lambda k: SENSOR_KINDS[k].quantity)
    df["unit"] = df["quantity"].map(lambda q: FIELDS[q].unit)
    df["min_value"] = df["quantity"].map(lambda q: FIELDS[q].min_value).astype(float)
    df["max_value"] = df["quantity"].map(lambda q: FIELDS[q].max_value).astype(float)
    df["device_id"] = df["grid_id"].map(device_of)
    df["register_address"] = (df.groupby("device_id").cumcount() * REGISTER_STRIDE).astype("int64")
    return df


def _jit(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1.5, 1.5, n)
