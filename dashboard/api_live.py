"""Read-only live API for the map and wall screen: status, snapshot, sensor card, events, replay.

``/api/live/...`` is what the browser reads besides ``/ws/live``: the first picture after a
reconnect, the entity card of a clicked sensor (value, last hour, building, grid, address),
the KPI counts, and the time slider's replay of the last readings and events. It never
writes. Without a runtime (a registry-only app) ``/api/live/status`` answers
``{"live": false}`` so pages know not to open a websocket.

Warning events (published with ``runtime.publish_event``; H11's engine emits the same shape)::

    {"type": "warning", "id": "W1", "hazard": "flood", "level": "red",
     "area_id": "G0206", "lon": 113.75, "lat": 23.02,
     "headline_zh": "...", "headline_en": "...", "issued": epoch_s,
     "status": "active" | "cancelled", "expires": epoch_s (optional)}

The newest event of an ``id`` wins; a warning is active until cancelled or expired.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import flask
import numpy as np

from dashboard.context import current_context
from layers.sensors import alarm_thresholds, sensor_states, worst_by_group
from layers.style import SENSOR_STATES, WARNING_LEVELS
from twin.fields import FIELDS, SENSOR_KINDS

api_live = flask.Blueprint("api_live", __name__, url_prefix="/api/live")

#: longest history window served to a card or the replay, min
MAX_MINUTES = 24 * 60
#: most replay steps in one answer (keeps the payload of 10k sensors near 1 MB)
MAX_REPLAY_STEPS = 120
#: replay steps a sensor's last value stays valid without a new reading
REPLAY_CARRY_STEPS = 2


def active_warnings(events: Iterable[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """Warnings in force at ``now``: newest event per id, not cancelled, not expired.

    Sorted most severe first, then newest first.

    >>> ev = [{"type": "warning", "id": "a", "level": "yellow", "issued": 1},
    ...       {"type": "warning", "id": "b", "level": "red", "issued": 2},
    ...       {"type": "warning", "id": "a", "level": "yellow", "status": "cancelled"},
    ...       {"type": "warning", "id": "c", "level": "orange", "issued": 3, "expires": 5}]
    >>> [w["id"] for w in active_warnings(ev, now=4)], active_warnings(ev, now=6)[0]["id"]
    (['b', 'c'], 'b')
    """
    latest: dict[str, dict[str, Any]] = {}
    for ev in events:
        if ev.get("type") == "warning" and ev.get("id") is not None:
            latest[str(ev["id"])] = ev
    out = [
        w
        for w in latest.values()
        if w.get("status", "active") != "cancelled"
        and not (w.get("expires") is not None and _epoch(w["expires"]) <= now)
        and w.get("level") in WARNING_LEVELS
    ]
    rank = {lvl: i for i, lvl in enumerate(WARNING_LEVELS)}
    out.sort(key=lambda w: (-rank[w["level"]], -_epoch(w.get("issued") or w.get("at") or 0)))
    return out


def _epoch(value: Any) -> float:
    """Epoch s of a time given as a number or as ISO 8601 text with offset (the warning
    service's events carry ``issued``/``expires`` as text).

    >>> _epoch(5), _epoch("1970-01-01T08:00:10+08:00")
    (5.0, 10.0)
    """
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan  # unreadable: never expires, sorts as undated


def _runtime():
    runtime = current_context().runtime
    if runtime is None:
        flask.abort(404, description="no live twin in this app")
    return runtime


def _number_arg(name: str, default: float) -> float:
    """A finite number from the query string, or a 400 JSON error naming the parameter."""
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        flask.abort(400, description=f"query parameter {name!r} must be a finite number")
    return value


def _clean(values: np.ndarray, digits: int = 7) -> list[float | None]:
    """Floats for JSON: NaN → null, ``digits`` significant digits."""
    return [None if not math.isfinite(v) else float(f"{v:.{digits}g}") for v in values.tolist()]


def _states(runtime) -> np.ndarray:
    st = runtime.state
    snap = st.snapshot()
    return sensor_states(snap["value"].to_numpy(), snap["quality"].to_numpy(), _thresholds(runtime))


def _thresholds(runtime) -> np.ndarray:
    cache = getattr(runtime, "_alarm_at", None)
    if cache is None:
        cache = alarm_thresholds(runtime.registry.sensors)
        runtime._alarm_at = cache
    return cache


def people_warned(warnings: Iterable[dict[str, Any]], parents: dict[str, str]) -> int:
    """People in the areas under active warnings, each person once: an area inside another
    warned area (a grid in a community or street under a warning) is already counted there,
    and an area under several warnings counts its largest ``affected.people``.

    >>> parents = {"g1": "c1", "g2": "c1", "g3": "c2", "c1": "s", "c2": "s"}
    >>> w = [{"area_id": "g1", "affected": {"people": 40}},
    ...      {"area_id": "g1", "affected": {"people": 25}}, {"area_id": "g3"},
    ...      {"area_id": "c2", "affected": {"people": 7}}]
    >>> people_warned(w, parents), people_warned(w + [{"area_id": "s",
    ...     "affected": {"people": 900}}], parents)
    (47, 900)
    """
    by_area: dict[str, int] = {}
    for w in warnings:
        area = str(w.get("area_id") or w.get("id"))
        people = int((w.get("affected") or {}).get("people", 0) or 0)
        by_area[area] = max(by_area.get(area, 0), people)

    def enclosed(area: str) -> bool:
        seen = set()
        while area in parents and area not in seen:
            seen.add(area)
            area = parents[area]
            if area in by_area:
                return True
        return False

    return sum(n for area, n in by_area.items() if not enclosed(area))


def kpis(runtime, now: float, desk: Any = None) -> dict[str, Any]:
    """Counts for the wall screen's tiles.

    ``desk`` is the app's dispatch service (None: this app has no event store).

    Returns
    -------
    dict
        ``warnings`` (level → count of active warnings), ``sensors`` (state → count),
        ``sensors_total``, ``devices``/``devices_offline``, ``tickets_open`` and
        ``tickets_overdue`` (:meth:`twin.events.tickets.TicketStore.wall_counts`; ``None``
        without an event store), ``people_warned`` (:func:`people_warned`, areas nested by
        :meth:`twin.registry.Registry.parent_ids`; ``None`` when no warning service runs),
        ``now`` (epoch s).
    """
    warnings = active_warnings(runtime.events, now)
    states = np.bincount(_states(runtime), minlength=len(SENSOR_STATES))
    status = runtime.status()
    tickets = desk.store.wall_counts(now) if desk is not None else None
    return {
        "now": now,
        "warnings": {lvl: sum(w["level"] == lvl for w in warnings) for lvl in WARNING_LEVELS},
        "sensors": {name: int(states[i]) for i, name in enumerate(SENSOR_STATES)},
        "sensors_total": int(len(runtime.state)),
        "devices": status.get("devices", 0),
        "devices_offline": status.get("devices_offline", 0),
        "tickets_open": None if tickets is None else tickets["open"],
        "tickets_overdue": None if tickets is None else tickets["overdue"],
        "people_warned": (
            people_warned(warnings, runtime.registry.parent_ids())
            if getattr(runtime, "warnings", None) is not None
            else None
        ),
    }


@api_live.get("/status")
def status() -> flask.Response:
    """``GET /api/live/status``: whether this app has a live twin, and its KPI counts."""
    runtime = current_context().runtime
    if runtime is None:
        return flask.jsonify(live=False)
    from dashboard.api_dispatch import EXTENSION_KEY

    desk = flask.current_app.extensions.get(EXTENSION_KEY)
    return flask.jsonify(live=True, kpi=kpis(runtime, time.time(), desk))


@api_live.get("/snapshot")
def snapshot() -> flask.Response:
    """``GET /api/live/snapshot``: every sensor's value, quality and observation time.

    Compact arrays in state-row order: ``ids``, ``value`` (SI, null = none), ``quality``,
    ``observed_at`` (epoch s UTC, null = never), ``state`` (layers.sensors codes).
    """
    runtime = _runtime()
    snap = runtime.state.snapshot()
    return flask.jsonify(
        now=time.time(),
        ids=snap.index.astype(str).tolist(),
        value=_clean(snap["value"].to_numpy()),
        quality=snap["quality"].astype(int).tolist(),
        observed_at=_clean(snap["observed_at"].to_numpy(), 13),
        state=_states(runtime).astype(int).tolist(),
    )


def sensor_card(runtime, sensor_id: str, minutes: float, now: float) -> dict[str, Any] | None:
    """What the entity card shows for one sensor (``None`` if unknown)."""
    row = int(runtime.state.index_of(sensor_id)[0])
    if row < 0:
        return None
    reg = runtime.registry
    s = reg.sensors.iloc[row]
    kind = SENSOR_KINDS.get(str(s["kind"]))
    field = FIELDS.get(str(s["quantity"]))
    building_id = ""
    if s["entity_type"] == "building":
        building_id = str(s["entity_id"])
    elif s["entity_type"] == "facility":
        fac = reg.facilities.loc[reg.facilities["facility_id"] == s["entity_id"]]
        if len(fac) and isinstance(fac.iloc[0].get("building_id"), str):
            building_id = fac.iloc[0]["building_id"]
    building: dict[str, Any] = {}
    address = {"zh": "", "en": ""}
    if building_id:
        b = reg.buildings.loc[reg.buildings["building_id"] == building_id]
        if len(b):
            b0 = b.iloc[0]
            building = {
                "id": building_id,
                "name_zh": str(b0.get("name_zh") or ""),
                "name_en": str(b0.get("name_en") or ""),
            }
            a = reg.addresses.loc[reg.addresses["address_id"] == b0.get("address_id")]
            if len(a):
                address = {"zh": str(a.iloc[0]["text_zh"]), "en": str(a.iloc[0]["text_en"])}
    g = reg.grids.loc[reg.grids["grid_id"] == s["grid_id"]]
    grid = {"id": str(s["grid_id"])}
    if len(g):
        grid.update(name_zh=str(g.iloc[0]["name_zh"]), name_en=str(g.iloc[0]["name_en"]))
    snap = runtime.state.snapshot(np.array([row])).iloc[0]
    t, v = runtime.history.last(row, 60.0 * minutes, now)
    alarm = _thresholds(runtime)[row]
    return {
        "id": sensor_id,
        "row": row,
        "kind": str(s["kind"]),
        "kind_zh": kind.name_zh if kind else str(s["kind"]),
        "kind_en": kind.name_en if kind else str(s["kind"]),
        "quantity": str(s["quantity"]),
        "unit": field.display_unit if field else str(s.get("unit", "")),
        "display_factor": field.display_factor if field else 1.0,
        "value": _clean(np.array([snap["value"]]))[0],
        "quality": int(snap["quality"]),
        "observed_at": _clean(np.array([snap["observed_at"]]), 13)[0],
        "alarm_at": None if not math.isfinite(alarm) else float(alarm),
        "building": building,
        "grid": grid,
        "address": address,
        "entity": {"type": str(s["entity_type"]), "id": str(s["entity_id"])},
        "device_id": str(s.get("device_id", "")),
        "history": {"t": _clean(t, 13), "v": _clean(v)},
        "now": now,
    }


@api_live.get("/sensor/<sensor_id>")
def sensor(sensor_id: str) -> flask.Response:
    """``GET /api/live/sensor/<id>?minutes=60``: the entity card (value, history, places)."""
    runtime = _runtime()
    minutes = min(_number_arg("minutes", 60.0), MAX_MINUTES)
    card = sensor_card(runtime, sensor_id, minutes, time.time())
    if card is None:
        flask.abort(404, description=f"unknown sensor {sensor_id}")
    return flask.jsonify(card)


@api_live.get("/events")
def events() -> flask.Response:
    """``GET /api/live/events?since=<epoch s>``: recent events (oldest first), active warnings."""
    runtime = _runtime()
    since = _number_arg("since", 0.0)
    now = time.time()
    recent = [e for e in list(runtime.events) if float(e.get("at", 0)) > since]
    return flask.jsonify(now=now, events=recent, warnings=active_warnings(runtime.events, now))


def replay(runtime, minutes: float, step_s: float, now: float) -> dict[str, Any]:
    """State of every sensor and grid at regular steps over the last ``minutes``.

    A sensor's state at step ``k`` is from its latest reading in that step, or from the
    newest reading before it within :data:`REPLAY_CARRY_STEPS` steps; with none it is
    ``stale`` (history keeps values, not qualities: a rejected reading is never stored).

    Returns
    -------
    dict
        ``times`` (epoch s, step ends), ``states`` (one string per step, one digit per
        sensor row), ``grids`` (grid ids) and ``grid_states`` (per step, worst code per
        grid), ``events`` in the window.
    """
    n_steps = int(min(MAX_REPLAY_STEPS, max(1, math.ceil(60.0 * minutes / step_s))))
    start = now - n_steps * step_s
    rows = np.arange(len(runtime.state))
    window = runtime.history.window(rows, start, now, step_s).values  # (sensor, step)
    filled = window.copy()
    carried = np.zeros(len(rows), dtype=np.int64)
    for k in range(1, n_steps):  # carry the last value a few steps (slow pollers, pushes)
        gap = np.isnan(filled[:, k])
        carried = np.where(gap, carried + 1, 0)
        take = gap & (carried <= REPLAY_CARRY_STEPS)
        filled[take, k] = filled[take, k - 1]
    alarm = _thresholds(runtime)
    sensors = runtime.registry.sensors
    grid_ids = runtime.registry.grids["grid_id"].astype(str).tolist()
    gi = {g: i for i, g in enumerate(grid_ids)}
    group = np.array([gi.get(str(g), 0) for g in sensors["grid_id"]], dtype=np.int64)
    states, grid_states = [], []
    for k in range(n_steps):
        v = filled[:, k]
        quality = np.where(np.isnan(v), 1, 0)
        st = sensor_states(v, quality, alarm)
        states.append((st + ord("0")).astype(np.uint8).tobytes().decode("ascii"))
        grid_states.append(worst_by_group(st, group, len(grid_ids)).tolist())
    times = (start + step_s * np.arange(1, n_steps + 1)).tolist()
    evs = [e for e in list(runtime.events) if start < float(e.get("at", 0)) <= now]
    return {
        "now": now,
        "step_s": step_s,
        "times": times,
        "states": states,
        "grids": grid_ids,
        "grid_states": grid_states,
        "events": evs,
    }


@api_live.get("/replay")
def replay_route() -> flask.Response:
    """``GET /api/live/replay?minutes=60&step=60``: time-slider frames (see :func:`replay`)."""
    runtime = _runtime()
    minutes = min(_number_arg("minutes", 60.0), MAX_MINUTES)
    step = max(_number_arg("step", 60.0), 1.0)
    return flask.jsonify(replay(runtime, minutes, step, time.time()))
