"""Documented thresholds: CMA rainstorm signals, bands, TOML overrides and hysteresis."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from sim.warning.thresholds import (
    DEFAULT_TOML,
    DEFAULTS,
    classify_with_hysteresis,
    crowd_level,
    fire_level,
    flood_level,
    load_thresholds,
    rainstorm_level,
    utility_level,
)


def test_shipped_toml_equals_builtin_defaults() -> None:
    with open(DEFAULT_TOML, "rb") as fh:
        data = tomllib.load(fh)
    assert data == DEFAULTS
    assert load_thresholds(DEFAULT_TOML).data == DEFAULTS


@pytest.mark.parametrize(
    ("hourly_mm", "level"),
    [
        ([4.0] * 12, 0),  # 48 mm in 12 h: below blue
        ([4.2] * 12, 1),  # 50.4 mm in 12 h: blue
        ([0.0] * 6 + [8.5] * 6, 2),  # 51 mm in 6 h: yellow
        ([17.0, 17.0, 17.0], 3),  # 51 mm in 3 h: orange
        ([33.0, 33.0, 33.0], 3),  # 99 mm in 3 h: still orange
        ([20.0, 40.0, 40.0, 5.0], 4),  # 100 mm in 3 h: red
    ],
)
def test_cma_rainstorm_signals(hourly_mm: list[float], level: int) -> None:
    assert rainstorm_level(hourly_mm, 3600.0) == level


def test_rainstorm_window_works_at_ten_minute_steps() -> None:
    rain = np.zeros(6 * 12)
    rain[:18] = 51.0 / 18  # 51 mm in the first 3 h
    assert rainstorm_level(rain, 600.0) == 3


def test_toml_file_overrides_only_given_keys(tmp_path) -> None:
    path = tmp_path / "th.toml"
    path.write_text("[rainstorm]\nblue = [30.0, 12.0]\n[crowd.density_p_m2]\nred = 6.0\n")
    th = load_thresholds(path)
    assert rainstorm_level([2.6] * 12, 3600.0, th) == 1  # 31.2 mm in 12 h
    assert rainstorm_level([2.6] * 12, 3600.0) == 0
    assert crowd_level([5.5], th).tolist() == [3]
    assert th.section("rainstorm")["red"] == [100.0, 3.0]


def test_unordered_bands_are_rejected() -> None:
    with pytest.raises(ValueError, match="strictly ordered"):
        load_thresholds(overrides={"flood": {"depth_m": {"yellow": 0.6}}})


def test_hazard_bands_hand_checked() -> None:
    assert flood_level([0.04, 0.05, 0.15, 0.30, 0.50], 0.0).tolist() == [0, 1, 2, 3, 4]
    # red depth expected in 45 min counts orange; in 3 h it is ignored
    assert flood_level([0.6, 0.6], [2700.0, 10800.0]).tolist() == [3, 0]
    assert fire_level([0.0, 600.0, 601.0, 3600.0, 7200.0, 7201.0]).tolist() == [4, 4, 3, 2, 1, 0]
    assert crowd_level([1.99, 2.0, 3.0, 4.0, 5.0, np.nan]).tolist() == [0, 1, 2, 3, 4, 0]
    assert utility_level("gas_leak") == 3
    assert utility_level("pipe_burst") == 2


def test_hysteresis_keeps_level_until_below_clear_ratio() -> None:
    bands = [2.0, 3.0, 4.0, 5.0]
    level = 0
    seen = []
    for density in [4.9, 5.1, 4.5, 4.1, 3.9, 3.1, 2.3]:
        level = int(classify_with_hysteresis([density], bands, [level])[0])
        seen.append(level)
    # red kept down to 4.0 (= 0.8 × 5), orange kept down to 3.2 (= 0.8 × 4)
    assert seen == [3, 4, 4, 4, 3, 2, 1]
