"""Modbus ingest benchmark: registers/s polled from many simulated devices over loopback TCP.

The devices run in a separate process (as in production: ``streettwin devices`` is its own
process), one TCP server with one unit per device; the twin side is the real
:class:`twin.ingest.modbus.ModbusPoller` with one connection and task per device.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import socket
import tempfile
import time
from pathlib import Path

import numpy as np

from twin.ingest.modbus import ModbusPoller
from twin.registermap import (
    DeviceSpec,
    RegisterMap,
    RegisterSpec,
    load_register_map,
    write_register_map,
)

#: a repeating mix of value layouts: (dtype, word order, scale, unit, sentinel)
_MIX = (
    ("float32", "big", 1.0, "m", None),
    ("float32", "little", 1.0, "kW", None),
    ("int16", "big", 0.1, "cm", 0x8000),
    ("uint32", "big", 1.0, "count", 0xFFFFFFFF),
    ("uint16", "big", 0.1, "%", 0xFFFF),
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def bench_register_map(
    n_devices: int, registers_per_device: int, *, host: str, port: int, poll_interval_s: float
) -> RegisterMap:
    """``n_devices`` units on one endpoint, each with ~``registers_per_device`` packed registers."""
    devices, registers = [], []
    for d in range(n_devices):
        dev = f"bench-{d:04d}"
        devices.append(DeviceSpec(dev, host, port, d % 247 + 1, poll_interval_s, 1.0))
        address, k = 0, 0
        while True:
            dtype, order, scale, unit, sentinel = _MIX[k % len(_MIX)]
            words = 1 if dtype.endswith("16") else 2
            if address + words > registers_per_device:
                break
            registers.append(
                RegisterSpec(
                    dev,
                    f"{dev}-{k:04d}",
                    "input",
                    address,
                    dtype,
                    order,
                    scale,
                    0.0,
                    unit,
                    sentinel,
                )
            )
            address += words
            k += 1
    return RegisterMap(tuple(devices), tuple(registers), "bench")


def _serve(map_dir: str, seconds: float, ready) -> None:  # runs in the device process
    from sim.devices import FieldDevices

    regmap = load_register_map(map_dir)
    rng = np.random.default_rng(0)
    base = rng.uniform(0.0, 100.0, len(regmap.registers))

    async def main() -> None:
        devices = FieldDevices(regmap, lambda now: base + np.sin(now), tick_s=0.5)
        await devices.start()
        ready.set()
        await asyncio.sleep(seconds)
        await devices.stop()

    asyncio.run(main())


def bench_modbus(
    n_devices: int = 100,
    registers_per_device: int = 250,
    seconds: float = 5.0,
    *,
    poll_interval_s: float = 0.1,
    warmup_s: float = 1.0,
) -> dict:
    """Poll ``n_devices`` simulated devices on loopback and count registers read per second.

    Parameters
    ----------
    n_devices : int
        Simulated devices (units of one TCP server in a separate process, at most 247).
    registers_per_device : int
        Registers each device exposes (read in ``ceil(n / 125)`` requests per poll).
    seconds : float
        Measured wall time, s (after ``warmup_s`` of connecting and polling).
    poll_interval_s : float
        Poll period per device, s; short, so the figure measures capacity.

    Returns
    -------
    dict
        ``modbus_registers_per_s`` (floor 50,000), requests/s, values/s, poll latency
        percentiles (ms), failed polls and the sizes used.
    """
    n_devices = min(n_devices, 247)
    host, port = "127.0.0.1", free_port()
    regmap = bench_register_map(
        n_devices, registers_per_device, host=host, port=port, poll_interval_s=poll_interval_s
    )
    delivered = [0]

    def sink(ids, values, observed_at, source) -> None:
        delivered[0] += len(ids)

    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    with tempfile.TemporaryDirectory() as tmp:
        write_register_map(regmap, Path(tmp))
        proc = ctx.Process(target=_serve, args=(tmp, warmup_s + seconds + 30.0, ready))
        proc.start()
        try:
            if not ready.wait(60):
                raise RuntimeError("simulated devices did not start")
            result = asyncio.run(_measure(regmap, sink, delivered, seconds, warmup_s))
        finally:
            proc.terminate()
            proc.join(10)
    result.update(
        devices=n_devices,
        registers_per_device=registers_per_device,
        values_per_device=len(regmap.registers) // max(n_devices, 1),
        poll_interval_s=poll_interval_s,
        seconds=seconds,
    )
    return result


async def _measure(regmap, sink, delivered, seconds: float, warmup_s: float) -> dict:
    poller = ModbusPoller(regmap, sink=sink)
    await poller.start()
    try:
        await asyncio.sleep(warmup_s)
        before, d0, t0 = poller.totals(), delivered[0], time.perf_counter()
        await asyncio.sleep(seconds)
        after, d1, t1 = poller.totals(), delivered[0], time.perf_counter()
    finally:
        await poller.stop()
    dt = t1 - t0
    lat = np.concatenate([np.array(p.latencies, dtype=float) for p in poller.pollers])
    return {
        "modbus_registers_per_s": (after["registers_read"] - before["registers_read"]) / dt,
        "modbus_requests_per_s": (after["requests"] - before["requests"]) / dt,
        "modbus_values_per_s": (d1 - d0) / dt,
        "modbus_poll_latency_p50_ms": float(np.percentile(lat, 50) * 1e3) if lat.size else None,
        "modbus_poll_latency_p95_ms": float(np.percentile(lat, 95) * 1e3) if lat.size else None,
        "modbus_polls_failed": after["polls_failed"],
    }


if __name__ == "__main__":
    print(bench_modbus())
