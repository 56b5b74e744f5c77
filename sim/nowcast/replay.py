"""Replay one seeded storm in the world with the flood nowcast watching only the rain gauges.

A :class:`sim.world.World` runs a storm drawn from its seed (:func:`storm_params`) in
simulated time. Every ``cycle_s`` the twin's view — the readings of the **rain gauge** rows
of :meth:`World.sensor_values` (noise included), nothing else — goes to the
:class:`~sim.nowcast.flood.FloodNowcast`, whose forecast is recorded **unscaled** at each
road water-level sensor for several sampling radii, so that a calibration can try scales
and radii without running the model again. The world's truth at those sensors
(:meth:`World.sensor_truth`, noise-free) is read every ``truth_s`` only to score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.nowcast.flood import FloodNowcast

#: nowcast cycle, s
CYCLE_S = 300.0
#: world truth sampling, s (the world's internal step)
TRUTH_S = 60.0
#: time replayed before a storm starts, and after it ends, s
LEAD_IN_S, TAIL_S = 1800.0, 3600.0
#: event depth at a road water-level sensor, m (GB 51222-2017: roads impassable)
EVENT_DEPTH_M = 0.15
T0 = 1_782_864_000.0  # 2026-07-01 00:00 UTC


def storm_params(seed: int, center: tuple[float, float]) -> dict:
    """Storm of a seed: total 10–90 mm, 1–3 h, moving 1–6 m/s, centre within 3 km.

    Parameters
    ----------
    seed : int
    center : (x, y)
        District centre, metric CRS (m).

    Returns
    -------
    dict
        Keyword arguments of :meth:`sim.world.World.start_storm` (without ``at``).
    """
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


@dataclass
class StormRecord:
    """What one storm replay leaves for scoring.

    Attributes
    ----------
    seed : int
    params : dict
        The storm (:func:`storm_params`).
    t_end : float
        End of the replayed window, UTC epoch s.
    onset : numpy.ndarray (n_sensors,)
        First time the true depth reached :data:`EVENT_DEPTH_M`, UTC epoch s (inf: never).
    peak : numpy.ndarray (n_sensors,)
        Highest true depth, m.
    times : numpy.ndarray (n_cycles,)
        Nowcast cycle times, UTC epoch s.
    lead_s : numpy.ndarray (n_leads,)
        Lead times of the forecast samples, s.
    depth : dict
        Sampling radius (m) → unscaled forecast depth (m), float32 (n_cycles, n_leads,
        n_sensors).
    seconds : float
        Wall time of the replay, s.
    """

    seed: int
    params: dict
    t_end: float
    onset: np.ndarray
    peak: np.ndarray
    times: np.ndarray
    lead_s: np.ndarray
    depth: dict[float, np.ndarray]
    seconds: float = 0.0


def replay_storm(
    registry,
    seed: int,
    nowcast: FloodNowcast,
    *,
    radii_m: Sequence[float] | None = None,
    cycle_s: float = CYCLE_S,
    truth_s: float = TRUTH_S,
    lead_in_s: float = LEAD_IN_S,
    tail_s: float = TAIL_S,
) -> StormRecord:
    """Run one seeded storm through the world and the nowcast.

    Parameters
    ----------
    registry : twin.registry.Registry
    seed : int
        Seed of the storm and of the world (noise).
    nowcast : FloodNowcast
        Reset here; its ``depth_scale`` is not applied to the record.
    radii_m : sequence of float, optional
        Sensor sampling radii to record (m); default the nowcast's own.
    cycle_s, truth_s, lead_in_s, tail_s : float
        Nowcast cycle, truth sampling, dry time before and time after the storm, s.
    """
    import time

    from sim.world import World

    started = time.perf_counter()
    world = World(registry, seed=seed, t0=T0, background_rain=False, spontaneous_faults=False)
    params = storm_params(seed, world.sites.center)
    world.start_storm(at=T0 + lead_in_s, **params)
    nowcast.reset()
    radii = tuple(float(r) for r in (radii_m or (nowcast.sensor_radius_m,)))
    samplers = {r: nowcast.sensor_sampler_of(max(r, nowcast.grid_dx)) for r in radii}
    rows, gauges = nowcast.road_sensor_rows, nowcast.gauge_rows
    lead_s = nowcast.lead_times()
    n_leads = lead_s.size
    onset = np.full(len(rows), np.inf)
    peak = np.zeros(len(rows))
    times: list[float] = []
    depth: dict[float, list[np.ndarray]] = {r: [] for r in radii}
    t_end = T0 + lead_in_s + params["duration_s"] + tail_s
    per_cycle = max(1, int(round(cycle_s / truth_s)))
    k = 0
    t = T0
    while t < t_end - 1e-6:
        k += 1
        t = T0 + k * truth_s
        world.advance_to(t)
        truth = world.sensor_truth()[rows]
        peak = np.maximum(peak, truth)
        onset = np.where((truth >= EVENT_DEPTH_M) & np.isinf(onset), t, onset)
        if k % per_cycle:
            continue
        nowcast.observe(t, world.sensor_values()[gauges])  # the twin hears its gauges only
        cyc = {r: np.zeros((n_leads, len(rows)), np.float32) for r in radii}

        def sample(j: int, h: np.ndarray, cyc=cyc) -> None:
            for r, smp in samplers.items():
                cyc[r][j] = smp.max_of(h)

        nowcast.forecast(on_sample=sample)
        times.append(t)
        for r in radii:
            depth[r].append(cyc[r])
    return StormRecord(
        seed=seed,
        params=params,
        t_end=t_end,
        onset=onset,
        peak=peak,
        times=np.array(times),
        lead_s=lead_s,
        depth={r: np.stack(v) for r, v in depth.items()},
        seconds=time.perf_counter() - started,
    )
