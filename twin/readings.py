"""Readings: their shape on the wire, the sensor catalogue they are checked against, validation.

A raw reading (JSON object, e.g. from ``POST /api/readings`` or MQTT) is::

    {"reading_id": "r-1",            # optional; else derived (see derive_reading_id)
     "sensor_id": "S-001",
     "value": 1.25,                  # JSON number
     "observed_at": "2026-05-01T08:00:00+08:00",   # ISO 8601 with offset, or epoch s
     "unit": "m",                    # optional; the sensor's SI unit or its display unit
     "quality": "good",              # optional; "good" or "simulated"
     "source": "gateway-7"}          # optional; defaults to the batch's source

:func:`validate_batch` turns a list of these into a :class:`ReadingBatch` of numpy columns
(values converted to SI) plus a list of rejections, each with one of the ``REASONS``.
Valid readings of a batch are accepted even when others are rejected. Decoding of pushed
bodies lives in :mod:`twin.readingdecode`, the column-wise fast path of the checks in
:mod:`twin.readingcheck`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from twin.fields import FIELDS
from twin.readingdecode import (  # noqa: F401 - part of this module's API
    MalformedBatchError,
    TypedReadings,
    as_dict,
    decode_batch,
)
from twin.state import Quality

UNKNOWN_SENSOR = "unknown_sensor"
NOT_A_NUMBER = "not_a_number"
OUT_OF_RANGE = "out_of_range"
WRONG_TYPE = "wrong_type"
WRONG_UNIT = "wrong_unit"
FUTURE_TIMESTAMP = "future_timestamp"
TOO_OLD = "too_old"
DUPLICATE_READING = "duplicate_reading"
MALFORMED = "malformed"
BATCH_TOO_LARGE = "batch_too_large"

#: every rejection reason, in the order checks run
REASONS: tuple[str, ...] = (
    BATCH_TOO_LARGE,
    MALFORMED,
    UNKNOWN_SENSOR,
    WRONG_TYPE,
    NOT_A_NUMBER,
    WRONG_UNIT,
    OUT_OF_RANGE,
    FUTURE_TIMESTAMP,
    TOO_OLD,
    DUPLICATE_READING,
)
#: reasons that say the device sent a bad value (the sensor's live quality becomes REJECTED)
VALUE_FAULTS: frozenset[str] = frozenset({NOT_A_NUMBER, OUT_OF_RANGE, WRONG_TYPE, WRONG_UNIT})

REQUIRED_FIELDS: tuple[str, ...] = ("sensor_id", "value", "observed_at")
MAX_ID_LENGTH = 128
DEFAULT_MAX_BATCH = 10_000
DEFAULT_MAX_FUTURE_S = 60.0
QUALITY_BY_NAME: dict[str, int] = {"good": Quality.GOOD, "simulated": Quality.SIMULATED}


def derive_reading_id(sensor_id: str, observed_at: float, value: float) -> str:
    """Deterministic id of a reading that came without one (a retry maps to the same id).

    >>> derive_reading_id("S1", 10.0, 1.5) == derive_reading_id("S1", 10.0, 1.5)
    True
    """
    text = f"{sensor_id}|{float(observed_at)!r}|{float(value)!r}"
    return "h:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def parse_time(value: object) -> float:
    """Epoch seconds UTC from ISO 8601 with an offset (``Z`` allowed) or an epoch number.

    Raises ``ValueError`` for a naive timestamp (ambiguous) or anything else.

    >>> parse_time("1970-01-01T08:00:10+08:00")
    10.0
    """
    if isinstance(value, bool):
        raise ValueError("observed_at is a boolean")
    if isinstance(value, (int, float)):
        try:
            t = float(value)
        except OverflowError:  # a JSON integer beyond float64
            raise ValueError("observed_at overflows float64") from None
        if not math.isfinite(t):
            raise ValueError("observed_at is not finite")
        return t
    if isinstance(value, str):
        dt = datetime.fromisoformat(value)
        if dt.tzinfo is None:
            raise ValueError("observed_at has no UTC offset")
        return dt.timestamp()
    raise ValueError(f"observed_at is a {type(value).__name__}")


@dataclass
class ReadingBatch:
    """Validated readings as numpy columns (values SI, times epoch s UTC)."""

    reading_id: np.ndarray  # object (str)
    sensor_id: np.ndarray  # object (str)
    row: np.ndarray  # int64, catalogue row (= LiveState row); -1 if unknown (replay only)
    value: np.ndarray  # float64
    observed_at: np.ndarray  # float64
    received_at: np.ndarray  # float64
    quality: np.ndarray  # uint8
    source: np.ndarray  # object (str)

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def take(self, sel: np.ndarray) -> ReadingBatch:
        """Subset by a boolean mask or integer index."""
        return ReadingBatch(**{k: getattr(self, k)[sel] for k in self.__dataclass_fields__})

    @classmethod
    def empty(cls) -> ReadingBatch:
        """A batch with no readings."""
        return cls.from_columns([], [], np.empty(0, np.int64), [], [], [], [], [])

    @classmethod
    def from_columns(
        cls, reading_id, sensor_id, row, value, observed_at, received_at, quality, source
    ) -> ReadingBatch:
        """Build from sequences, coercing dtypes."""
        return cls(
            reading_id=np.asarray(reading_id, dtype=object),
            sensor_id=np.asarray(sensor_id, dtype=object),
            row=np.asarray(row, dtype=np.int64),
            value=np.asarray(value, dtype=np.float64),
            observed_at=np.asarray(observed_at, dtype=np.float64),
            received_at=np.asarray(received_at, dtype=np.float64),
            quality=np.asarray(quality, dtype=np.uint8),
            source=np.asarray(source, dtype=object),
        )


class Catalogue:
    """What each sensor measures: its unit, display unit and physical range, by row.

    Parameters
    ----------
    sensors : pandas.DataFrame
        Columns ``sensor_id``, ``quantity``, ``unit`` (SI), ``min_value``, ``max_value``
        (the registry's ``sensors`` layer works as is). Row order defines sensor rows.
        A NaN bound means "no bound".
    """

    def __init__(self, sensors: pd.DataFrame) -> None:
        missing = {"sensor_id", "quantity", "unit", "min_value", "max_value"} - set(sensors)
        if missing:
            raise ValueError(f"Catalogue: sensors table lacks columns {sorted(missing)}")
        self.sensor_ids = pd.Index(sensors["sensor_id"].astype(str).to_numpy(dtype=object))
        if not self.sensor_ids.is_unique:
            raise ValueError("Catalogue: duplicate sensor_id")
        self.quantity = sensors["quantity"].astype(str).to_numpy(dtype=object)
        self.unit = sensors["unit"].astype(str).to_numpy(dtype=object)
        self.min_value = sensors["min_value"].to_numpy(dtype=np.float64, na_value=np.nan)
        self.max_value = sensors["max_value"].to_numpy(dtype=np.float64, na_value=np.nan)
        self.min_value = np.where(np.isnan(self.min_value), -np.inf, self.min_value)
        self.max_value = np.where(np.isnan(self.max_value), np.inf, self.max_value)
        fields = [FIELDS.get(q) for q in self.quantity]
        self.display_unit = np.array(
            [f.display_unit if f else u for f, u in zip(fields, self.unit, strict=True)],
            dtype=object,
        )
        self.display_factor = np.array([f.display_factor if f else 1.0 for f in fields])
        self._row_of = dict(zip(self.sensor_ids, range(len(self.sensor_ids)), strict=True))
        if "grid_id" in sensors:
            self.grid_id = sensors["grid_id"].astype(str).to_numpy(dtype=object)

    def __len__(self) -> int:
        return len(self.sensor_ids)

    def row_of(self, sensor_id: str) -> int:
        """Row of one sensor id, ``-1`` if unknown."""
        return self._row_of.get(sensor_id, -1)

    def index_of(self, ids: Iterable[str]) -> np.ndarray:
        """Rows of sensor ids (vectorised), ``-1`` for unknown ids."""
        return self.sensor_ids.get_indexer(np.asarray(list(ids), dtype=object)).astype(np.int64)

    def unit_factor(self, row: int, unit: str) -> float | None:
        """Factor turning a value in ``unit`` into SI for sensor ``row``; None if not allowed."""
        if unit == self.unit[row]:
            return 1.0
        if unit == self.display_unit[row]:
            return 1.0 / self.display_factor[row]
        return None

    def out_of_range(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Boolean mask of values outside their sensor's physical range (vectorised)."""
        return (values < self.min_value[rows]) | (values > self.max_value[rows])


def _reject(index, reading_id, sensor_id, reason, detail) -> dict:
    return {
        "index": index,
        "reading_id": reading_id,
        "sensor_id": sensor_id,
        "reason": reason,
        "detail": detail,
    }


def _check_one(i: int, r: object, catalogue: Catalogue, source: str, time_cache: dict) -> object:
    """Per-reading checks of one raw reading: a rejection dict or the accepted column tuple."""
    if not isinstance(r, dict):
        return _reject(i, None, None, MALFORMED, "a reading must be a JSON object")
    rid = r.get("reading_id")
    sid = r.get("sensor_id")
    missing = [k for k in REQUIRED_FIELDS if r.get(k) is None]
    if missing:
        return _reject(i, rid, sid, MALFORMED, f"missing {', '.join(missing)}")
    if rid is not None and (not isinstance(rid, str) or not 0 < len(rid) <= MAX_ID_LENGTH):
        return _reject(i, None, sid, MALFORMED, "reading_id must be a short string")
    if not isinstance(sid, str):
        return _reject(i, rid, None, MALFORMED, "sensor_id must be a string")
    t_raw = r["observed_at"]
    try:
        if type(t_raw) is str:
            t = time_cache.get(t_raw)
            if t is None:
                t = time_cache[t_raw] = parse_time(t_raw)
        else:
            t = parse_time(t_raw)
    except ValueError as exc:
        return _reject(i, rid, sid, MALFORMED, f"observed_at: {exc}")
    q_raw = r.get("quality", "good")
    q = QUALITY_BY_NAME.get(q_raw) if isinstance(q_raw, str) else None
    if q is None:
        return _reject(i, rid, sid, MALFORMED, "quality must be good or simulated")
    src = r.get("source", source)
    if not isinstance(src, str):
        return _reject(i, rid, sid, MALFORMED, "source must be a string")
    row = catalogue.row_of(sid)
    if row < 0:
        return _reject(i, rid, sid, UNKNOWN_SENSOR, f"no sensor {sid!r}")
    v = r["value"]
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return _reject(i, rid, sid, WRONG_TYPE, f"value is a {type(v).__name__}")
    try:
        v = float(v)
    except OverflowError:  # a JSON integer beyond float64
        return _reject(i, rid, sid, OUT_OF_RANGE, "value overflows float64")
    if not math.isfinite(v):
        return _reject(i, rid, sid, NOT_A_NUMBER, f"value is {v}")
    unit = r.get("unit")
    if unit is not None:
        factor = catalogue.unit_factor(row, unit) if isinstance(unit, str) else None
        if factor is None:
            return _reject(i, rid, sid, WRONG_UNIT, _unit_detail(catalogue, row, unit))
        v *= factor
    return (i, rid, sid, row, v, t, q, src)


def _unit_detail(catalogue: Catalogue, row: int, unit: object) -> str:
    expected = f"{catalogue.unit[row]!r} or {catalogue.display_unit[row]!r}"
    return f"unit {unit!r}, expected {expected}"


def validate_batch(
    raw: list,
    catalogue: Catalogue,
    now: float,
    *,
    retention_s: float,
    max_future_s: float = DEFAULT_MAX_FUTURE_S,
    max_batch: int = DEFAULT_MAX_BATCH,
    source: str = "",
    seen: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[ReadingBatch, list[dict]]:
    """Check a batch of raw readings; return the valid ones as columns and the rejections.

    Parameters
    ----------
    raw : list
        Decoded JSON readings (see module doc).
    catalogue : Catalogue
        The sensors readings may name.
    now : float
        Receipt time, epoch s UTC (becomes ``received_at``).
    retention_s : float
        Readings observed before ``now - retention_s`` are ``too_old``.
    max_future_s : float
        Readings observed after ``now + max_future_s`` are ``future_timestamp`` (clock skew).
    max_batch : int
        More readings than this reject the whole batch (one ``batch_too_large`` entry with
        ``index`` None).
    source : str
        Default source for readings without one.
    seen : callable, optional
        ``seen(ids) -> bool mask`` of reading ids already stored (e.g. the durable log);
        those are ``duplicate_reading``. Within-batch repeats always are (first one wins).

    Returns
    -------
    accepted : ReadingBatch
    rejected : list of dict
        ``{index, reading_id, sensor_id, reason, detail}`` sorted by ``index``.
    """
    if not isinstance(raw, list):
        return ReadingBatch.empty(), [
            _reject(None, None, None, MALFORMED, "a batch must be a JSON array")
        ]
    n = len(raw)
    if n > max_batch:
        return ReadingBatch.empty(), [
            _reject(None, None, None, BATCH_TOO_LARGE, f"{n} readings > max {max_batch}")
        ]
    rejected: list[dict] = []
    time_cache: dict[str, float] = {}  # a batch usually shares a few timestamps
    from twin.readingcheck import fast_columns  # here: that module builds on this one

    fast, slow = fast_columns(raw, catalogue, source, time_cache)
    # readings the fast path could not vouch for take the exact per-reading checks
    ok: list[tuple] = []
    for i in slow:
        out = _check_one(i, as_dict(raw[i]), catalogue, source, time_cache)
        if isinstance(out, dict):
            rejected.append(out)
        else:
            ok.append(out)
    rejected.extend(fast.rejected)
    if ok:
        s_idx, s_rid, s_sid, s_row, s_val, s_obs, s_q, s_src = zip(*ok, strict=True)
        idx = np.concatenate([fast.index, np.asarray(s_idx, dtype=np.int64)])
        order = np.argsort(idx, kind="stable")
        idx = idx[order]
        ok_rid = np.concatenate([fast.reading_id, np.asarray(s_rid, dtype=object)])[order]
        ok_sid = np.concatenate([fast.sensor_id, np.asarray(s_sid, dtype=object)])[order]
        rows = np.concatenate([fast.row, np.asarray(s_row, dtype=np.int64)])[order]
        val = np.concatenate([fast.value, np.asarray(s_val, dtype=np.float64)])[order]
        obs = np.concatenate([fast.observed_at, np.asarray(s_obs, dtype=np.float64)])[order]
        ok_q = np.concatenate([fast.quality, np.asarray(s_q, dtype=np.uint8)])[order]
        ok_src = np.concatenate([fast.source, np.asarray(s_src, dtype=object)])[order]
    else:
        idx, ok_rid, ok_sid, rows = fast.index, fast.reading_id, fast.sensor_id, fast.row
        val, obs, ok_q, ok_src = fast.value, fast.observed_at, fast.quality, fast.source

    # vectorised checks on what passed the per-reading ones
    reason = np.full(idx.size, "", dtype=object)
    lo, hi = catalogue.min_value[rows], catalogue.max_value[rows]
    reason[(val < lo) | (val > hi)] = OUT_OF_RANGE
    reason[(reason == "") & (obs > now + max_future_s)] = FUTURE_TIMESTAMP
    reason[(reason == "") & (obs < now - retention_s)] = TOO_OLD
    rids = ok_rid.copy()
    if None in ok_rid.tolist():  # ids derived only where the device sent none
        for j in np.flatnonzero(np.equal(rids, None)).tolist():
            rids[j] = derive_reading_id(ok_sid[j], obs[j], val[j])
    good = np.flatnonzero(reason == "")
    good_ids = rids[good].tolist()
    if good.size and len(set(good_ids)) < good.size:
        repeat = pd.Index(good_ids, dtype=object).duplicated(keep="first")
        reason[good[repeat]] = DUPLICATE_READING
        good = good[~repeat]
    if seen is not None and good.size:
        reason[good[np.asarray(seen(rids[good]), dtype=bool)]] = DUPLICATE_READING
    for j in np.flatnonzero(reason != ""):
        why = reason[j]
        if why == OUT_OF_RANGE:
            detail = f"{val[j]!r} outside [{lo[j]!r}, {hi[j]!r}] {catalogue.unit[rows[j]]}"
        elif why == FUTURE_TIMESTAMP:
            detail = f"observed {obs[j] - now:.3f} s after receipt (max {max_future_s} s)"
        elif why == TOO_OLD:
            detail = f"observed {now - obs[j]:.3f} s ago (retention {retention_s} s)"
        else:
            detail = "reading_id already received"
        rejected.append(_reject(int(idx[j]), rids[j], ok_sid[j], why, detail))
    rejected.sort(key=lambda d: d["index"])
    keep = reason == ""
    accepted = ReadingBatch(
        reading_id=rids[keep],
        sensor_id=ok_sid[keep],
        row=rows[keep],
        value=val[keep],
        observed_at=obs[keep],
        received_at=np.full(int(keep.sum()), float(now)),
        quality=ok_q[keep],
        source=ok_src[keep],
    )
    return accepted, rejected
