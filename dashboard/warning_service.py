"""The warning service: nowcaster + engine + durable store + push (websocket, webhook), wired.

:class:`WarningService` runs one background thread. Every ``interval_s`` it runs a
:class:`sim.nowcast.driver.Nowcaster` cycle on the runtime's live state, and for each event
the engine returns it (1) **stores it durably** (:class:`twin.alertstore.AlertStore`), and
only then (2) publishes it on ``/ws/live`` through ``runtime.publish_event`` and (3) queues
it for the webhook. The websocket message is ``{"type": "warning", ...}`` carrying the
engine's own fields plus the keys the wall screen reads (``id`` = warning id, ``hazard``,
``level`` as colour name, ``level_num``, ``area_id``, ``lon``, ``lat``, ``headline_zh``,
``headline_en``, ``issued``).

Webhook: ``WEBHOOK_URL`` (settings) receives each event as JSON by POST; failures are retried
with exponential backoff (``WEBHOOK_RETRIES`` attempts, from ``WEBHOOK_BACKOFF_S``) by a
separate thread, so a slow receiver never delays the nowcast.

Acknowledgement (``POST /api/alerts/<id>/ack``) goes through :meth:`WarningService.acknowledge`:
the engine records who/when, the event is committed, then published.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely.geometry

from sim.warning.engine import iso, to_datetime
from twin.alertstore import AlertStore

log = logging.getLogger(__name__)

#: default nowcast cycle (wall seconds)
INTERVAL_S = 60.0
#: webhook attempts and first backoff (doubles each time), s
WEBHOOK_RETRIES = 6
WEBHOOK_BACKOFF_S = 1.0
WEBHOOK_TIMEOUT_S = 5.0
LEVEL_COLOURS = ("none", "blue", "yellow", "orange", "red")


def ws_message(event: dict[str, Any]) -> dict[str, Any]:
    """The websocket form of a warning event (see the module docstring)."""
    msg = dict(event)
    msg["type"] = "warning"
    msg["event_id"] = event["id"]
    msg["id"] = event["warning_id"]
    msg["level_num"] = int(event["level"])
    msg["level"] = LEVEL_COLOURS[int(event["level"])]
    lon = lat = None
    poly = event.get("polygon")
    if poly:
        c = shapely.geometry.shape(poly).centroid
        lon, lat = round(c.x, 6), round(c.y, 6)
    msg["lon"], msg["lat"] = lon, lat
    return msg


class Webhook:
    """POSTs events as JSON to one URL, retrying failures with exponential backoff."""

    def __init__(
        self,
        url: str,
        *,
        retries: int = WEBHOOK_RETRIES,
        backoff_s: float = WEBHOOK_BACKOFF_S,
        timeout_s: float = WEBHOOK_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.timeout_s = float(timeout_s)
        self.queue: queue.Queue = queue.Queue()
        self.delivered = 0
        self.failed = 0
        self.attempts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def post(self, event: dict[str, Any]) -> bool:
        """Deliver one event now, retrying; True when the receiver answered 2xx."""
        data = json.dumps(event, ensure_ascii=False, default=str).encode("utf-8")
        delay = self.backoff_s
        for attempt in range(1, self.retries + 1):
            self.attempts += 1
            req = urllib.request.Request(
                self.url, data=data, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    if 200 <= resp.status < 300:
                        self.delivered += 1
                        return True
            except Exception as exc:  # network errors and HTTP errors are retried alike
                log.debug("webhook attempt %d failed: %s", attempt, exc)
            if attempt < self.retries and self._stop.wait(delay):
                break
            delay *= 2.0
        self.failed += 1
        log.warning("webhook %s: event %s not delivered", self.url, event.get("id"))
        return False

    def start(self) -> None:
        """Deliver queued events from a background thread."""
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                event = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.post(event)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class WarningService:
    """Runs the nowcaster and turns its warning events into stored, pushed messages.

    Parameters
    ----------
    runtime : dashboard.runtime.TwinRuntime
        Live state and ``publish_event``.
    store : AlertStore
    nowcaster : sim.nowcast.driver.Nowcaster, optional
        Built from the runtime's registry and state when omitted.
    interval_s : float
        Seconds between cycles.
    clock : callable
        ``clock() -> UTC epoch s`` of the twin (wall clock by default).
    webhook_url : str, optional
    cap_status : str
        CAP ``status`` of exported messages (``Actual``; ``Exercise`` for drills).
    """

    def __init__(
        self,
        runtime: Any,
        store: AlertStore,
        *,
        nowcaster: Any = None,
        interval_s: float = INTERVAL_S,
        clock: Callable[[], float] = time.time,
        webhook_url: str | None = None,
        webhook_kwargs: dict[str, Any] | None = None,
        cap_status: str = "Actual",
    ) -> None:
        self.runtime = runtime
        self.store = store
        self._nowcaster = nowcaster
        self.interval_s = float(interval_s)
        self.clock = clock
        self.cap_status = cap_status
        self.webhook = Webhook(webhook_url, **(webhook_kwargs or {})) if webhook_url else None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cycles = 0
        self.last_cycle_s = 0.0
        self.last_error: str | None = None

    @property
    def current_nowcaster(self):
        """The nowcaster if one exists already, else None (never builds one: safe to call from
        request threads while the service's own thread owns the building)."""
        return self._nowcaster

    @property
    def nowcaster(self):
        """The nowcaster (built on first use: its flood grid takes seconds on a district)."""
        if self._nowcaster is None:
            from sim.nowcast.driver import Nowcaster

            self._nowcaster = Nowcaster(self.runtime.registry, self.runtime.state)
        return self._nowcaster

    @property
    def engine(self):
        return self.nowcaster.engine

    # -- the loop ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the cycle thread (and the webhook sender)."""
        if self.webhook is not None:
            self.webhook.start()
        self._thread = threading.Thread(target=self._run, name="warning-service", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.webhook is not None:
            self.webhook.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.cycle()
            except Exception as exc:  # one failed cycle must not end the warnings
                self.last_error = repr(exc)
                log.exception("warning cycle failed")
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def cycle(self, now: float | None = None) -> list[dict[str, Any]]:
        """One nowcast cycle at ``now`` (default the clock); returns the events emitted."""
        t = self.clock() if now is None else float(now)
        started = time.perf_counter()
        with self._lock:
            events = self.nowcaster.cycle(t)
            self._expire_orphans(t)
            for ev in events:
                self._deliver(ev)
        self.cycles += 1
        self.last_cycle_s = time.perf_counter() - started
        return events

    def _deliver(self, event: dict[str, Any]) -> None:
        if not self.store.append(event):
            return  # stored before: it was delivered then
        self.runtime.publish_event(ws_message(event))
        if self.webhook is not None:
            self.webhook.queue.put(event)

    def _expire_orphans(self, now: float) -> None:
        """End stored warnings this engine does not know (left by an earlier process)."""
        t = to_datetime(now)
        for w in self.store.active():
            if self.engine.get(w["warning_id"]) is not None:
                continue
            if to_datetime_iso(w["expires"]) <= t:
                ev = dict(w)
                ev.update(
                    id=f"{w['warning_id']}.restart-expired",
                    msg_type="Cancel",
                    action="expired",
                    status="expired",
                    sent=iso(t),
                    updated=iso(t),
                )
                self._deliver(ev)

    # -- operator actions --------------------------------------------------------------
    def acknowledge(self, warning_id: str, by: str, now: float | None = None) -> dict[str, Any]:
        """Record an acknowledgement; returns the Ack event after it is committed.

        Raises
        ------
        KeyError
            If the warning is not active in this process.
        """
        t = self.clock() if now is None else float(now)
        with self._lock:
            event = self.engine.acknowledge(warning_id, by, t)
            self._deliver(event)
        return event

    def status(self) -> dict[str, Any]:
        out = {
            "cycles": self.cycles,
            "last_cycle_s": round(self.last_cycle_s, 3),
            "active": len(self.store.active()),
            "last_error": self.last_error,
        }
        if self.webhook is not None:
            out["webhook"] = {"delivered": self.webhook.delivered, "failed": self.webhook.failed}
        return out


def to_datetime_iso(text: str):
    """Aware datetime of an ISO 8601 text with offset."""
    from datetime import datetime

    return datetime.fromisoformat(text)


def attach_warning_service(runtime: Any, settings: dict[str, Any] | None = None, **kwargs):
    """Create the service for a runtime (store in ``runtime.data_dir/alerts.sqlite``) and set
    it as ``runtime.warnings``, which ``runtime.start()`` starts and ``runtime.stop()`` stops.

    Settings read: ``WEBHOOK_URL``, ``WARNING_INTERVAL_S``, ``CAP_STATUS``.
    """
    settings = dict(settings or {})
    store = AlertStore(Path(runtime.data_dir) / "alerts.sqlite")
    kwargs.setdefault("webhook_url", settings.get("WEBHOOK_URL"))
    kwargs.setdefault("interval_s", float(settings.get("WARNING_INTERVAL_S", INTERVAL_S)))
    kwargs.setdefault("cap_status", settings.get("CAP_STATUS", "Actual"))
    service = WarningService(runtime, store, **kwargs)
    runtime.warnings = service
    return service
