"""Risk-based inspections on schedule: the serving process opens the due inspection tickets.

One background thread wakes every :data:`DEFAULT_INTERVAL_S` and calls
:func:`twin.events.inspections.generate_inspections` for the current UTC month: each building's
management level (1–4, graded from its twin data and its hazards of the year before the month)
sets 4, 3, 2 or 1 inspections a month, each slot's ticket is opened once its slot has started
and dispatched to a free crew of the building's grid. Tickets are keyed by building, month and
slot (``insp:<building>:<yyyy-mm>:<k>``), so a restart, a second run in the same hour or a
catch-up after downtime creates no duplicates. Rounds that found every grid crew busy are
dispatched on a later wake-up (:func:`twin.events.inspections.assign_waiting`).

The grade is fixed for the month (hazards counted up to the month's first second), so a month
holds exactly its level's number of rounds per building.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from dashboard.dispatch_service import dispatch_service_of
from twin.events.inspections import (
    YEAR_S,
    assign_waiting,
    generate_inspections,
    hazard_counts,
    month_bounds,
)
from twin.events.lifecycle import SYSTEM, TicketView
from twin.events.tickets import TicketStore

log = logging.getLogger(__name__)

#: how often the scheduler looks for due slots [s]; the shortest slot is a week
DEFAULT_INTERVAL_S = 3600.0
#: building columns the grading reads
GRADE_COLUMNS = ("building_id", "grid_id", "community_id", "use", "year_built",
                 "fire_resistance", "occupants", "elderly_alone", "disabled")  # fmt: skip


def month_of(t: float) -> str:
    """The UTC ``yyyy-mm`` month containing epoch second ``t``.

    >>> month_of(1_795_420_800.0)
    '2026-11'
    """
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m")


def inspection_frame(registry: Any) -> pd.DataFrame:
    """The registry's buildings as the generator wants them: grading columns, ``lon``/``lat``
    of a point inside each footprint (WGS 84 degrees) and ``node``, the nearest road junction
    (None without a road graph)."""
    b = registry.buildings
    out = pd.DataFrame({c: b[c].to_numpy() for c in GRADE_COLUMNS if c in b.columns})
    inside = b.geometry.representative_point()
    out["lon"], out["lat"] = inside.x.to_numpy(), inside.y.to_numpy()
    out["node"] = registry.nearest_road_nodes(out["lon"], out["lat"])
    return out


@dataclass(eq=False)
class InspectionScheduler:
    """Opens the due inspection tickets of every building, now and every ``interval_s``.

    Parameters
    ----------
    store : TicketStore
        The event store.
    buildings : DataFrame
        See :func:`inspection_frame`.
    registry : Registry, optional
        Places past tickets in buildings (the past-hazards factor); None leaves it out.
    clock : callable
        UTC epoch seconds.
    interval_s : float
        Seconds between wake-ups.
    assign : bool
        Dispatch rounds to free crews of the building's grid.
    """

    store: TicketStore
    buildings: pd.DataFrame
    registry: Any = None
    clock: Callable[[], float] = time.time
    interval_s: float = DEFAULT_INTERVAL_S
    assign: bool = True
    #: wake-ups so far and tickets opened by them
    runs: int = 0
    created: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _past: tuple[str, dict] = ("", {})

    def run_once(self) -> list[TicketView]:
        """Open the rounds due now that do not exist yet (and dispatch waiting ones)."""
        now = self.clock()
        month = month_of(now)
        created = generate_inspections(
            self.buildings,
            self.store,
            month,
            now,
            past_hazards=self._past_hazards(month),
            assign=self.assign,
            actor=SYSTEM,
        )
        if self.assign:
            assign_waiting(self.store, actor=SYSTEM)
        self.runs += 1
        self.created += len(created)
        return created

    def _past_hazards(self, month: str) -> dict:
        """Hazards per building in the year before the month (counted once a month)."""
        if self.registry is None:
            return {}
        if self._past[0] != month:
            start, _ = month_bounds(month)
            counts = hazard_counts(
                self.store, self.buildings, self.registry, start - YEAR_S, until=start
            )
            self._past = (month, counts)
        return self._past[1]

    def start(self) -> InspectionScheduler:
        """Run now and then every ``interval_s`` on a daemon thread; returns self."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="inspection-scheduler", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait for it (a run in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a failed run must not end the schedule; next wake-up retries
                log.exception("inspection run failed")
            self._stop.wait(self.interval_s)


def start_inspection_scheduler(
    runtime_or_service: Any,
    *,
    clock: Callable[[], float] | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
    assign: bool = True,
    start: bool = True,
) -> InspectionScheduler | None:
    """Schedule inspections for a serving app.

    Parameters
    ----------
    runtime_or_service : DispatchService, Dash app, Flask app or runtime
        Anything that leads to the dispatch service: the service itself (``.store`` and
        ``.registry``), an app built by :func:`dashboard.app.create_app` with an event store,
        or an object with a ``dispatch`` attribute holding one.
    clock : callable, optional
        UTC epoch seconds; default the ticket store's clock.
    interval_s : float
        Seconds between wake-ups.
    assign : bool
        Dispatch rounds to free crews of the building's grid.
    start : bool
        Start the thread now (False: call :meth:`InspectionScheduler.run_once` yourself).

    Returns
    -------
    InspectionScheduler or None
        None when no event store is wired (a registry-only app). Call ``stop()`` at shutdown.
    """
    svc = dispatch_service_of(runtime_or_service)
    if svc is None:
        return None
    scheduler = InspectionScheduler(
        store=svc.store,
        buildings=inspection_frame(svc.registry),
        registry=svc.registry,
        clock=clock or svc.store.clock,
        interval_s=interval_s,
        assign=assign,
    )
    return scheduler.start() if start else scheduler
