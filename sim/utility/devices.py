"""Silent field devices: every sensor a device carries gives no reading for a while."""

from __future__ import annotations

import numpy as np

#: consecutive polls with no reading from any of a device's sensors
SILENT_POLLS = 2


class DeviceWatch:
    """Counts consecutive silent polls per device.

    Parameters
    ----------
    device_of_sensor : numpy.ndarray
        Device id of each sensor row.
    reporting : numpy.ndarray
        Bool per sensor row: it normally reports (sensors never heard from are ignored).
    """

    def __init__(
        self, device_of_sensor: np.ndarray, reporting: np.ndarray, *, polls: int = SILENT_POLLS
    ) -> None:
        dev = np.asarray(device_of_sensor).astype(str)
        self.devices = np.unique(dev[reporting]) if reporting.any() else np.array([], str)
        index = {d: k for k, d in enumerate(self.devices)}
        self.rows = np.flatnonzero(reporting)
        self.dev_index = np.array([index[d] for d in dev[self.rows]], int)
        self.polls = polls
        self.count = np.zeros(len(self.devices), int)
        self.silent = np.zeros(len(self.devices), bool)

    def update(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed one poll of every sensor row; returns device ids newly silent / back.

        >>> w = DeviceWatch(np.array(["a", "a", "b"]), np.array([True, True, True]))
        >>> v = np.array([np.nan, np.nan, 1.0])
        >>> w.update(v)[0].tolist(), w.update(v)[0].tolist()
        ([], ['a'])
        """
        heard = np.bincount(
            self.dev_index, weights=np.isfinite(values[self.rows]), minlength=len(self.devices)
        )
        quiet = heard == 0
        self.count = np.where(quiet, self.count + 1, 0)
        new = ~self.silent & (self.count >= self.polls)
        back = self.silent & ~quiet
        self.silent = (self.silent | new) & ~back
        return self.devices[new], self.devices[back]
