"""Rain as the twin knows it: gauge readings over time, their accumulations and a short forecast.

:class:`GaugeSeries` keeps the intensity each live rain gauge reported at every nowcast
cycle (m/s, NaN when the gauge is stale or silent). The default forecast is **trend
extrapolation**: each gauge's intensity follows the straight line fitted to its last
``trend_window_s`` of readings for at most ``trend_cap_s``, then stays level, never below
zero and never above ``trend_max_ratio`` × the current reading (plus ``trend_floor`` so a
cell just starting can still be extrapolated). ``mode="persistence"`` keeps the current
reading for the whole horizon. A forecast given from outside (a radar nowcast or the
weather service, ``forecast(t) -> m/s``) replaces both for the times it covers.

Why trend by default: a convective cell over a street rises for tens of minutes; persistence
then underestimates the coming hour exactly when warning lead time matters (measured in
``streettwin bench warning``: the figures are in the nowcast package docstring).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: longest history kept, s (the CMA blue signal looks back 12 h)
KEEP_S = 12 * 3600.0


class GaugeSeries:
    """Intensity history of the rain gauges and a forecast of it.

    Parameters
    ----------
    n_gauges : int
    mode : str
        ``"trend"`` (default) or ``"persistence"``.
    trend_window_s, trend_cap_s : float
        Fit window and longest extrapolation of the trend, s.
    trend_max_ratio : float
        Cap of the extrapolated intensity relative to the current one.
    trend_floor_m_s : float
        Added to the current intensity before the ratio cap, m/s.
    """

    def __init__(
        self,
        n_gauges: int,
        *,
        mode: str = "trend",
        trend_window_s: float = 900.0,
        trend_cap_s: float = 1800.0,
        trend_max_ratio: float = 2.5,
        trend_floor_m_s: float = 10e-3 / 3600.0,
    ) -> None:
        if mode not in ("trend", "persistence"):
            raise ValueError("mode must be 'trend' or 'persistence'")
        self.n = int(n_gauges)
        self.mode = mode
        self.window = float(trend_window_s)
        self.cap = float(trend_cap_s)
        self.ratio = float(trend_max_ratio)
        self.floor = float(trend_floor_m_s)
        self.times: list[float] = []
        self.rates: list[np.ndarray] = []

    def add(self, t: float, rates_m_s: np.ndarray) -> None:
        """Record the gauge intensities (m/s, NaN = no reading) at UTC epoch s ``t``."""
        r = np.asarray(rates_m_s, float).reshape(self.n)
        if self.times and t <= self.times[-1]:
            self.rates[-1] = np.where(np.isnan(r), self.rates[-1], r)
            return
        self.times.append(float(t))
        self.rates.append(r)
        while self.times and self.times[0] < t - KEEP_S:
            self.times.pop(0)
            self.rates.pop(0)

    def current(self) -> np.ndarray:
        """Latest intensity per gauge, m/s: the last reading not older than the fit window."""
        if not self.times:
            return np.zeros(self.n)
        t = np.array(self.times)
        r = np.array(self.rates)
        out = np.full(self.n, np.nan)
        recent = t >= t[-1] - self.window
        for k in range(self.n):
            ok = recent & np.isfinite(r[:, k])
            if ok.any():
                out[k] = r[ok, k][-1]
        return out

    def slopes(self) -> np.ndarray:
        """Least-squares slope of each gauge over the fit window, m/s per s (0 if < 3 points)."""
        out = np.zeros(self.n)
        if len(self.times) < 3:
            return out
        t = np.array(self.times)
        r = np.array(self.rates)
        recent = t >= t[-1] - self.window
        for k in range(self.n):
            ok = recent & np.isfinite(r[:, k])
            if ok.sum() >= 3:
                out[k] = np.polyfit(t[ok] - t[-1], r[ok, k], 1)[0]
        return out

    def forecast(
        self, lead_s: np.ndarray, external: Callable[[float], object] | None = None, t0=None
    ) -> np.ndarray:
        """Forecast intensity (m/s) per lead time (s after the last reading) and gauge.

        Returns
        -------
        numpy.ndarray (len(lead_s), n_gauges)
        """
        lead = np.asarray(lead_s, float)
        now = self.current()
        fill = np.nanmean(now) if np.isfinite(now).any() else 0.0
        now = np.where(np.isnan(now), fill, now)
        if self.mode == "persistence":
            out = np.broadcast_to(now, (lead.size, self.n)).copy()
        else:
            slope = self.slopes()
            out = now[None, :] + slope[None, :] * np.minimum(lead, self.cap)[:, None]
            out = np.clip(out, 0.0, self.ratio * (now + self.floor)[None, :])
        if external is not None:
            base = self.times[-1] if t0 is None else float(t0)
            for i, dt in enumerate(lead):
                value = external(base + float(dt))
                if value is not None:
                    out[i] = np.broadcast_to(np.asarray(value, float), (self.n,))
        return out

    def accumulation_series(self, step_s: float = 300.0) -> np.ndarray:
        """Observed rain per ``step_s`` step (mm), gauge-max, from the oldest reading to now."""
        if not self.times:
            return np.zeros(0)
        t = np.array(self.times)
        r = np.nan_to_num(np.array(self.rates))
        peak = r.max(axis=1)
        dt = np.diff(np.r_[t, t[-1]])  # each reading holds until the next
        edges = np.arange(t[0], t[-1] + step_s, step_s)
        mm = np.zeros(max(edges.size - 1, 1))
        idx = np.clip(((t - t[0]) // step_s).astype(int), 0, mm.size - 1)
        np.add.at(mm, idx, peak * dt * 1e3)
        return mm
