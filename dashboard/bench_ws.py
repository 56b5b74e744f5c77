"""End-to-end latency: a register changed at a Modbus device → a websocket client receives it.

Three processes, as in production: the field devices (``sim.devices.FieldDevices``), the twin
(runtime with the Modbus poller, ingest writer, live hub and ``/ws/live``; served here by
threaded Werkzeug, where ``serve`` uses gunicorn's threaded worker: in both an open websocket
holds one request thread, and simple-websocket reads its socket in a thread of its own), and
the browser
stand-in (a websocket client in this process, reading the compact binary frames the browser
map reads). Every sensor's value changes each second; a
set of probe sensors encode a step counter, so the client knows which change it sees. Latency
is measured from the moment the device wrote the change into its registers: the
device's tick that first writes it (reported by the device process).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import socket
import tempfile
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd

#: seconds between two probe steps
PROBE_PERIOD_S = 1.3
N_PROBES = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ws_sensors(n: int, per_device: int = 250) -> pd.DataFrame:
    """``n`` river-level sensors spread over gateways of ``per_device`` sensors each."""
    idx = np.arange(n)
    return pd.DataFrame(
        {
            "sensor_id": [f"S{i:06d}" for i in idx],
            "kind": "river_level",
            "quantity": "river__water_level",
            "unit": "m",
            "min_value": -5.0,
            "max_value": 30.0,
            "grid_id": "G0",
            "device_id": [f"gw-{i // per_device:03d}" for i in idx],
            "register_address": (idx % per_device) * 2,
        }
    )


def _source(n: int, start: float, changes=None):
    """Values at ``now``; probe step k is written when ``now`` passes ``start + k·period``.

    ``changes`` (a queue) receives ``(k, now)`` at the tick that first encodes step k: the
    moment the registers really change at the device.
    """
    probes = np.linspace(0, n - 1, N_PROBES).astype(int)
    base = 1.0 + (np.arange(n) % 100) * 0.01
    last = [-1]

    def values(now: float) -> np.ndarray:
        v = base + 0.001 * (int(now) % 10)  # every sensor moves each second
        k = max(0, int((now - start) // PROBE_PERIOD_S))
        v[probes] = 10.0 + 0.01 * (k % 1000)
        if changes is not None and k != last[0]:
            last[0] = k
            changes.put((k, now))
        return v

    return values, probes


def _devices(n: int, port: int, start: float, ready, stop, changes) -> None:  # device process
    import asyncio

    from sim.devices import FieldDevices
    from sim.registermap_gen import generate_register_map

    regmap = generate_register_map(ws_sensors(n), port=port, poll_interval_s=1.0)
    values, _ = _source(n, start, changes)

    async def main() -> None:
        devices = FieldDevices(regmap, values, tick_s=0.05)
        await devices.start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        await devices.stop()

    asyncio.run(main())


def _twin(n: int, device_port: int, web_port: int, folder: str, ready, stop) -> None:
    import flask
    from werkzeug.serving import make_server

    from dashboard.live import register_live_routes
    from dashboard.runtime import build_runtime
    from sim.registermap_gen import generate_register_map

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sensors = ws_sensors(n)
    registry = SimpleNamespace(sensors=sensors)
    runtime = build_runtime(registry, folder)
    runtime.attach_modbus(generate_register_map(sensors, port=device_port, poll_interval_s=1.0))
    runtime.start()
    app = flask.Flask("bench_ws")
    register_live_routes(app, runtime)
    server = make_server("127.0.0.1", web_port, app, threaded=True)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    stop.wait()
    server.shutdown()
    runtime.stop()


def bench_ws_latency(n_sensors: int = 10_000, seconds: float = 30.0) -> dict:
    """Median and p99 of device-change → websocket-receipt latency, and bytes/s sent."""
    import websocket

    ctx = mp.get_context("spawn")
    start = time.time() + 8.0  # probes begin counting after everything is up
    device_port, web_port = _free_port(), _free_port()
    stop = ctx.Event()
    d_ready, t_ready = ctx.Event(), ctx.Event()
    changes = ctx.Queue()
    with tempfile.TemporaryDirectory() as folder:
        dev = ctx.Process(
            target=_devices, args=(n_sensors, device_port, start, d_ready, stop, changes)
        )
        dev.start()
        d_ready.wait(60)
        twin = ctx.Process(
            target=_twin, args=(n_sensors, device_port, web_port, folder, t_ready, stop)
        )
        twin.start()
        t_ready.wait(60)
        # steady state only: changes made before the twin has polled a couple of scans do
        # not count (on a busy machine the twin may come up after ``start``)
        since = max(start, time.time() + 2.0)
        try:
            result = _measure(websocket, web_port, n_sensors, since, seconds, changes)
        finally:
            stop.set()
            for p in (twin, dev):
                p.join(15)
                if p.is_alive():
                    p.kill()
    return result


def _measure(websocket, port: int, n: int, start: float, seconds: float, changes) -> dict:
    """Listen as the browser map does (``/ws/live?format=bin``, the compact binary frames).

    Counts the probe changes made at or after ``start``, for ``seconds``.
    """
    from dashboard.live import decode_binary_values

    _, probes = _source(n, start)
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws/live?format=bin", timeout=10)
    hello = json.loads(ws.recv())
    row_of = {sid: r for r, sid in enumerate(hello["ids"])}
    probe_rows = np.array([row_of[f"S{i:06d}"] for i in probes])
    arrivals: list[tuple[int, float]] = []  # (probe step, receipt time)
    seen: dict[int, float] = {}
    n_bytes, t_first = 0, None
    end = start + seconds
    while time.time() < end:
        frame = ws.recv()
        now = time.time()
        if now < start or not isinstance(frame, bytes):
            continue
        t_first = t_first or now
        n_bytes += len(frame)
        msg = decode_binary_values(frame)
        hit = np.isin(msg["rows"], probe_rows)
        for row, value in zip(msg["rows"][hit].tolist(), msg["value"][hit].tolist(), strict=True):
            if value == value and value != seen.get(row):
                seen[row] = value
                arrivals.append((round((value - 10.0) / 0.01), now))
    ws.close()
    changed_at: dict[int, float] = {}
    while not changes.empty():
        k, t = changes.get()
        changed_at.setdefault(k, t)
    lat = np.array(
        [
            now - changed_at[k]
            for k, now in arrivals
            if k > 0 and changed_at.get(k, -np.inf) >= start
        ]
    )
    lat *= 1000
    duration = max(time.time() - (t_first or start), 1e-9)
    return {
        "ws_sensors": n,
        "ws_latency_samples": int(lat.size),
        "ws_latency_p50_ms": float(np.median(lat)) if lat.size else None,
        "ws_latency_p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
        "ws_bytes_per_s": n_bytes / duration,
    }
