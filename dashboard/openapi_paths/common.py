"""Small builders shared by the OpenAPI path modules: JSON bodies, errors, parameters."""

from __future__ import annotations

from typing import Any

#: ``{"error": code, "detail": text}`` — every JSON error of the API
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}
NUM_OR_NULL: dict[str, Any] = {"type": ["number", "null"]}
TEXT_OR_NULL: dict[str, Any] = {"type": ["string", "null"]}
INT_OR_NULL: dict[str, Any] = {"type": ["integer", "null"]}
#: who may call: a bearer token (``<user>.<secret>``) or a login session cookie
LOGGED_IN: list[dict[str, list]] = [{"bearer": []}, {"session": []}]


def json_body(schema: dict, description: str, **extra: Any) -> dict:
    """A response (or request body) carrying ``schema`` as ``application/json``."""
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def error(description: str, schema: str = "Error") -> dict:
    """A JSON error response."""
    return json_body({"$ref": f"#/components/schemas/{schema}"}, description)


def retry_after(description: str) -> dict:
    """A 429 JSON error with its ``Retry-After`` header (seconds)."""
    return {
        **error(description),
        "headers": {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}},
    }


def path_param(name: str, description: str = "", **schema: Any) -> dict:
    """A required string path parameter."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, **schema},
    }


def query_param(name: str, description: str, schema: dict) -> dict:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def obj(required: list[str], properties: dict[str, Any], **extra: Any) -> dict:
    """A JSON object schema."""
    return {"type": "object", "required": required, "properties": properties, **extra}


#: errors every route behind :func:`dashboard.auth.require` may answer
AUTH_ERRORS: dict[str, dict] = {
    "401": error("no, a wrong or an expired credential"),
    "403": error("the caller's role may not do this (or a cookie write lacks its CSRF token)"),
}
