"""Simulated time: local clock arithmetic (hour of day, weekday) for daily and weekly cycles."""

from __future__ import annotations

import numpy as np

#: 1970-01-01 (epoch day 0) was a Thursday; weekday numbering is Monday = 0
_EPOCH_WEEKDAY = 3
DAY_S = 86400.0
WEEK_S = 7 * DAY_S


def utc_offset_seconds(text: str | None) -> float:
    """Seconds east of UTC of an ISO offset string.

    >>> utc_offset_seconds("+08:00"), utc_offset_seconds("-03:30"), utc_offset_seconds(None)
    (28800.0, -12600.0, 0.0)
    """
    if not text or text in ("Z", "UTC"):
        return 0.0
    sign = -1.0 if text.strip().startswith("-") else 1.0
    hh, _, mm = text.strip().lstrip("+-").partition(":")
    return sign * (int(hh) * 3600.0 + int(mm or 0) * 60.0)


def local_hour(t: float, offset_s: float) -> float:
    """Local hour of day in [0, 24) of UTC epoch seconds ``t``.

    >>> local_hour(0.0, 8 * 3600.0)
    8.0
    """
    return float(((t + offset_s) / 3600.0) % 24.0)


def local_weekday(t: float, offset_s: float) -> int:
    """Local weekday of UTC epoch seconds ``t``, Monday = 0 .. Sunday = 6.

    >>> local_weekday(0.0, 0.0)  # 1970-01-01 was a Thursday
    3
    """
    return int((np.floor((t + offset_s) / DAY_S) + _EPOCH_WEEKDAY) % 7)


def day_of_year(t: float, offset_s: float) -> float:
    """Approximate local day of year (0-based, 365.25-day years), for seasonal terms."""
    return float(((t + offset_s) / DAY_S) % 365.25)


def periodic_bumps(hour: float, bumps: tuple[tuple[float, float, float], ...]) -> float:
    """Sum of Gaussian bumps on the 24 h circle.

    Parameters
    ----------
    hour : float
        Local hour, h.
    bumps : tuple of (centre_h, width_h, height)
        Each bump's centre hour, standard deviation (h) and height.

    >>> round(periodic_bumps(23.5, ((0.5, 1.0, 1.0),)), 4)  # wraps over midnight
    0.6065
    """
    total = 0.0
    for centre, width, height in bumps:
        d = (hour - centre + 12.0) % 24.0 - 12.0
        total += height * np.exp(-0.5 * (d / width) ** 2)
    return float(total)


#: hours of the tabulated daily profiles (one value a minute, both ends included)
PROFILE_HOURS = np.linspace(0.0, 24.0, 24 * 60 + 1)


def profile_table(
    bumps: tuple[tuple[float, float, float], ...], base: float = 0.0, normalise: bool = False
) -> np.ndarray:
    """A daily profile tabulated on :data:`PROFILE_HOURS` (looked up with :func:`at_hour`).

    Parameters
    ----------
    bumps : tuple of (centre_h, width_h, height)
        Gaussian bumps on the 24 h circle (see :func:`periodic_bumps`).
    base : float
        Constant added to the bumps.
    normalise : bool
        Scale the profile to mean 1 over the day.

    >>> table = profile_table(((12.0, 2.0, 1.0),), base=0.5, normalise=True)
    >>> round(float(table[:-1].mean()), 6)
    1.0
    """
    values = base + np.array([periodic_bumps(h, bumps) for h in PROFILE_HOURS])
    if normalise:
        values = values / values[:-1].mean()
    return values


def at_hour(tables: np.ndarray, hour: float) -> np.ndarray:
    """Values of one or more tabulated profiles (last axis: :data:`PROFILE_HOURS`) at ``hour``."""
    pos = hour * 60.0
    i = min(int(pos), PROFILE_HOURS.size - 2)
    w = pos - i
    return tables[..., i] * (1.0 - w) + tables[..., i + 1] * w
