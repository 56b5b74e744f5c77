"""A synthetic but realistic crowd-density series for one place: daily cycle plus event peaks.

Used to train and score the crowd forecaster in tests and the bench (the world's
``sim.world.crowds`` is the truth in the live demo). The shape follows a Chinese city square
(广场): morning exercise ≈ 06:30, a small noon bump, the evening square-dance peak ≈ 20:00,
busier at weekends; slow log-normal fluctuation (Ornstein–Uhlenbeck, τ ≈ 15 min); counter
noise of a few per cent; and **events** (a fair, a concert, a sale) that build up over
20–50 min to 3–7.5 p/m², hold 30–120 min and disperse over 15–30 min. Seeded: same
``rng`` state → same series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: daily profile bumps: (centre local hour, width h, density p/m²)
SQUARE_PROFILE = ((6.5, 0.8, 0.6), (12.0, 1.5, 0.3), (20.0, 1.1, 1.6))
WEEKEND_FACTOR = 1.3
#: log-sd and correlation time (s) of the slow fluctuation; relative counter noise
NOISE_SD, NOISE_TAU_S, COUNTER_NOISE = 0.12, 900.0, 0.03


@dataclass(frozen=True)
class SyntheticEvent:
    """One gathering in the synthetic series (times in s from the series start)."""

    start_s: float
    ramp_up_s: float
    hold_s: float
    ramp_down_s: float
    peak_p_m2: float

    def shape(self, t: np.ndarray) -> np.ndarray:
        """Weight 0…1 of the event at times ``t`` (s)."""
        up = (t - self.start_s) / self.ramp_up_s
        t_down = self.start_s + self.ramp_up_s + self.hold_s
        down = 1.0 - (t - t_down) / self.ramp_down_s
        return np.clip(np.minimum(up, down), 0.0, 1.0)


def daily_profile(hour) -> np.ndarray:
    """Expected density (p/m²) at local ``hour`` on a weekday, without events."""
    h = np.asarray(hour, dtype=float)
    out = np.full(h.shape, 0.05)
    for centre, width, height in SQUARE_PROFILE:
        dist = (h - centre + 12.0) % 24.0 - 12.0
        out = out + height * np.exp(-0.5 * (dist / width) ** 2)
    return out


def synthetic_crowd_series(
    rng: np.random.Generator,
    *,
    days: int = 35,
    step_s: float = 60.0,
    start_epoch_s: float = 1_782_835_200.0,  # 2026-07-01 00:00 +08:00 (a Wednesday)
    utc_offset_s: float = 8 * 3600.0,
    events_per_day: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, list[SyntheticEvent]]:
    """Density series of one place.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    days : int
        Length of the series, days.
    step_s : float
        Sampling step, s.
    start_epoch_s : float
        UTC epoch of the first sample (local midnight by default).
    utc_offset_s : float
        Local time offset, s.
    events_per_day : float
        Mean number of events per day (Poisson).

    Returns
    -------
    t : numpy.ndarray
        UTC epoch s of each sample.
    density : numpy.ndarray
        Observed density, p/m².
    events : list of SyntheticEvent
        The events placed in the series.
    """
    n = int(days * 86400 / step_s)
    t = start_epoch_s + step_s * np.arange(n)
    rel = t - start_epoch_s
    local = t + utc_offset_s
    hour = (local % 86400.0) / 3600.0
    weekday = ((local // 86400.0).astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    base = daily_profile(hour) * np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
    # OU process for the log fluctuation, exact discretisation
    a = np.exp(-step_s / NOISE_TAU_S)
    shocks = rng.normal(0.0, NOISE_SD * np.sqrt(1.0 - a * a), n)
    noise = np.empty(n)
    noise[0] = rng.normal(0.0, NOISE_SD)
    for i in range(1, n):
        noise[i] = a * noise[i - 1] + shocks[i]
    density = base * np.exp(noise)
    events = []
    for day in range(days):
        for _ in range(rng.poisson(events_per_day)):
            start_hour = rng.uniform(9.0, 21.0)
            ev = SyntheticEvent(
                start_s=(day * 24 + start_hour) * 3600.0,
                ramp_up_s=rng.uniform(20, 50) * 60.0,
                hold_s=rng.uniform(30, 120) * 60.0,
                ramp_down_s=rng.uniform(15, 30) * 60.0,
                peak_p_m2=rng.uniform(3.0, 7.5),
            )
            events.append(ev)
    for ev in events:
        w = ev.shape(rel)
        density = (1.0 - w) * density + w * ev.peak_p_m2 * np.exp(0.5 * noise)
    density = density * (1.0 + rng.normal(0.0, COUNTER_NOISE, n))
    return t, np.maximum(density, 0.0), events
