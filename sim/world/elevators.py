"""Elevators: status of each monitored elevator (0 ok, 1 fault, 2 trapped, 3 off).

A small Markov chain per elevator stepped on the world clock: an ok elevator faults at
``fault_rate_per_day`` (default once in 90 days) and traps passengers at ``trap_rate_per_day``
(once in 2 years); faults are repaired after an exponential time (mean 2 h), trapped
passengers are freed after one (mean 40 min). An elevator without power is off (3); one
forced by an ``elevator_trapped`` fault is trapped (2) for as long as the fault lasts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sim.world.base import FieldSpec, WorldComponent

OK, FAULT, TRAPPED, OFF = 0.0, 1.0, 2.0, 3.0


class Elevators(WorldComponent):
    """Elevator status with rare spontaneous faults.

    Parameters
    ----------
    fault_rate_per_day, trap_rate_per_day : float
        Spontaneous rates per elevator, 1/day (0 disables them).
    repair_mean_s, rescue_mean_s : float
        Mean time to repair a fault and to free trapped passengers, s.
    """

    _name = "Elevators"
    FIELDS = {
        "building__power_available": FieldSpec("1", "in", "1 supplied, 0 outage", "building"),
        "elevator__forced_trapped": FieldSpec("1", "in", "1 when forced trapped", "elevator"),
        "elevator__own_status": FieldSpec("1", "inout", "state: spontaneous status", "elevator"),
        "elevator__status": FieldSpec("1", "out", "0 ok, 1 fault, 2 trapped, 3 off", "elevator"),
    }

    def __init__(
        self,
        sites,
        schedule,
        *,
        utc_offset_s=0.0,
        fault_rate_per_day: float = 1 / 90,
        trap_rate_per_day: float = 1 / 730,
        repair_mean_s: float = 7200.0,
        rescue_mean_s: float = 2400.0,
    ):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        self.fault_rate = fault_rate_per_day / 86400.0
        self.trap_rate = trap_rate_per_day / 86400.0
        self.repair_rate, self.rescue_rate = 1 / repair_mean_s, 1 / rescue_mean_s
        self._building = sites["elevator"]["building"].to_numpy(int)

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def run_one_step(self, dt: float) -> None:
        f = self._fields
        s = f["elevator__own_status"]
        u = self._rng.random(s.shape)  # one draw per elevator and step, whatever happens
        if dt > 0:
            p_fault = 1 - np.exp(-self.fault_rate * dt)
            p_trap = 1 - np.exp(-self.trap_rate * dt)
            ok = s == OK
            new = s.copy()
            new[ok & (u < p_trap)] = TRAPPED
            new[ok & (u >= p_trap) & (u < p_trap + p_fault)] = FAULT
            new[(s == FAULT) & (u < 1 - np.exp(-self.repair_rate * dt))] = OK
            new[(s == TRAPPED) & (u < 1 - np.exp(-self.rescue_rate * dt))] = OK
            s = new
        f["elevator__own_status"] = s
        powered = np.ones_like(s)
        has_b = self._building >= 0
        powered[has_b] = f["building__power_available"][self._building[has_b]]
        status = np.where(powered > 0, s, OFF)
        f["elevator__status"] = np.where(f["elevator__forced_trapped"] > 0, TRAPPED, status)


def elevator_transitions(
    before: np.ndarray,
    after: np.ndarray,
    ids: Sequence[str],
    t: float,
    new_id: Callable[[str], str],
    log: list[dict[str, Any]],
    open_events: dict[int, dict[str, Any]],
) -> None:
    """Append spontaneous faults that began at ``t`` to ``log`` and close those repaired.

    ``open_events`` maps an elevator's row to its open log entry (updated in place).
    """
    for i in np.flatnonzero(after != before):
        if before[i] == OK:
            event = {
                "event_id": new_id("elevator"),
                "kind": "elevator_fault" if after[i] == FAULT else "elevator_trapped",
                "target": str(ids[i]),
                "start": t,
                "end": None,
                "params": {},
                "injected": False,
            }
            log.append(event)
            open_events[i] = event
        elif after[i] == OK and i in open_events:
            open_events.pop(i)["end"] = t
