"""History ring buffer: wrap-around, repeated rows, last-N queries, xarray windows."""

from __future__ import annotations

import numpy as np
import pytest

from twin.history import History

T0 = 1_750_000_000.0  # 2025-06-15T15:06:40Z


def test_last_returns_sorted_readings_in_the_window():
    h = History(2, capacity_per_sensor=8)
    # arrival order differs from observation order for sensor 0 (a late reading)
    h.append(np.array([0, 1, 0, 0]), T0 + np.array([10.0, 11.0, 30.0, 20.0]), [1, 2, 3, 4])
    t, v = h.last(0, seconds=25.0, now=T0 + 30.0)  # window (T0+5, T0+30]
    assert (t - T0).tolist() == [10.0, 20.0, 30.0]
    assert v.tolist() == [1.0, 4.0, 3.0]
    t, v = h.last(0, seconds=15.0, now=T0 + 30.0)  # (T0+15, T0+30]
    assert v.tolist() == [4.0, 3.0]
    assert h.last(1, 5.0, T0 + 30.0)[0].size == 0


def test_repeated_row_in_one_batch_takes_consecutive_slots():
    h = History(2, capacity_per_sensor=4)
    h.append(np.array([1, 1, 1]), T0 + np.array([1.0, 2.0, 3.0]), np.array([5.0, 6.0, 7.0]))
    assert h.count.tolist() == [0, 3]
    assert h.values[1, :3].tolist() == [5.0, 6.0, 7.0]
    assert h.last(1, 10.0, T0 + 3.0)[1].tolist() == [5.0, 6.0, 7.0]


def test_ring_wraps_and_keeps_the_newest_capacity_readings():
    h = History(1, capacity_per_sensor=3)
    h.append(np.zeros(5, dtype=int), T0 + np.arange(1.0, 6.0), np.arange(10.0, 15.0))
    t, v = h.last(0, 100.0, T0 + 10.0)
    assert (t - T0).tolist() == [3.0, 4.0, 5.0]
    assert v.tolist() == [12.0, 13.0, 14.0]
    assert h.count[0] == 5


def test_to_xarray_orders_slots_oldest_first():
    h = History(2, capacity_per_sensor=3, sensor_ids=["A", "B"])
    h.append(np.array([0, 0, 0, 0, 1]), T0 + np.array([1.0, 2, 3, 4, 9]), [1, 2, 3, 4, 9])
    ds = h.to_xarray()
    assert ds["value"].dims == ("sensor", "slot")
    assert ds["value"].sel(sensor="A").values.tolist() == [2.0, 3.0, 4.0]
    b = ds["value"].sel(sensor="B").values
    assert np.isnan(b[:2]).all() and b[2] == 9.0  # unfilled slots first
    assert (ds["time"].sel(sensor="A").values - T0).tolist() == [2.0, 3.0, 4.0]
    assert ds["count"].values.tolist() == [4, 1]


def test_window_without_step_uses_the_union_of_observation_times():
    h = History(3, capacity_per_sensor=8, sensor_ids=["A", "B", "C"])
    h.append(np.array([0, 1, 0, 2]), T0 + np.array([10.0, 10.0, 20.0, 30.0]), [1, 2, 3, 4])
    da = h.window([0, 1], T0, T0 + 25.0)
    assert da.dims == ("sensor", "time")
    assert da["sensor"].values.tolist() == ["A", "B"]
    assert da["row"].values.tolist() == [0, 1]
    assert da["time"].values.astype("datetime64[s]").astype(np.int64).tolist() == [
        T0 + 10,
        T0 + 20,
    ]
    assert np.array_equal(da.values, np.array([[1.0, 3.0], [2.0, np.nan]]), equal_nan=True)


def test_window_with_step_keeps_the_latest_reading_of_each_bin():
    h = History(1, capacity_per_sensor=16)
    # bins of 10 s labelled at their right edge: (T0, T0+10], (T0+10, T0+20], (T0+20, T0+30]
    times = T0 + np.array([2.0, 9.0, 10.0, 25.0, 24.0, 0.0, 31.0])
    h.append(np.zeros(7, dtype=int), times, [1, 2, 3, 4, 5, 6, 7])
    da = h.window([0], T0, T0 + 30.0, step=10.0)
    assert da.sizes == {"sensor": 1, "time": 3}
    assert np.array_equal(da.values[0], [3.0, np.nan, 4.0], equal_nan=True)
    assert (da["time"].values.astype("datetime64[s]").astype(np.int64) - int(T0)).tolist() == [
        10,
        20,
        30,
    ]
    with pytest.raises(ValueError):
        h.window([0], T0, T0 + 30.0, step=0.0)


def test_window_of_empty_history_is_all_nan_on_the_regular_axis():
    da = History(2, capacity_per_sensor=4).window([0, 1], T0, T0 + 60.0, step=20.0)
    assert da.shape == (2, 3) and np.isnan(da.values).all()


def test_last_minutes_of_a_sensor():
    h = History(1, capacity_per_sensor=32)
    h.append(np.zeros(4, dtype=int), T0 + np.array([0.0, 100.0, 200.0, 299.0]), [1, 2, 3, 4])
    t, v = h.last_minutes(0, minutes=3, now=T0 + 300.0)  # (T0+120, T0+300]
    assert v.tolist() == [3.0, 4.0]


def test_grid_last_minutes_selects_sensors_of_the_grid():
    h = History(4, capacity_per_sensor=8, sensor_ids=["A", "B", "C", "D"])
    grid = np.array(["G1", "G2", "G1", "G2"], dtype=object)
    h.append(np.arange(4), T0 + np.array([50.0, 50.0, 110.0, 110.0]), [1, 2, 3, 4])
    da = h.grid_last_minutes(grid, "G1", minutes=2, now=T0 + 120.0, step=60.0)
    assert da["sensor"].values.tolist() == ["A", "C"]
    assert np.array_equal(da.values, [[1.0, np.nan], [np.nan, 3.0]], equal_nan=True)
    assert h.grid_last_minutes(grid, "G9", 2, T0 + 120.0).sizes["sensor"] == 0


def test_append_rejects_out_of_range_rows():
    with pytest.raises(IndexError):
        History(2, capacity_per_sensor=4).append(np.array([2]), [T0], [1.0])
