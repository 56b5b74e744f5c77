"""OpenAPI paths of login and sessions (:mod:`dashboard.auth`)."""

from __future__ import annotations

from typing import Any

from dashboard.openapi_paths.common import (
    AUTH_ERRORS,
    LOGGED_IN,
    error,
    json_body,
    obj,
    retry_after,
)

_CREDENTIALS = obj(
    [],
    {
        "username": {"type": "string"},
        "password": {"type": "string"},
        "code": {
            "type": "string",
            "description": "the 6-digit TOTP code (RFC 6238); required for admin and auditor",
        },
    },
    example={"username": "op", "password": "correct horse battery staple"},
)
_SET_COOKIE = {
    "Set-Cookie": {
        "schema": {"type": "string"},
        "description": "the session cookie (HttpOnly, SameSite=Strict) and the CSRF cookie",
    }
}

PATHS: dict[str, Any] = {
    "/api/login": {
        "post": {
            "operationId": "login",
            "tags": ["auth"],
            "summary": "Log in with a password; starts a new session (cookie)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _CREDENTIALS}},
            },
            "responses": {
                "200": json_body(
                    obj(
                        ["user", "role", "csrf_token"],
                        {
                            "user": {"type": "string"},
                            "role": {"type": "string"},
                            "csrf_token": {
                                "type": "string",
                                "description": "send as X-CSRF-Token on writes",
                            },
                        },
                    ),
                    "logged in",
                    headers=_SET_COOKIE,
                ),
                "400": error("the body is not a JSON object"),
                "401": error(
                    "login failed (one answer for every cause), or `code_required`: the password"
                    " was right and this account needs its second factor"
                ),
                "415": error("the body is not application/json"),
                "429": retry_after("too many attempts from this address"),
            },
        }
    },
    "/auth/login": {
        "post": {
            "operationId": "formLogin",
            "tags": ["auth"],
            "summary": "The login page's form (double-submit CSRF); redirects",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": obj(
                            [],
                            {
                                "username": {"type": "string"},
                                "password": {"type": "string"},
                                "next": {"type": "string", "description": "local path"},
                                "csrf_token": {"type": "string"},
                                "step": {
                                    "type": "string",
                                    "description": "`code`: the second step (TOTP code only)",
                                },
                                "code": {"type": "string", "description": "TOTP code"},
                            },
                        )
                    }
                },
            },
            "responses": {
                "303": {
                    "description": "to ``next`` when logged in, else to ``/login?failed=1``",
                    "headers": {"Location": {"schema": {"type": "string"}}, **_SET_COOKIE},
                },
                "403": error("missing or wrong CSRF token"),
            },
        }
    },
    "/api/logout": {
        "post": {
            "operationId": "logout",
            "tags": ["auth"],
            "summary": "End the session (cookie callers send X-CSRF-Token)",
            "security": LOGGED_IN,
            "responses": {
                "200": json_body(obj(["ok"], {"ok": {"type": "boolean"}}), "logged out"),
                **AUTH_ERRORS,
            },
        }
    },
    "/api/me": {
        "get": {
            "operationId": "me",
            "tags": ["auth"],
            "summary": "The caller: name, role, crew, grids, idle limit",
            "security": LOGGED_IN,
            "responses": {
                "200": json_body(
                    obj(
                        ["user", "role", "crew_id", "grids", "idle_timeout_s", "now"],
                        {
                            "user": {"type": "string"},
                            "role": {"type": "string"},
                            "crew_id": {"type": ["string", "null"]},
                            "grids": {"type": "array", "items": {"type": "string"}},
                            "idle_timeout_s": {"type": "number"},
                            "now": {"type": "number"},
                        },
                    ),
                    "the caller",
                ),
                "401": AUTH_ERRORS["401"],
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {}
