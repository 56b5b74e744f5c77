"""OpenAPI paths of the alerts API (:mod:`dashboard.api_alerts`): warnings as JSON, CAP 1.2,
Atom, acknowledgement."""

from __future__ import annotations

from typing import Any

from dashboard.openapi_paths.common import (
    AUTH_ERRORS,
    TEXT_OR_NULL,
    error,
    json_body,
    obj,
    path_param,
)

_STR = {"type": "string"}

#: a warning's latest state, or one of its events (the engine's message fields)
ALERT = obj(
    ["id", "warning_id", "hazard", "level", "msg_type", "status"],
    {
        "id": {**_STR, "description": "event id, ``<warning_id>.<seq>``"},
        "warning_id": _STR,
        "hazard": _STR,
        "area_id": _STR,
        "level": {"type": "integer", "minimum": 0, "maximum": 4},
        "level_colour": _STR,
        "msg_type": {"type": "string", "enum": ["Alert", "Update", "Cancel", "Ack"]},
        "action": _STR,
        "status": _STR,
        "sent": {**_STR, "description": "ISO 8601 with offset"},
        "issued": _STR,
        "updated": _STR,
        "expires": _STR,
        "polygon": {"type": ["object", "null"], "description": "GeoJSON geometry"},
        "acknowledged_by": TEXT_OR_NULL,
        "acknowledged_at": TEXT_OR_NULL,
    },
)
#: the alerts API's own error shape: ``error`` always, plus the warning id on a 404
ALERT_ERROR = obj(
    ["error"],
    {"error": _STR, "detail": _STR, "warning_id": _STR},
)
_ID = path_param("warning_id")
_NOT_FOUND = error("no such warning", "AlertError")
_NO_SERVICE = error("no warning service running", "AlertError")

PATHS: dict[str, Any] = {
    "/api/alerts": {
        "get": {
            "operationId": "listAlerts",
            "tags": ["alerts"],
            "summary": "Active warnings (``all=1``: every warning, newest first)",
            "parameters": [
                {
                    "name": "all",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
                }
            ],
            "responses": {
                "200": json_body(
                    obj(
                        ["alerts", "count"],
                        {
                            "alerts": {"type": "array", "items": ALERT},
                            "count": {"type": "integer", "minimum": 0},
                        },
                    ),
                    "warnings",
                ),
                "503": _NO_SERVICE,
            },
        }
    },
    "/api/alerts.atom": {
        "get": {
            "operationId": "alertsAtom",
            "tags": ["alerts"],
            "summary": "Atom feed of active warnings, linking to their CAP messages",
            "parameters": [
                {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["zh", "en"]},
                }
            ],
            "responses": {
                "200": {
                    "description": "the feed",
                    "content": {"application/atom+xml": {"schema": _STR}},
                },
                "503": _NO_SERVICE,
            },
        }
    },
    "/api/alerts/{warning_id}": {
        "get": {
            "operationId": "getAlert",
            "tags": ["alerts"],
            "summary": "One warning's latest state and every event of it",
            "parameters": [_ID],
            "responses": {
                "200": json_body(
                    obj(
                        ["alert", "history"],
                        {"alert": ALERT, "history": {"type": "array", "items": ALERT}},
                    ),
                    "the warning",
                ),
                "404": _NOT_FOUND,
                "503": _NO_SERVICE,
            },
        }
    },
    "/api/alerts/{warning_id}.cap": {
        "get": {
            "operationId": "alertCap",
            "tags": ["alerts"],
            "summary": "The warning's latest message as CAP 1.2 (zh-CN and en info blocks)",
            "parameters": [_ID],
            "responses": {
                "200": {
                    "description": "CAP 1.2 XML",
                    "content": {"application/cap+xml": {"schema": _STR}},
                },
                "404": _NOT_FOUND,
                "503": _NO_SERVICE,
            },
        }
    },
    "/api/alerts/{warning_id}/ack": {
        "post": {
            "operationId": "ackAlert",
            "tags": ["alerts"],
            "summary": "Acknowledge an active warning (answered once committed)",
            "parameters": [_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": obj(["by"], {"by": {"type": "string", "maxLength": 80}})
                    }
                },
            },
            "responses": {
                "200": json_body(
                    obj(
                        ["acknowledged", "warning_id", "acknowledged_by", "acknowledged_at"],
                        {
                            "acknowledged": {"type": "boolean"},
                            "warning_id": _STR,
                            "acknowledged_by": _STR,
                            "acknowledged_at": _STR,
                        },
                    ),
                    "acknowledged",
                ),
                "400": error(
                    "who acknowledges ('by') is missing, or the body is no object", "AlertError"
                ),
                "401": AUTH_ERRORS["401"],
                "403": AUTH_ERRORS["403"],
                "404": _NOT_FOUND,
                "503": _NO_SERVICE,
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {"Alert": ALERT, "AlertError": ALERT_ERROR}
