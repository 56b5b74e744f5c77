"""Recent history of every sensor: a sensor × slot ring buffer exposed as xarray.

Storage: ``values`` (float32, SI) and ``times`` (float64, epoch s UTC) of shape
``(n_sensors, capacity)``, plus a per-sensor count of readings ever appended. Reading ``k``
of a sensor goes to slot ``k % capacity``, so each sensor keeps its last ``capacity``
readings in **arrival order** (a late reading is stored where it arrives; queries sort by
observation time).

Query design (one rule everywhere):

* :meth:`History.last` gives one sensor's raw readings ``(times, values)`` sorted by time.
* :meth:`History.window` gives a ``(sensor, time)`` :class:`xarray.DataArray`. With
  ``step=None`` the time axis is the sorted union of the distinct observation times in the
  window (lossless; sensors polled together share instants) and a cell is NaN where that
  sensor has no reading at that instant. With ``step`` (s) the axis is regular: label
  ``t_k = start + k·step`` (k ≥ 1) holds the latest reading observed in ``(t_k − step, t_k]``,
  NaN if none — no interpolation, no fill-forward.
* Time coordinates of DataArrays are ``datetime64[ns]`` in UTC (naive); raw arrays are
  epoch seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numba
import numpy as np
import xarray as xr

DEFAULT_CAPACITY = 1024  # readings kept per sensor: e.g. ~17 min at 1 s, ~85 min at 5 s


@numba.njit(cache=True, nogil=True)
def _append_kernel(rows, times, values, ring_t, ring_v, count):  # pragma: no cover - compiled
    """Sequential slot assignment: repeats of a row in one batch take consecutive slots."""
    cap = ring_t.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        s = count[r] % cap
        ring_t[r, s] = times[i]
        ring_v[r, s] = values[i]
        count[r] += 1


def _to_datetime(t: np.ndarray) -> np.ndarray:
    """Epoch seconds → datetime64[ns] (UTC, naive)."""
    return (np.round(np.asarray(t, dtype=np.float64) * 1e9)).astype("datetime64[ns]")


class History:
    """Ring buffer of recent readings, sensor × slot.

    Parameters
    ----------
    n_sensors : int
        Number of sensor rows (same rows as :class:`twin.state.LiveState`).
    capacity_per_sensor : int
        Readings kept per sensor; older ones are overwritten.
    sensor_ids : sequence of str, optional
        Labels for the ``sensor`` coordinate; integer rows if omitted.
    """

    def __init__(
        self,
        n_sensors: int,
        capacity_per_sensor: int = DEFAULT_CAPACITY,
        sensor_ids: Sequence[str] | None = None,
    ) -> None:
        if capacity_per_sensor < 1:
            raise ValueError("History: capacity_per_sensor must be >= 1")
        if sensor_ids is not None and len(sensor_ids) != n_sensors:
            raise ValueError("History: len(sensor_ids) != n_sensors")
        self.n_sensors = int(n_sensors)
        self.capacity = int(capacity_per_sensor)
        self.sensor_ids = (
            np.arange(n_sensors) if sensor_ids is None else np.asarray(sensor_ids, dtype=object)
        )
        self.times = np.full((n_sensors, self.capacity), np.nan)
        self.values = np.full((n_sensors, self.capacity), np.nan, dtype=np.float32)
        self.count = np.zeros(n_sensors, dtype=np.int64)  # readings ever appended per sensor
        self._lock = threading.Lock()

    def append(self, rows: np.ndarray, times: np.ndarray, values: np.ndarray) -> None:
        """Append a batch of readings (vectorised; a row may repeat within the batch).

        Parameters
        ----------
        rows : array of int
            Sensor rows.
        times : array of float
            Observation times, epoch s UTC.
        values : array of float
            Values, SI units (stored as float32).
        """
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        n = rows.shape[0]
        if n == 0:
            return
        if rows.min() < 0 or rows.max() >= self.n_sensors:
            raise IndexError("History.append: row out of range")
        times = np.ascontiguousarray(np.broadcast_to(times, (n,)), dtype=np.float64)
        values = np.ascontiguousarray(np.broadcast_to(values, (n,)), dtype=np.float32)
        with self._lock:
            _append_kernel(rows, times, values, self.times, self.values, self.count)

    def _collect(self, rows: np.ndarray, start: float, end: float):
        """(sensor position, time, value) of readings with ``start < time <= end``."""
        with self._lock:
            t = self.times[rows]
            v = self.values[rows]
        # unfilled slots hold NaN times and drop out of the comparison
        pos, slot = np.nonzero((t > start) & (t <= end))
        return pos, t[pos, slot], v[pos, slot]

    def last(self, row: int, seconds: float, now: float) -> tuple[np.ndarray, np.ndarray]:
        """Readings of one sensor observed in ``(now - seconds, now]``, sorted by time.

        Returns
        -------
        times : numpy.ndarray of float64
            Epoch s UTC.
        values : numpy.ndarray of float32
            SI values.
        """
        _, t, v = self._collect(np.array([int(row)]), now - seconds, now)
        order = np.argsort(t, kind="stable")
        return t[order], v[order]

    def window(
        self,
        rows: Sequence[int] | np.ndarray,
        start: float,
        end: float,
        step: float | None = None,
    ) -> xr.DataArray:
        """Readings of ``rows`` observed in ``(start, end]`` as a ``(sensor, time)`` array.

        Parameters
        ----------
        rows : array of int
            Sensor rows, in the order of the ``sensor`` dimension.
        start, end : float
            Epoch s UTC; the window is open at ``start`` and closed at ``end``.
        step : float, optional
            Regular step, s. ``None``: union of the observation instants (see module doc).

        Returns
        -------
        xarray.DataArray
            float32 values, dims ``("sensor", "time")``, coords ``sensor`` (ids),
            ``row`` (ints) and ``time`` (datetime64[ns] UTC).
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        pos, t, v = self._collect(rows, start, end)
        if step is None:
            axis = np.unique(t)
            col = np.searchsorted(axis, t)
        else:
            if step <= 0:
                raise ValueError("History.window: step must be > 0")
            n_bins = int(np.ceil((end - start) / step - 1e-9))
            axis = start + step * np.arange(1, n_bins + 1)
            # label t_k covers (t_k - step, t_k]
            col = np.clip(np.ceil((t - start) / step - 1e-9).astype(np.int64) - 1, 0, n_bins - 1)
        grid = np.full((rows.size, axis.size), np.nan, dtype=np.float32)
        if t.size:
            key = pos * axis.size + col
            order = np.lexsort((t, key))
            k_sorted = key[order]
            # the latest reading of each (sensor, cell) is the last of its run in sorted order
            last = np.ones(order.size, dtype=bool)
            last[:-1] = k_sorted[1:] != k_sorted[:-1]
            pick = order[last]
            grid[pos[pick], col[pick]] = v[pick]
        return xr.DataArray(
            grid,
            dims=("sensor", "time"),
            coords={
                "sensor": self.sensor_ids[rows],
                "row": ("sensor", rows),
                "time": _to_datetime(axis),
            },
            name="value",
            attrs={"start_epoch_s": float(start), "end_epoch_s": float(end), "step_s": step or 0.0},
        )

    def last_minutes(self, row: int, minutes: float, now: float) -> tuple[np.ndarray, np.ndarray]:
        """ "Last N minutes of sensor S": :meth:`last` with ``seconds = 60 * minutes``."""
        return self.last(row, 60.0 * minutes, now)

    def grid_last_minutes(
        self,
        sensor_grid: np.ndarray,
        grid_id: str,
        minutes: float,
        now: float,
        step: float | None = None,
    ) -> xr.DataArray:
        """ "Last N minutes of all sensors of grid G" as a ``(sensor, time)`` array.

        Parameters
        ----------
        sensor_grid : array of str
            Grid id of every sensor row (the sensors layer's ``grid_id`` column, row order).
        grid_id : str
            The grid.
        minutes : float
            Window length, min.
        now : float
            Epoch s UTC (end of the window).
        step : float, optional
            Regular step, s (see :meth:`window`).
        """
        rows = np.flatnonzero(np.asarray(sensor_grid, dtype=object) == grid_id)
        return self.window(rows, now - 60.0 * minutes, now, step)

    def to_xarray(self) -> xr.Dataset:
        """The whole ring as a Dataset, slots ordered oldest → newest per sensor.

        Variables ``time`` (float64 epoch s UTC) and ``value`` (float32), dims
        ``("sensor", "slot")``; unfilled slots are NaN (they come first).
        """
        with self._lock:
            t = self.times.copy()
            v = self.values.copy()
            count = self.count.copy()
        cap = self.capacity
        # chronological slot k of sensor r is (count - cap + k) mod cap; pre-wrap rows are
        # shifted so their empty slots come first
        idx = (count[:, None] - cap + np.arange(cap)[None, :]) % cap
        return xr.Dataset(
            {
                "time": (("sensor", "slot"), np.take_along_axis(t, idx, axis=1)),
                "value": (("sensor", "slot"), np.take_along_axis(v, idx, axis=1)),
                "count": ("sensor", count),
            },
            coords={"sensor": self.sensor_ids, "slot": np.arange(cap)},
            attrs={"time_units": "seconds since 1970-01-01 00:00:00 UTC"},
        )
