"""The world's component base: declared fields on shared location tables, stepped by a driver.

World components follow :class:`sim.component.Component` (Landlab style): each declares the
fields it reads and writes (``FIELDS``), keeps **all** its evolving state in those fields, and
never calls another component. The driver (:class:`sim.world.world.World`) owns the field
store, binds it with the current time and a per-step random generator, and calls
``run_one_step(dt)`` on each component in :data:`sim.world.world.COMPONENTS` order.
Because state lives only in the store, the driver can step a copy (for a look between two
internal steps) without disturbing the committed state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.component import Component, FieldSpec
from sim.world.sites import Sites

#: location of scalar (district-wide) fields
WORLD = "world"


@dataclass
class Schedule:
    """Everything scheduled into the world from outside (read-only for components).

    Attributes
    ----------
    storms : list of sim.world.weather.Storm
    faults : list of sim.world.faults.Fault
    crowd_events : list of sim.world.crowds.CrowdEvent
    """

    storms: list[Any] = field(default_factory=list)
    faults: list[Any] = field(default_factory=list)
    crowd_events: list[Any] = field(default_factory=list)


class WorldComponent(Component):
    """A world process: declared fields on :class:`Sites` locations, state kept in fields.

    Parameters
    ----------
    sites : Sites
        Location tables of the district.
    schedule : Schedule
        Storms, faults and crowd events (shared with the driver, read-only here).
    utc_offset_s : float
        Local time offset east of UTC, s (daily cycles follow local time).
    """

    def __init__(self, sites: Sites, schedule: Schedule, *, utc_offset_s: float = 0.0) -> None:
        self._sites = sites
        self._schedule = schedule
        self._utc_offset_s = float(utc_offset_s)
        self._fields: dict[str, np.ndarray] = {}
        self._t = 0.0
        self._rng = np.random.default_rng(0)

    def bind(self, fields: dict[str, np.ndarray], t: float, rng: np.random.Generator) -> None:
        """Point the component at a field store; ``t`` is the time at the end of the next step."""
        self._fields = fields
        self._t = float(t)
        self._rng = rng

    def shape_of(self, name: str) -> tuple[int, ...]:
        """Array shape of a declared field: ``()`` for world scalars, ``(n_sites,)`` otherwise."""
        loc = self.FIELDS[name].location
        return () if loc == WORLD else (self._sites.size(loc),)

    def initialize(self) -> None:
        """Create this component's outputs (zeros) in the bound store, then set initial state."""
        for name, spec in self.FIELDS.items():
            if spec.intent in ("out", "inout") and name not in self._fields:
                self._fields[name] = np.zeros(self.shape_of(name), dtype=spec.dtype)
        self.set_initial_state()

    def set_initial_state(self) -> None:
        """Give state fields their starting values (default: keep zeros)."""

    def ou_step(self, name: str, dt: float, tau_s: float, sd: float) -> np.ndarray:
        """Advance an Ornstein–Uhlenbeck noise field exactly over ``dt``; returns it.

        The stationary standard deviation is ``sd`` and the correlation time ``tau_s``.
        """
        x = self._fields[name]
        a = np.exp(-dt / tau_s)
        x = x * a + sd * np.sqrt(1.0 - a * a) * self._rng.standard_normal(x.shape)
        self._fields[name] = x
        return x


__all__ = ["WORLD", "FieldSpec", "Schedule", "WorldComponent"]
