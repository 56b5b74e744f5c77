"""Reading validation: every rejection reason, unit conversion, ids, and partial acceptance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from twin import readings as rd
from twin.readings import Catalogue, derive_reading_id, parse_time, validate_batch
from twin.state import Quality

NOW = 1_750_000_000.0  # 2025-06-15T15:06:40Z = 23:06:40+08:00
RETENTION = 3600.0


def sensors_frame() -> pd.DataFrame:
    """Four hand-made sensors (no registry needed)."""
    return pd.DataFrame(
        {
            "sensor_id": ["RIV-1", "RAIN-1", "ROAD-1", "PRES-1"],
            "quantity": [
                "river__water_level",
                "rain__intensity",
                "road__water_depth",
                "water_node__pressure",
            ],
            "unit": ["m", "m s-1", "m", "Pa"],
            "min_value": [-5.0, 0.0, 0.0, 0.0],
            "max_value": [30.0, 300 / 3.6e6, 3.0, 2.0e6],
            "grid_id": ["G1", "G1", "G2", "G2"],
        }
    )


@pytest.fixture
def cat() -> Catalogue:
    return Catalogue(sensors_frame())


def check(raw, cat, **kw):
    kw.setdefault("retention_s", RETENTION)
    return validate_batch(raw, cat, NOW, **kw)


def good(**over):
    r = {"reading_id": "r1", "sensor_id": "RIV-1", "value": 1.25, "observed_at": NOW - 10}
    r.update(over)
    return r


def only_reason(rejected):
    assert len(rejected) == 1, rejected
    return rejected[0]["reason"]


def test_parse_time_accepts_offsets_and_epoch():
    assert parse_time("2025-06-15T23:06:40+08:00") == NOW
    assert parse_time("2025-06-15T15:06:40Z") == NOW
    assert parse_time(NOW) == NOW
    assert parse_time(1750000000) == NOW
    for bad in ("2025-06-15T15:06:40", "yesterday", True, [1], math.nan):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_valid_reading_becomes_numpy_columns(cat):
    acc, rej = check([good(observed_at="2025-06-15T23:06:30+08:00", source="gw-1")], cat)
    assert rej == []
    assert len(acc) == 1
    assert acc.reading_id.tolist() == ["r1"]
    assert acc.sensor_id.tolist() == ["RIV-1"]
    assert acc.row.tolist() == [0]
    assert acc.value.tolist() == [1.25]
    assert acc.observed_at.tolist() == [NOW - 10]
    assert acc.received_at.tolist() == [NOW]
    assert acc.quality.tolist() == [Quality.GOOD]
    assert acc.source.tolist() == ["gw-1"]


def test_batch_source_and_quality_defaults(cat):
    acc, _ = check([good(), good(reading_id="r2", quality="simulated")], cat, source="http")
    assert acc.source.tolist() == ["http", "http"]
    assert acc.quality.tolist() == [Quality.GOOD, Quality.SIMULATED]


def test_display_unit_is_converted_to_si(cat):
    raw = [
        good(sensor_id="ROAD-1", value=25, unit="cm"),  # 25 cm → 0.25 m
        good(reading_id="r2", sensor_id="RAIN-1", value=36.0, unit="mm/h"),  # → 1e-5 m/s
        good(reading_id="r3", sensor_id="PRES-1", value=0.3, unit="MPa"),  # → 3e5 Pa
        good(reading_id="r4", sensor_id="RIV-1", value=2.0, unit="m"),  # SI as is
    ]
    acc, rej = check(raw, cat)
    assert rej == []
    assert acc.value.tolist() == pytest.approx([0.25, 1e-5, 3e5, 2.0], rel=1e-12)


def test_missing_reading_id_is_derived_deterministically(cat):
    raw = [{"sensor_id": "RIV-1", "value": 1.0, "observed_at": NOW}]
    acc1, _ = check(raw, cat)
    acc2, _ = check([dict(raw[0])], cat)
    assert acc1.reading_id[0] == acc2.reading_id[0] == derive_reading_id("RIV-1", NOW, 1.0)
    assert acc1.reading_id[0] != derive_reading_id("RIV-1", NOW, 1.5)
    assert acc1.reading_id[0].startswith("h:") and len(acc1.reading_id[0]) == 34


def test_unknown_sensor(cat):
    acc, rej = check([good(sensor_id="NOPE")], cat)
    assert len(acc) == 0 and only_reason(rej) == rd.UNKNOWN_SENSOR
    assert rej[0]["sensor_id"] == "NOPE" and rej[0]["reading_id"] == "r1"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_not_a_number(cat, value):
    acc, rej = check([good(value=value)], cat)
    assert len(acc) == 0 and only_reason(rej) == rd.NOT_A_NUMBER


@pytest.mark.parametrize(
    ("sensor", "value", "unit"),
    [
        ("RIV-1", 30.5, None),  # above 30 m
        ("RIV-1", -5.01, None),  # below -5 m
        ("ROAD-1", 301, "cm"),  # 3.01 m after conversion, above 3 m
        ("RAIN-1", 301.0, "mm/h"),  # above 300 mm/h
        ("RIV-1", 10**400, None),  # beyond float64
    ],
)
def test_out_of_range(cat, sensor, value, unit):
    r = good(sensor_id=sensor, value=value)
    if unit:
        r["unit"] = unit
    acc, rej = check([r], cat)
    assert len(acc) == 0 and only_reason(rej) == rd.OUT_OF_RANGE


def test_range_bounds_are_inclusive(cat):
    acc, rej = check([good(value=30.0), good(reading_id="r2", value=-5.0)], cat)
    assert rej == [] and acc.value.tolist() == [30.0, -5.0]


@pytest.mark.parametrize("value", ["1.25", True, [1.0], {"v": 1}])
def test_wrong_type(cat, value):
    acc, rej = check([good(value=value)], cat)
    assert len(acc) == 0 and only_reason(rej) == rd.WRONG_TYPE


@pytest.mark.parametrize("unit", ["ft", "mm/h", 1])
def test_wrong_unit(cat, unit):
    acc, rej = check([good(unit=unit)], cat)
    assert len(acc) == 0 and only_reason(rej) == rd.WRONG_UNIT
    assert "'m'" in rej[0]["detail"]


def test_future_timestamp_beyond_allowed_skew(cat):
    acc, rej = check([good(observed_at=NOW + 60), good(reading_id="r2", observed_at=NOW + 61)], cat)
    assert acc.reading_id.tolist() == ["r1"]
    assert [r["reason"] for r in rej] == [rd.FUTURE_TIMESTAMP] and rej[0]["index"] == 1


def test_too_old_beyond_retention(cat):
    raw = [
        good(observed_at=NOW - RETENTION),
        good(reading_id="r2", observed_at=NOW - RETENTION - 1),
    ]
    acc, rej = check(raw, cat)
    assert acc.reading_id.tolist() == ["r1"]
    assert [r["reason"] for r in rej] == [rd.TOO_OLD] and rej[0]["index"] == 1


def test_duplicate_reading_within_batch_keeps_the_first(cat):
    raw = [good(value=1.0), good(value=2.0), good(reading_id="r2", value=3.0)]
    acc, rej = check(raw, cat)
    assert acc.reading_id.tolist() == ["r1", "r2"] and acc.value.tolist() == [1.0, 3.0]
    assert [(r["index"], r["reason"]) for r in rej] == [(1, rd.DUPLICATE_READING)]


def test_duplicate_reading_against_seen_ids(cat):
    def seen(ids):
        return np.array([i == "old" for i in ids])

    acc, rej = check([good(reading_id="old"), good(reading_id="new")], cat, seen=seen)
    assert acc.reading_id.tolist() == ["new"]
    assert [(r["index"], r["reading_id"], r["reason"]) for r in rej] == [
        (0, "old", rd.DUPLICATE_READING)
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "not an object",
        {"sensor_id": "RIV-1", "value": 1.0},  # no observed_at
        {"sensor_id": "RIV-1", "observed_at": NOW},  # no value
        {"value": 1.0, "observed_at": NOW},  # no sensor_id
        {"sensor_id": "RIV-1", "value": None, "observed_at": NOW},
        good(observed_at="2025-06-15T15:06:40"),  # naive time
        good(observed_at="soon"),
        good(reading_id=""),
        good(reading_id=7),
        good(sensor_id=5),
        good(quality="stale"),
        good(source=3),
    ],
)
def test_malformed(cat, raw):
    acc, rej = check([raw], cat)
    assert len(acc) == 0 and only_reason(rej) == rd.MALFORMED and rej[0]["index"] == 0


def test_batch_that_is_not_a_list_is_malformed(cat):
    acc, rej = check({"sensor_id": "RIV-1"}, cat)
    assert len(acc) == 0 and only_reason(rej) == rd.MALFORMED and rej[0]["index"] is None


def test_batch_too_large_rejects_the_whole_batch(cat):
    raw = [good(reading_id=f"r{i}") for i in range(11)]
    acc, rej = check(raw, cat, max_batch=10)
    assert len(acc) == 0 and only_reason(rej) == rd.BATCH_TOO_LARGE
    assert rej[0]["index"] is None
    acc, rej = check(raw[:10], cat, max_batch=10)
    assert len(acc) == 10 and rej == []


def test_valid_readings_still_land_next_to_bad_ones(cat):
    raw = [
        good(reading_id="a", value=1.0),
        good(reading_id="b", sensor_id="NOPE"),
        good(reading_id="c", value=math.nan),
        good(reading_id="d", sensor_id="ROAD-1", value=12, unit="cm"),
        "junk",
        good(reading_id="e", value=99.0),
        good(reading_id="f", observed_at=NOW + 3600),
        good(reading_id="a", value=5.0),
    ]
    acc, rej = check(raw, cat)
    assert acc.reading_id.tolist() == ["a", "d"]
    assert acc.value.tolist() == pytest.approx([1.0, 0.12])
    assert acc.row.tolist() == [0, 2]
    assert [(r["index"], r["reason"]) for r in rej] == [
        (1, rd.UNKNOWN_SENSOR),
        (2, rd.NOT_A_NUMBER),
        (4, rd.MALFORMED),
        (5, rd.OUT_OF_RANGE),
        (6, rd.FUTURE_TIMESTAMP),
        (7, rd.DUPLICATE_READING),
    ]
    assert set(rej[0]) == {"index", "reading_id", "sensor_id", "reason", "detail"}


def test_every_reason_is_a_named_constant():
    assert set(rd.REASONS) == {
        "unknown_sensor",
        "not_a_number",
        "out_of_range",
        "wrong_type",
        "wrong_unit",
        "future_timestamp",
        "too_old",
        "duplicate_reading",
        "malformed",
        "batch_too_large",
    }


def test_catalogue_lookups(cat):
    assert cat.index_of(["PRES-1", "x", "RIV-1"]).tolist() == [3, -1, 0]
    assert cat.row_of("ROAD-1") == 2 and cat.row_of("x") == -1
    assert cat.display_unit.tolist() == ["m", "mm/h", "cm", "MPa"]
    assert cat.out_of_range(np.array([0, 0, 2]), np.array([31.0, 0.0, -0.1])).tolist() == [
        True,
        False,
        True,
    ]


def test_catalogue_needs_its_columns_and_unique_ids():
    with pytest.raises(ValueError, match="min_value"):
        Catalogue(sensors_frame().drop(columns="min_value"))
    frame = sensors_frame()
    frame.loc[1, "sensor_id"] = "RIV-1"
    with pytest.raises(ValueError, match="duplicate"):
        Catalogue(frame)


def test_missing_bounds_mean_unbounded():
    frame = sensors_frame()
    frame.loc[0, "max_value"] = np.nan
    acc, rej = validate_batch([good(value=1e9)], Catalogue(frame), NOW, retention_s=RETENTION)
    assert rej == [] and acc.value.tolist() == [1e9]
