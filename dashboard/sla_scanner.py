"""Time limits in the serving process: reminders and escalations fired when they fall due.

The timers themselves live in the event store (:mod:`twin.events.sla`: one row per reminder or
escalation, written with the ticket's transition), so they survive restarts; this scanner only
wakes every :data:`DEFAULT_INTERVAL_S`, fires what is due (:func:`twin.events.sla.due_actions`
marks each timer fired and audits it in one transaction, so a timer fires once even across a
crash) and tells the open pages: an ``{"type": "sla"}`` event on ``/ws/live`` per action (who is
told: the crew, the operator, the supervisor, the next level) and a ticket event when an
escalation raised the ticket's stage, so the dispatch page shows it at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from dashboard.dispatch_service import dispatch_service_of
from dashboard.ticket_feed import publish_ticket
from twin.events.sla import SlaAction, due_actions

log = logging.getLogger(__name__)

#: seconds between two scans; the shortest time limit is minutes, reminders come earlier
DEFAULT_INTERVAL_S = 15.0


def sla_event(action: SlaAction) -> dict[str, Any]:
    """The live-feed event of one fired timer (public ``ref`` only, no free text)."""
    return {
        "type": "sla",
        "kind": action.kind,  # remind | escalate
        "stage": int(action.stage),
        "ref": action.ticket_ref,
        "milestone": action.milestone,
        "notify": action.notify_role,
        "crew_id": action.crew_id,
        "deadline_at": action.deadline_at,
    }


class SlaScanner:
    """Fires due SLA timers of one dispatch service every ``interval_s`` seconds.

    Parameters
    ----------
    service : DispatchService
        Its ``store`` (timers) and ``runtime`` (live feed; may be None).
    clock : callable
        UTC epoch seconds (the ticket store's clock by default).
    interval_s : float
        Seconds between scans.
    """

    def __init__(
        self,
        service: Any,
        *,
        clock: Callable[[], float] | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self.service = service
        self.clock = clock or service.store.clock
        self.interval_s = interval_s
        self.fired = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[SlaAction]:
        """Fire what is due now and publish it; returns the actions."""
        actions = due_actions(self.service.store.sessions, self.clock())
        runtime = getattr(self.service, "runtime", None)
        publish = getattr(runtime, "publish_event", None)
        for a in actions:
            if publish is not None:
                publish({"at": time.time(), **sla_event(a)})
            if a.kind == "escalate":
                publish_ticket(runtime, self.service.store.get(a.ticket_id), "escalate")
        self.fired += len(actions)
        return actions

    def start(self) -> SlaScanner:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.run_once()
                except Exception:  # a failed scan is retried at the next one; timers stay due
                    log.exception("SLA scan failed")
                self._stop.wait(self.interval_s)

        self._thread = threading.Thread(target=loop, name="sla-scanner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_sla_scanner(app_or_service: Any, **kwargs: Any) -> SlaScanner | None:
    """Start the scanner of a serving app (None without an event store)."""
    svc = dispatch_service_of(app_or_service)
    return None if svc is None else SlaScanner(svc, **kwargs).start()
