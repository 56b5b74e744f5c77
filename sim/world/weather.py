"""Weather: moving Gaussian rain cells, a dry/drizzle background, outdoor temperature and humidity.

A storm is one rain cell whose intensity is separable in time and space::

    i(x, y, t) = A · sin²(π τ / D) · exp(-|p - c(t)|² / (2 R²)),   τ = t - start ∈ [0, D]

with the cell centre ``c(t)`` moving in a straight line at ``speed_m_s`` towards
``direction_deg`` (clockwise from north) and passing the design centre at mid-event.
``A`` is calibrated when the storm is created so that the rain **accumulated at the design
centre** over the event equals ``total_mm`` (numerical quadrature, relative error < 1e-6).
Between storms a two-state Markov chain switches between dry and drizzle (0.3–2 mm/h, mean
spell 3 h, one spell every ~36 h). Outdoor air temperature follows a seasonal mean and a daily
cosine (minimum ≈ 05:00, maximum ≈ 15:00 local) and is cooled by rain; relative humidity moves
opposite to temperature and towards saturation in rain. Parameters are plausible values for
the Pearl River Delta, not fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.base import WORLD, FieldSpec, WorldComponent
from sim.world.clock import day_of_year, local_hour

#: locations where the rain field is evaluated
RAIN_LOCATIONS = ("gauge", "road", "drain", "place", "catchment")
#: default rain-cell radius (Gaussian σ), m — a convective cell larger than a street
DEFAULT_RADIUS_M = 4000.0
#: default cell speed (m/s) and heading (deg clockwise from north, towards)
DEFAULT_SPEED_M_S = 2.0
DEFAULT_DIRECTION_DEG = 60.0
#: drizzle regime: mean dry spell and mean drizzle spell (s), intensity range (m/s)
DRY_SPELL_S = 36 * 3600.0
DRIZZLE_SPELL_S = 3 * 3600.0
DRIZZLE_RANGE_M_S = (0.3e-3 / 3600.0, 2.0e-3 / 3600.0)
#: temperature: annual mean (degC), seasonal and daily half-ranges (K), hottest day of year
T_MEAN_C, T_SEASON_K, T_DAILY_K, T_HOTTEST_DOY = 23.0, 6.0, 4.0, 200.0
#: rain cooling: K per (mm/h) up to a cap (K)
RAIN_COOLING_K_PER_MMH, RAIN_COOLING_MAX_K = 0.3, 4.0


@dataclass(frozen=True)
class Storm:
    """One moving rain cell (see module doc). Times are UTC epoch s, lengths m.

    Attributes
    ----------
    event_id : str
    start, duration_s : float
    total_m : float
        Design total at the centre, m.
    center : tuple of float
        Point (metric CRS) the cell passes at mid-event.
    speed_m_s, direction_deg, radius_m : float
    amplitude_m_s : float
        Calibrated peak intensity ``A``, m/s.
    """

    event_id: str
    start: float
    duration_s: float
    total_m: float
    center: tuple[float, float]
    speed_m_s: float
    direction_deg: float
    radius_m: float
    amplitude_m_s: float

    @property
    def end(self) -> float:
        return self.start + self.duration_s

    def intensity(self, t: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Rain intensity (m/s) of this cell at time ``t`` and points ``x, y`` (m)."""
        tau = t - self.start
        if tau <= 0.0 or tau >= self.duration_s:
            return np.zeros(np.shape(x))
        cx, cy = self.cell_center(t)
        r2 = (np.asarray(x) - cx) ** 2 + (np.asarray(y) - cy) ** 2
        shape = np.sin(np.pi * tau / self.duration_s) ** 2
        return self.amplitude_m_s * shape * np.exp(-r2 / (2.0 * self.radius_m**2))

    def cell_center(self, t: float) -> tuple[float, float]:
        """Centre of the cell at time ``t`` (metric CRS, m)."""
        s = self.speed_m_s * (t - self.start - 0.5 * self.duration_s)
        heading = np.deg2rad(self.direction_deg)
        return self.center[0] + s * np.sin(heading), self.center[1] + s * np.cos(heading)


