"""``streettwin bench faults``: the utility fault detector scored on faults injected by the world.

The world runs at 60 s steps; the detector learns its baselines on a fault-free first period
(``learn`` days), then faults of every kind are injected at random times and targets (seeded)
over the scored period. Scores:

* ``detection_rate``: share of injected faults for which an event of the same kind and target
  (any burst event for a burst) is raised between the fault's start and its end + 5 min;
* ``false_alarms_per_sensor_week``: events matching no injected fault, per reporting sensor
  and week scored;
* ``median_time_to_detect_s``; ``burst_location_error_m``: median distance from the
  reported burst location to the midpoint of the pipe that burst.

Targets are the observable ones: gas leaks in buildings with a gas detector or gas meter,
sensor faults on meters that vary (a stuck reading must differ from normal behaviour).
Drifts run at ``DRIFT_SIGMA_PER_H`` residual standard deviations per hour. Spontaneous
(elevator) faults are off: the detector does not watch elevators.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.utility.detector import FLOW, GAS_FLOW, POWER, PRESSURE, UtilityFaultDetector

STEP_S = 60.0
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC, a Thursday
GRACE_S = 300.0
DRIFT_SIGMA_PER_H = 3.0
DEMO_DISTRICT = Path(__file__).resolve().parents[2] / "var" / "demo-district"
#: kind → (count full, count smoke, duration range h)
PLAN: dict[str, tuple[int, int, tuple[float, float]]] = {
    "pipe_burst": (20, 2, (1.0, 3.0)),
    "feeder_outage": (15, 1, (0.5, 2.0)),
    "gas_leak": (20, 1, (0.5, 2.0)),
    "device_silent": (15, 1, (0.5, 3.0)),
    "sensor_stuck": (25, 1, (2.0, 6.0)),
    "sensor_drift": (25, 1, (6.0, 12.0)),
}


def _registry(args: Any):
    if args.smoke:
        from twin.samples import tiny_registry

        return tiny_registry(), "tiny"
    if getattr(args, "buildings", None) is None and (DEMO_DISTRICT / "district.gpkg").exists():
        from twin.registry_io import load_registry

        return load_registry(DEMO_DISTRICT), "demo-district"
    from sim.district.generate import build_district

    n = args.buildings or 1000
    return build_district(11, n_buildings=n, progress=False), f"generated-{n}"


def _schedule(world, det: UtilityFaultDetector, rng, start: float, span: float, smoke: bool):
    """Inject the faults of :data:`PLAN`; returns their event ids."""
    reg = det.registry
    wq = det.baseline.quantities
    varies = det.baseline.varies
    meters = np.flatnonzero(varies & np.isin(wq, (POWER, GAS_FLOW, PRESSURE, FLOW)))
    gas_buildings = sorted(
        set(det.entity[det.g_rows])
        | set(det.entity[det.watch[det.gm_cols]]) & set(reg.buildings["building_id"].astype(str))
    )
    targets = {
        "pipe_burst": list(det.tree.pipe_ids),
        "feeder_outage": list(det.feeders),
        "gas_leak": gas_buildings,
        "device_silent": list(det.devices.devices),
        "sensor_stuck": list(meters),
        "sensor_drift": list(meters),
    }
    used_sensors: set[int] = set()
    ids = []
    for kind, (n_full, n_smoke, (lo, hi)) in PLAN.items():
        pool = targets[kind]
        if not pool:
            continue
        n = n_smoke if smoke else n_full
        slot = span / n
        for k in range(n):
            dur = rng.uniform(lo, hi) * 3600.0
            if kind == "pipe_burst":  # one burst at a time: bursts are told apart by time
                at = start + k * slot + rng.uniform(0, max(slot - dur - 3600.0, 60.0))
            else:
                at = start + rng.uniform(0, max(span - dur - 600.0, 60.0))
            choice = pool[int(rng.integers(len(pool)))]
            params: dict[str, float] = {}
            if kind in ("sensor_stuck", "sensor_drift"):
                free = [c for c in pool if c not in used_sensors] or pool
                choice = free[int(rng.integers(len(free)))]
                used_sensors.add(choice)
                if kind == "sensor_drift":
                    sd = det.baseline.raw_sigma()[choice]
                    params["rate"] = float(rng.choice([-1, 1]) * DRIFT_SIGMA_PER_H * sd / 3600.0)
                choice = det.sensor_ids[det.watch[choice]]
            if kind == "pipe_burst":
                params = {
                    "leak_m3_s": float(rng.uniform(0.02, 0.08)),
                    "pressure_loss": float(rng.uniform(0.3, 0.8)),
                }
            ids.append(world.inject_fault(kind, str(choice), at=at, duration_s=dur, **params))
    return ids


def _score(world, det: UtilityFaultDetector, start: float, span: float) -> dict[str, Any]:
    faults = [e for e in world.events() if e["kind"] in PLAN and e["start"] >= start]
    events = det.events
    matched: set[str] = set()
    per_kind: dict[str, dict[str, Any]] = {}
    ttd, loc_err, exact = [], [], 0
    pipe_pos = {p: i for i, p in enumerate(det.tree.pipe_ids)}
    for f in faults:
        end = f["end"] if f["end"] is not None else start + span
        hits = [
            e
            for e in events
            if e["kind"] == f["kind"]
            and (e["target"] == f["target"] or f["kind"] == "pipe_burst")
            and f["start"] <= e["detected_at"] <= end + GRACE_S
        ]
        k = per_kind.setdefault(f["kind"], {"injected": 0, "detected": 0, "ttd_s": []})
        k["injected"] += 1
        if not hits:
            continue
        first = min(hits, key=lambda e: e["detected_at"])
        matched.update(e["id"] for e in hits)
        k["detected"] += 1
        k["ttd_s"].append(first["detected_at"] - f["start"])
        ttd.append(first["detected_at"] - f["start"])
        if f["kind"] == "pipe_burst":
            true_xy = det.pipe_xy[pipe_pos[f["target"]]]
            loc_err.append(float(np.hypot(*(np.array(first["xy"]) - true_xy))))
            exact += first["target"] == f["target"]
    false = [e for e in events if e["id"] not in matched]
    n_sensors = int(len(det.devices.rows))
    weeks = span / (7 * 86400.0)
    for kind, k in per_kind.items():
        k["detection_rate"] = k["detected"] / max(k["injected"], 1)
        k["median_time_to_detect_s"] = float(np.median(k["ttd_s"])) if k["ttd_s"] else None
        k["false_alarms"] = sum(e["kind"] == kind for e in false)
        del k["ttd_s"]
    return {
        "faults_injected": len(faults),
        "detection_rate": sum(k["detected"] for k in per_kind.values()) / max(len(faults), 1),
        "false_alarms": len(false),
        "false_alarms_per_sensor_week": len(false) / max(n_sensors * weeks, 1e-9),
        "median_time_to_detect_s": float(np.median(ttd)) if ttd else None,
        "burst_location_error_m": float(np.median(loc_err)) if loc_err else None,
        "burst_exact_pipe_rate": exact / max(len(loc_err), 1),
        "sensors": n_sensors,
        "per_kind": per_kind,
    }


def bench_faults(args: Any) -> dict[str, Any]:
    """Run the world with injected faults and score the detector (see module doc)."""
    from sim.world import World

    wall = time.perf_counter()
    registry, name = _registry(args)
    learn_days, score_days = (1.0, 0.5) if args.smoke else (7.0, 7.0)
    world = World(registry, seed=5, t0=T0, spontaneous_faults=False)
    det = UtilityFaultDetector(registry, learn_s=learn_days * 86400.0 - STEP_S)
    rng = np.random.default_rng(2026)
    t = T0
    start = T0 + learn_days * 86400.0
    span = score_days * 86400.0
    scheduled = False
    detect_wall = 0.0
    while t < start + span - 1e-9:
        t += STEP_S
        world.advance_to(t)
        values = world.sensor_values()
        tic = time.perf_counter()
        det.update(t, values)
        detect_wall += time.perf_counter() - tic
        if det.fitted and not scheduled:
            _schedule(world, det, rng, max(start, t + STEP_S), span, bool(args.smoke))
            scheduled = True
    out = {"district": name, "sensors_total": int(len(det.sensor_ids))}
    out.update(_score(world, det, start, span))
    out.update(
        learn_days=learn_days,
        scored_days=score_days,
        step_s=STEP_S,
        burst_chi2_threshold=det.burst_chi2,
        detector_ms_per_step=1e3 * detect_wall / ((learn_days + score_days) * 86400 / STEP_S),
        wall_s=time.perf_counter() - wall,
    )
    if not args.json:
        for k, v in out.items():
            if k != "per_kind":
                print(f"{k}: {v}")
        for kind, k in out["per_kind"].items():
            print(f"  {kind}: {k}")
    return out
