"""OpenAPI paths of dispatch (:mod:`dashboard.api_dispatch`, :mod:`dashboard.api_crew_sync`):
tickets and their steps, crews, figures, reports in, vulnerable-resident counts."""

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
    query_param,
)
from twin.events.lifecycle import ACTIONS, ESCALATE, LEVELS, MAX_ESCALATION, STATES, TICKET_TYPES

_STR = {"type": "string"}
_NUM = {"type": "number"}
#: lifecycle steps plus the manual escalation (same route, state unchanged)
_ALL_ACTIONS = [*ACTIONS, ESCALATE]

TICKET = obj(
    ["ref", "source", "type", "level", "state", "grid", "version", "actions"],
    {
        "ref": {**_STR, "description": "public, unguessable reference (ids never leave)"},
        "source": _STR,
        "type": {"type": "string", "enum": list(TICKET_TYPES)},
        "level": {"type": "string", "enum": list(LEVELS)},
        "state": {"type": "string", "enum": list(STATES)},
        "grid": _STR,
        "community": TEXT_OR_NULL,
        "node": TEXT_OR_NULL,
        "crew_id": TEXT_OR_NULL,
        "merged_into": TEXT_OR_NULL,
        "escalation": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_ESCALATION,
            "description": "0 none, 1 supervisor told, 2 next level told",
        },
        "version": {"type": "integer"},
        "created_at": {**_NUM, "description": "epoch s UTC"},
        "updated_at": {**_NUM, "description": "epoch s UTC"},
        "actions": {
            "type": "array",
            "items": {"type": "string", "enum": _ALL_ACTIONS},
            "description": "actions the caller may take now",
        },
    },
)

STEP = obj(
    ["ref", "seq", "action", "from", "to", "at"],
    {
        "ref": _STR,
        "seq": {"type": "integer"},
        "action": {"type": "string", "enum": _ALL_ACTIONS},
        "from": TEXT_OR_NULL,
        "to": _STR,
        "crew_id": TEXT_OR_NULL,
        "at": _NUM,
    },
)

_HISTORY_STEP = obj(
    ["seq", "action", "from", "to", "actor", "role", "at"],
    {
        "seq": {"type": "integer"},
        "action": _STR,
        "from": TEXT_OR_NULL,
        "to": _STR,
        "actor": _STR,
        "role": _STR,
        "at": _NUM,
        "note": TEXT_OR_NULL,
        "crew_id": TEXT_OR_NULL,
    },
)

_SUGGESTION = obj(
    ["crew_id", "travel_time_s", "route"],
    {"crew_id": _STR, "travel_time_s": _NUM, "route": {"type": "array", "items": _STR}},
)

_NEW_TICKET = obj(
    ["type"],
    {
        "type": {"type": "string", "enum": list(TICKET_TYPES)},
        "level": {"type": "string", "enum": list(LEVELS), "default": "yellow"},
        "lon": _NUM,
        "lat": _NUM,
        "grid": {**_STR, "description": "grid id, when no lon/lat"},
        "description": {"type": "string", "maxLength": 2000},
    },
    example={"type": "water", "level": "orange", "lon": 113.75034, "lat": 23.02026},
)

_KPI_ROW = obj(
    ["found", "handled", "handling_rate"],
    {
        "found": {"type": "integer", "minimum": 0},
        "handled": {"type": "integer", "minimum": 0},
        "handling_rate": NUM_OR_NULL,
        "mean_time_to_dispatch_s": NUM_OR_NULL,
        "mean_time_to_accept_s": NUM_OR_NULL,
        "mean_time_to_arrive_s": NUM_OR_NULL,
        "mean_time_to_close_s": NUM_OR_NULL,
    },
    description="one group: its key columns (by) and the figures",
)

_CREW = obj(
    ["id", "name", "skills", "state"],
    {
        "id": _STR,
        "name": _STR,
        "skills": {"type": "array", "items": _STR},
        "state": _STR,
        "node": TEXT_OR_NULL,
        "grid": TEXT_OR_NULL,
        "shift_start_s": NUM_OR_NULL,
        "shift_end_s": NUM_OR_NULL,
    },
)

_REF = path_param("ref", "the ticket's public reference")
_TICKET_ERRORS = {**AUTH_ERRORS, "404": error("no such ticket, or not one the caller may see")}
_INVALID = error("a field is missing or out of range")
_NOT_AN_OBJECT = error("the body is not a JSON object")

