"""Simulated field devices: pymodbus TCP servers exposing sensor values as a register map lays out.

Layout: one :class:`pymodbus.server.ModbusTcpServer` per ``(host, port)`` endpoint of the map;
every device of that endpoint is one unit id on it (a gateway with many units behind it).
A generated district map (:mod:`sim.registermap_gen`) puts up to 247 units on each port,
starting at 127.0.0.1:5020.

Values come from a *value source* ``source(now) -> numpy.ndarray`` (SI, aligned with
``regmap.sensor_ids``; NaN = the sensor is silent). :meth:`FieldDevices.tick` pulls the
source and encodes it into per-device register images; a background task ticks every
``tick_s``. Each unit is a :class:`pymodbus.simulator.SimDevice` whose async *action* copies
the current image into the requested registers at read time — in pymodbus 3.16 a datastore
block updated behind a running server is not served, so this is the way to keep values
live. A device whose sensors are all NaN answers exception 0x0B (gateway target failed to
respond), as a gateway does for a silent unit; a unit id the endpoint does not have answers
0x0A (gateway path unavailable); writes are refused (read-only registers).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from twin.registercodec import RegisterCodec
from twin.registermap import RegisterMap

#: ``source(now_epoch_s) -> values`` (SI, aligned with the map's sensor ids, NaN = silent)
ValueSource = Callable[[float], np.ndarray]
DEFAULT_TICK_S = 0.5
_READ_TABLE = {3: "holding", 4: "input"}

log = logging.getLogger(__name__)


@dataclass
class _Unit:
    """One simulated device: register images per table and the codec filling them."""

    device_id: str
    unit_id: int
    rows: np.ndarray  # rows of the map's sensor arrays
    codec: RegisterCodec
    image: np.ndarray  # both tables, holding first
    bases: dict[str, tuple[int, int, int]]  # table → (first address, image offset, span)
    silent: bool = False
    forced_silent: bool = False
    reads: int = 0

    def sim_device(self) -> SimDevice:
        """The pymodbus description of this unit (all four tables non-empty, as required)."""
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]

        def table(name: str) -> list[SimData]:
            if name not in self.bases:
                return [SimData(0, datatype=DataType.INVALID)]
            first, _, span = self.bases[name]
            return [
                SimData(first, count=span, values=0, datatype=DataType.REGISTERS, readonly=True)
            ]

        return SimDevice(
            self.unit_id,
            simdata=(bits, list(bits), table("holding"), table("input")),
            action=functools.partial(_serve_read, self),
        )


async def _serve_read(
    unit: _Unit,
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    current_registers: list[int],
    set_values: list[int] | list[bool] | None,
) -> ExcCodes | None:
    """SimDevice action: copy the live image into the registers about to be answered."""
    if unit.silent or unit.forced_silent:
        return ExcCodes.GATEWAY_NO_RESPONSE
    table = _READ_TABLE.get(function_code)
    if table is None or set_values is not None:
        return None  # coils, discrete inputs: static; writes were refused as read-only
    first, offset, _ = unit.bases[table]
    lo = offset + address - first
    at = address - start_address
    current_registers[at : at + count] = unit.image[lo : lo + count].tolist()
    unit.reads += 1
    return None


async def _unknown_unit(*_: object) -> ExcCodes:
    """Catch-all unit 0: a gateway answers 0x0A (no path) for a unit it does not have."""
    return ExcCodes.GATEWAY_PATH_UNAVIABLE


def _catch_all_unit() -> SimDevice:
    bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
    regs = [SimData(0, count=65535, values=0, datatype=DataType.REGISTERS, readonly=True)]
    return SimDevice(0, simdata=(bits, list(bits), regs, list(regs)), action=_unknown_unit)


def _build_unit(regmap: RegisterMap, device_id: str, unit_id: int) -> _Unit:
    rows = regmap.register_rows(device_id)
    specs = [regmap.registers[i] for i in rows]
    bases: dict[str, tuple[int, int, int]] = {}
    size = 0
    for table in ("holding", "input"):
        mine = [s for s in specs if s.table == table]
        if mine:
            first = min(s.address for s in mine)
            # the whole span is readable (value 0 in gaps), so batched reads may bridge gaps
            span = max(s.address + s.words for s in mine) - first
            bases[table] = (first, size, span)
            size += span
    index = np.array(
        [bases[s.table][1] + s.address - bases[s.table][0] for s in specs], dtype=np.int64
    )
    codec = RegisterCodec.from_specs(specs, index)
    return _Unit(device_id, unit_id, rows, codec, np.zeros(size, dtype=np.uint16), bases)


class FieldDevices:
    """All simulated devices of a register map, served over Modbus TCP.

    Parameters
    ----------
    regmap : RegisterMap
        Devices (endpoints, unit ids) and their registers.
    source : ValueSource
        ``source(now) -> values`` in SI, aligned with ``regmap.sensor_ids``.
    tick_s : float
        Period of the background update from the source, s.
    clock : callable
        Epoch seconds passed to the source.
    bind_host : str, optional
        Listen on this address instead of each device's ``host``.
    """

    def __init__(
        self,
        regmap: RegisterMap,
        source: ValueSource,
        *,
        tick_s: float = DEFAULT_TICK_S,
        clock: Callable[[], float] = time.time,
        bind_host: str | None = None,
    ) -> None:
        self.regmap = regmap
        self.source = source
        self.tick_s = tick_s
        self.clock = clock
        self.bind_host = bind_host
        self.units: dict[str, _Unit] = {
            d.device_id: _build_unit(regmap, d.device_id, d.unit_id) for d in regmap.devices
        }
        self.endpoints = regmap.endpoints()
        self.servers: dict[tuple[str, int], ModbusTcpServer] = {}
        self.ticks = 0
        self._ticker: asyncio.Task | None = None

    def tick(self, now: float | None = None) -> None:
        """Pull the source once and encode every device's registers."""
        values = np.asarray(self.source(self.clock() if now is None else now), dtype=float)
        if values.shape != (len(self.regmap.registers),):
            raise ValueError(f"source gave {values.shape}, map has {len(self.regmap.registers)}")
        for unit in self.units.values():
            v = values[unit.rows]
            unit.codec.encode(v, unit.image)
            unit.silent = bool(v.size) and bool(np.isnan(v).all())
        self.ticks += 1

    def set_silent(self, device_id: str, silent: bool = True) -> None:
        """Make one device stop (or resume) answering, whatever the source says."""
        self.units[device_id].forced_silent = silent

    def registers(self, device_id: str, table: str, address: int, count: int) -> list[int]:
        """Current raw registers of a device, as a read would return them."""
        unit = self.units[device_id]
        first, offset, _ = unit.bases[table]
        lo = offset + address - first
        return unit.image[lo : lo + count].tolist()

    async def start_endpoint(self, endpoint: tuple[str, int]) -> None:
        """Start the server answering for one ``(host, port)``."""
        host, port = endpoint
        devices = [self.units[d.device_id].sim_device() for d in self.endpoints[endpoint]]
        server = ModbusTcpServer(
            devices + [_catch_all_unit()], address=(self.bind_host or host, port)
        )
        await server.serve_forever(background=True)
        self.servers[endpoint] = server
        log.info("modbus devices on %s:%d, units %s", host, port, [d.id for d in devices])

    async def stop_endpoint(self, endpoint: tuple[str, int]) -> None:
        """Stop one server (its devices become unreachable)."""
        server = self.servers.pop(endpoint, None)
        if server is not None:
            await server.shutdown()

    async def start(self) -> None:
        """Encode current values, start every server and the ticker."""
        self.tick()
        for endpoint in self.endpoints:
            await self.start_endpoint(endpoint)
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self.tick()
            except Exception:  # a failing source must not take the devices down
                log.exception("value source failed; serving previous values")

    async def stop(self) -> None:
        """Stop the ticker and every server."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for endpoint in list(self.servers):
            await self.stop_endpoint(endpoint)

    async def serve_forever(self) -> None:
        """Start and run until cancelled."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
