"""Ingest pipeline: validate → durable log → state + history; counters; restore; bench smoke."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.twin.test_readings import NOW, sensors_frame
from twin.history import History
from twin.ingest import IngestPipeline
from twin.ingest.bench import bench_inproc, bench_log
from twin.readinglog import ReadingLog
from twin.readings import Catalogue
from twin.state import LiveState, Quality


class FakeClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_pipeline(path, clock=None) -> IngestPipeline:
    cat = Catalogue(sensors_frame())
    ids = cat.sensor_ids.tolist()
    return IngestPipeline(
        cat,
        LiveState(ids),
        History(len(ids), capacity_per_sensor=16, sensor_ids=ids),
        ReadingLog(path),
        clock or FakeClock(NOW),
        retention_s=3600.0,
    )


@pytest.fixture
def pipe(tmp_path):
    p = make_pipeline(tmp_path / "readings.sqlite")
    yield p
    p.log.close()


def reading(rid, sensor="RIV-1", value=1.0, dt=-10.0, **extra):
    return {
        "reading_id": rid,
        "sensor_id": sensor,
        "value": value,
        "observed_at": NOW + dt,
        **extra,
    }


def test_submit_lands_valid_readings_and_reports_rejections(pipe):
    raw = [
        reading("a", value=2.0),
        reading("b", sensor="NOPE"),
        reading("c", sensor="ROAD-1", value=40, unit="cm"),
        reading("d", value=math.inf),
    ]
    res = pipe.submit(raw, source="http")
    assert res.accepted == 2 and res.accepted_ids == ["a", "c"]
    assert [(r["index"], r["reason"]) for r in res.rejected] == [
        (1, "unknown_sensor"),
        (3, "not_a_number"),
    ]
    snap = pipe.state.snapshot()
    assert snap.loc["RIV-1", "value"] == 2.0
    assert snap.loc["ROAD-1", "value"] == pytest.approx(0.4)
    assert snap.loc["RIV-1", "observed_at"] == NOW - 10 and snap.loc["RIV-1", "received_at"] == NOW
    # the NaN reading of RIV-1 flags it REJECTED while keeping the last good value
    assert snap.loc["RIV-1", "quality"] == Quality.REJECTED
    assert snap.loc["ROAD-1", "quality"] == Quality.GOOD
    t, v = pipe.history.last(2, 60.0, NOW)
    assert t.tolist() == [NOW - 10] and v.tolist() == pytest.approx([0.4])
    assert len(pipe.log) == 2
    assert pipe.counters.snapshot() == {
        "accepted_by_source": {"http": 2},
        "rejected_by_reason": {"unknown_sensor": 1, "not_a_number": 1},
        "rejected_by_source": {"http": 2},
    }


def test_resubmitted_batch_is_a_duplicate_against_the_log(pipe):
    pipe.submit([reading("a"), reading("b", dt=-5)], source="mqtt")
    res = pipe.submit([reading("x", dt=-1), reading("a"), reading("b", dt=-5)], source="mqtt")
    assert res.accepted == 1 and res.accepted_ids == ["x"]
    assert [(r["index"], r["reading_id"], r["reason"]) for r in res.rejected] == [
        (1, "a", "duplicate_reading"),
        (2, "b", "duplicate_reading"),
    ]
    assert len(pipe.log) == 3
    assert pipe.history.count[0] == 3  # duplicates never reach history twice
    assert pipe.counters.rejected_by_reason["duplicate_reading"] == 2


def test_oversize_and_non_list_batches_are_rejected_whole(tmp_path):
    p = make_pipeline(tmp_path / "r.sqlite")
    p.max_batch = 2
    res = p.submit([reading("a"), reading("b"), reading("c")], source="http")
    assert res.accepted == 0 and [r["reason"] for r in res.rejected] == ["batch_too_large"]
    res = p.submit({"not": "a list"}, source="http")
    assert res.accepted == 0 and [r["reason"] for r in res.rejected] == ["malformed"]
    assert len(p.log) == 0
    p.log.close()


def test_submit_arrays_checks_range_and_time_vectorised(pipe):
    rows = np.array([0, 1, 2, 3, 7, 0])
    values = np.array([3.0, 1.0, 2.5, 1e5, 1.0, np.nan])  # RAIN-1: 1 m/s is out of range
    obs = np.array([NOW - 1, NOW - 1, NOW + 120, NOW - 1, NOW - 1, NOW - 1])
    res = pipe.submit_arrays(rows, values, obs, source="modbus")
    assert res.accepted == 2
    assert [(r["index"], r["reason"]) for r in res.rejected] == [
        (1, "out_of_range"),
        (2, "future_timestamp"),
        (4, "unknown_sensor"),
        (5, "not_a_number"),
    ]
    assert pipe.state.value[[0, 3]].tolist() == [3.0, 1e5]
    assert pipe.state.quality.tolist() == [
        Quality.REJECTED,  # its NaN came after the good value in the same call
        Quality.REJECTED,
        Quality.STALE,  # future reading did not land, no value yet
        Quality.GOOD,
    ]
    assert len(pipe.log) == 2
    # the same poll again (derived ids) is recognised as duplicate
    again = pipe.submit_arrays(rows[[0, 3]], values[[0, 3]], obs[[0, 3]])
    assert again.accepted == 0
    assert [r["reason"] for r in again.rejected] == ["duplicate_reading"] * 2
    assert pipe.counters.accepted_by_source == {"modbus": 2}


def test_one_commit_of_many_sources_counts_each_source(pipe):
    rows = np.array([0, 3, 3, 1])
    values = np.array([3.0, 1.0, np.nan, 1.0])  # row 1 (RAIN-1) at 1 m/s: out of range
    sources = np.array(["modbus:gw-1", "modbus:gw-1", "modbus:gw-2", "modbus:gw-2"], object)
    res = pipe.submit_arrays(rows, values, NOW - 1, source=sources)
    assert res.accepted == 2
    assert pipe.counters.accepted_by_source == {"modbus:gw-1": 2}
    assert pipe.counters.rejected_by_source == {"modbus:gw-2": 2}
    assert pipe.counters.rejected_by_source_reason == {
        ("modbus:gw-2", "not_a_number"): 1,
        ("modbus:gw-2", "out_of_range"): 1,
    }
    (logged,) = list(pipe.log.replay(since=0))
    assert logged.source.tolist() == ["modbus:gw-1", "modbus:gw-1"]


def test_submit_arrays_too_old_and_simulated_quality(pipe):
    res = pipe.submit_arrays(
        np.array([0, 0]),
        np.array([1.0, 2.0]),
        np.array([NOW - 3601, NOW]),
        quality=Quality.SIMULATED,
    )
    assert res.accepted == 1 and [r["reason"] for r in res.rejected] == ["too_old"]
    assert pipe.state.value[0] == 2.0 and pipe.state.quality[0] == Quality.SIMULATED


def test_restore_rebuilds_state_and_history_after_restart(tmp_path):
    path = tmp_path / "readings.sqlite"
    p1 = make_pipeline(path)
    p1.submit([reading("a", value=1.0, dt=-30), reading("b", value=2.0, dt=-20)], source="http")
    p1.submit([reading("c", value=1.5, dt=-40)], source="http")  # late: not the live value
    p1.submit_arrays(np.array([3]), np.array([5e5]), NOW - 5)
    p1.log.close()

    clock = FakeClock(NOW + 60)
    p2 = make_pipeline(path, clock)
    assert p2.restore() == 4
    s = p2.state.snapshot()
    assert s.loc["RIV-1", "value"] == 2.0 and s.loc["RIV-1", "observed_at"] == NOW - 20
    assert s.loc["PRES-1", "value"] == 5e5
    t, v = p2.history.last(0, 3600.0, NOW)
    assert (t - NOW).tolist() == [-40.0, -30.0, -20.0] and v.tolist() == [1.5, 1.0, 2.0]
    # after restart the log still refuses the old ids
    assert p2.submit([reading("a", value=1.0, dt=-30)], source="http").accepted == 0
    # restore honours retention: an hour later only the newest readings count
    clock.t = NOW - 25 + 3600
    p3 = make_pipeline(path, clock)
    assert p3.restore() == 2  # b (NOW-20) and the PRES-1 reading (NOW-5)
    # pruning is per stored batch: "c" (alone, NOW-40) goes; "a" stays with "b" (NOW-20)
    assert p3.prune() == 1
    assert p3.log.contains(["a", "b", "c"]).tolist() == [True, True, False]
    p2.log.close()
    p3.log.close()


def test_pipeline_refuses_misaligned_rows(tmp_path):
    cat = Catalogue(sensors_frame())
    with pytest.raises(ValueError):
        IngestPipeline(cat, LiveState(["x"]), History(1), ReadingLog(tmp_path / "r.sqlite"))


@pytest.mark.bench
def test_bench_inproc_smoke():
    out = bench_inproc(n_sensors=100, n_readings=20_000, repeat=1, batch_size=5_000)
    assert out["n_readings"] == 20_000 and len(out["runs_s"]) == 1
    assert out["inproc_readings_per_s"] > 0


@pytest.mark.bench
def test_bench_log_smoke():
    out = bench_log(n_readings=2_000, batch_size=500)
    assert out["n_readings"] == 2_000 and out["log_readings_per_s"] > 0