PATHS: dict[str, Any] = {
    "/api/tickets": {
        "get": {
            "operationId": "listTickets",
            "tags": ["dispatch"],
            "summary": "Tickets the caller may see, newest first (at most 500)",
            "security": LOGGED_IN,
            "parameters": [query_param("state", "comma-separated states", _STR)],
            "responses": {
                "200": json_body(
                    obj(["tickets"], {"tickets": {"type": "array", "items": TICKET}}),
                    "tickets",
                ),
                **AUTH_ERRORS,
            },
        },
        "post": {
            "operationId": "createTicket",
            "tags": ["dispatch"],
            "summary": "Open a ticket at a point (lon/lat) or in a grid",
            "security": LOGGED_IN,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _NEW_TICKET}},
            },
            "responses": {
                "201": json_body(TICKET, "the new ticket"),
                "400": _NOT_AN_OBJECT,
                **AUTH_ERRORS,
                "422": _INVALID,
            },
        },
    },
    "/api/tickets/{ref}": {
        "get": {
            "operationId": "getTicket",
            "tags": ["dispatch"],
            "summary": "One ticket",
            "security": LOGGED_IN,
            "parameters": [_REF],
            "responses": {"200": json_body(TICKET, "the ticket"), **_TICKET_ERRORS},
        }
    },
    "/api/tickets/{ref}/history": {
        "get": {
            "operationId": "ticketHistory",
            "tags": ["dispatch"],
            "summary": "Every step of a ticket: who, when, from, to, note",
            "security": LOGGED_IN,
            "parameters": [_REF],
            "responses": {
                "200": json_body(
                    obj(
                        ["ref", "steps"],
                        {"ref": _STR, "steps": {"type": "array", "items": _HISTORY_STEP}},
                    ),
                    "the steps",
                ),
                **_TICKET_ERRORS,
            },
        }
    },
    "/api/tickets/{ref}/suggest": {
        "get": {
            "operationId": "suggestCrew",
            "tags": ["dispatch"],
            "summary": "Free crews ranked by road travel time, avoiding impassable roads",
            "security": LOGGED_IN,
            "parameters": [_REF],
            "responses": {
                "200": json_body(
                    obj(
                        ["ref", "suggested", "ranked"],
                        {
                            "ref": _STR,
                            "suggested": {"oneOf": [_SUGGESTION, {"type": "null"}]},
                            "ranked": {"type": "array", "items": _SUGGESTION},
                        },
                    ),
                    "the ranking",
                ),
                **_TICKET_ERRORS,
                "422": error("the ticket has no road-graph node"),
            },
        }
    },
    "/api/tickets/{ref}/{action}": {
        "post": {
            "operationId": "ticketAction",
            "tags": ["dispatch"],
            "summary": "Take a step (dispatch, accept, arrive, resolve, verify, close, ...) "
            "or escalate (one stage up the chain, state unchanged)",
            "security": LOGGED_IN,
            "parameters": [
                _REF,
                path_param("action", "the step, or escalate", enum=_ALL_ACTIONS),
            ],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": obj(
                            [],
                            {
                                "note": {"type": "string", "maxLength": 2000},
                                "crew_id": _STR,
                                "into": {**_STR, "description": "ref of the ticket (merge)"},
                                "expected_version": {"type": "integer"},
                            },
                        )
                    }
                },
            },
            "responses": {
                "200": json_body(STEP, "the committed step"),
                "400": error("the body is not a JSON object, or expected_version no integer"),
                **AUTH_ERRORS,
                "404": error("no such ticket or action, or not a ticket the caller may see"),
                "409": error("the ticket's state does not allow it, or its version moved on"),
                "422": _INVALID,
            },
        }
    },
    "/api/crews": {
        "get": {
            "operationId": "listCrews",
            "tags": ["dispatch"],
            "summary": "Crews with skills, shift, node and state",
            "security": LOGGED_IN,
            "responses": {
                "200": json_body(
                    obj(["crews"], {"crews": {"type": "array", "items": _CREW}}), "crews"
                ),
                **AUTH_ERRORS,
            },
        }
    },
    "/api/kpi": {
        "get": {
            "operationId": "kpi",
            "tags": ["dispatch"],
            "summary": "Found, handled and mean times per group",
            "security": LOGGED_IN,
            "parameters": [
                query_param("by", "comma-separated: type, grid, community, week", _STR),
                query_param("from_week", "first ISO week, yyyyww", {"type": "integer"}),
                query_param("to_week", "last ISO week, yyyyww", {"type": "integer"}),
            ],
            "responses": {
                "200": json_body(
                    obj(
                        ["by", "rows"],
                        {
                            "by": {"type": "array", "items": _STR},
                            "rows": {"type": "array", "items": _KPI_ROW},
                        },
                    ),
                    "figures",
                ),
                **AUTH_ERRORS,
                "422": error("no or an unknown group, or a week that is not yyyyww"),
            },
        }
    },
    "/api/buildings/{building_id}/vulnerable": {
        "get": {
            "operationId": "vulnerableCounts",
            "tags": ["dispatch"],
            "summary": "Counts of vulnerable residents of one building (every access audited)",
            "security": LOGGED_IN,
            "parameters": [path_param("building_id")],
            "responses": {
                "200": json_body(
                    obj(
                        ["building_id", "grid", "elderly_alone", "disabled", "children"],
                        {
                            "building_id": _STR,
                            "grid": _STR,
                            "elderly_alone": {"type": "integer", "minimum": 0},
                            "disabled": {"type": "integer", "minimum": 0},
                            "children": {"type": "integer", "minimum": 0},
                        },
                    ),
                    "the counts",
                ),
                **AUTH_ERRORS,
                "404": error("no such building, or not in the caller's grids"),
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {"Ticket": TICKET, "TicketStep": STEP}
