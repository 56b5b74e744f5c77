"""Warning skill: per-sensor flood warnings through the warning engine, scored against truth.

The contingency table (one entry per road water-level sensor per storm; the event is
"true depth ≥ 0.15 m at the sensor", its **onset** the first minute the world's depth
reaches it):

============  =========================  ===========================
              event                      no event
============  =========================  ===========================
warned        **hit** (warning ≥ yellow  **false alarm** (a warning
              active at onset, issued    ≥ yellow issued at any time
              at or before it), or       in the replayed window)
              **late** (first ≥ yellow
              warning after onset)
not warned    **miss** (no ≥ yellow      correct negative
              warning by the end)
============  =========================  ===========================

``pod = hits / events`` (a late warning counts against it), ``far = false alarms /
(hits + late + false alarms)`` (the share of warned sensor-storms with no event), ``csi =
hits / (hits + late + misses + false alarms)``. The **lead time** of a hit is onset minus
the time the warning active at onset reached yellow (issued at yellow or above, or
escalated to it); ``median_lead_time_min`` is the median over hits, and
``median_lead_time_all_min`` also counts late warnings with their negative lead.

Warnings come from :class:`sim.warning.engine.WarningEngine` fed each cycle with the
sensor's flood level (:func:`sim.warning.thresholds.flood_level` of the scaled forecast:
peak depth within the horizon and time to the blue band), one engine area per sensor, so
issue, escalation, hold before downgrade and all-clear are the live engine's.
"""

from __future__ import annotations

import numpy as np

from sim.nowcast.replay import StormRecord
from sim.warning.engine import WarningEngine
from sim.warning.thresholds import Thresholds, default_thresholds, flood_level

#: a warning counts from this level (2 = yellow, the level of depth ≥ 0.15 m)
WARN_LEVEL = 2


def sensor_levels(
    depth: np.ndarray, lead_s: np.ndarray, thresholds: Thresholds | None = None
) -> np.ndarray:
    """Flood level per sensor from one cycle's forecast depths.

    Parameters
    ----------
    depth : numpy.ndarray (n_leads, n_sensors)
        Scaled forecast depth, m.
    lead_s : numpy.ndarray (n_leads,)
        Lead time of each row, s.

    Returns
    -------
    numpy.ndarray of int (n_sensors,)

    >>> d = np.array([[0.0, 0.06], [0.2, 0.1]])
    >>> sensor_levels(d, np.array([0.0, 600.0])).tolist()
    [2, 1]
    """
    th = thresholds or default_thresholds()
    blue = float(th.section("flood")["depth_m"]["blue"])
    hit = depth >= blue
    first = np.where(hit.any(axis=0), np.asarray(lead_s)[np.argmax(hit, axis=0)], np.inf)
    return flood_level(depth.max(axis=0), first, th)


def warning_spells(
    record: StormRecord,
    radius_m: float,
    scale: float | np.ndarray,
    thresholds: Thresholds | None = None,
) -> list[list[tuple[float, float]]]:
    """Intervals (start, end) of UTC epoch s when each sensor had a warning ≥ yellow.

    ``scale`` is one depth scale or one per sensor, (n_sensors,).

    The scaled forecasts of ``record`` go cycle by cycle through a fresh
    :class:`~sim.warning.engine.WarningEngine` (area = sensor index); a spell starts when a
    warning is issued at yellow or above or escalated to it, and ends when it is downgraded
    below yellow, cancelled or expires (``inf``: still on at the end).
    """
    th = thresholds or default_thresholds()
    engine = WarningEngine(thresholds=th)
    depth = record.depth[float(radius_m)]
    n = depth.shape[2]
    areas = [str(i) for i in range(n)]
    level = np.zeros(n, int)
    since = np.full(n, np.nan)
    spells: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    for c, t in enumerate(record.times):
        lv = sensor_levels(depth[c].astype(float) * scale, record.lead_s, th)
        assessments = {a: {"level": int(v)} for a, v in zip(areas, lv, strict=True)}
        for ev in engine.update("flood", assessments, float(t)):
            i = int(ev["area_id"])
            new = 0 if ev["msg_type"] == "Cancel" else int(ev["level"])
            if level[i] < WARN_LEVEL <= new:
                since[i] = t
            elif new < WARN_LEVEL <= level[i]:
                spells[i].append((float(since[i]), float(t)))
            level[i] = new
    for i in np.flatnonzero(level >= WARN_LEVEL):
        spells[i].append((float(since[i]), float("inf")))
    return spells


def contingency(onset: np.ndarray, spells: list[list[tuple[float, float]]]) -> dict:
    """Hits, late warnings, misses, false alarms and lead times (min) of one storm.

    Parameters
    ----------
    onset : numpy.ndarray (n_sensors,)
        Event onset, UTC epoch s (inf: no event).
    spells : list of list of (start, end)
        Warning spells per sensor (:func:`warning_spells`).

    >>> c = contingency(np.array([1800.0, 600.0, np.inf, np.inf]),
    ...                 [[(0.0, 3000.0)], [(900.0, 2000.0)], [(60.0, 120.0)], []])
    >>> [c[k] for k in ("hits", "late", "misses", "false_alarms", "correct_negatives")]
    [1, 1, 0, 1, 1]
    >>> c["leads_min"], c["late_min"]
    ([30.0], [-5.0])
    """
    out = dict.fromkeys(("hits", "late", "misses", "false_alarms", "correct_negatives"), 0)
    leads: list[float] = []
    late: list[float] = []
    for t_on, sp in zip(onset, spells, strict=True):
        if not np.isfinite(t_on):
            out["false_alarms" if sp else "correct_negatives"] += 1
            continue
        active = [s for s, e in sp if s <= t_on < e]
        if active:
            out["hits"] += 1
            leads.append(float(t_on - active[0]) / 60.0)
        elif any(s > t_on for s, _ in sp):
            out["late"] += 1
            late.append(float(t_on - min(s for s, _ in sp if s > t_on)) / 60.0)
        else:
            out["misses"] += 1
    out["leads_min"], out["late_min"] = leads, late
    return out


def score(
    records: list[StormRecord],
    radius_m: float,
    scale: float | np.ndarray,
    thresholds: Thresholds | None = None,
) -> dict:
    """Contingency table, pod, far, csi and lead times over storms (module docstring)."""
    total = dict.fromkeys(("hits", "late", "misses", "false_alarms", "correct_negatives"), 0)
    leads: list[float] = []
    late: list[float] = []
    for rec in records:
        c = contingency(rec.onset, warning_spells(rec, radius_m, scale, thresholds))
        for k in total:
            total[k] += c[k]
        leads += c["leads_min"]
        late += c["late_min"]
    events = total["hits"] + total["late"] + total["misses"]
    warned = total["hits"] + total["late"] + total["false_alarms"]
    wrong = events + total["false_alarms"]
    return {
        "pod": total["hits"] / events if events else None,
        "far": total["false_alarms"] / warned if warned else 0.0,
        "csi": total["hits"] / wrong if wrong else None,
        "median_lead_time_min": float(np.median(leads)) if leads else None,
        "median_lead_time_all_min": float(np.median(leads + late)) if leads or late else None,
        "events": events,
        **total,
    }
