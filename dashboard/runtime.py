"""The running twin: registry, live state, history, durable log, adapters and the live hub, wired.

One :class:`TwinRuntime` per ``serve`` process. It owns the background work — the Modbus
poller's asyncio loop, the stale-sensor sweep and the websocket change feed — and hands the
web layer what it needs through plain attributes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dashboard.live import LiveHub
from twin.history import History
from twin.ingest.pipeline import IngestPipeline
from twin.readinglog import ReadingLog
from twin.readings import Catalogue
from twin.registry import Registry
from twin.state import LiveState

log = logging.getLogger(__name__)

#: readings kept per sensor in memory (at a 1 s poll about 30 min; older ones stay in the log)
HISTORY_SLOTS = 1800
#: how often sensors are checked for staleness, s
STALE_SWEEP_S = 1.0
#: default age after which a sensor with no poll interval (push-only) is stale, s
PUSH_STALE_AFTER_S = 900.0
#: recent events kept for the REST API and late websocket clients
RECENT_EVENTS = 500


@dataclass(eq=False)
class TwinRuntime:
    """Everything a serving twin holds, with start/stop for its background threads."""

    registry: Registry
    data_dir: Path
    catalogue: Catalogue
    state: LiveState
    history: History
    log: ReadingLog
    pipeline: IngestPipeline
    hub: LiveHub
    ingest_token: str = ""
    poller: Any = None
    #: the warning service (dashboard.warning_service), started and stopped with the runtime
    warnings: Any = None
    stale_after_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    events: deque = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))
    started_at: float = field(default_factory=time.time)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _queue: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    #: poll results queued (counted by the poller's thread only) and committed (by the
    #: writer's only): one writer per counter, so no lock is needed
    _queued: int = 0
    _committed: int = 0
    #: callables told of every published event (e.g. the dispatch service opening tickets)
    listeners: list = field(default_factory=list)

    # --- events -------------------------------------------------------------------------
    def publish_event(self, event: dict[str, Any]) -> None:
        """Record an event and push it to every websocket client."""
        event = dict(event)
        event.setdefault("at", time.time())
        self.events.append(event)
        self.hub.publish_event(event)
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # one failing consumer must not block the others or the caller
                log.exception("event listener failed")

    # --- adapters -----------------------------------------------------------------------
    def modbus_sink(self, sensor_ids: np.ndarray, values: np.ndarray, observed, source: str):
        """The Modbus poller's sink: queue the readings for the ingest writer thread.

        The poller's event loop must never wait on a durable write, so polls only enqueue;
        one writer thread drains the queue and commits everything waiting in one batch.
        """
        self._queued += 1
        rows = self.state.index_of(np.asarray(sensor_ids, dtype=object))
        n = len(rows)
        observed = np.broadcast_to(np.asarray(observed, dtype=np.float64), (n,))
        self._queue.put((rows, np.asarray(values, dtype=np.float64), observed, source))

    def drain_queue(self, timeout: float = 0.2) -> int:
        """Commit every queued poll result, grouped by source; returns readings accepted."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return 0
        items = [first]
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        try:
            return self._commit_polled(items)
        finally:
            self._committed += len(items)
            self.hub.wake()

    def _commit_polled(self, items: list[tuple]) -> int:
        # one commit for everything waiting (a whole poll scan over many devices): one fsync
        # and one state update instead of one per device
        result = self.pipeline.submit_arrays(
            np.concatenate([item[0] for item in items]),
            np.concatenate([item[1] for item in items]),
            np.concatenate([item[2] for item in items]),
            source=np.concatenate([np.full(len(item[0]), item[3], dtype=object) for item in items]),
        )
        if result.rejected:
            log.debug("%d polled readings rejected", len(result.rejected))
        return result.accepted

    def ingest_busy(self) -> bool:
        """True while a poll scan is still landing: a device mid-poll or readings not committed.

        The live hub holds a value frame while this is true (up to a cap), so a scan reaches
        browsers as one frame.
        """
        return self._queued != self._committed or (self.poller is not None and self.poller.busy())

    def _ingest_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain_queue()
            except Exception:  # one bad batch must not stop ingestion
                log.exception("ingest writer failed")

    def attach_modbus(self, regmap: Any) -> None:
        """Poll the devices of a register map (``twin.registermap.RegisterMap``)."""
        from twin.ingest.modbus import ModbusPoller

        self.poller = ModbusPoller(regmap, sink=self.modbus_sink, on_event=self.publish_event)
        rows = self.state.index_of(self.poller.sensor_ids)
        known = rows >= 0
        self.stale_after_s[rows[known]] = 3.0 * self.poller.poll_interval_s[known]

    # --- background work ----------------------------------------------------------------
    def start(self) -> None:
        """Start the live hub, the stale sweep and (if attached) the Modbus poller."""
        self.hub.hold = self.ingest_busy
        self.hub.start()
        self._spawn("stale-sweep", self._stale_loop)
        self._spawn("ingest-writer", self._ingest_loop)
        if self.poller is not None:
            self._spawn("modbus-poller", self._poller_loop)
        if self.warnings is not None:
            self.warnings.start()

    def stop(self) -> None:
        """Stop background threads and close the log."""
        self._stop.set()
        if self.warnings is not None:
            self.warnings.stop()
        self.hub.stop()
        if self._loop is not None and self.poller is not None:
            fut = asyncio.run_coroutine_threadsafe(self.poller.stop(), self._loop)
            try:
                fut.result(timeout=5)
            except Exception:  # stopping is best effort; the process is ending anyway
                log.debug("poller stop failed", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
        for t in self._threads:
            t.join(timeout=5)
        self.log.close()

    def _spawn(self, name: str, target) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _stale_loop(self) -> None:
        while not self._stop.wait(STALE_SWEEP_S):
            try:
                self.sweep_stale(time.time())
            except Exception:
                log.exception("stale sweep failed")

    def sweep_stale(self, now: float) -> np.ndarray:
        """Mark sensors stale that missed three poll intervals; returns the rows changed."""
        return self.state.mark_stale(now, self.stale_after_s)

    def _poller_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.poller.start())
        try:
            loop.run_forever()
        finally:
            loop.close()

    # --- figures ------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counts for health, metrics and the wall screen."""
        q = np.bincount(self.state.quality, minlength=4)
        out = {
            "sensors": len(self.state),
            "good": int(q[0]),
            "stale": int(q[1]),
            "rejected": int(q[2]),
            "websocket_clients": self.hub.client_count,
            "devices_offline": len(self.poller.offline_devices()) if self.poller else 0,
            "devices": len(self.poller.pollers) if self.poller else 0,
        }
        return out


