"""Fault injection: the catalogue of fault kinds and the forcing fields they impose on the world.

Faults are scheduled data (:class:`Fault`); :class:`FaultForcing` turns the faults active at
the current time into fields that the physical components read (power availability, smoke,
gas leaks, pipe bursts, forced elevator states). Sensor faults (stuck, drift, silent device)
act on readings, not on the world, and are applied by :mod:`sim.world.sensors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.world.base import FieldSpec, WorldComponent

#: fault kind → (what the target names, default parameters, doc)
FAULT_KINDS: dict[str, tuple[str, dict[str, float], str]] = {
    "pipe_burst": (
        "water_pipe",
        {"leak_m3_s": 0.05, "pressure_loss": 0.65, "ramp_s": 60.0},
        "a water main bursts: leak flow at its downstream end, downstream pressure drops",
    ),
    "feeder_outage": ("feeder", {}, "a 10 kV feeder trips: its buildings lose power"),
    "gas_leak": (
        "building",
        {"concentration": 0.5, "flow_m3_s": 3e-4},
        "gas leaks in a building: concentration (fraction of LEL) and gas flow rise",
    ),
    "smoke": ("building", {}, "fire smoke in a building: smoke alarm, temperature rises"),
    "elevator_trapped": ("elevator", {}, "an elevator stops with people trapped"),
    "sensor_stuck": ("sensor", {}, "a sensor repeats the value it had when the fault began"),
    "sensor_drift": (
        "sensor",
        {"rate": float("nan")},
        "a sensor drifts linearly by `rate` SI units per second (default: per quantity)",
    ),
    "device_silent": ("device", {}, "a field device stops answering: all its sensors NaN"),
}
#: fault kinds that act on readings rather than on the world
SENSOR_FAULTS = ("sensor_stuck", "sensor_drift", "device_silent")


@dataclass(frozen=True)
class Fault:
    """One injected fault (truth for scoring).

    Attributes
    ----------
    event_id, kind, target : str
    start : float
        UTC epoch s.
    end : float or None
        UTC epoch s; ``None`` while open-ended.
    params : dict
        Kind defaults updated by the caller's keyword arguments.
    """

    event_id: str
    kind: str
    target: str
    start: float
    end: float | None
    params: dict[str, Any] = field(default_factory=dict)

    def active(self, t: float) -> bool:
        """Whether the fault acts at time ``t``."""
        return self.start <= t and (self.end is None or t < self.end)


class FaultForcing(WorldComponent):
    """Fields imposed on the world by the world faults active at the current time."""

    _name = "FaultForcing"
    FIELDS = {
        "building__power_available": FieldSpec("1", "out", "1 supplied, 0 outage", "building"),
        "building__smoke_source": FieldSpec("1", "out", "1 while a fire smokes", "building"),
        "building__gas_leak_level": FieldSpec(
            "1", "out", "gas fraction of LEL a leak tends to", "building"
        ),
        "building__gas_leak_flow": FieldSpec("m3 s-1", "out", "gas lost by a leak", "building"),
        "water_pipe__burst": FieldSpec("1", "out", "burst severity 0..1", "water_pipe"),
        "water_pipe__leak_flow": FieldSpec("m3 s-1", "out", "burst leak flow", "water_pipe"),
        "water_pipe__pressure_loss": FieldSpec(
            "1", "out", "fraction of pressure lost downstream", "water_pipe"
        ),
        "elevator__forced_trapped": FieldSpec("1", "out", "1 when forced trapped", "elevator"),
    }

    def __init__(self, sites, schedule, *, utc_offset_s=0.0):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        b = sites["building"]
        self._b_pos = sites.position("building")
        self._feeder = b["feeder_id"].to_numpy()
        self._pipe_pos = sites.position("water_pipe")
        self._elev_pos = sites.position("elevator")
        self._elev_building = sites["elevator"]["building_id"].to_numpy()

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def run_one_step(self, dt: float) -> None:
        f, t = self._fields, self._t
        power = np.ones(self.shape_of("building__power_available"))
        smoke = np.zeros_like(power)
        gas_level = np.zeros_like(power)
        gas_flow = np.zeros_like(power)
        burst = np.zeros(self.shape_of("water_pipe__burst"))
        leak = np.zeros_like(burst)
        loss = np.zeros_like(burst)
        trapped = np.zeros(self.shape_of("elevator__forced_trapped"))
        for fault in self._schedule.faults:
            if not fault.active(t):
                continue
            p = fault.params
            if fault.kind == "feeder_outage":
                power[self._feeder == fault.target] = 0.0
            elif fault.kind == "smoke":
                smoke[self._b_pos[fault.target]] = 1.0
            elif fault.kind == "gas_leak":
                i = self._b_pos[fault.target]
                gas_level[i] = max(gas_level[i], p["concentration"])
                gas_flow[i] += p["flow_m3_s"]
            elif fault.kind == "pipe_burst":
                i = self._pipe_pos[fault.target]
                sev = min(1.0, (t - fault.start) / p["ramp_s"]) if p["ramp_s"] > 0 else 1.0
                burst[i] = max(burst[i], sev)
                leak[i] += sev * p["leak_m3_s"]
                loss[i] = max(loss[i], sev * p["pressure_loss"])
            elif fault.kind == "elevator_trapped":
                if fault.target in self._elev_pos:
                    trapped[self._elev_pos[fault.target]] = 1.0
                else:
                    trapped[self._elev_building == fault.target] = 1.0
        f["building__power_available"] = power
        f["building__smoke_source"] = smoke
        f["building__gas_leak_level"] = gas_level
        f["building__gas_leak_flow"] = gas_flow
        f["water_pipe__burst"] = burst
        f["water_pipe__leak_flow"] = leak
        f["water_pipe__pressure_loss"] = loss
        f["elevator__forced_trapped"] = trapped


def fault_params(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """Defaults of ``kind`` updated by ``given``; unknown kinds or parameters raise ValueError."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS)}")
    defaults = dict(FAULT_KINDS[kind][1])
    unknown = set(given) - set(defaults)
    if unknown:
        raise ValueError(f"{kind} takes no parameter(s) {sorted(unknown)}")
    defaults.update(given)
    return {
        k: (float(v) if isinstance(v, (int, float, np.floating)) else v)
        for k, v in defaults.items()
    }


def target_exists(kind: str, target: str, sites: Any, readout: Any, feeders: set[str]) -> bool:
    """Whether ``target`` names something a fault of ``kind`` can hit in this world."""
    what = FAULT_KINDS[kind][0]
    if what == "water_pipe":
        return target in sites.position("water_pipe")
    if what == "feeder":
        return target in feeders
    if what == "building":
        return target in sites.position("building")
    if what == "elevator":
        elevators = sites["elevator"]
        return target in sites.position("elevator") or target in set(elevators["building_id"])
    if what == "sensor":
        return target in readout.row
    return target in set(readout.devices)
