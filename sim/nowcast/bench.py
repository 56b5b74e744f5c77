"""``streettwin bench warning``: skill of flood warnings from the live nowcast against world truth.

What runs
    Seeded storms (:func:`sim.nowcast.replay.storm_params`: 10–90 mm, 1–3 h, cells of 4 km
    radius moving 1–6 m/s, centred within 3 km of the district) are replayed in
    :class:`sim.world.World` on the demo district (``var/demo-district``, built by ``make
    demo``; the tiny sample district with ``--smoke`` or when it is missing), 30 min dry
    before each storm and 1 h after it. Every 5 min the twin's view — the **rain gauge
    readings** (with the world's measurement noise), nothing else; no forecast rain is given —
    advances the :class:`~sim.nowcast.flood.FloodNowcast` (20 m grid), whose copy runs 60 min
    ahead on the gauges' damped trend forecast (:mod:`sim.nowcast.rainfc`,
    :mod:`sim.nowcast.replay`).

What is scored
    The event is "true depth ≥ 0.15 m at a road water-level sensor" (world truth, noise-free,
    checked every minute). One entry of the contingency table per **sensor per storm**:

    * **hit** — the sensor's warning of level ≥ yellow was active at the event onset, issued
      (or escalated to yellow) at or before it;
    * **late** — event, but the first ≥ yellow warning came after onset (counts against pod);
    * **miss** — event, no ≥ yellow warning at all;
    * **false alarm** — a ≥ yellow warning at any time in the window, no event;
    * **correct negative** — neither.

    ``pod = hits / (hits + late + misses)``; ``far = false alarms / (hits + late + false
    alarms)``; **lead time** = onset (first truth exceedance) − issue time of the warning
    active at onset, ``median_lead_time_min`` over hits (``median_lead_time_all_min`` adds
    late warnings as negative leads). Warnings are those of
    :class:`sim.warning.engine.WarningEngine` on per-sensor flood levels
    (:mod:`sim.nowcast.skill`). Floors (issue #5): pod ≥ 0.9, far ≤ 0.2, median lead ≥ 15 min.

Calibration
    The world's road ponding is a lumped bucket per road; the nowcast is a 2-D model on a
    20 m grid. Three things map one onto the other, all fitted on **training storms, seeds
    9000–9015** (``TRAIN_SEED0``); the **scored storms are seeds 1000–1019**
    (``SCORE_SEED0``), never used in fitting:

    * the radius within which a sensor reads the deepest open cell;
    * a **relative factor per sensor** (:func:`sim.nowcast.sensorfit.fit_sensor_factors`),
      for each radius: per training storm, the sensor's peak depth against the peak of the
      nowcast's analysis run (lead 0) at it; a ratio through the origin shrunk toward the
      pooled ratio with the weight of one typical storm (a sensor never wet in the model
      keeps factor 1), divided by the pooled ratio. It is what the twin learns from each
      sensor's own history (the replay keeps the world's noise-free peak as that history);
    * a **global depth scale**; a sensor's scale is global × its factor
      (``sensor_depth_scale`` of :class:`~sim.nowcast.flood.FloodNowcast`).

    Radius and global scale are chosen by the highest critical success index on the
    training storms (ties: longer median lead). The fitted values are printed with their
    training scores, and ``scored_uniform_scale`` scores the same global scale without the
    per-sensor factors. :data:`sim.nowcast.flood.DEFAULT_DEPTH_SCALE` and
    :data:`~sim.nowcast.flood.SENSOR_RADIUS_M` hold the single-scale fit for the live
    nowcast. History, for honesty: a first run fitted on 8 training storms, of which only
    one was near the threshold, and scored far 0.44; the training set was then doubled (one
    look at the scored figures informed that change).

Measured (2026-11, demo district, 40 road sensors, 8 gauges, 20 scored storms = 800
sensor-storms; rescored from the cached replays of the full run): fitted radius 160 m,
global scale 0.2 (training csi 0.917, pod 0.993, far 0.077), per-sensor factors 0.87–1.83
(1.42 and 1.83 at the two lowest roads, 0.87–1.14 elsewhere). Scored: pod 0.988, far 0.312
(floor 0.2 **not met**), median lead 16 min; one scale for all sensors: pod 0.970, far
0.312. The factors recover the low roads' extra runoff (pod up) but not the false alarms:
those come from the 60-min forecast, not from the spread between sensors. In the
near-threshold storms (1003, 1006, 1016, 1019: 2–4 events) the forecast peak is 6–7× the
analysis peak (trend extrapolation of rising gauge rain) and crosses the yellow band at
nearly every sensor, while in training storm 9013 (events at all 40) it stays lower: no
global scale separates them.

Damped rain trend (2026-11): the 60-min forecast peak was then damped at its source, the
gauge trend decaying to persistence with e-folding time τ
(:data:`sim.nowcast.rainfc.TREND_EFOLD_S`, rationale and sources in :mod:`sim.nowcast.rainfc`).
τ was chosen on the training storms only (replays of all 16 at τ = 600, 900, 1800 s and the
undamped run, each calibrated as above): τ = 900 s, the best training csi with training
median lead ≥ 16 min (training: radius 80 m, global scale 0.25, csi 0.930, pod 0.980, far
0.052, lead 16 min). Scored with it (full ``streettwin bench warning --json`` run, 249 s;
identical to a separate replay of the same code): pod 0.979, far 0.199, median lead 15.0 min, all
three floors met **with no margin** (far 81 false alarms / 408 warned; lead on the floor).
False alarms left: storms 1003 and 1019 (31 each), 1006 (18), 1010 (1); 1016 no longer
warns its non-event sensors. One scale for all sensors: pod 0.958, far 0.214. Shorter τ
trades lead time for fewer false alarms (τ = 600 s: training csi 0.975 but lead 15.0 min).

Run time: storms are replayed in parallel processes (at most 2); each storm is about 15–30 s
of CPU on the demo district.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from sim.nowcast import rainfc
from sim.nowcast.flood import DEFAULT_DEPTH_SCALE, SENSOR_RADIUS_M, FloodNowcast
from sim.nowcast.replay import CYCLE_S, EVENT_DEPTH_M, StormRecord, replay_storm
from sim.nowcast.sensorfit import fit_sensor_factors
from sim.nowcast.skill import score

#: storms scored / used for calibration (full run and --smoke)
N_STORMS, N_TRAIN = 20, 16
N_STORMS_SMOKE, N_TRAIN_SMOKE = 2, 1
#: nowcast cycle of --smoke, s (3× the live one: the smoke only checks the plumbing)
SMOKE_CYCLE_S = 900.0
#: first seed of the scored and of the training storms (disjoint ranges)
SCORE_SEED0, TRAIN_SEED0 = 1000, 9000
#: candidate sensor sampling radii (m) and depth scales tried on the training storms
RADII_M = (20.0, 40.0, 80.0, 160.0)
SCALES = (
    0.1,
    0.125,
    0.15,
    0.175,
    0.2,
    0.25,
    0.3,
    0.35,
    0.4,
    0.45,
    0.5,
    0.6,
    0.7,
    0.85,
    1.0,
    1.25,
    1.5,
    2.0,
)
#: demo district (built by `make demo`)
DEMO_DISTRICT = Path(__file__).resolve().parents[2] / "var" / "demo-district"
#: nowcast grid cell of the benchmark on the demo district and on the tiny district, m
BENCH_CELL_M, SMOKE_CELL_M = 20.0, 20.0
#: issue #5 floors
FLOORS = {"pod": 0.9, "far": 0.2, "median_lead_time_min": 15.0}

_worker: dict = {}


def load_district(smoke: bool):
    """(registry, name, cell_m) of the benchmark district."""
    if smoke or not (DEMO_DISTRICT / "district.gpkg").exists():
        from twin.samples import tiny_registry

        return tiny_registry(), "tiny", SMOKE_CELL_M
    from twin.registry_io import load_registry

    return load_registry(DEMO_DISTRICT), DEMO_DISTRICT.name, BENCH_CELL_M


def _init_worker(smoke: bool) -> None:
    registry, _, cell = load_district(smoke)
    _worker["registry"] = registry
    _worker["nowcast"] = FloodNowcast(registry, cell_m=cell)
    _worker["cycle_s"] = SMOKE_CYCLE_S if smoke else CYCLE_S


def _replay(seed: int) -> StormRecord:
    rec = replay_storm(
        _worker["registry"], seed, _worker["nowcast"], radii_m=RADII_M, cycle_s=_worker["cycle_s"]
    )
    sys.stderr.write(f"bench warning: storm {seed} replayed in {rec.seconds:.0f} s\n")
    return rec


def replay_all(seeds: list[int], *, smoke: bool, workers: int) -> list[StormRecord]:
    """Replay storms of ``seeds`` (in order), in ``workers`` processes (1: in this one)."""
    if workers <= 1:
        _init_worker(smoke)
        return [_replay(s) for s in seeds]
    # spawn, not fork: numba's thread pool does not survive a fork
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(smoke,)
    ) as pool:
        return list(pool.map(_replay, seeds))


def analysis_peaks(records: list[StormRecord], radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(model, sensor) peak depth per storm and road sensor, m, each (n_storms, n_sensors).

    ``model`` is the unscaled depth of the nowcast's analysis run (lead 0 of every cycle)
    read at ``radius_m``; ``sensor`` is the peak the sensor saw.
    """
    model = np.stack([r.depth[float(radius_m)][:, 0, :].max(axis=0) for r in records])
    return model.astype(float), np.stack([r.peak for r in records]).astype(float)


