"""Ensemble and city-scale figures: `streettwin bench ensemble --json`.

* ``members_per_min_1w`` / ``members_per_min_2w``: one-hour 100 mm floods on the demo district
  (``var/demo-district``, DEM coarsened to 4 m) on a LocalCluster of 1 and 2 single-threaded
  worker processes (kernels compiled on every worker before timing), and
  ``parallel_efficiency`` = rate(2) / (2 × rate(1)), floor 0.8;
* ``city_flood_1h_s``: one hour of a 100 mm/h storm over 10 km × 10 km at 2 m (5000 × 5000 =
  25 M cells, the rough synthetic urban DEM of :func:`sim.flood.validate.urban_dem`) run by
  :class:`sim.scenario.tiled.TiledFlood` in 2 × 2 tiles with 8-cell halos, floor 900 s; with
  its cell updates per second.

``args.smoke``: the tiny sample registry and a 200 × 200 city, for the test suite.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario.spec import parse_scenario

FLOOR_EFFICIENCY = 0.8
FLOOR_CITY_S = 900.0
DEMO_DISTRICT = Path(__file__).resolve().parents[2] / "var" / "demo-district"


def _warm() -> bool:
    """Compile the serial flood kernels in a worker process (not part of the timing)."""
    import xarray as xr

    from sim.flood.model import FloodModel

    dem = xr.DataArray(
        np.zeros((4, 4)), dims=("y", "x"), coords={"y": np.arange(4.0), "x": np.arange(4.0)}
    )
    FloodModel(dem, rain=1e-5, parallel=False).run_until(10.0)
    return True


def _members_per_min(scenario, registry, inputs, workers: int, members: int) -> float:
    from distributed import Client, LocalCluster

    from sim.scenario.ensemble import run_ensemble

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=0,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm)
        _, summary = run_ensemble(scenario, registry, members=members, client=client, inputs=inputs)
    return float(summary["members_per_min"])


def city_flood(n: int, *, t_end: float = 3600.0, tiles=(2, 2), halo: int = 8) -> dict[str, Any]:
    """One hour (``t_end``) of 100 mm/h on an ``n × n`` 2 m urban DEM, tiled; timings."""
    from sim.flood.rain import uniform_storm
    from sim.flood.validate import _grid, urban_dem
    from sim.scenario.tiled import TiledFlood

    z, bld = urban_dem(n, 2.0)
    model = TiledFlood(
        _grid(z, 2.0),
        tiles=tiles,
        halo=halo,
        manning=0.03,
        building_mask=bld,
        rain=uniform_storm(100.0 * t_end / 3600.0, t_end),
    )
    del z
    model.run_until(60.0)  # compile kernels and wet up, not timed
    start_updates, t0 = model.cell_updates, time.perf_counter()
    model.run_until(t_end)
    wall = time.perf_counter() - t0
    full = wall * t_end / (t_end - 60.0)  # the untimed first minute at the same pace
    return {
        "city_cells": n * n,
        "city_flood_1h_s": full,
        "city_cell_updates_per_s": (model.cell_updates - start_updates) / wall,
        "city_steps": model.n_steps,
        "city_tiles": model.n_tiles,
        "city_exchange_s": model.t_exchange,
        "city_max_depth_m": float(np.max(model.fields()["max_depth"])),
    }


def bench_ensemble(args: argparse.Namespace) -> dict[str, Any]:
    """Measure the figures of the module docstring.

    Returns
    -------
    dict
        ``members_per_min_1w``, ``members_per_min_2w``, ``parallel_efficiency``,
        ``city_flood_1h_s``, ``city_cell_updates_per_s`` and floors.
    """
    smoke = bool(getattr(args, "smoke", False))
    if smoke:
        from twin.samples import tiny_registry

        registry = tiny_registry()
        cell, t_min, members, city_n, city_t = 10.0, 20, 2, int(args.size or 200), 120.0
    else:
        from twin.registry_io import load_registry

        registry = load_registry(DEMO_DISTRICT)
        cell, t_min, members, city_n, city_t = 4.0, 60, 3, int(args.size or 5000), 3600.0
    scenario = parse_scenario(
        {
            "name": "bench: 100 mm in 1 h",
            "hazard": "flood",
            "duration_min": t_min,
            "flood": {
                "cell_size_m": cell,
                "rain": {"kind": "uniform", "total_mm": 100, "duration_min": 60},
            },
            "ensemble": {"rain_intensity_cv": 0.2, "rain_shift_min": 10},
        },
        "bench.toml",
    )
    from sim.scenario.ensemble import member_inputs

    inputs = member_inputs(scenario, registry)
    rate1 = _members_per_min(scenario, registry, inputs, 1, members)
    rate2 = _members_per_min(scenario, registry, inputs, 2, 2 * members)
    eff = rate2 / (2.0 * rate1)
    city = city_flood(city_n, t_end=city_t)
    return {
        "district": "tiny sample" if smoke else str(DEMO_DISTRICT),
        "flood_cells": int(inputs.dem.size),
        "flood_cell_size_m": cell,
        "members_per_min_1w": rate1,
        "members_per_min_2w": rate2,
        "parallel_efficiency": eff,
        **city,
        "floor_parallel_efficiency": FLOOR_EFFICIENCY,
        "floor_city_flood_1h_s": FLOOR_CITY_S,
        "meets_floors": bool(eff >= FLOOR_EFFICIENCY and city["city_flood_1h_s"] <= FLOOR_CITY_S),
        "smoke": smoke,
    }
