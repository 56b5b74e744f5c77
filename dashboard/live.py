"""The live hub behind ``/ws/live``: coalesced values at ≤ 2 Hz per client, events never dropped.

Each browser gets a :class:`LiveClient` with its own bounded queue, so a slow or dead client
never stalls ingest or the other clients. Live values coalesce (a client only ever gets the
newest value of a sensor); events are queued in order, and a client whose event queue overflows
is told to ``resync`` (re-read state and events over REST) instead of silently losing them.

Wire format (JSON text frames, the default)::

    {"type": "hello", "sensors": n}
    {"type": "values", "ids": [...], "value": [...], "quality": [...], "t": [...]}
    {"type": "event", "event": {...}}
    {"type": "resync", "reason": "..."}
    {"type": "heartbeat", "t": epoch_s}          (compact format only, when idle ≥ 2 s)

Compact format (``/ws/live?format=bin``, what the browser map uses): the hello also carries
``"format": "bin1"`` and ``"ids"`` (every sensor id, in row order), a first values frame holds
the whole current state, and values frames are *binary* websocket messages, little-endian::

    offset 0      4 bytes  b"STV1"
           4      uint32   n, sensors in this frame
           8      float64  t0, epoch s UTC (newest observation in the frame; NaN if none)
           16     uint32[n]   rows (state rows, the order of the hello's ids)
           16+4n  float32[n]  values, SI (NaN = none)
           16+8n  uint16[n]   age before t0 in 0.1 s (65535 = never observed, capped 65534)
           16+10n uint8[n]    quality (twin.state.Quality)

11 bytes per changed sensor: 10,000 sensors changing every second cost about 110 kB/s.
Events and resync stay JSON text frames.
"""

from __future__ import annotations

import json
import logging
import struct
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
#: a value frame waits until no new value came for this long, so one poll scan (aligned
#: across devices, landing over a few commits) goes out as one frame rather than a frame and a
#: tail that would wait out the 2 Hz limit, s
SETTLE_S = 0.02
#: ... but never longer than this after its first pending value, s
SETTLE_MAX_S = 0.25
#: a binary-mode client hears at least this often (heartbeat), so it can tell "quiet" from
#: "disconnected", s
HEARTBEAT_S = 2.0
#: magic of a compact binary values frame
BINARY_MAGIC = b"STV1"
#: age code of a sensor never observed; ages are capped one below it
AGE_UNKNOWN = 65535


class LiveClient:
    """One websocket subscriber: pending coalesced values plus an ordered event queue."""

    def __init__(self, client_id: int, *, binary: bool = False) -> None:
        self.client_id = client_id
        self.binary = binary
        self._cond = threading.Condition()
        self._values: dict[int, tuple[float, int, float]] = {}
        self._first_pending = 0.0
        self._last_pending = 0.0
        self._events: deque[dict[str, Any]] = deque()
        self._resync: str | None = None
        self._closed = False
        self.last_values_sent = 0.0
        #: ``hold() -> bool``: True while a scan is still landing (values wait, up to a cap)
        self.hold: Callable[[], bool] | None = None
        self.last_sent = time.monotonic()
        self.sent_frames = 0
        self.sent_bytes = 0

    def offer_values(self, rows: np.ndarray, values, quality, times) -> None:
        """Merge changed rows; older pending values of the same sensor are replaced.

        A pending value observed later than the offered one is kept (a snapshot read before
        a concurrent pump must not roll a sensor back).
        """
        with self._cond:
            pending = self._values
            self._last_pending = time.monotonic()
            if not pending:
                self._first_pending = self._last_pending
            for r, v, q, t in zip(rows.tolist(), values, quality, times, strict=True):
                old = pending.get(r)
                if old is None or not (old[2] > t):
                    pending[r] = (v, q, t)
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

    def next_frames(self, sensor_ids: np.ndarray, timeout: float = 1.0) -> list[str | bytes]:
        """Block until something is due; return the frames to send now (maybe none)."""
        with self._cond:
            if self._resync is None and not self._events and not self._closed:
                wait = self._values_due_in(time.monotonic())
                wait = timeout if wait is None else min(wait, timeout)
                if wait > 0:
                    self._cond.wait(wait)
            frames: list[str | bytes] = []
            if self._resync is not None:
                frames.append(json.dumps({"type": "resync", "reason": self._resync}))
                self._resync = None
                self._values.clear()
            while self._events:
                frames.append(json.dumps({"type": "event", "event": self._events.popleft()}))
            now = time.monotonic()
            due = self._values_due_in(now)
            if due is not None and due <= 0:
                rows = np.fromiter(self._values, dtype=np.int64, count=len(self._values))
                vals = list(self._values.values())
                self._values.clear()
                self.last_values_sent = now
                if self.binary:
                    frames.append(binary_values_frame(rows, vals))
                else:
                    frames.append(_values_frame(sensor_ids, rows, vals))
            if self.binary:  # compact clients also get a heartbeat when idle
                if frames:
                    self.last_sent = now
                elif now - self.last_sent >= HEARTBEAT_S:
                    frames.append(json.dumps({"type": "heartbeat", "t": round(time.time(), 3)}))
                    self.last_sent = now
            return frames

    def _values_due_in(self, now: float) -> float | None:
        """Seconds until pending values may be sent (≤ 0: now); None if nothing pending."""
        if not self._values:
            return None
        settled = self._last_pending + SETTLE_S
        if self.hold is not None and self.hold():
            settled = max(settled, now + SETTLE_S)  # look again shortly
        settled = min(settled, self._first_pending + SETTLE_MAX_S)
        return max(self.last_values_sent + MIN_VALUE_INTERVAL_S, settled) - now


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


