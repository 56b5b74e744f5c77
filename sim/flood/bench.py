"""Flood model speed: `streettwin bench flood --json` (cell updates per second, 1-h storm time).

Figures: ``cell_updates_per_s`` of our model and of Landlab's ``OverlandFlow`` measured in the
same run on the same kind of grid (Landlab on a smaller grid and fewer steps, scaled per cell
update), their ratio, and ``storm_1h_s``: wall time of a one-hour 100 mm storm on an
``size × size`` grid at 2 m. Medians of ``args.repeat`` runs. Also the CPU-time rate
(``cpu_cell_updates_per_s``, all threads) and the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numba
import numpy as np

from sim.flood.model import FloodModel
from sim.flood.rain import uniform_storm
from sim.flood.validate import _grid, urban_dem

FLOOR_CELL_UPDATES = 2e8
FLOOR_STORM_S = 30.0


def _wet_model(n: int, dx: float = 2.0, *, parallel: bool = True) -> FloodModel:
    z, bld = urban_dem(n, dx)
    return FloodModel(
        _grid(z, dx),
        manning=0.03,
        building_mask=bld,
        initial_depth=0.05,
        rain=100.0 / 3.6e6,
        parallel=parallel,
    )


def _rate(model, steps_time: float) -> tuple[float, float]:
    """Cell updates per wall second and per CPU second (all threads) over ``steps_time``.

    Time steps only (``run_one_step``): ``run_until`` would also store a snapshot with the
    speed field at the end, which is output, not cell updates.
    """
    start = model.n_cell_updates
    t0, c0 = time.perf_counter(), time.process_time()
    model.run_one_step(steps_time)
    n = model.n_cell_updates - start
    return n / (time.perf_counter() - t0), n / max(time.process_time() - c0, 1e-9)


def bench_flood(args: argparse.Namespace) -> dict:
    """Measure speed figures; see the module docstring.

    Returns
    -------
    dict
        ``size``, ``cell_updates_per_s``, ``landlab_cell_updates_per_s``,
        ``ratio_vs_landlab``, ``storm_1h_s``, floors and whether they are met.
    """
    smoke = bool(getattr(args, "smoke", False))
    size = int(getattr(args, "size", None) or (200 if smoke else 1000))
    repeat = max(int(getattr(args, "repeat", 1) or 1), 1)
    ours = _wet_model(size)
    ours.run_until(5.0)  # compile and wet up
    pairs = [_rate(ours, 10.0 if smoke else 60.0) for _ in range(repeat)]
    rates = [p[0] for p in pairs]

    from sim.flood.landlab_peer import LandlabFlood

    n_ll = min(size, 100 if smoke else 250)
    z, bld = urban_dem(n_ll, 2.0)
    # the peer gets the machine's cores too (Landlab's own OpenMP default), as our model does
    ll = LandlabFlood(
        z, 2.0, manning=0.03, rain=100.0 / 3.6e6, theta=0.7, alpha=0.7 / np.sqrt(2), closed=bld,
        threads=None,
    )  # fmt: skip
    ll.depth[:] = 0.05
    ll.run_until(2.0)
    ll_rates = []
    for _ in range(repeat):
        start, t0 = ll.n_cell_updates, time.perf_counter()
        ll.run_until(ll.time + (5.0 if smoke else 10.0))
        ll_rates.append((ll.n_cell_updates - start) / (time.perf_counter() - t0))

    storm_times = []
    for _ in range(1 if smoke else repeat):
        z, bld = urban_dem(size, 2.0)
        m = FloodModel(
            _grid(z, 2.0), manning=0.03, building_mask=bld, rain=uniform_storm(100.0, 3600.0)
        )
        t0, c0 = time.perf_counter(), time.process_time()
        m.run_until(3600.0)
        storm_times.append(time.perf_counter() - t0)
        storm_cpu = time.process_time() - c0
    rate = statistics.median(rates)
    ll_rate = statistics.median(ll_rates)
    storm = statistics.median(storm_times)
    return {
        "size": size,
        "cell_updates_per_s": rate,
        "landlab_cell_updates_per_s": ll_rate,
        "landlab_size": n_ll,
        "ratio_vs_landlab": rate / ll_rate,
        "storm_1h_s": storm,
        "storm_1h_steps": m.n_steps,
        "storm_1h_cpu_s": storm_cpu,
        # the machine is shared: CPU time (all threads) says what the code costs, wall time
        # what this run got; with T idle cores the wall rate would approach cpu_rate × T
        "cpu_cell_updates_per_s": statistics.median(p[1] for p in pairs),
        "threads": numba.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
        "storm_mass_balance_error": m.mass_balance()["mass_balance_error"],
        "floor_cell_updates_per_s": FLOOR_CELL_UPDATES,
        "floor_storm_1h_s": FLOOR_STORM_S,
        "meets_floors": bool(rate >= FLOOR_CELL_UPDATES and storm <= FLOOR_STORM_S),
        "repeat": repeat,
    }
