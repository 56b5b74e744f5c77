"""Sensor faults told apart from real changes: stuck (flat) and drifting (slow divergence).

* **Stuck**: a sensor that normally never repeats a reading exactly gives the same value for
  :data:`STUCK_RUN` readings in a row while its baseline keeps moving.
* **Drift**: the residual, after removing what correlated sensors of the same quantity do
  together (their median residual: weather, a district-wide demand change), leaves ±
  :data:`DRIFT_Z` robust standard deviations *gradually* and stays out for
  :data:`DRIFT_PERSIST` readings.
* A **real change** either moves correlated sensors together (removed as the common mode) or
  comes as a step (the ``dz`` change score over a few readings jumps): a step resets the
  drift counter, and network detectors (burst, outage, leak) claim those sensors.
"""

from __future__ import annotations

import numpy as np

#: identical consecutive readings that make a varying sensor stuck
STUCK_RUN = 8
#: residual (robust sd) a drifting sensor must leave, and readings it must stay out
DRIFT_Z, DRIFT_PERSIST = 5.0, 20
#: change score (robust sd of the lagged residual change) that marks a step
STEP_Z = 6.0


class SensorFaultTracker:
    """Stuck and drift state of watched sensors.

    Parameters
    ----------
    groups : numpy.ndarray
        Group label of each sensor (sensors of a group share a common mode; e.g. quantity).
    varies : numpy.ndarray
        Bool per sensor: it normally never repeats a reading exactly.
    """

    def __init__(self, groups: np.ndarray, varies: np.ndarray) -> None:
        self.groups = np.asarray(groups).astype(str)
        self.labels = np.unique(self.groups)
        self.varies = np.asarray(varies, bool)
        n = len(self.groups)
        self.last = np.full(n, np.nan)
        self.run = np.zeros(n, int)
        self.out = np.zeros(n, int)
        self.stepped = np.zeros(n, bool)
        self.stuck = np.zeros(n, bool)
        self.drift = np.zeros(n, bool)

    def common_mode(self, z: np.ndarray, healthy: np.ndarray) -> np.ndarray:
        """Median residual of the healthy sensors of each sensor's group (0 if none)."""
        cm = np.zeros(len(z))
        for g in self.labels:
            members = self.groups == g
            use = members & healthy & np.isfinite(z)
            cm[members] = float(np.median(z[use])) if use.sum() >= 3 else 0.0
        return cm

    def update(
        self, raw: np.ndarray, z: np.ndarray, dz: np.ndarray, explained: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Feed one reading per sensor.

        Parameters
        ----------
        raw : numpy.ndarray
            Readings, SI (NaN = missing).
        z, dz : numpy.ndarray
            Baseline residual and lagged residual change, robust sd.
        explained : numpy.ndarray
            Bool: the sensor's anomaly is claimed by a network fault (not checked here).

        Returns
        -------
        dict
            ``stuck``, ``drift`` (indices newly flagged), ``cleared`` (indices whose sensor
            fault ended) and ``residual`` (z minus the common mode).
        """
        finite = np.isfinite(raw)
        same = finite & (raw == self.last)
        self.run = np.where(same, self.run + 1, 0)
        self.last = np.where(finite, raw, self.last)
        healthy = ~(self.stuck | self.drift | explained)
        r = z - self.common_mode(z, healthy)
        r = np.where(np.isfinite(r), r, 0.0)
        step = np.isfinite(dz) & (np.abs(dz) > STEP_Z)
        self.stepped = (self.stepped | step) & (np.abs(r) > DRIFT_Z / 2)
        over = (np.abs(r) > DRIFT_Z) & ~self.stepped
        self.out = np.where(over & finite, self.out + 1, np.where(finite, 0, self.out))
        # exact repeats are never physical for a varying sensor, whatever else goes on; only a
        # zero held by a claimed fault (meters of a dead feeder) is not a stuck sensor
        zero_claimed = explained & (raw == 0)
        new_stuck = self.varies & ~self.stuck & ~zero_claimed & (self.run >= STUCK_RUN)
        new_drift = ~self.drift & ~self.stuck & ~explained & (self.out >= DRIFT_PERSIST)
        cleared_stuck = self.stuck & finite & ~same
        # a stuck sensor is no longer reported as drifting
        cleared_drift = self.drift & ((finite & (np.abs(r) < DRIFT_Z / 2)) | new_stuck)
        self.stuck = (self.stuck | new_stuck) & ~cleared_stuck
        self.drift = (self.drift | new_drift) & ~cleared_drift
        return {
            "stuck": np.flatnonzero(new_stuck),
            "drift": np.flatnonzero(new_drift),
            "cleared": np.flatnonzero(cleared_stuck | cleared_drift),
            "residual": r,
        }
