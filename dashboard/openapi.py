"""The REST API contract: an OpenAPI 3.1 document served at ``GET /api/openapi.json``.

Kept as a Python dict next to the handlers; :func:`undocumented_api_routes` lists every
``/api`` route of an app that the document lacks, so a test keeps the two true together.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import flask

from twin.readings import REASONS

_ERROR = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}
_NUM_OR_NULL = {"type": ["number", "null"]}
_TEXT_OR_NULL = {"type": ["string", "null"]}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json({"$ref": "#/components/schemas/Error"}, description)


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

REJECTION = {
    "type": "object",
    "required": ["index", "reading_id", "sensor_id", "reason", "detail"],
    "properties": {
        "index": {"type": ["integer", "null"], "description": "position in the batch"},
        "reading_id": _TEXT_OR_NULL,
        "sensor_id": _TEXT_OR_NULL,
        "reason": {"type": "string", "enum": list(REASONS)},
        "detail": {"type": "string"},
    },
}

_TIME_PAIR = {
    "observed_at": {**_TEXT_OR_NULL, "description": "ISO 8601 with the local UTC offset"},
    "observed_at_epoch": {**_NUM_OR_NULL, "description": "epoch seconds UTC"},
}

SENSOR = {
    "type": "object",
    "required": [
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
    "properties": {
        "sensor_id": {"type": "string"},
        "quantity": {"type": "string"},
        "unit": {"type": "string", "description": "SI unit of value"},
        "display_unit": {"type": "string"},
        "value": {**_NUM_OR_NULL, "description": "latest value, SI; null before any reading"},
        "quality": {"type": "string", "enum": ["good", "stale", "rejected", "simulated"]},
        **_TIME_PAIR,
        "received_at": _TEXT_OR_NULL,
        "received_at_epoch": _NUM_OR_NULL,
        "age_s": _NUM_OR_NULL,
        "history": {
            "type": "object",
            "required": ["minutes", "points"],
            "properties": {
                "minutes": {"type": "number"},
                "points": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["observed_at", "observed_at_epoch", "value"],
                        "properties": {
                            "observed_at": {"type": "string"},
                            "observed_at_epoch": {"type": "number"},
                            "value": {"type": "number"},
                        },
                    },
                },
            },
        },
    },
}

HEALTH = {
    "type": "object",
    "required": ["status", "district", "buildings", "sensors", "version"],
    "properties": {
        "status": {"type": "string", "enum": ["ok"]},
        "district": {"type": "string"},
        "district_zh": {"type": "string"},
        "buildings": {"type": "integer", "minimum": 0},
        "sensors": {"type": "integer", "minimum": 0},
        "version": {"type": "string"},
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "StreetTwin API",
        "version": "1",
        "description": "Live readings in, twin state out. Values SI; times UTC epoch s or "
        "ISO 8601 with offset.",
    },
    "paths": {
        "/api/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness and what the twin watches",
                "responses": {"200": _json(HEALTH, "the twin is up")},
            }
        },
        "/api/readings": {
            "post": {
                "operationId": "postReadings",
                "summary": "Push a batch of readings (acknowledged once durably logged)",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {
                                        "type": "object",
                                        "required": ["readings"],
                                        "properties": {
                                            "readings": {"type": "array", "items": READING}
                                        },
                                    },
                                    {"type": "array", "items": READING},
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["received", "accepted", "rejected"],
                            "properties": {
                                "received": {"type": "integer", "minimum": 0},
                                "accepted": {"type": "integer", "minimum": 0},
                                "rejected": {"type": "array", "items": REJECTION},
                            },
                        },
                        "batch processed: valid readings stored, bad ones listed with reasons",
                    ),
                    "400": _error("the body is not a batch of readings"),
                    "401": _error("missing or wrong bearer token"),
                    "413": _error("too many bytes or readings"),
                },
            }
        },
        "/api/sensors/{sensor_id}": {
            "get": {
                "operationId": "getSensor",
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
                    "200": _json(SENSOR, "the sensor"),
                    "400": _error("bad query parameter"),
                    "404": _error("no such sensor"),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (text exposition format 0.0.4)",
                "responses": {
                    "200": {
                        "description": "metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {"Error": _ERROR},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}


def openapi_document() -> dict[str, Any]:
    """A copy of the OpenAPI document (callers may extend it)."""
    return copy.deepcopy(OPENAPI)


def register_openapi(server: flask.Flask, document: dict[str, Any] | None = None) -> None:
    """Add ``GET /api/openapi.json`` serving ``document`` (default :data:`OPENAPI`)."""
    doc = openapi_document() if document is None else document

    def openapi_json() -> flask.Response:
        return flask.jsonify(doc)

    server.add_url_rule("/api/openapi.json", "openapi_json", openapi_json, methods=["GET"])


def _openapi_path(rule: str) -> str:
    """Flask rule → OpenAPI path (``<path:sensor_id>`` → ``{sensor_id}``)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def undocumented_api_routes(
    server: flask.Flask, document: dict[str, Any] | None = None
) -> list[str]:
    """``"METHOD /path"`` of every ``/api`` route of ``server`` missing from the document."""
    doc = OPENAPI if document is None else document
    missing = []
    for rule in server.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        path = _openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in doc["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    return missing