def warm_kernels() -> None:
    """Load the compiled state and history kernels now (about 0.6 s on first use).

    Otherwise the first commit pays it while holding the state lock, and the first scans'
    values and the live feed stall behind it.
    """
    one = np.zeros(1, dtype=np.int64)
    state = LiveState(["_"])
    state.apply(one, np.zeros(1), np.zeros(1), 0.0)  # one quality for the batch
    state.apply(one, np.zeros(1), np.zeros(1), 0.0, np.zeros(1, dtype=np.uint8))  # per reading
    History(1, 1).append(one, np.zeros(1), np.zeros(1))


def build_runtime(
    registry: Registry, data_dir: str | Path, *, ingest_token: str = "", restore: bool = True
) -> TwinRuntime:
    """Create the state store, history, durable log and pipeline for a district.

    Parameters
    ----------
    registry : Registry
        The district.
    data_dir : path
        Folder for the durable reading log (``readings.sqlite``); created if missing.
    ingest_token : str
        Bearer token for push ingestion (``POST /api/readings``).
    restore : bool
        Replay the reading log into state and history (after a restart).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    warm_kernels()
    sensors = registry.sensors
    ids = sensors["sensor_id"].astype(str).tolist()
    catalogue = Catalogue(sensors)
    state = LiveState(ids)
    history = History(len(ids), HISTORY_SLOTS, sensor_ids=ids)
    reading_log = ReadingLog(data_dir / "readings.sqlite")
    pipeline = IngestPipeline(catalogue, state, history, reading_log)
    if restore:
        n = pipeline.restore()
        if n:
            log.info("restored %d readings from the log", n)

    hub = LiveHub(ids, state.changes)
    return TwinRuntime(
        registry=registry,
        data_dir=data_dir,
        catalogue=catalogue,
        state=state,
        history=history,
        log=reading_log,
        pipeline=pipeline,
        hub=hub,
        ingest_token=ingest_token,
        stale_after_s=np.full(len(ids), PUSH_STALE_AFTER_S),
    )