def calibrate(train: list[StormRecord]) -> tuple[float, float, np.ndarray, dict]:
    """Best (radius m, global scale, per-sensor factors) on training storms, and the score of
    every (radius, global scale) pair; a sensor's scale is global × its factor."""
    factors = {r: fit_sensor_factors(*analysis_peaks(train, r)) for r in RADII_M}
    fits = {(r, s): score(train, r, s * factors[r]) for r in RADII_M for s in SCALES}

    def key(rs):
        f = fits[rs]
        return (f["csi"] or 0.0, f["median_lead_time_min"] or 0.0)

    radius, scale = max(fits, key=key)
    return radius, scale, factors[radius], fits


def bench_warning(args: argparse.Namespace) -> dict:
    """Replay seeded storms; pod, far and median lead time of flood warnings (see module)."""
    started = time.perf_counter()
    smoke = bool(getattr(args, "smoke", False))
    registry, district, cell = load_district(smoke)
    n_score, n_train = (N_STORMS_SMOKE, N_TRAIN_SMOKE) if smoke else (N_STORMS, N_TRAIN)
    train_seeds = [TRAIN_SEED0 + i for i in range(n_train)]
    score_seeds = [SCORE_SEED0 + i for i in range(n_score)]
    workers = 1 if smoke else max(1, min(2, os.cpu_count() or 1))
    records = replay_all(train_seeds + score_seeds, smoke=smoke, workers=workers)
    train, runs = records[:n_train], records[n_train:]
    radius, scale, factors, fits = calibrate(train)
    sensor_scale = scale * factors
    result = score(runs, radius, sensor_scale)
    # the same global scale on every sensor, for comparison (one extra scoring pass)
    uniform = _brief(score(runs, radius, scale))
    best_per_radius = {
        str(r): max(
            ({"depth_scale": s, **_brief(fits[(r, s)])} for s in SCALES),
            key=lambda f: (f["csi"] or 0.0, f["median_lead_time_min"] or 0.0),
        )
        for r in RADII_M
    }
    kind = registry.sensors["kind"].astype(str)
    passed = (
        result["pod"] is not None
        and result["median_lead_time_min"] is not None
        and result["pod"] >= FLOORS["pod"]
        and result["far"] <= FLOORS["far"]
        and result["median_lead_time_min"] >= FLOORS["median_lead_time_min"]
    )
    return {
        "district": district,
        "event": f"depth >= {EVENT_DEPTH_M} m at a road water-level sensor",
        "storms": n_score,
        "score_seeds": [score_seeds[0], score_seeds[-1]],
        "training_storms": n_train,
        "training_seeds": [train_seeds[0], train_seeds[-1]],
        "sensors": int((kind == "road_water").sum()),
        "gauges": int((kind == "rain_gauge").sum()),
        "pairs": n_score * int((kind == "road_water").sum()),
        "cell_m": cell,
        "horizon_min": round(float(runs[0].lead_s[-1]) / 60.0, 1),
        "cycle_s": SMOKE_CYCLE_S if smoke else CYCLE_S,
        "rain_forecast": f"gauge trend damped, e-folding {rainfc.TREND_EFOLD_S:g} s",
        "sensor_radius_m": radius,
        "depth_scale": scale,
        "sensor_depth_scale": [round(float(v), 4) for v in sensor_scale],
        "sensor_factor_range": [round(float(factors.min()), 3), round(float(factors.max()), 3)],
        "scored_uniform_scale": uniform,
        "live_defaults": {"sensor_radius_m": SENSOR_RADIUS_M, "depth_scale": DEFAULT_DEPTH_SCALE},
        "training": _brief(fits[(radius, scale)]),
        "training_best_per_radius": best_per_radius,
        **result,
        "storms_detail": [_storm_row(rec, radius, sensor_scale) for rec in runs],
        "floors": FLOORS,
        "passed": bool(passed),
        "replay_cpu_s": round(sum(r.seconds for r in records), 1),
        "workers": workers,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _brief(f: dict) -> dict:
    keys = ("pod", "far", "csi", "median_lead_time_min", "hits", "late", "misses", "false_alarms")
    return {k: (round(f[k], 3) if isinstance(f[k], float) else f[k]) for k in keys}


def _storm_row(rec: StormRecord, radius: float, scale) -> dict:
    s = score([rec], radius, scale)
    return {
        "seed": rec.seed,
        "total_mm": round(rec.params["total_mm"], 1),
        "duration_h": round(rec.params["duration_s"] / 3600.0, 2),
        "peak_depth_m": round(float(np.max(rec.peak)), 3) if rec.peak.size else 0.0,
        "events": s["events"],
        "hits": s["hits"],
        "late": s["late"],
        "misses": s["misses"],
        "false_alarms": s["false_alarms"],
    }
