"""Power outages: many meters of one feeder dropping to zero together, pinned to that feeder.

A single meter reading zero may be that building switched off or a meter fault; when at
least :data:`MIN_FRACTION` of the reporting meters on a feeder read (almost) nothing while
their baselines expect load, the feeder is out.
"""

from __future__ import annotations

import numpy as np

#: share of a feeder's reporting meters that must be dead for an outage
MIN_FRACTION = 0.5
#: a meter is dead below this share of its expected load
DEAD_SHARE = 0.02
#: share of dead meters below which an outage is over
CLEAR_FRACTION = 0.2


def dead_feeders(
    power: np.ndarray,
    expected: np.ndarray,
    feeder_of_meter: np.ndarray,
    feeders: np.ndarray,
    *,
    min_fraction: float = MIN_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Share of dead meters per feeder and whether the feeder counts as out.

    Parameters
    ----------
    power : numpy.ndarray
        Power meter readings, W (NaN = missing).
    expected : numpy.ndarray
        Baseline power of each meter, W.
    feeder_of_meter : numpy.ndarray
        Feeder id of each meter's building.
    feeders : numpy.ndarray
        Feeder ids to evaluate.

    Returns
    -------
    share, out : numpy.ndarray
        Per feeder: dead share of reporting meters (NaN: none reporting), and share ≥
        ``min_fraction``.

    >>> share, out = dead_feeders(np.array([0.0, 0.0, 5e3, 4e3]), np.full(4, 5e3),
    ...                           np.array(["A", "A", "B", "B"]), np.array(["A", "B"]))
    >>> share.tolist(), out.tolist()
    ([1.0, 0.0], [True, False])
    """
    ok = np.isfinite(power)
    dead = ok & (power <= DEAD_SHARE * np.maximum(expected, 0.0)) & (expected > 0)
    share = np.zeros(len(feeders))
    for k, f in enumerate(feeders):
        on = (feeder_of_meter == f) & ok
        share[k] = dead[on].sum() / on.sum() if on.any() else np.nan
    return share, np.nan_to_num(share) >= min_fraction
