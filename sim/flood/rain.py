"""Rain for the flood model: design storms (Chicago, uniform) and gauge rain interpolated by IDW.

Chinese drainage design (GB 50014-2021 *Standard for design of outdoor wastewater
engineering*, §4.1) uses a storm-intensity formula per city::

    q = 167 A1 (1 + C lg P) / (t + b)^n        [L s-1 ha-1],   i = q / 167   [mm min-1]

with return period P (years) and duration t (min), and the Chicago design storm (Keifer & Chu
1957, *Synthetic storm pattern for drainage design*, J. Hydraul. Div. ASCE 83(4)) to turn it
into a hyetograph with the peak at ``peak_ratio`` of the duration. The default parameters are
the Guangzhou central-city formula q = 3618.427 (1 + 0.438 lg P) / (t + 11.259)^0.750 (Guangzhou
municipal storm-intensity formula, 2011 revision, as quoted in Guangzhou drainage design
guidance; Dongguan lies next to it in the same Pearl River Delta rain climate). They are quoted
from the literature, not fetched: pass your city's own :class:`StormFormula` for design work.

All functions return rain intensities in m s-1 (SI, as the model expects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MM_H = 1.0 / 3.6e6  # 1 mm/h in m s-1
MM_MIN = 1.0 / 6.0e4  # 1 mm/min in m s-1


@dataclass(frozen=True)
class StormFormula:
    """A storm-intensity formula ``q = 167 A1 (1 + C lg P) / (t + b)^n``.

    Parameters
    ----------
    A1 : float
        Rain-depth parameter (mm/min).
    C : float
        Return-period coefficient (-).
    b : float
        Duration shift (min).
    n : float
        Decay exponent (-).
    source : str
        Where the parameters come from.
    """

    A1: float
    C: float
    b: float
    n: float
    source: str = ""

    def intensity_mm_min(self, duration_min: float | np.ndarray, return_period_y: float):
        """Mean intensity (mm/min) over a storm of ``duration_min`` minutes.

        >>> round(float(GUANGZHOU_2011.intensity_mm_min(60.0, 2.0)), 3)
        1.0
        """
        a = self.A1 * (1.0 + self.C * np.log10(return_period_y))
        return a / (np.asarray(duration_min, float) + self.b) ** self.n

    def q_l_s_ha(self, duration_min: float, return_period_y: float) -> float:
        """Design rain intensity q (L s-1 ha-1), as written in Chinese standards."""
        return 167.0 * float(self.intensity_mm_min(duration_min, return_period_y))


#: Guangzhou central city, 2011: q = 3618.427 (1 + 0.438 lg P) / (t + 11.259)^0.750
GUANGZHOU_2011 = StormFormula(
    A1=3618.427 / 167.0,
    C=0.438,
    b=11.259,
    n=0.750,
    source="Guangzhou central-city storm-intensity formula (2011 revision), GB 50014-2021 form",
)


class Hyetograph:
    """Piecewise-constant rain intensity over time, callable as ``rain(t)`` (t in s → m s-1).

    Parameters
    ----------
    edges_s : array (k + 1,)
        Interval edges (s), ascending; rain is zero outside them.
    intensity : array (k,)
        Intensity (m s-1) in each interval.

    Examples
    --------
    >>> h = Hyetograph([0.0, 3600.0], [100 * MM_H])
    >>> round(h.total_depth_m() * 1000, 6), h(4000.0)
    (100.0, 0.0)
    """

    def __init__(self, edges_s, intensity) -> None:
        self.edges_s = np.asarray(edges_s, float)
        self.intensity = np.asarray(intensity, float)
        if self.edges_s.size != self.intensity.size + 1:
            raise ValueError("need one more edge than intensities")

    def __call__(self, t: float) -> float:
        k = int(np.searchsorted(self.edges_s, t, side="right")) - 1
        if k < 0 or k >= self.intensity.size:
            return 0.0
        return float(self.intensity[k])

    def total_depth_m(self) -> float:
        """Total rain depth (m)."""
        return float((self.intensity * np.diff(self.edges_s)).sum())

    @property
    def duration_s(self) -> float:
        """Time of the last edge (s)."""
        return float(self.edges_s[-1])


def uniform_storm(total_mm: float, duration_s: float) -> Hyetograph:
    """A block storm: ``total_mm`` of rain spread evenly over ``duration_s`` seconds."""
    return Hyetograph([0.0, duration_s], [total_mm * 1e-3 / duration_s])


def chicago_storm(
    return_period_y: float,
    *,
    duration_min: float = 120.0,
    peak_ratio: float = 0.4,
    step_min: float = 5.0,
    formula: StormFormula = GUANGZHOU_2011,
) -> Hyetograph:
    """Chicago design storm (Keifer & Chu 1957) for a return period.

    The cumulative depth within ``s`` minutes before the peak is ``A s / (s / r + b)^n`` and
    after it ``A s / (s / (1 - r) + b)^n`` (A = A1 (1 + C lg P), r = ``peak_ratio``), so every
    window around the peak holds the formula's depth for its length. Interval means over
    ``step_min`` are returned.

    Parameters
    ----------
    return_period_y : float
        Return period P (years), e.g. 3 for a Chinese urban drainage design storm.
    duration_min, peak_ratio, step_min : float
        Storm length (min), relative peak position (0–1), time step of the hyetograph (min).
    formula : StormFormula
        Local storm-intensity formula.

    Returns
    -------
    Hyetograph
        Intensities in m s-1 over times in s.

    Examples
    --------
    >>> s = chicago_storm(2.0, duration_min=60.0, step_min=1.0)
    >>> round(s.total_depth_m() * 1000, 2)  # = 60 min × 1.0 mm/min
    59.99
    """
    a = formula.A1 * (1.0 + formula.C * np.log10(return_period_y))
    r, b, n = peak_ratio, formula.b, formula.n
    t_peak = r * duration_min

    def cumulative(t):  # depth (mm) from the storm start to t (min)
        t = np.asarray(t, float)
        before = np.clip(t_peak - t, 0.0, None)
        after = np.clip(t - t_peak, 0.0, None)
        d_before_all = a * t_peak / (t_peak / r + b) ** n if t_peak > 0 else 0.0
        d_before = np.where(before > 0, a * before / (before / max(r, 1e-12) + b) ** n, 0.0)
        d_after = np.where(after > 0, a * after / (after / max(1 - r, 1e-12) + b) ** n, 0.0)
        return d_before_all - d_before + d_after

    edges = np.arange(0.0, duration_min + 0.5 * step_min, step_min)
    edges[-1] = duration_min
    depth_mm = np.diff(cumulative(edges))
    return Hyetograph(edges * 60.0, depth_mm * 1e-3 / (np.diff(edges) * 60.0))


def idw_rain(gauge_xy, gauge_rates, grid, *, power: float = 2.0) -> np.ndarray:
    """Inverse-distance-weighted rain field from gauges.

    Parameters
    ----------
    gauge_xy : array (k, 2)
        Gauge positions (m) in the grid's metric CRS.
    gauge_rates : array (k,)
        Rain intensity at each gauge (any unit; the field has the same unit).
    grid : xarray.DataArray or Dataset, or tuple (x, y)
        Something with cell-centre coordinates ``x`` and ``y`` (m).
    power : float
        IDW exponent.

    Returns
    -------
    ndarray (ny, nx)
        Interpolated field; a cell on a gauge takes that gauge's value.

    Examples
    --------
    >>> xy = (np.array([0.0, 5.0, 10.0]), np.array([0.0]))
    >>> idw_rain([[0.0, 0.0], [10.0, 0.0]], [1.0, 3.0], xy).tolist()
    [[1.0, 2.0, 3.0]]
    """
    if isinstance(grid, tuple):
        x, y = (np.asarray(c, float) for c in grid)
    else:
        x, y = np.asarray(grid["x"], float), np.asarray(grid["y"], float)
    xy = np.asarray(gauge_xy, float).reshape(-1, 2)
    rates = np.asarray(gauge_rates, float).reshape(-1)
    num = np.zeros((y.size, x.size))
    den = np.zeros((y.size, x.size))
    exact = np.full((y.size, x.size), np.nan)
    for (gx, gy), v in zip(xy, rates, strict=True):
        d2 = (x[None, :] - gx) ** 2 + (y[:, None] - gy) ** 2
        on = d2 == 0.0
        exact[on] = v
        w = 1.0 / np.where(on, 1.0, d2) ** (0.5 * power)
        num += w * v
        den += w
    out = num / den
    return np.where(np.isnan(exact), out, exact)


def gauge_rain(gauge_xy, times_s, rates, grid, *, power: float = 2.0):
    """A rain callable ``rain(t)`` from gauge series: step in time, IDW in space.

    Parameters
    ----------
    gauge_xy : array (k, 2)
        Gauge positions (m).
    times_s : array (m,)
        Start times (s) of the reporting intervals, ascending.
    rates : array (m, k)
        Intensity (m s-1) per interval and gauge.
    grid : see :func:`idw_rain`.

    Returns
    -------
    callable
        ``rain(t) -> ndarray (ny, nx)`` in m s-1; zero before the first time.
    """
    times = np.asarray(times_s, float)
    fields = [idw_rain(gauge_xy, r, grid, power=power) for r in np.asarray(rates, float)]
    zero = np.zeros_like(fields[0])

    def rain(t: float) -> np.ndarray:
        k = int(np.searchsorted(times, t, side="right")) - 1
        return zero if k < 0 else fields[min(k, len(fields) - 1)]

    return rain
