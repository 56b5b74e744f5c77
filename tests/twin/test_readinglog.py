"""Durable reading log: idempotent appends, replay, pruning, and crash safety under SIGKILL."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from twin.readinglog import ReadingLog
from twin.readings import ReadingBatch

T0 = 1_750_000_000.0


def batch(ids, t=None, sensor="S1", value=None) -> ReadingBatch:
    n = len(ids)
    t = T0 + np.arange(n, dtype=float) if t is None else np.asarray(t, dtype=float)
    value = np.arange(n, dtype=float) if value is None else value
    return ReadingBatch.from_columns(
        ids, [sensor] * n, np.zeros(n, int), value, t, t + 0.5, np.zeros(n), ["test"] * n
    )


@pytest.fixture
def log(tmp_path):
    with ReadingLog(tmp_path / "log" / "readings.sqlite") as lg:
        yield lg


def test_append_reports_new_readings_and_is_idempotent(log):
    assert log.append(batch(["a", "b", "c"])) == 3
    assert len(log) == 3
    mask = log.append_mask(batch(["c", "d", "a", "d"]))
    assert mask.tolist() == [False, True, False, False]  # c, a stored before; d repeats
    assert len(log) == 4
    assert log.contains(["a", "d", "zz"]).tolist() == [True, True, False]
    assert log.append(batch([])) == 0


def test_replay_returns_stored_columns_in_append_order(log):
    log.append(batch(["a", "b"], t=[T0 + 5, T0 + 1], value=np.array([1.5, 2.5])))
    log.append(batch(["c"], t=[T0 + 3], sensor="S2", value=np.array([3.5])))
    (out,) = list(log.replay())
    assert out.reading_id.tolist() == ["a", "b", "c"]
    assert out.sensor_id.tolist() == ["S1", "S1", "S2"]
    assert out.value.tolist() == [1.5, 2.5, 3.5]
    assert (out.observed_at - T0).tolist() == [5.0, 1.0, 3.0]
    assert (out.received_at - T0).tolist() == [5.5, 1.5, 3.5]
    assert out.quality.tolist() == [0, 0, 0] and out.source.tolist() == ["test"] * 3
    assert out.row.tolist() == [-1, -1, -1]
    (recent,) = list(log.replay(since=T0 + 3))
    assert recent.reading_id.tolist() == ["a", "c"]


def test_replay_chunks_batches(log):
    for k in range(5):
        log.append(batch([f"{k}-{i}" for i in range(3)]))
    sizes = [len(b) for b in log.replay(chunk=4)]
    assert sizes == [6, 6, 3]


def test_log_survives_reopening(tmp_path):
    path = tmp_path / "r.sqlite"
    with ReadingLog(path) as lg:
        lg.append(batch(["a", "b"]))
    with ReadingLog(path) as lg:
        assert len(lg) == 2
        assert lg.append(batch(["b", "c"])) == 1
        assert [len(b) for b in lg.replay()] == [3]


def test_prune_drops_whole_old_batches_and_their_ids(log):
    log.append(batch(["old1", "old2"], t=[T0, T0 + 10]))
    log.append(batch(["mixed1", "mixed2"], t=[T0 + 5, T0 + 100]))
    log.append(batch(["new"], t=[T0 + 200]))
    assert log.prune(before=T0 + 50) == 2
    assert len(log) == 3
    assert log.contains(["old1", "mixed1"]).tolist() == [False, True]
    ids = np.concatenate([b.reading_id for b in log.replay()]).tolist()
    assert ids == ["mixed1", "mixed2", "new"]


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from twin.readinglog import ReadingLog
    from twin.readings import ReadingBatch

    log = ReadingLog(sys.argv[1])
    n = 500
    k = 0
    while True:
        ids = [f"b{k}-{i}" for i in range(n)]
        t = 1.75e9 + np.arange(n, dtype=float)
        b = ReadingBatch.from_columns(
            ids, ["S1"] * n, np.zeros(n, int), np.ones(n), t, t, np.zeros(n), ["child"] * n
        )
        log.append(b)
        print(f"ACK {k}", flush=True)
        k += 1
    """
)


def test_sigkill_loses_no_acknowledged_reading_and_leaves_no_partial_batch(tmp_path):
    path = tmp_path / "crash.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    acked = []
    try:
        for line in proc.stdout:
            acked.append(int(line.split()[1]))
            if len(acked) == 40:
                break
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-stream: the child keeps appending until killed
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert acked == list(range(40))
    with ReadingLog(path) as lg:
        ids = np.concatenate([b.reading_id for b in lg.replay()]).tolist()
    per_batch = collections.Counter(int(i.split("-")[0][1:]) for i in ids)
    for k in acked:
        assert per_batch[k] == 500, k  # every acknowledged reading is there
    assert set(per_batch.values()) == {500}  # any later batch is whole or absent
    assert len(ids) == len(set(ids))
    assert sorted(per_batch) == list(range(len(per_batch)))
