"""Hamada's rate equations, the radiation spreading distance and fire properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.fire.hamada import (
    clamp_to_range,
    directional_speed,
    full_involvement_min,
    hamada_speeds,
    hamada_times_min,
)
from sim.fire.properties import fire_properties
from sim.fire.radiation import critical_distance, view_factor


def test_worked_case_matches_hand_computed_minutes() -> None:
    # a=10, d=3, V=5, a'=0: (6.75 + 24/37.5)/(1.5*1.675), (6.75 + 24/6.25)/1.125, 10.75/1.05
    t_d, t_s, t_u = hamada_times_min(10.0, 3.0, 5.0, 0.0)
    assert t_d == pytest.approx(7.39 / 2.5125, rel=1e-12)
    assert t_s == pytest.approx(10.59 / 1.125, rel=1e-12)
    assert t_u == pytest.approx(10.75 / 1.05, rel=1e-12)


def test_fire_protected_doubles_gap_term_and_lengthens_involvement() -> None:
    # a'=1: (5 + 6.25 + 48/37.5) / 2.5125 = 12.53 / 2.5125
    assert hamada_times_min(10.0, 3.0, 5.0, 1.0)[0] == pytest.approx(12.53 / 2.5125, rel=1e-12)
    assert full_involvement_min(8.0, 0.5) == pytest.approx(8.0)


def test_speeds_match_firebench_hamada_1_in_all_directions() -> None:
    from firebench.ros_models import Hamada_1

    for a, d, V, ratio in [(10, 3, 5, 0.0), (6, 1, 0, 0.6), (15, 8, 8, 1.0), (12, 4, 2, 0.3)]:
        v = hamada_speeds(a, d, V, ratio)
        for ang in np.deg2rad([0, 30, 90, 135, 180, 250]):
            ref = Hamada_1.hamada_1(a, d, V, 0.0, np.cos(ang), np.sin(ang), ratio)
            assert float(directional_speed(*v, np.cos(ang), V)) == pytest.approx(ref, rel=1e-12)


def test_directional_speed_hits_the_three_axes_and_is_isotropic_in_calm() -> None:
    assert float(directional_speed(4.0, 2.0, 1.0, 1.0, 3.0)) == pytest.approx(4.0)
    assert float(directional_speed(4.0, 2.0, 1.0, 0.0, 3.0)) == pytest.approx(2.0)
    assert float(directional_speed(4.0, 2.0, 1.0, -1.0, 3.0)) == pytest.approx(1.0)
    assert float(directional_speed(4.0, 2.0, 1.0, -1.0, 0.0)) == pytest.approx(4.0)


def test_clamp_reports_inputs_outside_the_range() -> None:
    a, d, V, out = clamp_to_range([10.0, 40.0], [3.0, 20.0], [5.0, 5.0])
    assert out.tolist() == [False, True]
    assert a.tolist() == [10.0, 25.0] and d.tolist() == [3.0, 15.0]


def test_view_factor_far_field_tends_to_area_over_pi_s_squared() -> None:
    s = 500.0
    assert float(view_factor(10.0, 6.0, s)) == pytest.approx(60.0 / (np.pi * s * s), rel=1e-3)


def test_critical_distance_gives_the_threshold_flux() -> None:
    s = float(critical_distance(10.0, 6.0, 84.0, 12.6))
    assert 84.0 * float(view_factor(10.0, 6.0, s)) == pytest.approx(12.6, rel=1e-6)
    # hotter facades (BR 187 shops/storage) reach further; a facade below threshold never
    assert float(critical_distance(10.0, 6.0, 168.0, 12.6)) > s
    assert float(critical_distance(10.0, 6.0, 10.0, 12.6)) == 0.0


def test_fire_properties_from_class_and_use() -> None:
    rows = pd.DataFrame(
        {
            "use": ["residential", "warehouse", "office", "unknown"],
            "fire_resistance": ["4", "3", "1", "?"],
            "height_m": [6.0, 6.0, 60.0, np.nan],
        }
    )
    p = fire_properties(rows, np.full(4, 10.0))
    assert p.resistive.tolist() == [False, False, True, False]
    assert p.protected.tolist() == [0.0, 1.0, 1.0, 0.0]
    assert p.emitted_kw_m2.tolist() == [84.0, 168.0, 84.0, 168.0]
    # dwelling: (3 + 3.75) min + 780 MJ/m2 / 250 kW/m2 = 405 + 3120 s
    assert p.burn_duration_s[0] == pytest.approx(405.0 + 3120.0)
    assert p.spread_distance_m[1] > p.spread_distance_m[0]