def binary_values_frame(rows: np.ndarray, vals: list[tuple]) -> bytes:
    """The compact binary values frame (layout in the module docstring).

    >>> f = binary_values_frame(np.array([2]), [(1.5, 0, 100.0)])
    >>> len(f), f[:4], decode_binary_values(f)["value"].tolist()
    (27, b'STV1', [1.5])
    """
    n = len(vals)
    arr = np.array(vals, dtype=np.float64).reshape(n, 3)
    t = arr[:, 2]
    seen = np.isfinite(t)
    t0 = float(t[seen].max()) if seen.any() else float("nan")
    age = np.full(n, AGE_UNKNOWN, dtype=np.uint16)
    if seen.any():
        age[seen] = np.clip(np.round((t0 - t[seen]) * 10.0), 0, AGE_UNKNOWN - 1)
    return b"".join(
        (
            BINARY_MAGIC,
            struct.pack("<Id", n, t0),
            np.asarray(rows, dtype="<u4").tobytes(),
            arr[:, 0].astype("<f4").tobytes(),
            age.astype("<u2").tobytes(),
            arr[:, 1].astype(np.uint8).tobytes(),
        )
    )


def decode_binary_values(frame: bytes) -> dict[str, np.ndarray]:
    """Decode :func:`binary_values_frame` (tests, benchmarks; the browser does the same in JS).

    Returns
    -------
    dict
        ``rows`` (uint32), ``value`` (float32), ``quality`` (uint8), ``t`` (float64 epoch s,
        NaN if never observed; 0.1 s resolution).
    """
    if frame[:4] != BINARY_MAGIC:
        raise ValueError("not a StreetTwin binary values frame")
    n, t0 = struct.unpack_from("<Id", frame, 4)
    o = 16
    rows = np.frombuffer(frame, "<u4", n, o)
    value = np.frombuffer(frame, "<f4", n, o + 4 * n)
    age = np.frombuffer(frame, "<u2", n, o + 8 * n)
    quality = np.frombuffer(frame, np.uint8, n, o + 10 * n)
    t = np.where(age == AGE_UNKNOWN, np.nan, t0 - age / 10.0)
    return {"rows": rows, "value": value, "quality": quality, "t": t}


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
        self._wake = threading.Event()
        self.resyncs = 0
        #: ``hold() -> bool``, given to every client: values wait while it is true (capped)
        self.hold: Callable[[], bool] | None = None

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def connect(self, *, binary: bool = False) -> LiveClient:
        with self._lock:
            self._next_id += 1
            client = LiveClient(self._next_id, binary=binary)
            client.hold = self.hold
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

    def wake(self) -> None:
        """Pump now (a writer just committed) instead of at the next interval."""
        self._wake.set()

    def start(self, interval_s: float = 0.05) -> None:
        """Pump the change feed in a daemon thread: on :meth:`wake`, else every ``interval_s``."""

        def loop() -> None:
            while not self._stop.is_set():
                self._wake.wait(interval_s)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    self.pump()
                except Exception:  # keep the feed alive; one bad pump must not stop it
                    log.exception("live hub pump failed")

        self._thread = threading.Thread(target=loop, name="live-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            c.close()

    def offer_snapshot(self, client: LiveClient) -> int:
        """Offer a client every sensor that ever had a value (its first picture of the state)."""
        _, rows, values, quality, times = self._read_changes(0)
        if len(rows):
            client.offer_values(
                np.asarray(rows),
                np.asarray(values).tolist(),
                np.asarray(quality).tolist(),
                np.asarray(times).tolist(),
            )
        return len(rows)

    def serve(self, ws: Any, *, binary: bool = False) -> None:
        """Run one websocket connection (called from the flask-sock route).

        ``binary=True`` selects the compact format: the hello lists the sensor ids, the
        current state follows at once, and values frames are binary (module docstring).
        """
        client = self.connect(binary=binary)
        try:
            hello: dict[str, Any] = {"type": "hello", "sensors": len(self.sensor_ids)}
            if binary:
                hello.update(format="bin1", ids=self.sensor_ids.tolist())
            ws.send(json.dumps(hello))
            if binary:
                self.offer_snapshot(client)
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
        from flask import request

        runtime.hub.serve(ws, binary=request.args.get("format") == "bin")
