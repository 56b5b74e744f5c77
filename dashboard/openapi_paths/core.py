"""OpenAPI paths of the core API: health, pushed readings, sensor look-up, metrics, the document."""

from __future__ import annotations

from typing import Any

from dashboard.openapi_paths.common import NUM_OR_NULL, TEXT_OR_NULL, error, json_body, obj
from twin.readings import REASONS

READING = {
    "type": "object",
    "description": "One reading. Other fields are ignored; bad ones reject only this reading.",
    "properties": {
        "reading_id": {"type": "string", "maxLength": 128, "description": "idempotency key"},
        "sensor_id": {"type": "string"},
        "value": {"type": "number", "description": "SI unit, or the sensor's display unit"},
        "observed_at": {
            "description": "ISO 8601 with UTC offset, or epoch seconds",
            "oneOf": [{"type": "string"}, {"type": "number"}],
        },
        "unit": {"type": "string"},
        "quality": {"type": "string", "enum": ["good", "simulated"]},
        "source": {"type": "string"},
    },
    "example": {
        "reading_id": "gw7-000123",
        "sensor_id": "S-0001",
        "value": 1.25,
        "observed_at": "2026-05-01T08:00:00+08:00",
        "unit": "m",
    },
}

REJECTION = obj(
    ["index", "reading_id", "sensor_id", "reason", "detail"],
    {
        "index": {"type": ["integer", "null"], "description": "position in the batch"},
        "reading_id": TEXT_OR_NULL,
        "sensor_id": TEXT_OR_NULL,
        "reason": {"type": "string", "enum": list(REASONS)},
        "detail": {"type": "string"},
    },
)

SENSOR = obj(
    [
        "sensor_id",
        "quantity",
        "unit",
        "value",
        "quality",
        "observed_at",
        "observed_at_epoch",
        "received_at",
        "received_at_epoch",
        "history",
    ],
    {
        "sensor_id": {"type": "string"},
        "quantity": {"type": "string"},
        "unit": {"type": "string", "description": "SI unit of value"},
        "display_unit": {"type": "string"},
        "value": {**NUM_OR_NULL, "description": "latest value, SI; null before any reading"},
        "quality": {"type": "string", "enum": ["good", "stale", "rejected", "simulated"]},
        "observed_at": {**TEXT_OR_NULL, "description": "ISO 8601 with the local UTC offset"},
        "observed_at_epoch": {**NUM_OR_NULL, "description": "epoch seconds UTC"},
        "received_at": TEXT_OR_NULL,
        "received_at_epoch": NUM_OR_NULL,
        "age_s": NUM_OR_NULL,
        "history": obj(
            ["minutes", "points"],
            {
                "minutes": {"type": "number"},
                "points": {
                    "type": "array",
                    "items": obj(
                        ["observed_at", "observed_at_epoch", "value"],
                        {
                            "observed_at": {"type": "string"},
                            "observed_at_epoch": {"type": "number"},
                            "value": {"type": "number"},
                        },
                    ),
                },
            },
        ),
    },
)

HEALTH = obj(
    ["status", "district", "buildings", "sensors", "version"],
    {
        "status": {"type": "string", "enum": ["ok"]},
        "district": {"type": "string"},
        "district_zh": {"type": "string"},
        "buildings": {"type": "integer", "minimum": 0},
        "sensors": {"type": "integer", "minimum": 0},
        "version": {"type": "string"},
    },
)

_BATCH = {
    "oneOf": [
        obj(["readings"], {"readings": {"type": "array", "items": READING}}),
        {"type": "array", "items": READING},
    ]
}

PATHS: dict[str, Any] = {
    "/api/health": {
        "get": {
            "operationId": "health",
            "tags": ["core"],
            "summary": "Liveness and what the twin watches",
            "responses": {"200": json_body(HEALTH, "the twin is up")},
        }
    },
    "/api/readings": {
        "post": {
            "operationId": "postReadings",
            "tags": ["core"],
            "summary": "Push a batch of readings (acknowledged once durably logged)",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _BATCH}},
            },
            "responses": {
                "200": json_body(
                    obj(
                        ["received", "accepted", "rejected"],
                        {
                            "received": {"type": "integer", "minimum": 0},
                            "accepted": {"type": "integer", "minimum": 0},
                            "rejected": {"type": "array", "items": REJECTION},
                        },
                    ),
                    "batch processed: valid readings stored, bad ones listed with reasons",
                ),
                "400": error("the body is not a batch of readings"),
                "401": error("missing or wrong bearer token"),
                "413": error("too many bytes or readings"),
            },
        }
    },
    "/api/sensors/{sensor_id}": {
        "get": {
            "operationId": "getSensor",
            "tags": ["core"],
            "summary": "Live value, times, quality and recent history of one sensor",
            "parameters": [
                {
                    "name": "sensor_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                },
                {
                    "name": "minutes",
                    "in": "query",
                    "required": False,
                    "description": "history window, min (default 60, at most a week)",
                    "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 10080},
                },
            ],
            "responses": {
                "200": json_body(SENSOR, "the sensor"),
                "400": error("bad query parameter"),
                "404": error("no such sensor"),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "tags": ["core"],
            "summary": "This document (the routes this server has)",
            "responses": {"200": json_body({"type": "object"}, "OpenAPI 3.1 document")},
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "tags": ["core"],
            "summary": "Prometheus metrics (text exposition format 0.0.4)",
            "responses": {
                "200": {
                    "description": "metrics",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {"Reading": READING, "Rejection": REJECTION, "Sensor": SENSOR}
