"""Gas leak alarms: detector concentration over a threshold for a few readings in a row.

Thresholds in fraction of the lower explosive limit (LEL): first-stage alarms of household
and commercial detectors are commonly set at 10–25 % LEL (e.g. GB 15322 / EN 50194 practice);
we alarm at 10 % LEL held for :data:`PERSIST` readings (noise spikes do not alarm), and clear
below 5 % LEL.
"""

from __future__ import annotations

import numpy as np

#: alarm and clear levels, fraction of LEL
ALARM_LEL, CLEAR_LEL = 0.10, 0.05
#: consecutive readings over the alarm level needed
PERSIST = 2


class GasAlarm:
    """Per-detector persistence counter.

    Parameters
    ----------
    n : int
        Number of gas detectors.
    """

    def __init__(
        self, n: int, *, alarm: float = ALARM_LEL, clear: float = CLEAR_LEL, persist: int = PERSIST
    ) -> None:
        self.alarm, self.clear, self.persist = alarm, clear, persist
        self.count = np.zeros(n, int)
        self.on = np.zeros(n, bool)

    def update(self, concentration: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed one reading per detector (fraction of LEL, NaN = missing).

        Returns
        -------
        raised, cleared : numpy.ndarray
            Indices of detectors whose alarm starts / ends with this reading.

        >>> g = GasAlarm(2)
        >>> [g.update(np.array([0.3, 0.0]))[0].tolist() for _ in range(2)]
        [[], [0]]
        """
        c = np.asarray(concentration, float)
        over = np.isfinite(c) & (c >= self.alarm)
        self.count = np.where(over, self.count + 1, 0)
        raised = np.flatnonzero(~self.on & (self.count >= self.persist))
        cleared = np.flatnonzero(self.on & np.isfinite(c) & (c < self.clear))
        self.on[raised] = True
        self.on[cleared] = False
        return raised, cleared
