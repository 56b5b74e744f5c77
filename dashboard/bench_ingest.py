"""``streettwin bench ingest``: readings/s in process, over HTTP, and registers/s over Modbus.

* ``inproc_readings_per_s`` — :func:`twin.ingest.bench.bench_inproc` (batched apply into live
  state and history);
* ``http_readings_per_s`` — a real Werkzeug server on loopback in a separate process (the
  full path: bearer check, JSON parse, validation, durable fsync'd log, state + history)
  and a client posting 10,000-reading batches over one keep-alive connection; median of
  repeats;
* ``modbus_registers_per_s`` — :func:`sim.modbus_bench.bench_modbus` when present.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import multiprocessing as mp
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import psutil

log = logging.getLogger(__name__)

TOKEN = "bench-token"
HTTP_BATCH = 10_000  # readings per POST
HTTP_CLIENTS = 2  # concurrent connections posting


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_sensors(n: int) -> pd.DataFrame:
    """A catalogue frame of ``n`` river gauges (m, range [-5, 30])."""
    return pd.DataFrame(
        {
            "sensor_id": [f"S{i:06d}" for i in range(n)],
            "quantity": "river__water_level",
            "unit": "m",
            "min_value": -5.0,
            "max_value": 30.0,
        }
    )


def _serve(port: int, n_sensors: int, folder: str, ready) -> None:  # the server process
    import flask
    from werkzeug.serving import make_server

    from dashboard.api_readings import IngestContext, register_readings_api
    from twin.history import History
    from twin.ingest import IngestPipeline
    from twin.readinglog import ReadingLog
    from twin.readings import Catalogue
    from twin.state import LiveState

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    cat = Catalogue(bench_sensors(n_sensors))
    ids = cat.sensor_ids.tolist()
    pipe = IngestPipeline(
        cat,
        LiveState(ids),
        History(len(ids), 256, ids),
        ReadingLog(Path(folder) / "readings.sqlite"),
    )
    app = flask.Flask("bench_ingest")
    register_readings_api(app, IngestContext(pipe, TOKEN))
    server = make_server("127.0.0.1", port, app, threaded=True)
    ready.set()
    server.serve_forever()


def _bodies(n_batches: int, batch: int, n_sensors: int, seed: int) -> list[bytes]:
    """Pre-encoded POST bodies; every reading has its own id, ISO time and value."""
    rng = np.random.default_rng(seed)
    t0 = time.time() - 30.0
    stamps = [time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t0 + s)) for s in range(30)]
    bodies = []
    for b in range(n_batches):
        sensors = rng.integers(0, n_sensors, batch)
        values = np.round(rng.uniform(0.0, 10.0, batch), 3)
        readings = [
            {
                "reading_id": f"b{b}-{i}",
                "sensor_id": f"S{s:06d}",
                "value": float(v),
                "observed_at": stamps[i % 30],
                "unit": "m",
            }
            for i, (s, v) in enumerate(zip(sensors.tolist(), values.tolist(), strict=True))
        ]
        bodies.append(orjson.dumps({"readings": readings}))
    return bodies


def bench_http(
    n_sensors: int = 10_000,
    batch: int = HTTP_BATCH,
    batches_per_repeat: int = 10,
    repeat: int = 3,
    clients: int = HTTP_CLIENTS,
    seed: int = 0,
) -> dict:
    """Readings/s through ``POST /api/readings`` on loopback (median over repeats).

    ``clients`` connections post at once (as a fleet of gateways does), so one request's
    fsync wait overlaps another's parsing; each response still comes only after its batch
    is durable.

    Returns
    -------
    dict
        ``http_readings_per_s``, ``http_runs_s``, ``http_readings_per_server_cpu_s`` (readings
        per CPU-second of the server process, independent of other load on the machine),
        ``http_clients``, ``http_batch``, ``http_body_bytes``.
    """
    port = _free_port()
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    bodies = _bodies(batches_per_repeat * repeat + clients, batch, n_sensors, seed)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        proc = ctx.Process(target=_serve, args=(port, n_sensors, folder, ready), daemon=True)
        proc.start()
        try:
            if not ready.wait(60):
                raise RuntimeError("bench server did not start")
            conns = [
                http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(clients)
            ]

            def send(conn: http.client.HTTPConnection, chunk: list[bytes]) -> None:
                for body in chunk:
                    conn.request("POST", "/api/readings", body=body, headers=headers)
                    resp = conn.getresponse()
                    out = orjson.loads(resp.read())
                    if resp.status != 200 or out["accepted"] != batch:
                        raise RuntimeError(f"bench POST failed: {resp.status} {str(out)[:200]}")

            # warm-up: imports, first SQLite pages, one connection each
            for k, conn in enumerate(conns):
                send(conn, [bodies[k]])
            server = psutil.Process(proc.pid)
            cpu0 = sum(server.cpu_times()[:2])
            for r in range(repeat):
                chunk = bodies[clients + r * batches_per_repeat :][:batches_per_repeat]
                with ThreadPoolExecutor(clients) as pool:
                    start = time.perf_counter()
                    jobs = [
                        pool.submit(send, conn, chunk[k::clients]) for k, conn in enumerate(conns)
                    ]
                    for job in jobs:
                        job.result()
                    runs.append(time.perf_counter() - start)
            server_cpu_s = sum(server.cpu_times()[:2]) - cpu0
            for conn in conns:
                conn.close()
        finally:
            proc.terminate()
            proc.join(10)
    return {
        "http_readings_per_s": batch * batches_per_repeat / statistics.median(runs),
        "http_runs_s": runs,
        # CPU the server spent per reading: tells a slow machine from a busy one
        # None when the run is too short for the OS's CPU clock (10 ms ticks) to see it
        "http_readings_per_server_cpu_s": (
            batch * batches_per_repeat * repeat / server_cpu_s if server_cpu_s > 0 else None
        ),
        "http_clients": clients,
        "http_batch": batch,
        "http_batches_per_repeat": batches_per_repeat,
        "http_body_bytes": len(bodies[0]),
    }


def bench_ingest(args: argparse.Namespace) -> dict:
    """The ``ingest`` benchmark: in-process, HTTP and Modbus figures (``args.smoke``: small)."""
    from twin.ingest.bench import bench_inproc

    smoke = bool(getattr(args, "smoke", False))
    repeat = int(getattr(args, "repeat", None) or (1 if smoke else 3))
    out: dict = {"smoke": smoke}
    if smoke:
        inproc = bench_inproc(n_sensors=1_000, n_readings=50_000, repeat=repeat, batch_size=10_000)
        http = bench_http(n_sensors=1_000, batch=1_000, batches_per_repeat=3, repeat=repeat)
    else:
        inproc = bench_inproc(repeat=repeat)
        http = bench_http(repeat=repeat)
    out["inproc_readings_per_s"] = inproc["inproc_readings_per_s"]
    out["inproc"] = inproc
    out.update(http)
    if not smoke:  # one sequential client: latency-bound (parse + fsync add up)
        out["http_readings_per_s_1client"] = bench_http(repeat=repeat, clients=1)[
            "http_readings_per_s"
        ]
    try:
        from sim.modbus_bench import bench_modbus
    except ImportError as exc:
        out["modbus_registers_per_s"] = None
        out["modbus_note"] = f"skipped: bench_modbus not available ({exc})"
    else:
        if smoke:
            modbus = bench_modbus(n_devices=5, registers_per_device=50, seconds=1.0, warmup_s=0.5)
        else:
            modbus = bench_modbus()
        out["modbus_registers_per_s"] = modbus.get("modbus_registers_per_s")
        out["modbus"] = modbus
    from dashboard.bench_ws import bench_ws_latency

    ws = bench_ws_latency(n_sensors=1_000 if smoke else 10_000, seconds=10 if smoke else 40)
    out["ws_latency_p99_ms"] = ws["ws_latency_p99_ms"]
    out["ws"] = ws
    out["floors"] = {
        "ws_latency_p99_ms": 1_250,
        "inproc_readings_per_s": 5_000_000,
        "http_readings_per_s": 200_000,
        "modbus_registers_per_s": 50_000,
    }
    return out
