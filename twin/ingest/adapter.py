"""The one small interface every ingestion adapter shares (Modbus polling, MQTT, HTTP push).

Modelled on Home Assistant's ``DataUpdateCoordinator``: exactly one poller talks to a
device; it fetches on a fixed schedule; any library error becomes :class:`UpdateFailed`,
which turns the device "unavailable" (one ``device_offline`` event) until a fetch succeeds
again (one ``device_back`` event). Failed fetches are retried with exponential backoff.

Adapters hand readings to a :data:`Sink` and events to an :data:`EventSink`; they never
validate or store readings themselves (that is :mod:`twin.ingest.pipeline`'s job).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import numpy as np

#: ``sink(sensor_ids, values_si, observed_at, source)``: sensor ids (object array), SI values
#: (float64), observation time(s) in epoch s, and the name of the source. May be async.
Sink = Callable[[np.ndarray, np.ndarray, "float | np.ndarray", str], "Awaitable[None] | None"]
#: ``on_event({"type", "device_id", "at", "detail", ...})``
EventSink = Callable[[dict[str, Any]], None]

DEVICE_OFFLINE = "device_offline"
DEVICE_BACK = "device_back"
#: a sensor not updated for this many poll intervals is stale
STALE_AFTER_INTERVALS = 3
LATENCY_WINDOW = 256

log = logging.getLogger(__name__)


class UpdateFailed(Exception):  # noqa: N818 - Home Assistant's name, kept on purpose
    """A fetch failed (timeout, refused connection, exception response, bad payload)."""


class IngestAdapter(Protocol):
    """What the app needs from any ingestion adapter."""

    name: str

    async def start(self) -> None:
        """Start background tasks on the running event loop."""

    async def stop(self) -> None:
        """Stop all tasks and close connections."""

    def stale_sensors(self, now: float) -> np.ndarray:
        """Sensor ids not updated within their staleness window at ``now`` (epoch s)."""

    def health(self) -> list[dict[str, Any]]:
        """One status dict per device or connection (for /metrics and the UI)."""


async def deliver(sink: Sink, *args: Any) -> None:
    """Call a sync or async sink."""
    result = sink(*args)
    if inspect.isawaitable(result):
        await result


class DeviceCoordinator(ABC):
    """Polls one device on a fixed schedule; failures make it unavailable.

    Parameters
    ----------
    device_id : str
        The device this coordinator owns.
    interval_s : float
        Poll period, s (fixed rate: a slow poll does not shift the schedule).
    on_event : EventSink
        Receives ``device_offline`` / ``device_back`` events.
    clock : callable
        Wall clock in epoch s (injected so tests can freeze it).
    backoff_max_s : float
        Longest wait between retries of a failing device, s.
    offline_after : int
        Consecutive failures before the device is declared offline.
    """

    def __init__(
        self,
        device_id: str,
        interval_s: float,
        *,
        on_event: EventSink,
        clock: Callable[[], float] = time.time,
        backoff_max_s: float = 30.0,
        offline_after: int = 2,
    ) -> None:
        self.device_id = device_id
        self.interval_s = float(interval_s)
        self.on_event = on_event
        self.clock = clock
        self.backoff_max_s = backoff_max_s
        self.offline_after = offline_after
        self.available = True  # optimistic until proven otherwise: no event at start
        self.failures = 0
        self.polls_ok = 0
        self.polls_failed = 0
        self.last_ok: float | None = None
        self.last_error = ""
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._task: asyncio.Task | None = None
        self._stopping = False
        self.aligned = True
        #: a fetch is under way (its readings are not delivered yet)
        self.in_flight = False

    @abstractmethod
    async def fetch(self) -> None:
        """Fetch once and deliver; raise :class:`UpdateFailed` on any failure."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called on stop and after a failure)."""

    def backoff_s(self) -> float:
        """Wait before the next try after ``failures`` consecutive failures, s."""
        return min(self.backoff_max_s, self.interval_s * 2.0 ** max(self.failures - 1, 0))

    async def poll_once(self) -> bool:
        """One fetch with bookkeeping; True on success."""
        started = time.perf_counter()
        self.in_flight = True
        try:
            await self.fetch()
        except UpdateFailed as exc:
            await self._failed(str(exc))
            return False
        except (TimeoutError, OSError) as exc:
            await self._failed(f"{type(exc).__name__}: {exc}")
            return False
        finally:
            self.in_flight = False
        self.latencies.append(time.perf_counter() - started)
        self.polls_ok += 1
        self.last_ok = self.clock()
        self.failures = 0
        if not self.available:
            self.available = True
            self._event(DEVICE_BACK, "responding again")
        return True

    async def _failed(self, reason: str) -> None:
        self.polls_failed += 1
        self.failures += 1
        self.last_error = reason
        if self.failures == 1:  # once per streak; offline and back are events of their own
            log.warning("%s: poll failed (%s); retrying with backoff", self.device_id, reason)
        await self.close()
        if self.available and self.failures >= self.offline_after:
            self.available = False
            self._event(DEVICE_OFFLINE, reason)

    def _event(self, kind: str, detail: str) -> None:
        log.info("%s %s: %s", kind, self.device_id, detail)
        try:
            self.on_event(
                {"type": kind, "device_id": self.device_id, "at": self.clock(), "detail": detail}
            )
        except Exception:  # a broken event consumer must not stop polling
            log.exception("event sink failed for %s", self.device_id)

    async def run(self) -> None:
        """Poll until cancelled: fixed rate while healthy, backoff while failing."""
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        if self.aligned:
            # scan-aligned polling (as SCADA scan cycles): every device of the twin polls in
            # the same phase of the wall clock, so one scan's readings reach state and the
            # websocket together instead of trickling in across the interval
            next_at += self.interval_s - self.clock() % self.interval_s
            await asyncio.sleep(next_at - loop.time())
        try:
            # a flag as well as cancellation: Python 3.11's asyncio.wait_for (used inside
            # pymodbus) can swallow a cancel that lands as a response arrives
            while not self._stopping:
                ok = await self.poll_once()
                now = loop.time()
                next_at = next_at + self.interval_s if ok else now + self.backoff_s()
                if next_at < now:  # fell behind: skip missed ticks rather than burst
                    next_at = now + self.interval_s - (now - next_at) % self.interval_s
                await asyncio.sleep(next_at - now)
        finally:
            await self.close()

    def start(self) -> asyncio.Task:
        """Start :meth:`run` as a task on the running loop."""
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self.run(), name=self.device_id)
        return self._task

    async def stop(self) -> None:
        """Cancel the task and wait for it to close."""
        self._stopping = True
        task, self._task = self._task, None
        while task is not None and not task.done():
            task.cancel()  # repeated: a cancel swallowed by wait_for is sent again
            await asyncio.wait({task}, timeout=0.2)
        if task is not None and not task.cancelled():
            task.exception()  # retrieved so asyncio does not log it; run() only ends by stop

    def latency_summary(self) -> dict[str, float]:
        """Recent poll latencies (s): count, mean, p50, p95, max; NaN when none."""
        lat = np.array(self.latencies, dtype=float)
        if lat.size == 0:
            return {"count": 0, "mean": np.nan, "p50": np.nan, "p95": np.nan, "max": np.nan}
        return {
            "count": int(lat.size),
            "mean": float(lat.mean()),
            "p50": float(np.percentile(lat, 50)),
            "p95": float(np.percentile(lat, 95)),
            "max": float(lat.max()),
        }

    def health(self) -> dict[str, Any]:
        """This device's status."""
        return {
            "device_id": self.device_id,
            "available": self.available,
            "polls_ok": self.polls_ok,
            "polls_failed": self.polls_failed,
            "consecutive_failures": self.failures,
            "last_ok": self.last_ok,
            "last_error": self.last_error,
            "poll_interval_s": self.interval_s,
            "latency_s": self.latency_summary(),
        }
