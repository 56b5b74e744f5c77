"""Column-wise reading checks: the fast path of :func:`twin.readings.validate_batch`.

Readings of the plain JSON shape are checked as columns (vectorised); any reading with
something unusual about it is handed back to the exact per-reading checks, so the outcome
is the same as checking one by one, only faster.
"""

from __future__ import annotations

import math
from contextlib import suppress
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter

import msgspec
import numpy as np

from twin.readingdecode import TypedReadings
from twin.readings import (
    MAX_ID_LENGTH,
    NOT_A_NUMBER,
    QUALITY_BY_NAME,
    UNKNOWN_SENSOR,
    WRONG_UNIT,
    Catalogue,
    _reject,
    _unit_detail,
    parse_time,
)


@dataclass
class _FastColumns:
    """Readings of plain shape checked column-wise; ``index`` are raw batch positions."""

    index: np.ndarray
    reading_id: np.ndarray
    sensor_id: np.ndarray
    row: np.ndarray
    value: np.ndarray
    observed_at: np.ndarray
    quality: np.ndarray
    source: np.ndarray
    rejected: list[dict]


_STR = frozenset({str})
_STR_OR_NONE = frozenset({str, type(None)})
_NUMBER = frozenset({float, int})
_TIME = frozenset({str, float, int})


