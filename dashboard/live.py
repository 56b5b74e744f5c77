"""The live hub behind ``/ws/live``: coalesced values at ≤ 2 Hz per client, events never dropped.

Each browser gets a :class:`LiveClient` with its own bounded queue, so a slow or dead client
never stalls ingest or the other clients. Live values coalesce (a client only ever gets the
newest value of a sensor); events are queued in order, and a client whose event queue overflows
is told to ``resync`` (re-read state and events over REST) instead of silently losing them.

Wire format (JSON text frames)::

    {"type": "hello", "sensors": n, "version": v}
    {"type": "values", "version": v, "ids": [...], "value": [...], "quality": [...], "t": [...]}
    {"type": "event", "event": {...}}
    {"type": "resync", "reason": "..."}
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: per-client event queue length before the client is told to resync
MAX_EVENTS_PER_CLIENT = 1000
#: minimum seconds between two value frames to one client (2 Hz)
MIN_VALUE_INTERVAL_S = 0.5


class LiveClient:
    """One websocket subscriber: pending coalesced values plus an ordered event queue."""

    def __init__(self, client_id: int) -> None:
        self.client_id = client_id
        self._cond = threading.Condition()
        self._values: dict[int, tuple[float, int, float]] = {}
        self._events: deque[dict[str, Any]] = deque()
        self._resync: str | None = None
        self._closed = False
        self.last_values_sent = 0.0
        self.sent_frames = 0
        self.sent_bytes = 0

    def offer_values(self, rows: np.ndarray, values, quality, times) -> None:
        """Merge changed rows; older pending values of the same sensor are replaced."""
        with self._cond:
            for r, v, q, t in zip(rows.tolist(), values, quality, times, strict=True):
                self._values[r] = (v, q, t)
            self._cond.notify()

    def offer_event(self, event: dict[str, Any]) -> None:
        """Queue an event; on overflow drop the queue and ask the client to resync."""
        with self._cond:
            if self._resync is None:
                if len(self._events) >= MAX_EVENTS_PER_CLIENT:
                    self._events.clear()
                    self._resync = "event queue overflow"
                else:
                    self._events.append(event)
            self._cond.notify()

    def close(self) -> None:
        """Wake the sender so it can exit."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    @property
    def closed(self) -> bool:
        return self._closed

    def next_frames(self, sensor_ids: np.ndarray, timeout: float = 1.0) -> list[str]:
        """Block until something is due; return the JSON frames to send now (maybe none)."""
        with self._cond:
            due = self._due()
            if not due and not self._closed:
                self._cond.wait(timeout)
            frames: list[str] = []
            if self._resync is not None:
                frames.append(json.dumps({"type": "resync", "reason": self._resync}))
                self._resync = None
                self._values.clear()
            while self._events:
                frames.append(json.dumps({"type": "event", "event": self._events.popleft()}))
            now = time.monotonic()
            if self._values and now - self.last_values_sent >= MIN_VALUE_INTERVAL_S:
                rows = np.fromiter(self._values, dtype=np.int64, count=len(self._values))
                vals = list(self._values.values())
                self._values.clear()
                self.last_values_sent = now
                frames.append(_values_frame(sensor_ids, rows, vals))
            return frames

    def _due(self) -> bool:
        if self._resync is not None or self._events:
            return True
        return bool(self._values) and (
            time.monotonic() - self.last_values_sent >= MIN_VALUE_INTERVAL_S
        )


def _values_frame(sensor_ids: np.ndarray, rows: np.ndarray, vals: list[tuple]) -> str:
    value = [None if v != v else round(float(v), 6) for v, _, _ in vals]  # NaN → null
    return json.dumps(
        {
            "type": "values",
            "ids": sensor_ids[rows].tolist(),
            "value": value,
            "quality": [int(q) for _, q, _ in vals],
            "t": [None if t != t else round(float(t), 3) for _, _, t in vals],
        }
    )


class LiveHub:
    """Fan-out of state changes and events to every connected client.

    Parameters
    ----------
    sensor_ids : array of str
        Sensor ids in state-row order.
    read_changes : callable
        ``read_changes(version) -> (new_version, rows, values, quality, observed_at)``,
        the state store's change feed.
    """

    def __init__(
        self,
        sensor_ids: Iterable[str],
        read_changes: Callable[[int], tuple[int, np.ndarray, Any, Any, Any]],
    ) -> None:
        self.sensor_ids = np.asarray(list(sensor_ids), dtype=object)
        self._read_changes = read_changes
        self._clients: dict[int, LiveClient] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._version = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.resyncs = 0

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def connect(self) -> LiveClient:
        with self._lock:
            self._next_id += 1
            client = LiveClient(self._next_id)
            self._clients[client.client_id] = client
        return client

    def disconnect(self, client: LiveClient) -> None:
        client.close()
        with self._lock:
            self._clients.pop(client.client_id, None)

    def publish_event(self, event: dict[str, Any]) -> None:
        """Send an event to every client (never coalesced, never silently dropped)."""
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            c.offer_event(event)

    def pump(self) -> int:
        """Read the state's change feed once and offer the changes to all clients."""
        version, rows, values, quality, times = self._read_changes(self._version)
        self._version = version
        if len(rows) == 0:
            return 0
        vals, quals = np.asarray(values).tolist(), np.asarray(quality).tolist()
        ts = np.asarray(times).tolist()
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            c.offer_values(np.asarray(rows), vals, quals, ts)
        return len(rows)

    def start(self, interval_s: float = 0.1) -> None:
        """Pump the change feed in a daemon thread."""

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.pump()
                except Exception:  # keep the feed alive; one bad pump must not stop it
                    log.exception("live hub pump failed")

        self._thread = threading.Thread(target=loop, name="live-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            c.close()

    def serve(self, ws: Any) -> None:
        """Run one websocket connection (called from the flask-sock route)."""
        client = self.connect()
        try:
            ws.send(json.dumps({"type": "hello", "sensors": len(self.sensor_ids)}))
            while not client.closed and not self._stop.is_set():
                for frame in client.next_frames(self.sensor_ids):
                    ws.send(frame)
                    client.sent_frames += 1
                    client.sent_bytes += len(frame)
        except Exception as exc:  # a dropped browser ends only its own loop
            log.info("websocket client %d left: %s", client.client_id, type(exc).__name__)
        finally:
            self.disconnect(client)


def register_live_routes(server: Any, runtime: Any) -> None:
    """Mount ``/ws/live`` (flask-sock) on a Flask server for a runtime's hub."""
    from flask_sock import Sock

    sock = Sock(server)

    @sock.route("/ws/live")
    def live(ws: Any) -> None:  # pragma: no cover - exercised by websocket tests
        runtime.hub.serve(ws)
