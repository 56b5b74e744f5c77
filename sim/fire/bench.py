"""Speed of the fire model: one hour of spread over a city-sized registry from 10 ignitions.

``streettwin bench fire --json`` builds a synthetic city of building rows with vectorised
numpy (centroids on perturbed blocks, equivalent sides, GB 50016 classes, uses, residents;
no polygons at that scale: the model works from centroid and side), then reports

- ``graph_build_s``: the one-off cost of the model for a registry (fire properties of every
  building and the spread graph), median of ``--repeat``;
- ``spread_1h_s``: from 10 ignitions, one hour of spread (rates evaluated on the edges the
  fire reaches) and the report at T + 10/30/60 min, median of ``--repeat``; floor ≤ 10 s;
- ``first_run_s``: the same, once, before timing: it includes compiling the numba kernel
  (or loading it from numba's on-disk cache).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.fire.model import FireSpreadModel

DEFAULT_BUILDINGS = 1_700_000
SMOKE_BUILDINGS = 50_000
SPREAD_FLOOR_S = 10.0
N_IGNITIONS = 10
BLOCK_CELL_M = 120.0  # block plus half the streets around it
PER_SIDE = 5  # buildings per block side
#: block types: (share, building pitch m, side range m, height range m, class shares 1..4)
BLOCK_TYPES = (
    (0.3, 13.0, (8.0, 11.0), (3.0, 9.0), (0.0, 0.0, 0.4, 0.6)),  # old town, urban village
    (0.4, 18.0, (10.0, 14.0), (6.0, 18.0), (0.0, 0.4, 0.5, 0.1)),  # 1980s-90s walk-ups
    (0.3, 22.0, (14.0, 20.0), (20.0, 80.0), (0.5, 0.5, 0.0, 0.0)),  # modern towers
)
USES = np.array(["residential", "commercial", "office", "industrial", "warehouse", "mixed"])
USE_SHARES = np.array([0.70, 0.10, 0.05, 0.06, 0.04, 0.05])


def synthetic_city(n: int, rng: np.random.Generator, crs: str = "EPSG:32649") -> gpd.GeoDataFrame:
    """``n`` building rows as Points with ``side_m``, on perturbed 5 x 5 blocks.

    Parameters
    ----------
    n : int
        Number of buildings.
    rng : numpy.random.Generator
        Source of all randomness.
    crs : str
        Metric CRS of the coordinates.

    Returns
    -------
    geopandas.GeoDataFrame
        Registry-like rows (``building_id``, ``use``, ``fire_resistance``, ``height_m``,
        ``occupants``, ``elderly_alone``, ``disabled``, ``children``, ``side_m``, ``block_type``).
    """
    per_block = PER_SIDE * PER_SIDE
    n_blocks = -(-n // per_block)
    cols = int(np.ceil(np.sqrt(n_blocks)))
    shares = np.array([t[0] for t in BLOCK_TYPES])
    block_type = rng.choice(len(BLOCK_TYPES), size=n_blocks, p=shares / shares.sum())
    b = np.arange(n) // per_block
    k = np.arange(n) % per_block
    btype = block_type[b]
    pitch = np.array([t[1] for t in BLOCK_TYPES])[btype]
    lo = np.array([t[2][0] for t in BLOCK_TYPES])[btype]
    hi = np.array([t[2][1] for t in BLOCK_TYPES])[btype]
    side = lo + (hi - lo) * rng.random(n)
    h_lo = np.array([t[3][0] for t in BLOCK_TYPES])[btype]
    h_hi = np.array([t[3][1] for t in BLOCK_TYPES])[btype]
    height = h_lo + (h_hi - h_lo) * rng.random(n)
    jitter = 0.15 * (pitch - side)[:, None] * rng.uniform(-1.0, 1.0, size=(n, 2))
    x = (b % cols) * BLOCK_CELL_M + (k % PER_SIDE + 0.5) * pitch + jitter[:, 0]
    y = (b // cols) * BLOCK_CELL_M + (k // PER_SIDE + 0.5) * pitch + jitter[:, 1]
    cum = np.cumsum(np.array([t[4] for t in BLOCK_TYPES]), axis=1)[btype]
    klass = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 3) + 1
    use = USES[rng.choice(USES.size, size=n, p=USE_SHARES)]
    occupants = rng.poisson(np.maximum(height / 3.0, 1.0) * 6.0)
    frame = pd.DataFrame(
        {
            "building_id": np.char.mod("B%08d", np.arange(n)),
            "use": use,
            "fire_resistance": klass.astype(str),
            "height_m": height,
            "occupants": occupants,
            "elderly_alone": rng.binomial(occupants, 0.03),
            "disabled": rng.binomial(occupants, 0.02),
            "children": rng.binomial(occupants, 0.15),
            "side_m": side,
            "block_type": btype,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=crs)


def bench_fire(args: argparse.Namespace) -> dict[str, Any]:
    """Time the graph build and one hour of spread from 10 ignitions (medians of ``repeat``)."""
    smoke = bool(getattr(args, "smoke", False))
    n = getattr(args, "buildings", None) or (SMOKE_BUILDINGS if smoke else DEFAULT_BUILDINGS)
    repeat = max(1, int(getattr(args, "repeat", None) or 3))
    rng = np.random.default_rng(20240601)
    t = time.perf_counter()
    city = synthetic_city(n, rng)
    city_build_s = time.perf_counter() - t
    old_town = np.flatnonzero(city["block_type"].to_numpy() == 0)
    ignitions = city["building_id"].to_numpy()[rng.choice(old_town, N_IGNITIONS, replace=False)]

    build_times, spread_times = [], []
    model = None
    for _ in range(repeat):
        model = None  # free the previous graph before building the next
        t = time.perf_counter()
        model = FireSpreadModel(city, wind_speed_m_s=5.0, wind_dir_deg=135.0)
        build_times.append(time.perf_counter() - t)
    model.reset()
    t = time.perf_counter()
    model.ignite(ignitions, 0.0)
    model.run_until(3600.0)  # compiles the kernel (or loads it from numba's cache)
    first_run_s = time.perf_counter() - t
    for _ in range(repeat):
        model.reset()
        t = time.perf_counter()
        model.ignite(ignitions, 0.0)
        model.run_until(3600.0)
        ds = model.result()
        spread_times.append(time.perf_counter() - t)
    spread_1h_s = statistics.median(spread_times)
    return {
        "buildings": int(n),
        "ignitions": N_IGNITIONS,
        "edges": model.graph.n_edges,
        "saturated_neighbourhoods": model.graph.saturated,
        "fallback_edges": model.n_fallback_edges,
        "city_build_s": round(city_build_s, 3),
        "graph_build_s": round(statistics.median(build_times), 3),
        "first_run_s": round(first_run_s, 3),
        "spread_1h_s": round(spread_1h_s, 3),
        "spread_1h_floor_s": SPREAD_FLOOR_S,
        "meets_floor": bool(spread_1h_s <= SPREAD_FLOOR_S),
        "burning_or_burnt_T+60min": int((ds["fire_state"].values[-1] > 0).sum()),
        "occupants_at_risk_T+60min": int(ds["occupants_at_risk"].values[-1]),
        "repeat": repeat,
    }
