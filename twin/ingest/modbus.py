"""Modbus TCP ingestion: one asyncio poller per field device, laid out by a register map.

Each device gets its own :class:`pymodbus.client.AsyncModbusTcpClient` connection and its own
task, so a slow or dead device only ever delays itself. A poll reads every register of the
device in as few requests as possible (:func:`plan_reads`: contiguous ranges, small gaps
bridged, at most 125 registers per request, a 32-bit value never split), decodes them all
at once (:class:`twin.registercodec.RegisterCodec`) and hands SI values to the sink.
Sentinel ("not available") values are counted and reported, never delivered as readings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from twin.ingest.adapter import (
    STALE_AFTER_INTERVALS,
    DeviceCoordinator,
    EventSink,
    Sink,
    UpdateFailed,
    deliver,
)
from twin.registercodec import RegisterCodec
from twin.registermap import DeviceSpec, RegisterMap, RegisterSpec

SENSOR_NOT_AVAILABLE = "sensor_not_available"
SENSOR_AVAILABLE = "sensor_available"


@dataclass(frozen=True)
class ReadBlock:
    """One read request: ``count`` registers of ``table`` from ``start``.

    ``image_start`` is where the block lands in the device's register image.
    """

    table: str
    start: int
    count: int
    image_start: int


def plan_reads(
    specs: Sequence[RegisterSpec], *, max_gap: int = 8, max_block: int = 125
) -> tuple[list[ReadBlock], np.ndarray, int]:
    """Group a device's registers into read requests.

    Parameters
    ----------
    specs : sequence of RegisterSpec
        One device's registers (any order, both tables).
    max_gap : int
        Unused registers a request may span between two values.
    max_block : int
        Registers per request (Modbus allows 125).

    Returns
    -------
    blocks : list of ReadBlock
    index : numpy.ndarray of int64
        Position of each spec's first register in the device image.
    image_size : int
        Registers in the image (sum of block counts).

    >>> from twin.registermap import RegisterSpec
    >>> s = [RegisterSpec("d", f"s{a}", "holding", a, "float32") for a in (0, 2, 10, 200)]
    >>> [(b.start, b.count) for b in plan_reads(s, max_gap=8)[0]]  # gap 4..9 bridged
    [(0, 12), (200, 2)]
    >>> [(b.start, b.count) for b in plan_reads(s, max_gap=4)[0]]
    [(0, 4), (10, 2), (200, 2)]
    """
    blocks: list[ReadBlock] = []
    index = np.zeros(len(specs), dtype=np.int64)
    size = 0
    for table in ("holding", "input"):
        rows = sorted(
            (i for i, s in enumerate(specs) if s.table == table), key=lambda i: specs[i].address
        )
        start = end = -1
        members: list[int] = []
        for i in rows + [-1]:
            s = specs[i] if i >= 0 else None
            if s is not None and members:
                s_end = s.address + s.words
                if s.address - end <= max_gap and s_end - start <= max_block:
                    members.append(i)
                    end = max(end, s_end)
                    continue
            if members:
                blocks.append(ReadBlock(table, start, end - start, size))
                for m in members:
                    index[m] = size + specs[m].address - start
                size += end - start
            if s is not None:
                start, end, members = s.address, s.address + s.words, [i]
    return blocks, index, size


class ModbusDevicePoller(DeviceCoordinator):
    """Polls one Modbus device (one unit id) and delivers its registers.

    Parameters
    ----------
    device : DeviceSpec
        Connection settings, interval and batching limits.
    specs : sequence of RegisterSpec
        This device's registers.
    rows : numpy.ndarray of int64
        Row of each spec in the owning :class:`ModbusPoller`'s sensor arrays.
    owner : ModbusPoller
        Receives per-sensor bookkeeping.
    """

    def __init__(
        self,
        device: DeviceSpec,
        specs: Sequence[RegisterSpec],
        rows: np.ndarray,
        owner: ModbusPoller,
        **kwargs: Any,
    ) -> None:
        super().__init__(device.device_id, device.poll_interval_s, **kwargs)
        self.device = device
        self.rows = rows
        self.owner = owner
        self.sensor_ids = np.array([s.sensor_id for s in specs], dtype=object)
        self.blocks, index, size = plan_reads(
            specs, max_gap=device.max_gap, max_block=device.max_block
        )
        self.codec = RegisterCodec.from_specs(specs, index)
        self.image = np.zeros(size, dtype=np.uint16)
        self.client: AsyncModbusTcpClient | None = None
        self.requests = 0
        self.registers_read = 0
        self.source = f"modbus:{device.device_id}"

    async def _connect(self) -> AsyncModbusTcpClient:
        if self.client is not None and self.client.connected:
            return self.client
        await self.close()
        # reconnect_delay=0: pymodbus must not reconnect on its own; our backoff decides
        self.client = AsyncModbusTcpClient(
            self.device.host,
            port=self.device.port,
            timeout=self.device.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=self.device.device_id,
        )
        ok = await asyncio.wait_for(self.client.connect(), self.device.timeout_s + 0.5)
        if not ok:
            raise UpdateFailed(f"cannot connect to {self.device.host}:{self.device.port}")
        return self.client

    async def close(self) -> None:
        """Drop the connection (the next poll reconnects)."""
        if self.client is not None:
            self.client.close()
            self.client = None

    async def fetch(self) -> None:
        """Read every block, decode, deliver readings and account for sentinels."""
        guard = self.device.timeout_s + 0.5  # pymodbus enforces timeout_s; this is a backstop
        try:
            client = await self._connect()
            for b in self.blocks:
                read = (
                    client.read_holding_registers
                    if b.table == "holding"
                    else client.read_input_registers
                )
                rr = await asyncio.wait_for(
                    read(b.start, count=b.count, device_id=self.device.unit_id), guard
                )
                self.requests += 1
                if rr.isError():
                    code = getattr(rr, "exception_code", "?")
                    raise UpdateFailed(f"exception {code} reading {b.table} {b.start}+{b.count}")
                if len(rr.registers) != b.count:
                    raise UpdateFailed(f"{len(rr.registers)} registers, expected {b.count}")
                self.image[b.image_start : b.image_start + b.count] = rr.registers
                self.registers_read += b.count
        except ModbusException as exc:
            raise UpdateFailed(f"{type(exc).__name__}: {exc}") from exc
        observed = self.clock()
        values, not_available = self.codec.decode(self.image)
        self.owner._record(self, values, not_available, observed)
        good = ~not_available
        if good.any():
            await deliver(
                self.owner.sink, self.sensor_ids[good], values[good], observed, self.source
            )


class ModbusPoller:
    """The Modbus ingestion adapter: one :class:`ModbusDevicePoller` per device of a map.

    Parameters
    ----------
    regmap : RegisterMap
        Devices and registers to poll.
    sink : Sink
        ``sink(sensor_ids, values_si, observed_at, source)``; may be async.
    on_event : EventSink
        Receives ``device_offline``, ``device_back`` and, on transitions,
        ``sensor_not_available`` / ``sensor_available`` (with ``sensor_ids``).
    clock : callable
        Wall clock, epoch s.
    backoff_max_s : float
        Longest retry wait for a failing device, s.
    offline_after : int
        Consecutive failed polls before ``device_offline``.
    """

    name = "modbus"

    def __init__(
        self,
        regmap: RegisterMap,
        *,
        sink: Sink,
        on_event: EventSink | None = None,
        clock: Callable[[], float] = time.time,
        backoff_max_s: float = 30.0,
        offline_after: int = 2,
    ) -> None:
        self.regmap = regmap
        self.sink = sink
        self.on_event = on_event or (lambda event: None)
        self.clock = clock
        self.sensor_ids = regmap.sensor_ids
        n = len(self.sensor_ids)
        self.poll_interval_s = np.zeros(n, dtype=np.float64)
        self.last_update = np.full(n, np.nan)
        self.not_available = np.zeros(n, dtype=bool)
        self.not_available_count = np.zeros(n, dtype=np.int64)
        self.pollers: list[ModbusDevicePoller] = []
        for device in regmap.devices:
            rows = regmap.register_rows(device.device_id)
            if rows.size == 0:
                continue
            self.poll_interval_s[rows] = device.poll_interval_s
            specs = [regmap.registers[i] for i in rows]
            self.pollers.append(
                ModbusDevicePoller(
                    device,
                    specs,
                    rows,
                    self,
                    on_event=self.on_event,
                    clock=clock,
                    backoff_max_s=backoff_max_s,
                    offline_after=offline_after,
                )
            )

    def _record(
        self,
        poller: ModbusDevicePoller,
        values: np.ndarray,
        not_available: np.ndarray,
        observed: float,
    ) -> None:
        rows = poller.rows
        self.last_update[rows[~not_available]] = observed
        self.not_available_count[rows[not_available]] += 1
        before = self.not_available[rows]
        self.not_available[rows] = not_available
        for kind, changed in (
            (SENSOR_NOT_AVAILABLE, not_available & ~before),
            (SENSOR_AVAILABLE, before & ~not_available),
        ):
            if changed.any():
                ids = poller.sensor_ids[changed].tolist()
                self.on_event(
                    {
                        "type": kind,
                        "device_id": poller.device_id,
                        "at": observed,
                        "detail": f"{len(ids)} sensor(s)",
                        "sensor_ids": ids,
                    }
                )

    async def start(self) -> None:
        """Start one polling task per device on the running loop."""
        now = self.clock()
        # a sensor never heard from goes stale 3 intervals after start, not immediately
        self.last_update[np.isnan(self.last_update)] = now
        for p in self.pollers:
            p.start()

    async def stop(self) -> None:
        """Stop every task and close every connection."""
        await asyncio.gather(*(p.stop() for p in self.pollers))

    async def run_for(self, seconds: float) -> None:
        """Poll for ``seconds`` of wall time, then stop."""
        await self.start()
        try:
            await asyncio.sleep(seconds)
        finally:
            await self.stop()

    def stale_sensors(self, now: float) -> np.ndarray:
        """Sensors with no reading for more than 3 of their poll intervals at ``now``."""
        age = now - self.last_update
        return self.sensor_ids[age > STALE_AFTER_INTERVALS * self.poll_interval_s]

    def not_available_sensors(self) -> np.ndarray:
        """Sensors whose last poll read the "not available" sentinel."""
        return self.sensor_ids[self.not_available]

    def busy(self) -> bool:
        """True while any device's poll is under way (a scan has not fully landed)."""
        return any(p.in_flight for p in self.pollers)

    def offline_devices(self) -> list[str]:
        """Devices currently declared offline."""
        return [p.device_id for p in self.pollers if not p.available]

    def health(self) -> list[dict[str, Any]]:
        """Per-device status: availability, counters, latency (s), sentinel count."""
        out = []
        for p in self.pollers:
            h = p.health()
            h.update(
                requests=p.requests,
                registers_read=p.registers_read,
                not_available_total=int(self.not_available_count[p.rows].sum()),
                endpoint=f"{p.device.host}:{p.device.port}/{p.device.unit_id}",
            )
            out.append(h)
        return out

    def totals(self) -> dict[str, int]:
        """Counters summed over devices."""
        return {
            "requests": sum(p.requests for p in self.pollers),
            "registers_read": sum(p.registers_read for p in self.pollers),
            "polls_ok": sum(p.polls_ok for p in self.pollers),
            "polls_failed": sum(p.polls_failed for p in self.pollers),
            "not_available": int(self.not_available_count.sum()),
            "devices_offline": len(self.offline_devices()),
        }
