"""OpenAPI paths of the read-only live API (``/api/live/...``, :mod:`dashboard.api_live`)."""

from __future__ import annotations

from typing import Any

from dashboard.openapi_paths.common import (
    INT_OR_NULL,
    NUM_OR_NULL,
    error,
    json_body,
    obj,
    path_param,
    query_param,
)

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
_NUMS = {"type": "array", "items": NUM_OR_NULL}
_INTS = {"type": "array", "items": {"type": "integer"}}
_EVENTS = {"type": "array", "items": {"type": "object", "description": "a runtime event"}}

KPI = obj(
    ["now", "warnings", "sensors", "sensors_total", "devices", "devices_offline"],
    {
        "now": {"type": "number", "description": "epoch s UTC"},
        "warnings": {**_COUNTS, "description": "active warnings per level"},
        "sensors": {**_COUNTS, "description": "sensors per state"},
        "sensors_total": {"type": "integer", "minimum": 0},
        "devices": {"type": "integer", "minimum": 0},
        "devices_offline": {"type": "integer", "minimum": 0},
        "tickets_open": INT_OR_NULL,
        "tickets_overdue": INT_OR_NULL,
        "people_warned": INT_OR_NULL,
    },
)

SENSOR_CARD = obj(
    ["id", "row", "kind", "quantity", "unit", "value", "quality", "observed_at", "history"],
    {
        "id": {"type": "string"},
        "row": {"type": "integer", "minimum": 0},
        "kind": {"type": "string"},
        "kind_zh": {"type": "string"},
        "kind_en": {"type": "string"},
        "quantity": {"type": "string"},
        "unit": {"type": "string", "description": "display unit"},
        "display_factor": {"type": "number", "description": "display value = SI × factor"},
        "value": {**NUM_OR_NULL, "description": "SI"},
        "quality": {"type": "integer"},
        "observed_at": {**NUM_OR_NULL, "description": "epoch s UTC"},
        "alarm_at": NUM_OR_NULL,
        "building": {"type": "object"},
        "grid": obj(["id"], {"id": {"type": "string"}}),
        "address": obj(["zh", "en"], {"zh": {"type": "string"}, "en": {"type": "string"}}),
        "entity": obj(["type", "id"], {"type": {"type": "string"}, "id": {"type": "string"}}),
        "device_id": {"type": "string"},
        "history": obj(["t", "v"], {"t": _NUMS, "v": _NUMS}),
        "now": {"type": "number"},
    },
)

_MINUTES = query_param(
    "minutes",
    "window, min (default 60; at most a day)",
    {"type": "number", "exclusiveMinimum": 0},
)
_NO_RUNTIME = error("no live twin in this app, or no such sensor")
_BAD_QUERY = error("a query parameter is not a finite number")

PATHS: dict[str, Any] = {
    "/api/live/status": {
        "get": {
            "operationId": "liveStatus",
            "tags": ["live"],
            "summary": "Whether this app has a live twin, and its KPI counts",
            "responses": {
                "200": json_body(
                    obj(["live"], {"live": {"type": "boolean"}, "kpi": KPI}),
                    "``live: false`` without a runtime; else the KPI counts",
                )
            },
        }
    },
    "/api/live/snapshot": {
        "get": {
            "operationId": "liveSnapshot",
            "tags": ["live"],
            "summary": "Every sensor's value, quality and time, as arrays in state-row order",
            "responses": {
                "200": json_body(
                    obj(
                        ["now", "ids", "value", "quality", "observed_at", "state"],
                        {
                            "now": {"type": "number"},
                            "ids": {"type": "array", "items": {"type": "string"}},
                            "value": _NUMS,
                            "quality": _INTS,
                            "observed_at": _NUMS,
                            "state": _INTS,
                        },
                    ),
                    "the snapshot",
                ),
                "404": error("no live twin in this app"),
            },
        }
    },
    "/api/live/sensor/{sensor_id}": {
        "get": {
            "operationId": "liveSensorCard",
            "tags": ["live"],
            "summary": "The entity card of one sensor: value, last hour, building, grid",
            "parameters": [path_param("sensor_id"), _MINUTES],
            "responses": {
                "200": json_body(SENSOR_CARD, "the card"),
                "400": _BAD_QUERY,
                "404": _NO_RUNTIME,
            },
        }
    },
    "/api/live/events": {
        "get": {
            "operationId": "liveEvents",
            "tags": ["live"],
            "summary": "Recent events (oldest first) and the warnings in force",
            "parameters": [
                query_param("since", "only events after this epoch s", {"type": "number"})
            ],
            "responses": {
                "200": json_body(
                    obj(
                        ["now", "events", "warnings"],
                        {"now": {"type": "number"}, "events": _EVENTS, "warnings": _EVENTS},
                    ),
                    "events",
                ),
                "400": _BAD_QUERY,
                "404": error("no live twin in this app"),
            },
        }
    },
    "/api/live/replay": {
        "get": {
            "operationId": "liveReplay",
            "tags": ["live"],
            "summary": "Time-slider frames: sensor and grid states at regular steps",
            "parameters": [
                _MINUTES,
                query_param("step", "step, s (default 60, at least 1)", {"type": "number"}),
            ],
            "responses": {
                "200": json_body(
                    obj(
                        ["now", "step_s", "times", "states", "grids", "grid_states", "events"],
                        {
                            "now": {"type": "number"},
                            "step_s": {"type": "number"},
                            "times": {"type": "array", "items": {"type": "number"}},
                            "states": {
                                "type": "array",
                                "items": {"type": "string", "pattern": "^[0-9]*$"},
                                "description": "per step, one digit per sensor row",
                            },
                            "grids": {"type": "array", "items": {"type": "string"}},
                            "grid_states": {"type": "array", "items": _INTS},
                            "events": _EVENTS,
                        },
                    ),
                    "the frames",
                ),
                "400": _BAD_QUERY,
                "404": error("no live twin in this app"),
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {"LiveKpi": KPI, "SensorCard": SENSOR_CARD}
