"""The world driver: ground truth of the district evolving in simulated time.

:class:`World` owns the field store and steps the components of :data:`COMPONENTS` in order
on a fixed grid of internal steps (``DT_S`` = 60 s) counted from ``t0``. The committed state
always sits on that grid; a look at a time between two grid points steps a *copy* of the
store over the remainder. Every internal step k draws from its own generator seeded by
``(seed, k)``, so a run is identical for a seed whatever way ``advance_to`` calls split it.

The twin never reads this object: field devices read :meth:`World.sensor_values`, scoring
reads :meth:`World.truth` and :meth:`World.events`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.world.base import Schedule, WorldComponent
from sim.world.clock import utc_offset_seconds
from sim.world.crowds import CrowdEvent, Crowds
from sim.world.elevators import Elevators, elevator_transitions
from sim.world.faults import SENSOR_FAULTS, Fault, FaultForcing, fault_params, target_exists
from sim.world.hydrology import Drains, River, RoadPonding
from sim.world.indoor import IndoorClimate
from sim.world.meters import Demand
from sim.world.sensors import SensorReadout
from sim.world.sites import Sites, build_sites
from sim.world.truth import event_rows, truth_at
from sim.world.water import WaterNetwork
from sim.world.weather import DEFAULT_DIRECTION_DEG, DEFAULT_SPEED_M_S, Weather, make_storm
from twin.schema import DEFAULT_METRIC_CRS, GEOGRAPHIC_CRS

#: internal step, s
DT_S = 60.0
#: the world's processes in run order (each reads only fields written before it or itself)
COMPONENTS: tuple[type[WorldComponent], ...] = (
    Weather,
    FaultForcing,
    River,
    Drains,
    RoadPonding,
    Crowds,
    Demand,
    WaterNetwork,
    IndoorClimate,
    Elevators,
)
_SENSOR_STREAM = 7919  # separates the sensor-noise seeds from the step seeds


class World:
    """Ground truth of a district, evolving in simulated time.

    Parameters
    ----------
    registry : twin.registry.Registry
        The district (sensors, buildings, facilities, networks, DEM, meta).
    seed : int
        Seed of every random draw (non-negative).
    t0 : float, optional
        Simulated UTC epoch seconds at the start; default: the wall clock now, floored to
        the minute (runs with the same ``t0`` and seed are identical).
    speed : float
        Simulated seconds per wall second, used by :meth:`run_realtime`.
    background_rain : bool
        Run the dry/drizzle regime between storms.
    sensor_noise : bool
        Add measurement noise to readings.
    spontaneous_faults : bool
        Let elevators fault on their own (rarely).
    params : dict, optional
        Component name → keyword parameters, e.g. ``{"River": {"k_s": 3600}}``.
    """

    def __init__(
        self,
        registry: Any,
        *,
        seed: int = 0,
        t0: float | None = None,
        speed: float = 1.0,
        background_rain: bool = True,
        sensor_noise: bool = True,
        spontaneous_faults: bool = True,
        params: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        if seed < 0:
            raise ValueError("seed must be non-negative")
        self.registry = registry
        self.seed = int(seed)
        self.t0 = float(np.floor(time.time() / DT_S) * DT_S if t0 is None else t0)
        self.speed = float(speed)
        self.sensor_noise = sensor_noise
        self.utc_offset_s = utc_offset_seconds(registry.meta.get("utc_offset", "+08:00"))
        self.sites: Sites = build_sites(registry)
        self.schedule = Schedule()
        params = dict(params or {})
        if not background_rain:
            params.setdefault("Weather", {})["background_rain"] = False
        if not spontaneous_faults:
            params.setdefault("Elevators", {}).update(fault_rate_per_day=0.0, trap_rate_per_day=0.0)
        self.components = [
            cls(
                self.sites,
                self.schedule,
                utc_offset_s=self.utc_offset_s,
                **params.get(cls._name, {}),
            )
            for cls in COMPONENTS
        ]
        self.readout = SensorReadout(registry.sensors, self.sites)
        self._lock = threading.RLock()
        self._k = 0  # committed internal steps
        self._t = self.t0
        self._fields: dict[str, np.ndarray] = {}
        rng = self._step_rng(0)
        for comp in self.components:
            comp.bind(self._fields, self.t0, rng)
            comp.initialize()
        self._view: dict[str, np.ndarray] | None = self._fields
        self._held: dict[str, float] = {}
        self._counter = 0
        self._spontaneous: list[dict[str, Any]] = []
        self._open_spontaneous: dict[int, dict[str, Any]] = {}
        self._feeders = set(self.sites["building"]["feeder_id"])
        with contextlib.suppress(AttributeError, KeyError):
            self._feeders |= set(registry.power_feeders["feeder_id"].astype(str))

    # -- time ------------------------------------------------------------------------------
    @property
    def t(self) -> float:
        """Current simulated time, UTC epoch s."""
        return self._t

    @property
    def t_committed(self) -> float:
        """Time of the last internal grid step, UTC epoch s."""
        return self.t0 + self._k * DT_S

    def _step_rng(self, k: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, k])

    def _step(self, fields: dict[str, np.ndarray], k: int, t_end: float, dt: float) -> None:
        rng = self._step_rng(k + 1)
        for comp in self.components:
            comp.bind(fields, t_end, rng)
            comp.run_one_step(dt)

    def advance_to(self, t: float) -> None:
        """Advance the world to simulated time ``t`` (UTC epoch s, not before :attr:`t`)."""
        with self._lock:
            if t < self._t - 1e-9:
                raise ValueError(f"cannot go back in time ({t} < {self._t})")
            while self.t_committed + DT_S <= t + 1e-9:
                self._record_stuck_values(self.t_committed, self.t_committed + DT_S)
                before = self._fields["elevator__own_status"].copy()
                self._step(self._fields, self._k, self.t_committed + DT_S, DT_S)
                self._k += 1
                self._record_elevators(before)
            self._t = max(self._t, float(t))
            self._view = None

    def _current(self) -> dict[str, np.ndarray]:
        """The field store at :attr:`t` (the committed one, or a stepped copy)."""
        if self._view is None:
            rest = self._t - self.t_committed
            if rest <= 1e-9:
                self._view = self._fields
            else:
                view = {k: np.array(v, copy=True) for k, v in self._fields.items()}
                self._step(view, self._k, self._t, rest)
                self._view = view
        return self._view

    def run_realtime(
        self,
        *,
        stop: threading.Event | None = None,
        tick_s: float = 1.0,
        on_tick: Callable[[World], None] | None = None,
    ) -> None:
        """Advance with the wall clock (``speed`` simulated s per wall s) until ``stop`` is set.

        Parameters
        ----------
        stop : threading.Event, optional
            Set it to return.
        tick_s : float
            Wall seconds between advances.
        on_tick : callable, optional
            Called with the world after each advance (e.g. to push readings to devices).
        """
        stop = stop or threading.Event()
        wall0, sim0 = time.monotonic(), self.t
        while not stop.is_set():
            self.advance_to(sim0 + self.speed * (time.monotonic() - wall0))
            if on_tick is not None:
                on_tick(self)
            stop.wait(tick_s)

    # -- readings and truth ----------------------------------------------------------------
    def sensor_values(self) -> np.ndarray:
        """Readings of every registry sensor row at :attr:`t` (SI units, NaN = silent).

        Includes measurement noise and sensor faults (stuck, drift, silent device).
        """
        with self._lock:
            fields = self._current()
            truth = self.readout.true_values(fields)
            self._fill_pending_stuck()
            rng = None
            if self.sensor_noise:
                ms = int(round((self._t - self.t0) * 1000.0))
                rng = np.random.default_rng([self.seed, _SENSOR_STREAM, ms])
            return self.readout.readings(truth, self._t, self.schedule.faults, self._held, rng)

    def sensor_truth(self) -> np.ndarray:
        """Noise- and fault-free true value of every registry sensor row at :attr:`t`."""
        with self._lock:
            return self.readout.true_values(self._current())

    def field(self, name: str) -> np.ndarray:
        """A copy of one world field at :attr:`t` (see each component's ``FIELDS``)."""
        with self._lock:
            return np.array(self._current()[name], copy=True)

    def truth(self) -> dict[str, Any]:
        """The true state at :attr:`t`, per location (see :func:`sim.world.truth.truth_at`)."""
        with self._lock:
            fields = self._current()
            ponding = self.components[COMPONENTS.index(RoadPonding)]
            return truth_at(
                fields,
                self.sites,
                self.readout,
                self.schedule.faults,
                self.events(),
                self._t,
                road_factors=ponding.factors,
            )

    # -- scheduling --------------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter:04d}"

    def start_storm(
        self,
        *,
        total_mm: float,
        duration_s: float,
        center: tuple[float, float] | None = None,
        speed_m_s: float = DEFAULT_SPEED_M_S,
        direction_deg: float = DEFAULT_DIRECTION_DEG,
        at: float | None = None,
        radius_m: float | None = None,
    ) -> str:
        """Schedule a moving rain cell; returns its event id.

        Parameters
        ----------
        total_mm : float
            Rain accumulated over the event at ``center``, mm.
        duration_s : float
            Event length, s.
        center : (x, y), optional
            Point the cell passes at mid-event: metric CRS (m), or WGS 84 (lon, lat) degrees
            when both values are within ±180/±90; default the district centre.
        speed_m_s, direction_deg : float
            Cell motion: speed (m/s) and heading (degrees clockwise from north).
        at : float, optional
            Start, UTC epoch s; default now.
        radius_m : float, optional
            Gaussian radius of the cell, m (default :data:`sim.world.weather.DEFAULT_RADIUS_M`).
        """
        with self._lock:
            extra = {} if radius_m is None else {"radius_m": radius_m}
            storm = make_storm(
                self._new_id("storm"),
                start=self._t if at is None else float(at),
                total_mm=total_mm,
                duration_s=duration_s,
                center=self.sites.center if center is None else self._metric_point(center),
                speed_m_s=speed_m_s,
                direction_deg=direction_deg,
                **extra,
            )
            self.schedule.storms.append(storm)
            self._view = None
            return storm.event_id

    def _metric_point(self, point: tuple[float, float]) -> tuple[float, float]:
        """A point in the metric CRS; (lon, lat) in degrees are projected."""
        x, y = float(point[0]), float(point[1])
        if abs(x) <= 180.0 and abs(y) <= 90.0:
            from pyproj import Transformer

            crs = self.registry.meta.get("metric_crs", DEFAULT_METRIC_CRS)
            x, y = Transformer.from_crs(GEOGRAPHIC_CRS, crs, always_xy=True).transform(x, y)
        return float(x), float(y)

    def schedule_crowd_event(
        self, facility_id: str, at: float, duration_s: float, peak_people: float
    ) -> str:
        """Schedule a gathering at a crowd place; returns its event id.

        The count ramps to ``peak_people`` (people) over min(15 min, duration/4), holds, and
        ramps back; ``at`` is UTC epoch s and ``duration_s`` s.
        """
        with self._lock:
            if facility_id not in self.sites.position("place"):
                raise ValueError(f"{facility_id!r} is not a crowd place of this district")
            event = CrowdEvent(
                self._new_id("crowd"), facility_id, float(at), float(duration_s), float(peak_people)
            )
            self.schedule.crowd_events.append(event)
            self._view = None
            return event.event_id

    def inject_fault(
        self,
        kind: str,
        target: str,
        *,
        at: float | None = None,
        duration_s: float | None = None,
        **params: Any,
    ) -> str:
        """Schedule a fault; returns its event id.

        Parameters
        ----------
        kind : str
            A key of :data:`sim.world.faults.FAULT_KINDS`: ``pipe_burst`` (pipe_id;
            ``leak_m3_s``, ``pressure_loss``), ``feeder_outage`` (feeder_id), ``gas_leak``
            (building_id; ``concentration`` fraction of LEL, ``flow_m3_s``), ``smoke``
            (building_id), ``elevator_trapped`` (elevator sensor or building id),
            ``sensor_stuck`` / ``sensor_drift`` (sensor_id; ``rate`` SI units per s),
            ``device_silent`` (device_id).
        target : str
            Id of what fails.
        at : float, optional
            Start, UTC epoch s; default now.
        duration_s : float, optional
            Length, s; default until :meth:`clear_fault`.
        """
        with self._lock:
            p = fault_params(kind, params)
            if not target_exists(kind, str(target), self.sites, self.readout, self._feeders):
                raise ValueError(f"{kind}: unknown target {target!r}")
            start = self._t if at is None else float(at)
            fault = Fault(
                self._new_id("fault"),
                kind,
                str(target),
                start,
                None if duration_s is None else start + float(duration_s),
                p,
            )
            self.schedule.faults.append(fault)
            if kind == "sensor_stuck" and start <= self.t_committed + 1e-9:
                self._held[fault.event_id] = float(
                    self.readout.true_values(self._fields)[self.readout.row[target]]
                )
            self._view = None
            return fault.event_id

    def clear_fault(self, event_id: str, *, at: float | None = None) -> None:
        """End an open fault at ``at`` (UTC epoch s; default now)."""
        with self._lock:
            for i, fault in enumerate(self.schedule.faults):
                if fault.event_id == event_id:
                    end = self._t if at is None else float(at)
                    self.schedule.faults[i] = Fault(
                        fault.event_id, fault.kind, fault.target, fault.start, end, fault.params
                    )
                    self._view = None
                    return
            raise KeyError(event_id)

    def _record_stuck_values(self, t_from: float, t_to: float) -> None:
        """Before stepping past a stuck fault's start, keep the true value it will repeat."""
        pending = [
            f
            for f in self.schedule.faults
            if f.kind == "sensor_stuck" and f.event_id not in self._held and f.start <= t_to
        ]
        if pending:
            truth = self.readout.true_values(self._fields)
            for f in pending:
                self._held[f.event_id] = float(truth[self.readout.row[f.target]])

    def _fill_pending_stuck(self) -> None:
        for f in self.schedule.faults:
            if f.kind == "sensor_stuck" and f.event_id not in self._held and f.start <= self._t:
                self._record_stuck_values(self.t_committed, self._t)
                return

    def _record_elevators(self, before: np.ndarray) -> None:
        """Log spontaneous elevator faults (committed steps only, so splits don't matter)."""
        elevator_transitions(
            before,
            self._fields["elevator__own_status"],
            self.sites["elevator"].index,
            self.t_committed,
            self._new_id,
            self._spontaneous,
            self._open_spontaneous,
        )

    def events(self) -> list[dict[str, Any]]:
        """Storms, faults and crowd events (injected) and spontaneous elevator faults.

        Each row: ``event_id``, ``kind``, ``target``, ``start``, ``end`` (UTC epoch s,
        ``None`` while open), ``params`` and ``injected``.
        """
        with self._lock:
            return event_rows(self.schedule, self._spontaneous)


__all__ = ["COMPONENTS", "DT_S", "SENSOR_FAULTS", "World"]
