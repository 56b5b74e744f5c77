"""Warning skill: the contingency table and the engine-driven warning spells, hand-checked."""

from __future__ import annotations

import numpy as np
import pytest

from sim.nowcast.replay import StormRecord
from sim.nowcast.skill import contingency, score, sensor_levels, warning_spells

T0 = 1_782_864_000.0
LEADS = np.array([0.0, 600.0, 1200.0, 1800.0])


def _record(depth_per_cycle: list[list[float]], onset: list[float], cycle_s=300.0) -> StormRecord:
    """A record whose forecast depth is the same at every lead (n_cycles × n_sensors given)."""
    d = np.asarray(depth_per_cycle, np.float32)
    depth = np.repeat(d[:, None, :], LEADS.size, axis=1)
    n = d.shape[0]
    return StormRecord(
        seed=0,
        params={"total_mm": 50.0, "duration_s": 3600.0},
        t_end=T0 + n * cycle_s,
        onset=np.asarray(onset, float),
        peak=np.zeros(d.shape[1]),
        times=T0 + cycle_s * np.arange(1, n + 1),
        lead_s=LEADS,
        depth={20.0: depth},
    )


def test_yellow_needs_015_m_within_30_minutes_or_030_m_within_two_hours() -> None:
    depth = np.array(
        [
            [0.00, 0.00, 0.00, 0.00],
            [0.10, 0.00, 0.00, 0.00],
            [0.16, 0.00, 0.06, 0.00],
            [0.16, 0.16, 0.31, 0.14],
        ]
    )
    # sensor 0: 0.16 m, wet now → yellow; 1: 0.16 m but blue only at 30 min → still yellow
    # (imminent is ≤ 1800 s); 2: 0.31 m orange, blue at 20 min → orange; 3: 0.14 → blue
    assert sensor_levels(depth, LEADS).tolist() == [2, 2, 3, 1]


def test_spell_starts_at_yellow_and_ends_after_the_engine_hold() -> None:
    # sensor 0: yellow in cycles 3–5 (t = T0+900 … T0+1500), dry afterwards; the engine holds
    # a lower level for 900 s, so the all-clear comes at T0+1800+900 = cycle 9.
    # sensor 1: blue only (0.1 m) — a warning, but not a yellow one: no spell.
    cycles = [[0.0, 0.0]] * 2 + [[0.2, 0.1]] * 3 + [[0.0, 0.1]] * 6
    rec = _record(cycles, [np.inf, np.inf])
    spells = warning_spells(rec, 20.0, 1.0)
    assert spells == [[(T0 + 900.0, T0 + 2700.0)], []]
    # the same depths at scale 0.5 never reach yellow (0.1 m is blue)
    assert warning_spells(rec, 20.0, 0.5) == [[], []]


def test_contingency_hit_late_miss_false_alarm_and_quiet() -> None:
    onset = np.array([T0 + 1800.0, T0 + 600.0, T0 + 600.0, np.inf, np.inf])
    spells = [
        [(T0, T0 + 3000.0)],  # warned 30 min before onset: hit, lead 30
        [(T0 + 900.0, T0 + 2000.0)],  # first warning 5 min after onset: late
        [(T0 - 600.0, T0 + 300.0)],  # a spell that ended before onset: miss
        [(T0 + 60.0, T0 + 120.0)],  # warned, nothing happened: false alarm
        [],  # correct negative
    ]
    c = contingency(onset, spells)
    assert [c[k] for k in ("hits", "late", "misses", "false_alarms", "correct_negatives")] == [
        1,
        1,
        1,
        1,
        1,
    ]
    assert c["leads_min"] == [30.0] and c["late_min"] == [-5.0]


def test_score_pools_storms_into_pod_far_and_median_lead() -> None:
    # storm A: both sensors at 0.2 m from cycle 2 on; truth reaches 0.15 m at cycle 6 on
    # sensor 0 (lead 20 min) and cycle 4 on sensor 1 (lead 10 min)
    a = _record([[0.0, 0.0]] + [[0.2, 0.2]] * 7, [T0 + 1800.0, T0 + 1200.0])
    # storm B: sensor 0 warned, no event (false alarm); sensor 1 event, never warned (miss)
    b = _record([[0.0, 0.0]] + [[0.2, 0.0]] * 3, [np.inf, T0 + 900.0])
    s = score([a, b], 20.0, 1.0)
    assert (s["hits"], s["late"], s["misses"], s["false_alarms"]) == (2, 0, 1, 1)
    assert s["pod"] == pytest.approx(2 / 3)
    assert s["far"] == pytest.approx(1 / 3)
    assert s["csi"] == pytest.approx(2 / 4)
    assert s["median_lead_time_min"] == pytest.approx(15.0)