def _objects(items: list) -> np.ndarray:
    """A 1-D object array of ``items`` (str or None)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def fast_columns(
    raw: list, catalogue: Catalogue, source: str, time_cache: dict[str, float]
) -> tuple[_FastColumns, list[int]]:
    """Column-wise checks of the readings whose field types are the plain JSON ones.

    A reading goes to the slow list (exact per-reading checks) when anything about it is
    unusual: not an object, a field of an unexpected type, an id of bad length, a time that
    does not parse or is not finite, an unknown quality, a value beyond float64. What stays
    here can only be rejected as unknown sensor, not a number or wrong unit, checked
    vectorised — the per-reading order of reasons is kept.
    """
    n = len(raw)
    odd = np.zeros(n, dtype=bool)  # True: leave the reading to the exact per-reading checks
    if type(raw) is TypedReadings:
        return _typed_columns(raw, catalogue, source, time_cache, odd)
    if set(map(type, raw)) == {dict}:
        recs = raw
    else:
        recs = [r if type(r) is dict else {} for r in raw]
        odd |= np.fromiter((type(r) is not dict for r in raw), bool, n)

    def column(key: str, default: object = None) -> list:
        return list(map(dict.get, recs, repeat(key), repeat(default)))

    def flag_types(col: list, allowed: frozenset) -> set:
        # one pass in C over the types; a Python pass only when something is unusual
        types = set(map(type, col))
        if not types <= allowed:
            odd[[k for k, x in enumerate(col) if type(x) not in allowed]] = True
        return types

    rid, sid, val = column("reading_id"), column("sensor_id"), column("value")
    tim, qual = column("observed_at"), column("quality", "good")
    src, unit = column("source", source), column("unit")
    flag_types(sid, _STR)
    flag_types(val, _NUMBER)
    time_types = flag_types(tim, _TIME)
    rid_types = flag_types(rid, _STR_OR_NONE)
    flag_types(qual, _STR)
    flag_types(src, _STR)
    unit_types = flag_types(unit, _STR_OR_NONE)
    return _checked_columns(
        catalogue,
        time_cache,
        odd,
        rid,
        sid,
        val,
        tim,
        qual,
        src,
        unit,
        time_types,
        rid_types,
        unit_types,
    )


def _typed_columns(
    raw: TypedReadings, catalogue: Catalogue, source: str, time_cache: dict, odd: np.ndarray
) -> tuple[_FastColumns, list[int]]:
    """Columns of typed records: their field types are known, the value checks remain."""

    def column(key: str) -> list:
        return list(map(attrgetter(key), raw))

    rid, sid, val = column("reading_id"), column("sensor_id"), column("value")
    tim, qual, src, unit = (
        column("observed_at"),
        column("quality"),
        column("source"),
        column("unit"),
    )
    if msgspec.UNSET in src:
        src = [source if x is msgspec.UNSET else x for x in src]
    return _checked_columns(
        catalogue,
        time_cache,
        odd,
        rid,
        sid,
        val,
        tim,
        qual,
        src,
        unit,
        set(map(type, tim)),
        set(map(type, rid)),
        set(map(type, unit)),
    )


def _checked_columns(
    catalogue,
    time_cache,
    odd,
    rid,
    sid,
    val,
    tim,
    qual,
    src,
    unit,
    time_types,
    rid_types,
    unit_types,
) -> tuple[_FastColumns, list[int]]:
    """Vectorised checks of readings as columns; ``odd`` marks those left to exact checks."""
    n = len(sid)
    if rid_types == _STR:
        lens = np.fromiter(map(len, rid), np.int64, n)
        odd |= (lens == 0) | (lens > MAX_ID_LENGTH)
    elif str in rid_types:
        bad_len = [
            k for k, x in enumerate(rid) if type(x) is str and not 0 < len(x) <= MAX_ID_LENGTH
        ]
        odd[bad_len] = True
    if not odd.any() and set(qual) <= QUALITY_BY_NAME.keys():
        q_codes = np.fromiter(map(QUALITY_BY_NAME.__getitem__, qual), np.uint8, n)
    else:
        q_codes = np.fromiter(
            (QUALITY_BY_NAME.get(q, 255) if type(q) is str else 255 for q in qual), np.uint8, n
        )
        odd |= q_codes == 255
    parsed = {}  # NaN for a time that does not parse; time_cache only keeps good ones
    for t in set(tim) if time_types == _STR else {x for x in tim if type(x) is str}:
        x = time_cache.get(t)
        if x is None:
            try:
                x = time_cache[t] = parse_time(t)
            except ValueError:
                x = math.nan
        parsed[t] = x
    if time_types == _STR:
        obs = np.fromiter(map(parsed.__getitem__, tim), np.float64, n)
    else:
        obs = np.full(n, math.nan)
        for k in np.flatnonzero(~odd).tolist():
            t = tim[k]
            with suppress(OverflowError):  # an integer beyond float64 stays NaN
                obs[k] = parsed[t] if type(t) is str else float(t)
    odd |= ~np.isfinite(obs)  # unparsable or non-finite times: malformed, with exact detail
    try:
        if odd.any():
            val = [0.0 if o else v for v, o in zip(val, odd.tolist(), strict=True)]
        values = np.array(val, np.float64)
    except OverflowError:  # an integer beyond float64: leave it to the exact checks
        values = np.zeros(n)
        for k in np.flatnonzero(~odd).tolist():
            try:
                values[k] = float(val[k])
            except OverflowError:
                odd[k] = True
    index = np.flatnonzero(~odd)
    slow = np.flatnonzero(odd).tolist()
    if index.size < n:
        # pick before converting: fields of odd readings may be lists numpy would broadcast
        pick = index.tolist()
        sid, rid, unit, src = ([c[k] for k in pick] for c in (sid, rid, unit, src))
        values, obs, q_codes = values[index], obs[index], q_codes[index]
    sid_a, rid_a, unit_a = _objects(sid), _objects(rid), _objects(unit)
    rows = np.fromiter(map(catalogue._row_of.get, sid, repeat(-1)), np.int64, len(sid))
    # reason codes, checked in the per-reading order: 1 unknown, 2 not a number, 3 unit
    code = np.where(rows < 0, 1, np.where(np.isfinite(values), 0, 2)).astype(np.int8)
    safe = np.where(rows < 0, 0, rows)
    if unit_types != {type(None)}:
        has_unit = np.flatnonzero(np.not_equal(unit_a, None) & (code == 0))
        r_u, u = safe[has_unit], unit_a[has_unit]
        factor = np.where(
            u == catalogue.unit[r_u],
            1.0,
            np.where(u == catalogue.display_unit[r_u], 1.0 / catalogue.display_factor[r_u], np.nan),
        )
        values[has_unit] *= factor
        code[has_unit[np.isnan(factor)]] = 3
    rejected = []
    for j in np.flatnonzero(code).tolist():
        why = (UNKNOWN_SENSOR, NOT_A_NUMBER, WRONG_UNIT)[code[j] - 1]
        if why == UNKNOWN_SENSOR:
            detail = f"no sensor {sid_a[j]!r}"
        elif why == NOT_A_NUMBER:
            detail = f"value is {values[j]}"
        else:
            detail = _unit_detail(catalogue, safe[j], unit_a[j])
        rejected.append(_reject(int(index[j]), rid_a[j], sid_a[j], why, detail))
    ok = code == 0
    fast = _FastColumns(
        index=index[ok],
        reading_id=rid_a[ok],
        sensor_id=sid_a[ok],
        row=rows[ok],
        value=values[ok],
        observed_at=obs[ok],
        quality=q_codes[ok],
        source=_objects(src)[ok],
        rejected=rejected,
    )
    return fast, slow
