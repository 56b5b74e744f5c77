"""Live state of every sensor: value, observation and receipt time, quality, in numpy columns.

One row per sensor, in the order of the ``sensor_ids`` given at construction (normally the
registry's ``sensors`` layer). Times are float64 epoch seconds UTC; ``NaN`` means "never".
Values are SI (see :mod:`twin.fields`).

Concurrency: one writer (the ingest pipeline) and many readers (web, models). Writers take
an internal lock; readers that need a consistent view use :meth:`LiveState.snapshot` or
:meth:`LiveState.changed_since`, which copy under the same lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from enum import IntEnum

import numba
import numpy as np
import pandas as pd


class Quality(IntEnum):
    """Quality of a sensor's live value."""

    GOOD = 0  #: a valid, recent reading
    STALE = 1  #: no reading for too long (or none yet)
    REJECTED = 2  #: the latest reading was rejected; the value is the last good one
    SIMULATED = 3  #: produced by a model or a what-if scenario, not by a device


QUALITY_NAMES: dict[int, str] = {q.value: q.name.lower() for q in Quality}


@numba.njit(cache=True, nogil=True)
def _apply_kernel(
    rows, values, observed_at, received_at, quality, cur_v, cur_obs, cur_rec, cur_q, cur_ver, ver
):  # pragma: no cover - compiled
    """Sequential merge so duplicates of a row in one batch resolve exactly like separate calls."""
    n_changed = 0
    for i in range(rows.shape[0]):
        r = rows[i]
        t = observed_at[i]
        old = cur_obs[r]
        # later observation wins; an equal time replaces (the newer receipt is the correction)
        if old != old or t >= old:
            if cur_ver[r] != ver:
                n_changed += 1
            cur_v[r] = values[i]
            cur_obs[r] = t
            cur_rec[r] = received_at[i]
            cur_q[r] = quality[i]
            cur_ver[r] = ver
    return n_changed


