"""Ensemble and city-scale figures: `streettwin bench ensemble --json`.

* ``members_per_min_1w`` / ``members_per_min_2w``: one-hour 100 mm floods on the demo district
  (``var/demo-district``, DEM coarsened to 4 m: 375 × 500 cells, tens of seconds per member,
  so scheduling costs are noise) on a LocalCluster of 1 and then 2 single-threaded worker
  processes (``NUMBA_NUM_THREADS=1``, serial kernels compiled on every worker before timing).
  The district's flood grid is prepared once on the driver and scattered once to every worker;
  tasks carry only a reference to it. Both clusters run the **same** members (strong
  scaling, longest expected first), so ``parallel_efficiency`` = rate(2) / (2 × rate(1))
  compares equal work; floor 0.8.
* ``city_flood_1h_s``: one hour of a 100 mm/h storm over 10 km × 10 km at 2 m (5000 × 5000 =
  25 M cells, the rough synthetic urban DEM of :func:`sim.flood.validate.urban_dem`) run by
  :class:`sim.scenario.tiled.TiledFlood` in two tiles of whole rows (2 × 1) with 8-cell
  halos, all of the hour timed (kernels are compiled on a small grid first); floor 900 s.
  Whole-row tiles on two cores: their halo bands are contiguous in memory (a 2 × 2 split also
  copies strided column bands: about 14 s of exchange in the hour, against 1 s), and each
  tile's core maximum depth comes from the kernel's per-row maxima instead of a pass over the
  core. ``city_flood(tiles=...)`` runs any other split.

``--size N`` runs the city part on an N × N sub-area instead. Its time is then scaled to the
25 M cells in proportion to the cell count (same cell size, same storm, so about the same
number of time steps) and printed **only** as ``city_flood_1h_s_extrapolated``, next to the
measured area, cells and seconds; ``city_flood_1h_s`` is printed only by a full-size run.
``--smoke``: the tiny sample registry and a 200 × 200 city for two minutes (measured figures
only), for the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario.spec import parse_scenario

FLOOR_EFFICIENCY = 0.8
FLOOR_CITY_S = 900.0
DEMO_DISTRICT = Path(__file__).resolve().parents[2] / "var" / "demo-district"
#: the city: 10 km × 10 km at 2 m
CITY_N = 5000
CITY_CELL_M = 2.0
CITY_RAIN_MM_H = 100.0
#: two tiles of whole rows (see the module docstring)
CITY_TILES = (2, 1)
#: members timed on both clusters (even, so two workers can share them evenly)
MEMBERS = 4
SMOKE_CITY_N, SMOKE_CITY_T_S = 200, 120.0


def _warm() -> bool:
    """Compile the serial flood kernels in a worker process (not part of the timing)."""
    import xarray as xr

    from sim.flood.model import FloodModel

    dem = xr.DataArray(
        np.zeros((4, 4)), dims=("y", "x"), coords={"y": np.arange(4.0), "x": np.arange(4.0)}
    )
    FloodModel(dem, rain=1e-5, parallel=False).run_until(10.0)
    return True


def _median(runs: list[dict[str, Any]]) -> float:
    return float(statistics.median(r["members_per_min"] for r in runs))


def members_per_min(scenario, registry, inputs, workers: int, members: int) -> dict[str, Any]:
    """Rate of one ensemble of ``members`` on a fresh LocalCluster of ``workers`` processes.

    Returns
    -------
    dict
        ``members_per_min``, ``wall_s`` and the per-member wall times (s) of the run.
    """
    from sim.scenario.ensemble import local_cluster_client, run_ensemble

    with local_cluster_client(workers) as client:
        client.run(_warm)
        ds, summary = run_ensemble(
            scenario, registry, members=members, client=client, inputs=inputs
        )
    return {
        "members_per_min": float(summary["members_per_min"]),
        "wall_s": float(summary["wall_s"]),
        "member_wall_s": [round(float(s), 2) for s in ds["member_wall_s"].to_numpy()],
    }


def _warm_city_kernels() -> None:
    """Compile the (parallel) flood kernels on a small tiled grid, outside any timing."""
    from sim.flood.validate import _grid, urban_dem
    from sim.scenario.tiled import TiledFlood

    z, bld = urban_dem(240, CITY_CELL_M)
    TiledFlood(
        _grid(z, CITY_CELL_M), tiles=(2, 2), halo=8, building_mask=bld, rain=1e-5, parallel=True
    ).run_until(30.0)


def city_flood(
    n: int,
    *,
    t_end: float = 3600.0,
    tiles: tuple[int, int] = CITY_TILES,
    halo: int = 8,
    progress: bool = False,
) -> dict[str, Any]:
    """Time ``t_end`` seconds of 100 mm/h on an ``n × n`` 2 m urban DEM, tiled with halos.

    Parameters
    ----------
    n : int
        Side of the area (cells of 2 m).
    t_end : float
        Simulated time (s).
    tiles, halo
        As in :class:`sim.scenario.tiled.TiledFlood`.
    progress : bool
        Print model time and wall time to stderr every few minutes of wall time.

    Returns
    -------
    dict
        ``cells``, ``area_km2``, ``sim_s``, ``wall_s`` (the whole of ``t_end``; kernels are
        compiled beforehand), ``cell_updates_per_s``, ``steps``, ``tiles``, ``exchange_s``
        and ``max_depth_m``.
    """
    from sim.flood.rain import uniform_storm
    from sim.flood.validate import _grid, urban_dem
    from sim.scenario.tiled import TiledFlood

    _warm_city_kernels()
    z, bld = urban_dem(n, CITY_CELL_M)
    model = TiledFlood(
        _grid(z, CITY_CELL_M),
        tiles=tiles,
        halo=halo,
        manning=0.03,
        building_mask=bld,
        rain=uniform_storm(CITY_RAIN_MM_H * t_end / 3600.0, t_end),
    )
    del z, bld
    t0 = time.perf_counter()
    last = [t0]

    def report(t: float, t_stop: float) -> None:
        now = time.perf_counter()
        if progress and now - last[0] > 60.0:
            last[0] = now
            print(f"city {n}x{n}: {t:7.0f}/{t_stop:.0f} s model, {now - t0:7.1f} s wall",
                  file=sys.stderr, flush=True)  # fmt: skip

    model.run_until(t_end, on_progress=report)
    wall = time.perf_counter() - t0
    return {
        "cells": n * n,
        "area_km2": (n * CITY_CELL_M / 1000.0) ** 2,
        "sim_s": float(t_end),
        "wall_s": wall,
        "cell_updates_per_s": model.cell_updates / wall,
        "steps": int(model.n_steps),
        "tiles": model.n_tiles,
        "exchange_s": model.t_exchange,
        "max_depth_m": float(np.max(model.fields()["max_depth"])),
    }


def city_figures(
    n: int, *, full_n: int = CITY_N, t_end: float = 3600.0, progress: bool = False
) -> dict[str, Any]:
    """The city part of the bench: :func:`city_flood` on ``n × n``, labelled by
    :func:`city_labels`."""
    return city_labels(city_flood(n, t_end=t_end, progress=progress), full_n=full_n)


def city_labels(measured: dict[str, Any], *, full_n: int = CITY_N) -> dict[str, Any]:
    """Name the city figures by what was measured.

    A full run (``full_n × full_n`` cells, one hour) gives ``city_flood_1h_s``. A sub-area
    run of the hour gives ``city_flood_1h_s_extrapolated`` = measured s × full cells /
    measured cells, never ``city_flood_1h_s``. A shorter run (smoke) gives the measured
    figures only. The measured cells, area, model and wall seconds are always printed.

    >>> m = {"cells": 1250**2, "area_km2": 6.25, "sim_s": 3600.0, "wall_s": 10.0}
    >>> city_labels(m)["city_flood_1h_s_extrapolated"]
    160.0
    """
    m = measured
    out: dict[str, Any] = {
        "city_measured_cells": m["cells"],
        "city_measured_area_km2": m["area_km2"],
        "city_measured_sim_s": m["sim_s"],
        "city_measured_s": m["wall_s"],
        **{
            f"city_{k}": v
            for k, v in m.items()
            if k not in ("cells", "area_km2", "sim_s", "wall_s")
        },
    }
    full_cells = full_n * full_n
    if m["sim_s"] < 3600.0:
        out["city_mode"] = "short run (no 1 h figure)"
    elif m["cells"] >= full_cells:
        out["city_mode"] = "full"
        out["city_flood_1h_s"] = m["wall_s"]
    else:
        out["city_mode"] = "extrapolated"
        out["city_flood_1h_s_extrapolated"] = m["wall_s"] * full_cells / m["cells"]
        out["city_extrapolation"] = (
            f"measured {m['area_km2']:.2f} km2 ({m['cells']} cells) for 1 h in "
            f"{m['wall_s']:.1f} s, scaled by cell count to {full_cells} cells"
        )
    return out


def _scenario(cell: float, t_min: int):
    return parse_scenario(
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


def bench_ensemble(args: argparse.Namespace) -> dict[str, Any]:
    """Measure the figures of the module docstring.

    Returns
    -------
    dict
        ``members_per_min_1w``, ``members_per_min_2w``, ``parallel_efficiency``, the city
        figures of :func:`city_figures`, floors and the load average before and after (the
        machine may be shared; a busy one lowers the 2-worker rate).
    """
    from sim.scenario.ensemble import member_inputs

    smoke = bool(getattr(args, "smoke", False))
    size = getattr(args, "size", None)
    if smoke:
        from twin.samples import tiny_registry

        registry = tiny_registry()
        scenario, members = _scenario(10.0, 20), 2
        city_n, city_t = int(size or SMOKE_CITY_N), SMOKE_CITY_T_S
    else:
        from twin.registry_io import load_registry

        registry = load_registry(DEMO_DISTRICT)
        scenario, members = _scenario(4.0, 60), MEMBERS
        city_n, city_t = int(size or CITY_N), 3600.0
    load_before = os.getloadavg()[0]
    inputs = member_inputs(scenario, registry)
    # the 1- and 2-worker runs alternate, ``--repeat`` times, and the medians are compared:
    # this machine's speed drifts by tens of per cent over minutes, and a single pair of runs
    # minutes apart measures that drift as much as the scaling
    repeat = max(int(getattr(args, "repeat", 1) or 1), 1)
    ones, twos = [], []
    for _ in range(repeat):
        ones.append(members_per_min(scenario, registry, inputs, 1, members))
        twos.append(members_per_min(scenario, registry, inputs, 2, members))
    rate_1w, rate_2w = _median(ones), _median(twos)
    # wall times are reported from the run nearest each median
    one = min(ones, key=lambda r: abs(r["members_per_min"] - rate_1w))
    two = min(twos, key=lambda r: abs(r["members_per_min"] - rate_2w))
    eff = rate_2w / (2.0 * rate_1w)
    city = city_figures(city_n, t_end=city_t, progress=not smoke)
    full = city.get("city_flood_1h_s")
    return {
        "district": "tiny sample" if smoke else str(DEMO_DISTRICT),
        "flood_cells": int(inputs.dem.size),
        "flood_cell_size_m": float(inputs.cell_size_m),
        "members": members,
        "members_per_min_1w": rate_1w,
        "members_per_min_2w": rate_2w,
        "parallel_efficiency": eff,
        "members_per_min_1w_runs": [r["members_per_min"] for r in ones],
        "members_per_min_2w_runs": [r["members_per_min"] for r in twos],
        "repeat": repeat,
        "ensemble_wall_s_1w": one["wall_s"],
        "ensemble_wall_s_2w": two["wall_s"],
        "member_wall_s_1w": one["member_wall_s"],
        "member_wall_s_2w": two["member_wall_s"],
        **city,
        "floor_parallel_efficiency": FLOOR_EFFICIENCY,
        "floor_city_flood_1h_s": FLOOR_CITY_S,
        # only a measured full-size hour can meet the city floor
        "meets_floors": bool(eff >= FLOOR_EFFICIENCY and full is not None and full <= FLOOR_CITY_S),
        "load_avg_1min_before": load_before,
        "load_avg_1min_after": os.getloadavg()[0],
        "smoke": smoke,
    }
