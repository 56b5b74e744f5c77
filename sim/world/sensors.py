"""What the field devices read: world truth mapped to sensor rows, with noise and sensor faults.

Each sensor row of the registry reads one truth field at one site (:data:`SOURCES`), adds
measurement noise (:data:`NOISE`), saturates at its ``min_value``/``max_value`` and then
suffers its sensor faults: *stuck* holds the noise-free true value it had at the last internal
step at or before the fault began, *drift* adds ``rate × (t − start)``, and a *silent device*
gives NaN for every sensor it carries.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.world.sites import Sites

#: quantity → (truth field, location, key: "entity" or "sensor")
SOURCES: dict[str, tuple[str, str, str]] = {
    "rain__intensity": ("gauge__rain_intensity", "gauge", "sensor"),
    "river__water_level": ("river__water_level", "river", "entity"),
    "drain__water_depth": ("drain__water_depth", "drain", "entity"),
    "road__water_depth": ("road__water_depth", "road", "entity"),
    "building__smoke_alarm": ("building__smoke_alarm", "building", "entity"),
    "building__air_temperature": ("building__air_temperature", "building", "entity"),
    "building__gas_concentration": ("building__gas_concentration", "building", "entity"),
    "building__relative_humidity": ("building__relative_humidity", "building", "entity"),
    "building__power_demand": ("building__power_demand", "building", "entity"),
    "building__gas_flow_rate": ("building__gas_flow_rate", "building", "entity"),
    "place__people_count": ("place__people_count", "place", "entity"),
    "water_node__pressure": ("water_node__pressure", "water_node", "entity"),
    "water_pipe__flow_rate": ("water_pipe__flow_rate", "water_pipe", "entity"),
    "elevator__status": ("elevator__status", "elevator", "sensor"),
}

_DAY = 86400.0
#: quantity → (absolute noise sd, relative noise sd, default drift per s, round to integer,
#: zero stays zero). SI units; sd values are typical instrument accuracies.
NOISE: dict[str, tuple[float, float, float, bool, bool]] = {
    "rain__intensity": (0.0, 0.03, 2e-3 / 3600 / _DAY, False, True),
    "river__water_level": (0.005, 0.0, 0.2 / _DAY, False, False),
    "drain__water_depth": (0.005, 0.0, 0.2 / _DAY, False, False),
    "road__water_depth": (0.002, 0.0, 0.05 / _DAY, False, True),
    "building__smoke_alarm": (0.0, 0.0, 0.0, True, False),
    "building__air_temperature": (0.1, 0.0, 2.0 / _DAY, False, False),
    "building__gas_concentration": (0.002, 0.0, 0.05 / _DAY, False, True),
    "building__relative_humidity": (0.01, 0.0, 0.05 / _DAY, False, False),
    "building__power_demand": (0.0, 0.01, 5e3 / _DAY, False, True),
    "building__gas_flow_rate": (0.0, 0.01, 1e-3 / _DAY, False, True),
    "place__people_count": (0.0, 0.03, 50.0 / _DAY, True, False),
    "water_node__pressure": (500.0, 0.0, 3e4 / _DAY, False, False),
    "water_pipe__flow_rate": (0.0, 0.01, 5e-3 / _DAY, False, False),
    "elevator__status": (0.0, 0.0, 0.0, True, False),
}


class SensorReadout:
    """Gathers truth for every sensor row and turns it into readings.

    Parameters
    ----------
    sensors : pandas.DataFrame
        The registry's sensors layer (row order is kept).
    sites : Sites
        Location tables of the world.
    """

    def __init__(self, sensors: pd.DataFrame, sites: Sites) -> None:
        self.ids = sensors["sensor_id"].astype(str).to_numpy()
        self.devices = sensors["device_id"].astype(str).to_numpy()
        self.quantity = sensors["quantity"].astype(str).to_numpy()
        self.lo = sensors["min_value"].to_numpy(float)
        self.hi = sensors["max_value"].to_numpy(float)
        self.row = {k: i for i, k in enumerate(self.ids)}
        entity = sensors["entity_id"].astype(str).to_numpy()
        n = len(self.ids)
        #: per sensor: truth field and site position (-1: no truth → NaN)
        self.field = np.array([""] * n, dtype=object)
        self.site = np.full(n, -1)
        positions = {loc: sites.position(loc) for loc in sites.tables}
        for i in range(n):
            src = SOURCES.get(self.quantity[i])
            if src is None:
                continue
            name, loc, key = src
            j = positions[loc].get(self.ids[i] if key == "sensor" else entity[i])
            if j is not None:
                self.field[i], self.site[i] = name, j
        self._groups = [
            (name, np.flatnonzero(self.field == name)) for name in sorted(set(self.field) - {""})
        ]
        params = np.array([NOISE.get(q, (0.0, 0.0, 0.0, False, False)) for q in self.quantity])
        params = params.reshape(n, 5)
        self.abs_sd, self.rel_sd, self.drift = (params[:, k].astype(float) for k in range(3))
        self.integer = params[:, 3].astype(bool)
        self.zero_stays = params[:, 4].astype(bool)

    def true_values(self, fields: dict[str, np.ndarray]) -> np.ndarray:
        """Noise-free true value of every sensor row (NaN where no truth exists)."""
        out = np.full(len(self.ids), np.nan)
        for name, rows in self._groups:
            out[rows] = np.asarray(fields[name], float)[self.site[rows]]
        return out

    def readings(
        self,
        truth: np.ndarray,
        t: float,
        faults: list[Any],
        held: dict[str, float],
        rng: np.random.Generator | None,
    ) -> np.ndarray:
        """Readings at time ``t`` from the true values.

        Parameters
        ----------
        truth : numpy.ndarray
            :meth:`true_values` at ``t``.
        faults : list of sim.world.faults.Fault
            All faults (only active sensor faults are applied).
        held : dict
            Stuck fault event id → held true value.
        rng : numpy.random.Generator or None
            Noise source; ``None`` for noise-free readings.
        """
        value = truth.copy()
        if rng is not None:
            eps = rng.standard_normal((2, len(value)))
            noise = self.abs_sd * eps[0] + self.rel_sd * np.abs(truth) * eps[1]
            value = value + np.where(self.zero_stays & (truth <= 0), 0.0, noise)
        for fault in faults:
            if not fault.active(t):
                continue
            if fault.kind == "sensor_stuck":
                i = self.row[fault.target]
                value[i] = held.get(fault.event_id, value[i])
            elif fault.kind == "sensor_drift":
                i = self.row[fault.target]
                rate = fault.params.get("rate", float("nan"))
                rate = self.drift[i] if not np.isfinite(rate) else rate
                value[i] = value[i] + rate * (t - fault.start)
        value = np.clip(value, self.lo, self.hi)
        value = np.where(self.integer, np.round(value), value)
        for fault in faults:
            if fault.kind == "device_silent" and fault.active(t):
                value[self.devices == fault.target] = np.nan
        return value
