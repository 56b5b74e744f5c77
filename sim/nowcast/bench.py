"""``streettwin bench warning``: skill of flood warnings from the live nowcast against world truth.

Seeded storms are replayed in :class:`sim.world.World` on the demo district (``smoke``: 3
storms on the tiny sample district), in simulated time. Every ``CYCLE_S`` the twin's view —
the **rain gauge readings** of ``world.sensor_values()``, nothing else — goes to a fresh
:class:`~sim.nowcast.flood.FloodNowcast`; its forecast gives each road water-level sensor a
flood level exactly as the live warnings do (:meth:`Nowcaster.flood_levels`). A sensor is
*warned* from the first cycle its level reaches yellow (forecast ≥ 0.15 m within the
imminent window). Truth is ``world.sensor_truth()`` at the road water-level sensors (the
world's per-road ponding bucket), checked every minute; the event is "depth ≥ 0.15 m".

Scored per (storm, sensor): a **hit** is an event warned no later than its onset; a
**miss** an event not warned by its onset; a **false alarm** a warning with no event in the
storm window. ``pod = hits / events``, ``far = false alarms / (hits + late + false alarms)``,
lead time = onset − first warning. Late warnings are reported apart (``late``).

Calibration: the world's ponding is a lumped bucket per road, the nowcast a 2-D model on a
20 m grid, so model depth is mapped to sensor depth by one factor ``depth_scale`` fitted on
**training storms** (seeds from ``TRAIN_SEED0``, disjoint from the scored seeds) by the best
critical success index; the fitted value and its training scores are printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sim.nowcast.driver import Nowcaster
from sim.nowcast.flood import FloodForecast, FloodNowcast

#: nowcast cycle, s
CYCLE_S = 300.0
#: world truth sampling, s
TRUTH_S = 60.0
#: event depth at a road water-level sensor, m
EVENT_DEPTH_M = 0.15
#: storms scored / used for calibration (full run and --smoke)
N_STORMS, N_TRAIN = 20, 8
N_STORMS_SMOKE, N_TRAIN_SMOKE = 3, 2
SCORE_SEED0, TRAIN_SEED0 = 100, 9000
#: candidate depth_scale values tried on the training storms
SCALES = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0)
#: time before a storm starts, and after it ends, that is replayed, s
LEAD_IN_S, TAIL_S = 1800.0, 3 * 3600.0
#: demo district (built by `make demo`)
DEMO_DISTRICT = Path(__file__).resolve().parents[2] / "var" / "demo-district"
#: nowcast grid cell for the benchmark, m
BENCH_CELL_M = 20.0
T0 = 1_782_864_000.0  # 2026-07-01 00:00 UTC


def storm_params(seed: int, center: tuple[float, float]) -> dict:
    """Random storm of a seed: total 10–90 mm, 1–3 h, moving 1–6 m/s, centre within 3 km."""
    rng = np.random.default_rng(seed)
    return {
        "total_mm": float(rng.uniform(10.0, 90.0)),
        "duration_s": float(rng.uniform(3600.0, 3 * 3600.0)),
        "speed_m_s": float(rng.uniform(1.0, 6.0)),
        "direction_deg": float(rng.uniform(0.0, 360.0)),
        "center": (
            center[0] + float(rng.uniform(-3000.0, 3000.0)),
            center[1] + float(rng.uniform(-3000.0, 3000.0)),
        ),
    }


def replay_storm(registry, seed: int, nowcast: FloodNowcast) -> dict:
    """Run one seeded storm; return truth onsets and the unscaled forecasts per cycle."""
    from sim.world import World

    world = World(registry, seed=seed, t0=T0, background_rain=False, spontaneous_faults=False)
    params = storm_params(seed, world.sites.center)
    world.start_storm(at=T0 + LEAD_IN_S, **params)
    nowcast.reset()
    rows = nowcast.road_sensor_rows
    onset = np.full(len(rows), np.inf)
    cycles: list[tuple[float, FloodForecast]] = []
    t_end = T0 + LEAD_IN_S + params["duration_s"] + TAIL_S
    t = T0
    while t < t_end:
        t += TRUTH_S
        world.advance_to(t)
        truth = world.sensor_truth()[rows]
        onset = np.where((truth >= EVENT_DEPTH_M) & np.isinf(onset), t, onset)
        if (t - T0) % CYCLE_S < 1e-6:
            nowcast.observe(t, world.sensor_values()[nowcast.gauge_rows])
            cycles.append((t, nowcast.forecast()))
    return {"seed": seed, "params": params, "onset": onset, "cycles": cycles}


def first_warnings(run: dict, scale: float, levels_of) -> np.ndarray:
    """First warning time per sensor (inf: never) with model depths × ``scale``."""
    first = np.full(len(run["onset"]), np.inf)
    for t, fc in run["cycles"]:
        scaled = FloodForecast(
            fc.issued, fc.lead_s, fc.sensor_depth * scale, fc.road_depth[:, :0],
            fc.building_depth[:, :0],
        )  # fmt: skip
        warned = levels_of(scaled)["sensor"] >= 2
        first = np.where(warned & np.isinf(first), t, first)
    return first


def score(runs: list[dict], scale: float, levels_of) -> dict:
    """Contingency counts, pod, far and lead times of runs at one ``scale``."""
    hits = late = misses = false_alarms = quiet = 0
    leads: list[float] = []
    for run in runs:
        onset = run["onset"]
        first = first_warnings(run, scale, levels_of)
        event = np.isfinite(onset)
        warned = np.isfinite(first)
        on_time = event & warned & (first <= onset)
        hits += int(on_time.sum())
        late += int((event & warned & (first > onset)).sum())
        misses += int((event & ~on_time).sum())
        false_alarms += int((~event & warned).sum())
        quiet += int((~event & ~warned).sum())
        leads.extend(((onset[on_time] - first[on_time]) / 60.0).tolist())
    events = hits + misses
    warned_n = hits + late + false_alarms
    return {
        "pod": hits / events if events else float("nan"),
        "far": false_alarms / warned_n if warned_n else 0.0,
        "csi": hits / (hits + misses + false_alarms) if hits + misses + false_alarms else 0.0,
        "median_lead_time_min": float(np.median(leads)) if leads else float("nan"),
        "hits": hits,
        "late": late,
        "misses": misses,
        "false_alarms": false_alarms,
        "correct_negatives": quiet,
        "events": events,
    }


def bench_warning(args: argparse.Namespace) -> dict:
    """Replay seeded storms; print pod, far and median lead time of flood warnings."""
    started = time.perf_counter()
    smoke = bool(getattr(args, "smoke", False))
    if smoke or not (DEMO_DISTRICT / "district.gpkg").exists():
        from twin.samples import tiny_registry

        registry, district = tiny_registry(), "tiny"
    else:
        from twin.registry_io import load_registry

        registry, district = load_registry(DEMO_DISTRICT), str(DEMO_DISTRICT.name)
    n_score, n_train = (N_STORMS_SMOKE, N_TRAIN_SMOKE) if smoke else (N_STORMS, N_TRAIN)
    cell = 10.0 if district == "tiny" else BENCH_CELL_M
    nowcast = FloodNowcast(registry, cell_m=cell, depth_scale=1.0)
    nc = Nowcaster.__new__(Nowcaster)  # only flood_levels is used: no state, no engine
    from sim.warning.thresholds import default_thresholds

    nc.thresholds = default_thresholds()
    levels_of = nc.flood_levels
    train = [replay_storm(registry, TRAIN_SEED0 + i, nowcast) for i in range(n_train)]
    fits = {s: score(train, s, levels_of) for s in SCALES}
    best = max(SCALES, key=lambda s: (fits[s]["csi"], fits[s]["pod"]))
    runs = [replay_storm(registry, SCORE_SEED0 + i, nowcast) for i in range(n_score)]
    result = score(runs, best, levels_of)
    return {
        "district": district,
        "storms": n_score,
        "training_storms": n_train,
        "sensors": int(len(nowcast.road_sensor_rows)),
        "gauges": int(len(nowcast.gauge_rows)),
        "cell_m": cell,
        "horizon_min": nowcast.horizon_s / 60.0,
        "cycle_s": CYCLE_S,
        "rain_forecast": nowcast.series.mode,
        "depth_scale": best,
        "training": {str(s): {k: fits[s][k] for k in ("pod", "far", "csi")} for s in SCALES},
        **result,
        "floors": {"pod": 0.9, "far": 0.2, "median_lead_time_min": 15.0},
        "passed": bool(
            result["pod"] >= 0.9 and result["far"] <= 0.2 and result["median_lead_time_min"] >= 15
        ),
        "seconds": round(time.perf_counter() - started, 1),
    }
