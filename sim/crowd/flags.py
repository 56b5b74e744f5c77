"""Crowding flags: raise a flag *before* a place reaches the dangerous density, and score them.

A place is flagged at a sample when its current density or any forecast within the horizon
reaches ``threshold`` (default :data:`sim.crowd.density.DANGEROUS_DENSITY`, 5 p/m², Still).
:func:`flag_lead_times` scores flags against the truth: for every upward crossing of the
threshold, the lead time is how long before it the flag had been raised without a break.
"""

from __future__ import annotations

import numpy as np

from sim.crowd.density import DANGEROUS_DENSITY


def crowding_flags(current, forecast_path, threshold: float = DANGEROUS_DENSITY) -> np.ndarray:
    """Boolean flag per sample.

    Parameters
    ----------
    current : array_like, shape (n,)
        Density now, p/m².
    forecast_path : array_like, shape (n, H)
        Forecast density at each horizon, p/m².
    threshold : float
        Density to stay below, p/m².

    >>> crowding_flags([1.0, 4.0, 5.5], [[1.2, 1.3], [4.6, 5.1], [5.0, 4.0]]).tolist()
    [False, True, True]
    """
    cur = np.asarray(current, dtype=float)
    path = np.asarray(forecast_path, dtype=float)
    return (cur >= threshold) | np.any(path >= threshold, axis=1)


def upward_crossings(y, threshold: float = DANGEROUS_DENSITY, *, quiet_steps: int = 30):
    """Indices where ``y`` first reaches ``threshold`` after ≥ ``quiet_steps`` samples below.

    >>> upward_crossings([1, 6, 1, 1, 6, 1], 5.0, quiet_steps=2).tolist()
    [1, 4]
    """
    above = np.asarray(y, dtype=float) >= threshold
    idx = []
    below_run = quiet_steps  # the series start counts as quiet
    for i, a in enumerate(above):
        if a:
            if below_run >= quiet_steps:
                idx.append(i)
            below_run = 0
        else:
            below_run += 1
    return np.asarray(idx, dtype=int)


def flag_lead_times(
    flags, y, step_s: float, threshold: float = DANGEROUS_DENSITY, *, quiet_steps: int = 30
) -> np.ndarray:
    """Lead time (s) of the flag before each upward crossing of ``threshold``.

    The lead is the length of the unbroken run of flags ending at the crossing sample
    (0 if the flag only came up at the crossing itself, which counts as missed warning).

    >>> flag_lead_times([0, 1, 1, 1, 0, 0], [1, 2, 3, 6, 1, 1], 60.0, 5.0, quiet_steps=2).tolist()
    [120.0]
    """
    f = np.asarray(flags, dtype=bool)
    leads = []
    for i in upward_crossings(y, threshold, quiet_steps=quiet_steps):
        j = i
        while j > 0 and f[j - 1]:
            j -= 1
        leads.append((i - j) * step_s)
    return np.asarray(leads, dtype=float)


def false_flag_runs(
    flags, y, step_s: float, threshold: float = DANGEROUS_DENSITY, *, within_s: float = 3600.0
) -> int:
    """Number of flag runs not followed by the threshold being reached within ``within_s``.

    >>> false_flag_runs([1, 0, 0, 1, 1, 0], [1, 1, 1, 1, 6, 1], 60.0, 5.0, within_s=60.0)
    1
    """
    f = np.asarray(flags, dtype=bool)
    above = np.asarray(y, dtype=float) >= threshold
    k = int(round(within_s / step_s))
    starts = np.flatnonzero(f & ~np.concatenate([[False], f[:-1]]))
    count = 0
    for s in starts:
        end = s
        while end + 1 < f.size and f[end + 1]:
            end += 1
        if not above[s : end + k + 1].any():
            count += 1
    return count
