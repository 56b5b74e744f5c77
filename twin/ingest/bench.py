"""In-process ingest benchmark: batched apply of readings into live state and history."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from twin.history import DEFAULT_CAPACITY, History
from twin.readinglog import ReadingLog
from twin.readings import ReadingBatch
from twin.state import LiveState

BATCH_SIZE = 50_000  # readings per apply call (a poll cycle of a large district)


def bench_inproc(
    n_sensors: int = 10_000,
    n_readings: int = 5_000_000,
    repeat: int = 3,
    *,
    batch_size: int = BATCH_SIZE,
    capacity: int = DEFAULT_CAPACITY,
    seed: int = 0,
) -> dict:
    """Measure readings/s of batched apply into :class:`LiveState` + :class:`History`.

    Readings hit random sensors (rows may repeat within a batch) with increasing times.
    Each repeat starts from a fresh state and history (allocated outside the timing).

    Returns
    -------
    dict
        ``inproc_readings_per_s`` (median over repeats), ``runs_s`` (seconds per repeat) and
        the parameters.
    """
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_sensors, n_readings)
    values = rng.random(n_readings) * 10.0
    t0 = 1.7e9
    observed = t0 + np.arange(n_readings) / n_sensors  # about one reading per sensor per s
    ids = [f"S{i}" for i in range(n_sensors)]
    # compile the numba kernels outside the timing
    _run(LiveState(ids), History(n_sensors, capacity), rows[:10], values[:10], observed[:10], 10)
    runs = []
    for _ in range(repeat):
        state, history = LiveState(ids), History(n_sensors, capacity)
        start = time.perf_counter()
        _run(state, history, rows, values, observed, batch_size)
        runs.append(time.perf_counter() - start)
    return {
        "inproc_readings_per_s": n_readings / statistics.median(runs),
        "runs_s": runs,
        "n_sensors": n_sensors,
        "n_readings": n_readings,
        "batch_size": batch_size,
        "history_capacity": capacity,
        "repeat": repeat,
    }


def _run(state, history, rows, values, observed, batch_size) -> None:
    for k in range(0, rows.size, batch_size):
        sl = slice(k, k + batch_size)
        # the same two calls IngestPipeline._apply makes
        state.apply(rows[sl], values[sl], observed[sl], observed[sl] + 0.05)
        history.append(rows[sl], observed[sl], values[sl])


def bench_log(n_readings: int = 200_000, batch_size: int = 10_000, seed: int = 0) -> dict:
    """Measure readings/s of durable appends to :class:`ReadingLog` (fsync per batch).

    Returns
    -------
    dict
        ``log_readings_per_s`` and the parameters.
    """
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        log = ReadingLog(Path(tmp) / "readings.sqlite")
        batches = []
        for k in range(0, n_readings, batch_size):
            n = min(batch_size, n_readings - k)
            batches.append(
                ReadingBatch.from_columns(
                    [f"r{k + i}" for i in range(n)],
                    [f"S{i % 1000}" for i in range(n)],
                    np.zeros(n, np.int64),
                    rng.random(n),
                    1.7e9 + np.arange(n),
                    np.full(n, 1.7e9),
                    np.zeros(n, np.uint8),
                    ["bench"] * n,
                )
            )
        start = time.perf_counter()
        for b in batches:
            log.append(b)
        elapsed = time.perf_counter() - start
        log.close()
    return {
        "log_readings_per_s": n_readings / elapsed,
        "n_readings": n_readings,
        "batch_size": batch_size,
    }
