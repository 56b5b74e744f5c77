"""Documented warning thresholds as data (CMA rainstorm signals, flood, fire, crowd, utility).

The defaults live in :data:`DEFAULTS` and, identically, in ``data/warning_thresholds.toml``;
:func:`load_thresholds` reads such a TOML file and overrides any subset of keys. Sources are
named per section (``source`` key); values that are our own conventions say so.

Classifiers turn a hazard quantity into a :class:`~sim.warning.levels.WarningLevel`
(as ``int`` arrays, vectorised with numpy). :func:`classify_with_hysteresis` keeps a level
until the value falls below ``clear_ratio`` × that level's threshold, so a value wobbling
around a threshold does not flap.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.warning.levels import WarningLevel

#: the file shipped with the repository (same values as DEFAULTS)
DEFAULT_TOML = Path(__file__).resolve().parents[2] / "data" / "warning_thresholds.toml"

COLOURS = ("blue", "yellow", "orange", "red")

#: built-in thresholds; see data/warning_thresholds.toml for the annotated copy
DEFAULTS: dict[str, Any] = {
    "rainstorm": {
        "source": "CMA rainstorm warning signals (order No. 16), via secondary sources",
        "blue": [50.0, 12.0],  # mm within h
        "yellow": [50.0, 6.0],
        "orange": [50.0, 3.0],
        "red": [100.0, 3.0],
    },
    "flood": {
        "source": "GB 51222-2017 (0.15 m); 0.05/0.30/0.50 m are StreetTwin conventions",
        "depth_m": {"blue": 0.05, "yellow": 0.15, "orange": 0.30, "red": 0.50},
        "imminent_s": 1800.0,
        "expected_s": 7200.0,
    },
    "fire": {
        "source": "StreetTwin convention (evacuation of a block takes ~10–30 min)",
        "arrival_s": {"red": 600.0, "orange": 1800.0, "yellow": 3600.0, "blue": 7200.0},
    },
    "crowd": {
        "source": (
            "G. K. Still, Introduction to Crowd Science (2014); levels between are conventions"
        ),
        "density_p_m2": {"blue": 2.0, "yellow": 3.0, "orange": 4.0, "red": 5.0},
    },
    "utility": {
        "source": "StreetTwin convention",
        "gas_leak": 3,
        "pipe_burst": 2,
        "water_leak": 1,
        "power_outage": 2,
        "pressure_loss": 1,
        "device_silent": 1,
        "sensor_fault": 0,
    },
    "engine": {"clear_ratio": 0.8, "hold_s": 900.0, "ttl_s": 7200.0},
    "exposure": {
        "vulnerable_weight": 1.0,
        "critical_weight": 100.0,
        "high_exposure": 200.0,
        "vulnerable_escalate": 5,
    },
}


def _merge(base: dict, over: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass(frozen=True)
class Thresholds:
    """All thresholds, as nested plain data (see :data:`DEFAULTS` for the keys)."""

    data: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        """One section, e.g. ``"flood"``."""
        return self.data[name]

    def bands(self, section: str, key: str) -> np.ndarray:
        """Thresholds of blue, yellow, orange, red as a float array of 4."""
        table = self.data[section][key]
        return np.array([float(table[c]) for c in COLOURS])

    @property
    def engine(self) -> dict[str, float]:
        return self.data["engine"]

    @property
    def exposure(self) -> dict[str, float]:
        return self.data["exposure"]


def _check(th: Thresholds) -> None:
    for section, key, rising in (
        ("flood", "depth_m", True),
        ("crowd", "density_p_m2", True),
        ("fire", "arrival_s", False),
    ):
        b = th.bands(section, key)
        ok = np.all(np.diff(b) > 0) if rising else np.all(np.diff(b) < 0)
        if not ok:
            raise ValueError(f"{section}.{key} must be strictly ordered blue→red: {b.tolist()}")
    rain = th.section("rainstorm")
    for colour in COLOURS:
        mm, hours = rain[colour]
        if mm <= 0 or hours <= 0:
            raise ValueError(f"rainstorm.{colour} needs positive mm and hours")
    ratio = th.engine["clear_ratio"]
    if not 0 < ratio <= 1:
        raise ValueError("engine.clear_ratio must be in (0, 1]")


def load_thresholds(path: str | Path | None = None, overrides: Mapping | None = None) -> Thresholds:
    """Thresholds from the defaults, a TOML file and explicit overrides (later wins).

    Parameters
    ----------
    path : str or Path, optional
        TOML file with any subset of the :data:`DEFAULTS` keys.
    overrides : mapping, optional
        Nested dict merged last (handy in tests).

    >>> th = load_thresholds(overrides={"crowd": {"density_p_m2": {"red": 6.0}}})
    >>> th.bands("crowd", "density_p_m2").tolist()
    [2.0, 3.0, 4.0, 6.0]
    """
    data = DEFAULTS
    if path is not None:
        with open(path, "rb") as fh:
            data = _merge(data, tomllib.load(fh))
    if overrides:
        data = _merge(data, overrides)
    th = Thresholds(copy.deepcopy(data))
    _check(th)
    return th


@functools.lru_cache(maxsize=1)
def default_thresholds() -> Thresholds:
    """The built-in thresholds (cached; treat as read-only)."""
    return load_thresholds()


def classify(value, bands, *, rising: bool = True) -> np.ndarray:
    """Level (0–4) of each value against four ordered thresholds (blue … red).

    ``rising``: a larger value is worse (depth, density) and the level is the highest band
    with ``value ≥ threshold``; otherwise smaller is worse (arrival time) and the level is
    the highest band with ``value ≤ threshold``. NaN gives 0.

    >>> classify([0.0, 0.05, 0.2, 0.6], [0.05, 0.15, 0.30, 0.50]).tolist()
    [0, 1, 2, 4]
    >>> classify([0.0, 900.0, 9000.0], [7200, 3600, 1800, 600], rising=False).tolist()
    [4, 3, 0]
    """
    v = np.asarray(value, dtype=float)
    b = np.asarray(bands, dtype=float)
    with np.errstate(invalid="ignore"):
        hits = v[..., None] >= b if rising else v[..., None] <= b
    out = hits.sum(axis=-1)
    return np.where(np.isnan(v), 0, out).astype(int)


def classify_with_hysteresis(
    value, bands, current, *, clear_ratio: float = 0.8, rising: bool = True
) -> np.ndarray:
    """Like :func:`classify`, but a level once reached is kept until the value falls below
    ``clear_ratio`` × its threshold (above threshold / ``clear_ratio`` when not ``rising``).

    >>> b = [2.0, 3.0, 4.0, 5.0]
    >>> classify_with_hysteresis([4.5, 4.1, 3.9], b, [0, 4, 4]).tolist()
    [3, 4, 3]
    """
    plain = classify(value, bands, rising=rising)
    v = np.asarray(value, dtype=float)
    relaxed_value = v / clear_ratio if rising else v * clear_ratio
    relaxed = classify(relaxed_value, bands, rising=rising)
    held = np.minimum(np.asarray(current, dtype=int), relaxed)
    return np.maximum(plain, held)


def rolling_max_accumulation(rain_mm, step_s: float, window_h: float) -> float:
    """Largest rain accumulation (mm) over any window of ``window_h`` hours in a series.

    ``rain_mm`` holds the rain of each step (mm per step), observed then forecast.

    >>> rolling_max_accumulation([10, 20, 30, 0], 3600.0, 2.0)
    50.0
    """
    r = np.nan_to_num(np.asarray(rain_mm, dtype=float))
    n = max(1, int(round(window_h * 3600.0 / step_s)))
    if r.size == 0:
        return 0.0
    c = np.concatenate([[0.0], np.cumsum(r)])
    if r.size <= n:
        return float(c[-1])
    return float(np.max(c[n:] - c[:-n]))


def rainstorm_level(rain_mm, step_s: float, thresholds: Thresholds | None = None) -> int:
    """CMA rainstorm signal level of a rain series (observed history plus forecast).

    Parameters
    ----------
    rain_mm : array_like
        Rain per step, mm.
    step_s : float
        Step length, s.

    >>> rainstorm_level([10.0] * 6, 3600.0)  # 60 mm in 6 h
    2
    >>> rainstorm_level([40.0, 40.0, 30.0], 3600.0)  # 110 mm in 3 h
    4
    """
    th = thresholds or default_thresholds()
    rain = th.section("rainstorm")
    level = 0
    for i, colour in enumerate(COLOURS, start=1):
        mm, hours = rain[colour]
        if rolling_max_accumulation(rain_mm, step_s, hours) >= mm:
            level = i
    return level


def flood_level(depth_m, time_to_flood_s, thresholds: Thresholds | None = None) -> np.ndarray:
    """Flood hazard level from forecast peak depth and time until the water arrives.

    Parameters
    ----------
    depth_m : array_like
        Peak ponding depth within the forecast horizon, m.
    time_to_flood_s : array_like
        Time until depth first reaches the blue band, s (0 = already wet, inf = never).

    Within ``imminent_s`` the depth level holds; within ``expected_s`` it counts one level
    lower (at least blue); beyond it, no level.

    >>> flood_level([0.4, 0.4, 0.4, 0.02], [0.0, 3600.0, 1e4, 0.0]).tolist()
    [3, 2, 0, 0]
    """
    th = thresholds or default_thresholds()
    f = th.section("flood")
    lv = classify(depth_m, th.bands("flood", "depth_m"))
    t = np.broadcast_to(np.asarray(time_to_flood_s, dtype=float), lv.shape)
    later = np.where(lv > 0, np.maximum(lv - 1, 1), 0)
    return np.where(t <= f["imminent_s"], lv, np.where(t <= f["expected_s"], later, 0))


def fire_level(arrival_s, thresholds: Thresholds | None = None) -> np.ndarray:
    """Fire hazard level from the time until the fire reaches a building (s; 0 = burning).

    >>> fire_level([0.0, 1000.0, 5000.0, np.inf]).tolist()
    [4, 3, 1, 0]
    """
    th = thresholds or default_thresholds()
    return classify(arrival_s, th.bands("fire", "arrival_s"), rising=False)


def crowd_level(density_p_m2, thresholds: Thresholds | None = None) -> np.ndarray:
    """Crowd hazard level from density (persons per m² walkable area).

    >>> crowd_level([1.0, 2.5, 5.2]).tolist()
    [0, 1, 4]
    """
    th = thresholds or default_thresholds()
    return classify(density_p_m2, th.bands("crowd", "density_p_m2"))


def utility_level(kind: str, thresholds: Thresholds | None = None) -> int:
    """Level of a utility fault kind before exposure (0 for unknown kinds).

    >>> utility_level("gas_leak"), utility_level("no_such_fault")
    (3, 0)
    """
    th = thresholds or default_thresholds()
    value = th.section("utility").get(kind, 0)
    return int(value) if not isinstance(value, str) else 0


__all__ = [
    "DEFAULTS",
    "DEFAULT_TOML",
    "Thresholds",
    "WarningLevel",
    "classify",
    "default_thresholds",
    "classify_with_hysteresis",
    "crowd_level",
    "fire_level",
    "flood_level",
    "load_thresholds",
    "rainstorm_level",
    "rolling_max_accumulation",
    "utility_level",
]