class LiveState:
    """Current value, times and quality of every sensor.

    Parameters
    ----------
    sensor_ids : sequence of str
        Sensor ids; row ``i`` of every column belongs to ``sensor_ids[i]``.

    Attributes
    ----------
    value : numpy.ndarray of float64
        Latest value (SI unit of the sensor's quantity); NaN before the first reading.
    observed_at, received_at : numpy.ndarray of float64
        Epoch seconds UTC when the latest value was observed (device clock) and received
        (our clock); NaN before the first reading.
    quality : numpy.ndarray of uint8
        :class:`Quality`; a sensor without any reading yet is ``STALE``.
    version : int
        Increases by one on every change (apply, stale marking, rejection).
    """

    def __init__(self, sensor_ids: Sequence[str]) -> None:
        self.sensor_ids = pd.Index(np.asarray(list(sensor_ids), dtype=object), name="sensor_id")
        if not self.sensor_ids.is_unique:
            raise ValueError("LiveState: sensor ids must be unique")
        n = len(self.sensor_ids)
        self.value = np.full(n, np.nan)
        self.observed_at = np.full(n, np.nan)
        self.received_at = np.full(n, np.nan)
        self.quality = np.full(n, Quality.STALE, dtype=np.uint8)
        # version at which each row last changed, so pushers send only what moved
        self._row_version = np.zeros(n, dtype=np.int64)
        self.version = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.sensor_ids)

    def index_of(self, ids: Sequence[str] | np.ndarray | str) -> np.ndarray:
        """Rows of sensor ids (vectorised); ``-1`` for an unknown id.

        >>> LiveState(["a", "b"]).index_of(["b", "x"]).tolist()
        [1, -1]
        """
        if isinstance(ids, str):
            ids = [ids]
        return self.sensor_ids.get_indexer(np.asarray(ids, dtype=object)).astype(np.int64)

    def apply(
        self,
        rows: np.ndarray,
        values: np.ndarray,
        observed_at: np.ndarray,
        received_at: np.ndarray | float,
        quality: np.ndarray | int = Quality.GOOD,
    ) -> int:
        """Merge a batch of readings into the live columns.

        A reading replaces the live value only if it was observed at or after the current
        observation time; older readings (late arrivals) are ignored here (history keeps
        them). Several readings of one row in a batch resolve in batch order.

        Parameters
        ----------
        rows : array of int
            Sensor rows (see :meth:`index_of`); all must be valid.
        values : array of float
            Values in SI units.
        observed_at, received_at : array of float or float
            Epoch seconds UTC.
        quality : array of uint8 or int
            :class:`Quality` per reading (default ``GOOD``).

        Returns
        -------
        int
            Number of rows whose live value changed.
        """
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        n = rows.shape[0]
        if n == 0:
            return 0
        if rows.min() < 0 or rows.max() >= len(self):
            raise IndexError("LiveState.apply: row out of range")
        values = np.ascontiguousarray(np.broadcast_to(values, (n,)), dtype=np.float64)
        observed_at = np.ascontiguousarray(np.broadcast_to(observed_at, (n,)), dtype=np.float64)
        received_at = np.ascontiguousarray(np.broadcast_to(received_at, (n,)), dtype=np.float64)
        quality = np.ascontiguousarray(np.broadcast_to(quality, (n,)), dtype=np.uint8)
        with self._lock:
            ver = self.version + 1
            changed = _apply_kernel(
                rows,
                values,
                observed_at,
                received_at,
                quality,
                self.value,
                self.observed_at,
                self.received_at,
                self.quality,
                self._row_version,
                ver,
            )
            if changed:
                self.version = ver
        return int(changed)

    def mark_rejected(self, rows: np.ndarray) -> np.ndarray:
        """Flag sensors whose latest reading was rejected; the value stays the last good one.

        Returns
        -------
        numpy.ndarray of int64
            Rows whose quality changed to ``REJECTED``.
        """
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        with self._lock:
            return self._set_quality(rows[self.quality[rows] != Quality.REJECTED], Quality.REJECTED)

    def mark_stale(self, now: float, max_age_s: np.ndarray | float) -> np.ndarray:
        """Mark ``GOOD`` sensors whose value is older than ``max_age_s`` as ``STALE``.

        Parameters
        ----------
        now : float
            Epoch seconds UTC.
        max_age_s : float or array of float (one per row)
            Allowed age of the observation, s (e.g. 3 poll intervals).

        Returns
        -------
        numpy.ndarray of int64
            Rows that changed to ``STALE`` now (previously stale rows are not repeated).
        """
        with self._lock:
            age = now - self.observed_at
            # NaN age (never observed) compares False: those rows are STALE from the start
            rows = np.flatnonzero((self.quality == Quality.GOOD) & (age > max_age_s))
            return self._set_quality(rows, Quality.STALE)

    def _set_quality(self, rows: np.ndarray, quality: Quality) -> np.ndarray:
        """Set quality of ``rows``; the caller holds the lock."""
        if rows.size:
            self.version += 1
            self.quality[rows] = quality
            self._row_version[rows] = self.version
        return rows.astype(np.int64)

    def changed_since(self, version: int) -> np.ndarray:
        """Rows changed after ``version`` (a value of :attr:`version` seen earlier).

        >>> s = LiveState(["a", "b"]); v = s.version
        >>> _ = s.apply(np.array([1]), np.array([2.0]), np.array([10.0]), 11.0)
        >>> s.changed_since(v).tolist()
        [1]
        """
        with self._lock:
            return np.flatnonzero(self._row_version > version)

    def changes(self, version: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The change feed: ``(new_version, rows, value, quality, observed_at)`` since ``version``.

        The new version is read before the rows, so a change racing this call is reported
        twice (now and next time), never lost.
        """
        new_version = self.version
        rows = self.changed_since(version)
        with self._lock:
            return (
                new_version,
                rows,
                self.value[rows].copy(),
                self.quality[rows].copy(),
                self.observed_at[rows].copy(),
            )

    def snapshot(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """A consistent copy of the live columns, indexed by ``sensor_id``.

        Columns: ``value``, ``observed_at``, ``received_at`` (epoch s UTC), ``quality``
        (uint8, see :class:`Quality`).
        """
        sel = slice(None) if rows is None else np.asarray(rows, dtype=np.int64)
        with self._lock:
            frame = pd.DataFrame(
                {
                    "value": self.value[sel].copy(),
                    "observed_at": self.observed_at[sel].copy(),
                    "received_at": self.received_at[sel].copy(),
                    "quality": self.quality[sel].copy(),
                },
                index=self.sensor_ids[sel],
            )
        return frame
