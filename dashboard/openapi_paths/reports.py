"""OpenAPI paths of what the field sends in: reports from the public and crews
(:mod:`dashboard.api_dispatch`), a crew phone's queued actions (:mod:`dashboard.api_crew_sync`)."""

from __future__ import annotations

from typing import Any

from dashboard.openapi_paths.common import (
    AUTH_ERRORS,
    LOGGED_IN,
    NUM_OR_NULL,
    TEXT_OR_NULL,
    error,
    json_body,
    obj,
    path_param,
    retry_after,
)
from twin.events.lifecycle import TICKET_TYPES

#: as in dashboard.api_crew_sync (not imported: the document must not need the route modules)
CREW_ACTIONS = ("accept", "arrive", "resolve", "reject")
MAX_BATCH = 100

_STR = {"type": "string"}
_NUM = {"type": "number"}

_REPORT = obj(
    ["category"],
    {
        "category": {"type": "string", "enum": list(TICKET_TYPES)},
        "text": {"type": "string", "maxLength": 2000},
        "lon": _NUM,
        "lat": _NUM,
        "address": {**_STR, "description": "standard address, when no lon/lat"},
    },
)

_REPORT_STATUS = obj(
    ["receipt", "category", "grid", "status", "received_at", "updated_at"],
    {
        "receipt": _STR,
        "category": _STR,
        "grid": TEXT_OR_NULL,
        "status": {"type": "string", "enum": ["received", "in_progress", "resolved", "closed"]},
        "received_at": _NUM,
        "updated_at": NUM_OR_NULL,
    },
)

PATHS: dict[str, Any] = {
    "/api/reports": {
        "post": {
            "operationId": "postReport",
            "tags": ["dispatch"],
            "summary": "A report from the public or a crew; opens a ticket in the right grid",
            "security": [*LOGGED_IN, {}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _REPORT},
                    "multipart/form-data": {
                        "schema": {
                            **_REPORT,
                            "properties": {
                                **_REPORT["properties"],
                                "photo": {"type": "string", "format": "binary"},
                                "lang": {"type": "string", "enum": ["zh", "en"]},
                                "csrf_token": _STR,
                            },
                        }
                    },
                },
            },
            "responses": {
                "201": json_body(
                    obj(["receipt", "status_url"], {"receipt": _STR, "status_url": _STR}),
                    "stored; keep the receipt to follow the report",
                ),
                "400": error("the JSON body is not an object"),
                "303": {
                    "description": "form posts: to the report page showing the receipt, or, "
                    "refused, back to the form with the reason (``error``), the category and "
                    "place",
                    "headers": {"Location": {"schema": _STR}},
                },
                **AUTH_ERRORS,
                "422": error("JSON posts: bad category, place outside the district, or bad photo"),
                "429": retry_after("this caller reports too often"),
            },
        }
    },
    "/api/reports/{receipt}": {
        "get": {
            "operationId": "reportStatus",
            "tags": ["dispatch"],
            "summary": "What a reporter may see: category, grid, status, times",
            "parameters": [path_param("receipt")],
            "responses": {
                "200": json_body(_REPORT_STATUS, "the report's status"),
                "401": AUTH_ERRORS["401"],
                "404": error("no such receipt"),
                "429": retry_after("too many look-ups from this address"),
            },
        }
    },
    "/api/crew/sync": {
        "post": {
            "operationId": "crewSync",
            "tags": ["dispatch"],
            "summary": "A crew phone's queued actions, applied in order, each key once",
            "security": LOGGED_IN,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": obj(
                            ["actions"],
                            {
                                "actions": {
                                    "type": "array",
                                    "maxItems": MAX_BATCH,
                                    "items": obj(
                                        ["key", "ticket_id", "action"],
                                        {
                                            "key": {"type": "string", "maxLength": 64},
                                            "ticket_id": {**_STR, "description": "ticket ref"},
                                            "action": {
                                                "type": "string",
                                                "enum": list(CREW_ACTIONS),
                                            },
                                            "note": _STR,
                                            "photo": {**_STR, "description": "data: URL"},
                                        },
                                    ),
                                }
                            },
                        )
                    }
                },
            },
            "responses": {
                "200": json_body(
                    obj(
                        ["results"],
                        {
                            "results": {
                                "type": "array",
                                "items": obj(
                                    ["key", "status", "detail"],
                                    {
                                        "key": _STR,
                                        "status": {
                                            "type": "string",
                                            "enum": ["applied", "duplicate", "refused"],
                                        },
                                        "detail": _STR,
                                    },
                                ),
                            }
                        },
                    ),
                    "one result per action, in order",
                ),
                **AUTH_ERRORS,
                "422": error("'actions' is not a list of at most 100"),
                "503": error("dispatch is not running"),
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {}