def make_storm(
    event_id: str,
    *,
    start: float,
    total_mm: float,
    duration_s: float,
    center: tuple[float, float],
    speed_m_s: float = DEFAULT_SPEED_M_S,
    direction_deg: float = DEFAULT_DIRECTION_DEG,
    radius_m: float = DEFAULT_RADIUS_M,
) -> Storm:
    """A storm whose accumulated rain at ``center`` equals ``total_mm``.

    >>> s = make_storm("S", start=0.0, total_mm=36.0, duration_s=3600.0, center=(0.0, 0.0),
    ...                speed_m_s=0.0)
    >>> round(s.amplitude_m_s * 3600 * 1000 / 2, 6)  # sin² averages 1/2: peak 72 mm/h
    36.0
    """
    if duration_s <= 0 or total_mm < 0 or radius_m <= 0:
        raise ValueError("storm needs duration_s > 0, total_mm >= 0 and radius_m > 0")
    tau = np.linspace(0.0, duration_s, 4001)
    travel = speed_m_s * (tau - 0.5 * duration_s)
    kernel = np.sin(np.pi * tau / duration_s) ** 2 * np.exp(-(travel**2) / (2.0 * radius_m**2))
    integral = float(np.trapezoid(kernel, tau))
    amplitude = (total_mm * 1e-3) / integral if integral > 0 else 0.0
    return Storm(
        event_id=event_id,
        start=float(start),
        duration_s=float(duration_s),
        total_m=total_mm * 1e-3,
        center=(float(center[0]), float(center[1])),
        speed_m_s=float(speed_m_s),
        direction_deg=float(direction_deg),
        radius_m=float(radius_m),
        amplitude_m_s=amplitude,
    )


def outdoor_temperature(t: float, offset_s: float) -> float:
    """Dry outdoor air temperature, degC, from the seasonal and daily cycles.

    >>> outdoor_temperature(7 * 3600.0, 8 * 3600.0) > outdoor_temperature(-3 * 3600.0, 8 * 3600.0)
    True
    """
    season = T_MEAN_C + T_SEASON_K * np.cos(
        2 * np.pi * (day_of_year(t, offset_s) - T_HOTTEST_DOY) / 365.25
    )
    return float(season + T_DAILY_K * np.cos(2 * np.pi * (local_hour(t, offset_s) - 15.0) / 24.0))


class Weather(WorldComponent):
    """Rain at every rain location, drizzle regime, outdoor temperature and humidity.

    Parameters
    ----------
    background_rain : bool
        Whether the dry/drizzle regime runs (off for clean storm experiments).
    """

    _name = "Weather"
    FIELDS = {
        **{
            f"{loc}__rain_intensity": FieldSpec("m s-1", "out", f"rain intensity at {loc}", loc)
            for loc in RAIN_LOCATIONS
        },
        "catchment__mean_rain_intensity": FieldSpec(
            "m s-1", "out", "rain averaged over the catchment sample points", WORLD
        ),
        "weather__drizzle_intensity": FieldSpec(
            "m s-1", "inout", "state: background drizzle (0 when dry)", WORLD
        ),
        "air__temperature": FieldSpec("degC", "out", "outdoor air temperature", WORLD),
        "air__relative_humidity": FieldSpec("1", "out", "outdoor relative humidity", WORLD),
    }

    def __init__(self, sites, schedule, *, utc_offset_s=0.0, background_rain: bool = True):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        self.background_rain = background_rain
        self._xy = {loc: sites.xy(loc) for loc in RAIN_LOCATIONS}
        # drizzle varies ±20 % over a few kilometres so gauges don't read identical values
        xmin, ymin, xmax, ymax = sites.bounds
        self._drizzle_pattern = {
            loc: 1.0 + 0.2 * np.sin((x - xmin) / 1500.0) * np.cos((y - ymin) / 1800.0)
            for loc, (x, y) in self._xy.items()
        }

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def run_one_step(self, dt: float) -> None:
        f, t = self._fields, self._t
        drizzle = float(f["weather__drizzle_intensity"])
        u = self._rng.random(2)  # always two draws per step: keeps the stream aligned
        if self.background_rain and dt > 0:
            if drizzle == 0.0 and u[0] < 1.0 - np.exp(-dt / DRY_SPELL_S):
                lo, hi = DRIZZLE_RANGE_M_S
                drizzle = lo + (hi - lo) * u[1]
            elif drizzle > 0.0 and u[0] < 1.0 - np.exp(-dt / DRIZZLE_SPELL_S):
                drizzle = 0.0
        if not self.background_rain:
            drizzle = 0.0
        f["weather__drizzle_intensity"] = np.array(drizzle)
        active = [s for s in self._schedule.storms if s.start < t < s.end]
        for loc, (x, y) in self._xy.items():
            rain = drizzle * self._drizzle_pattern[loc]
            for storm in active:
                rain = rain + storm.intensity(t, x, y)
            f[f"{loc}__rain_intensity"] = np.asarray(rain, float) * np.ones(len(x))
        mean_rain = float(np.mean(f["catchment__rain_intensity"]))
        f["catchment__mean_rain_intensity"] = np.array(mean_rain)
        mm_h = mean_rain * 3.6e6
        temp = outdoor_temperature(t, self._utc_offset_s) - min(
            RAIN_COOLING_MAX_K, RAIN_COOLING_K_PER_MMH * mm_h
        )
        f["air__temperature"] = np.array(temp)
        hour = local_hour(t, self._utc_offset_s)
        rh_dry = 0.75 - 0.15 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
        wet = min(1.0, mm_h / 5.0)
        f["air__relative_humidity"] = np.array(rh_dry + (0.97 - rh_dry) * wet)
