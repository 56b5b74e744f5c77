"""Live state: vectorised apply, later observation wins, staleness, versions, snapshots."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from twin.state import LiveState, Quality


def make_state() -> LiveState:
    return LiveState(["S1", "S2", "S3"])


def test_new_state_is_nan_and_stale():
    s = make_state()
    assert np.isnan(s.value).all() and np.isnan(s.observed_at).all()
    assert s.quality.tolist() == [Quality.STALE] * 3
    assert s.version == 0


def test_index_of_maps_ids_and_marks_unknown():
    s = make_state()
    assert s.index_of(["S3", "S1", "nope"]).tolist() == [2, 0, -1]
    assert s.index_of("S2").tolist() == [1]


def test_apply_sets_value_times_quality():
    s = make_state()
    changed = s.apply(np.array([0, 2]), np.array([1.5, 2.5]), np.array([100.0, 101.0]), 105.0)
    assert changed == 2
    assert s.value[[0, 2]].tolist() == [1.5, 2.5]
    assert s.observed_at[[0, 2]].tolist() == [100.0, 101.0]
    assert s.received_at[[0, 2]].tolist() == [105.0, 105.0]
    assert s.quality.tolist() == [Quality.GOOD, Quality.STALE, Quality.GOOD]
    assert np.isnan(s.value[1])


def test_older_observation_does_not_replace_live_value():
    s = make_state()
    s.apply(np.array([0]), np.array([1.0]), np.array([100.0]), 100.0)
    assert s.apply(np.array([0]), np.array([9.0]), np.array([90.0]), 120.0) == 0
    assert s.value[0] == 1.0 and s.observed_at[0] == 100.0 and s.received_at[0] == 100.0


def test_repeated_row_in_one_batch_keeps_latest_observation():
    s = make_state()
    rows = np.array([1, 1, 1, 2, 2])
    values = np.array([1.0, 3.0, 2.0, 7.0, 8.0])
    obs = np.array([10.0, 30.0, 20.0, 5.0, 5.0])  # row 1: t=30 wins; row 2: tie → last wins
    assert s.apply(rows, values, obs, 40.0) == 2
    assert s.value[1] == 3.0 and s.observed_at[1] == 30.0
    assert s.value[2] == 8.0


def test_apply_rejects_out_of_range_rows():
    with pytest.raises(IndexError):
        make_state().apply(np.array([3]), np.array([1.0]), np.array([1.0]), 1.0)


def test_mark_stale_reports_only_newly_stale_rows_and_good_reading_restores():
    s = make_state()
    s.apply(np.array([0, 1]), np.array([1.0, 2.0]), np.array([100.0, 130.0]), 130.0)
    # max age 30 s at t=140: row 0 is 40 s old, row 1 10 s; row 2 never reported (already stale)
    assert s.mark_stale(140.0, 30.0).tolist() == [0]
    assert s.quality.tolist() == [Quality.STALE, Quality.GOOD, Quality.STALE]
    assert s.mark_stale(141.0, 30.0).tolist() == []
    # per-row max ages
    assert s.mark_stale(141.0, np.array([1.0, 5.0, 1.0])).tolist() == [1]
    s.apply(np.array([0]), np.array([4.0]), np.array([150.0]), 150.0)
    assert s.quality[0] == Quality.GOOD and s.value[0] == 4.0


def test_mark_rejected_keeps_last_good_value():
    s = make_state()
    s.apply(np.array([0]), np.array([1.0]), np.array([100.0]), 100.0)
    assert s.mark_rejected(np.array([0, 0])).tolist() == [0]
    assert s.quality[0] == Quality.REJECTED and s.value[0] == 1.0
    assert s.mark_rejected(np.array([0])).tolist() == []


def test_version_and_changed_since_track_changes():
    s = make_state()
    v0 = s.version
    s.apply(np.array([0, 1]), np.array([1.0, 2.0]), np.array([10.0, 10.0]), 10.0)
    v1 = s.version
    assert v1 == v0 + 1
    assert s.changed_since(v0).tolist() == [0, 1]
    assert s.changed_since(v1).tolist() == []
    s.apply(np.array([1]), np.array([5.0]), np.array([5.0]), 11.0)  # older: no change
    assert s.version == v1
    s.mark_stale(100.0, 30.0)
    assert s.changed_since(v1).tolist() == [0, 1]
    assert s.version == v1 + 1


def test_snapshot_is_a_copy_indexed_by_sensor_id():
    s = make_state()
    s.apply(np.array([2]), np.array([3.5]), np.array([10.0]), 11.0, Quality.SIMULATED)
    snap = s.snapshot()
    assert snap.index.tolist() == ["S1", "S2", "S3"]
    assert snap.loc["S3"].tolist() == [3.5, 10.0, 11.0, Quality.SIMULATED]
    s.apply(np.array([2]), np.array([9.0]), np.array([20.0]), 21.0)
    assert snap.loc["S3", "value"] == 3.5
    part = s.snapshot(np.array([2, 0]))
    assert part.index.tolist() == ["S3", "S1"]
    assert part["value"].iloc[0] == 9.0


def test_duplicate_sensor_ids_are_refused():
    with pytest.raises(ValueError):
        LiveState(["a", "a"])


def test_readers_see_consistent_snapshots_while_a_writer_applies():
    n = 2000
    s = LiveState([f"S{i}" for i in range(n)])
    rows = np.arange(n)
    stop = threading.Event()

    def writer():
        t = 1.0
        while not stop.is_set():
            # every batch writes value == observed_at for all rows
            s.apply(rows, np.full(n, t), np.full(n, t), t)
            t += 1.0

    th = threading.Thread(target=writer)
    th.start()
    try:
        for _ in range(60):
            snap = s.snapshot()
            seen = snap["observed_at"].dropna()
            assert (snap["value"].dropna() == seen).all()
            assert seen.nunique() <= 1  # never half of one batch and half of another
    finally:
        stop.set()
        th.join()
