"""Shared hand-made inputs of the utility fault tests: a tiny district with a meter per building
and synthetic meter series with a daily cycle."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.registry import Registry
from twin.samples import tiny_registry

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC, a Thursday
STEP = 60.0


def metered_registry() -> Registry:
    """The tiny district plus a power meter (PM-Bxxxx) on every building."""
    r = tiny_registry()
    s = r.sensors
    tpl = s[s["kind"] == "power_meter"].iloc[0]
    rows = []
    for _, b in r.buildings.iterrows():
        if b["building_id"] == tpl["entity_id"]:
            continue
        row = tpl.copy()
        row["sensor_id"] = f"PM-{b['building_id']}"
        row["entity_id"] = b["building_id"]
        row["grid_id"] = b["grid_id"]
        row["geometry"] = b.geometry.representative_point()
        rows.append(row)
    sensors = gpd.GeoDataFrame(
        pd.concat([s, pd.DataFrame(rows)], ignore_index=True), geometry="geometry", crs=s.crs
    )
    layers = dict(r.layers)
    layers["sensors"] = sensors
    return Registry(layers=layers, dem=r.dem, meta=dict(r.meta))


def typical(registry: Registry, t: np.ndarray) -> np.ndarray:
    """Noise-free synthetic readings (n_times, n_sensors): daily cycles around plausible levels."""
    q = registry.sensors["quantity"].to_numpy()
    hour = ((t + 8 * 3600) % 86400) / 3600.0
    day = 1.0 + 0.4 * np.sin(2 * np.pi * (hour - 9.0) / 24.0)[:, None]
    level = np.select(
        [
            q == "building__power_demand",
            q == "water_node__pressure",
            q == "water_pipe__flow_rate",
            q == "building__gas_flow_rate",
            q == "building__air_temperature",
            q == "building__relative_humidity",
        ],
        [5e4, 3.5e5, 0.01, 2e-5, 26.0, 0.6],
        0.0,
    )[None, :]
    out = np.where(np.isin(q, ["water_node__pressure"]), level * (1.05 - 0.05 * day), level * day)
    return np.where(level == 0.0, 0.0, out)


def noisy(registry: Registry, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`typical` plus 1 % relative (and 300 Pa absolute on pressure) noise."""
    base = typical(registry, t)
    q = registry.sensors["quantity"].to_numpy()
    noise = 0.01 * np.abs(base) * rng.standard_normal(base.shape)
    noise += np.where(q == "water_node__pressure", 300.0, 0.0) * rng.standard_normal(base.shape)
    return base + noise


_FITTED: dict[int, tuple] = {}


def trained(registry: Registry, days: float = 2.0, seed: int = 0):
    """A fresh copy of a detector fitted on ``days`` of quiet synthetic readings.

    Returns (detector, rng, t_end); the fit is done once per registry object.
    """
    from sim.utility import UtilityFaultDetector

    key = id(registry)
    if key not in _FITTED:
        rng = np.random.default_rng(seed)
        t = T0 + STEP * np.arange(1, int(days * 86400 / STEP) + 1)
        _FITTED[key] = (UtilityFaultDetector(registry).fit(t, noisy(registry, t, rng)), t[-1])
    det, t_end = _FITTED[key]
    return copy.deepcopy(det), np.random.default_rng(seed + 1), float(t_end)
