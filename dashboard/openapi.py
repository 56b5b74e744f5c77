"""The REST API contract: an OpenAPI 3.1 document served at ``GET /api/openapi.json``.

One source of truth: the path modules listed in :data:`dashboard.openapi_paths.PATH_MODULES`
describe every route the app can have (core, live, login, dispatch, reports, alerts), joined
here into :data:`OPENAPI`. An app serves the part of it that it has routes for (a
registry-only app has no ``/api/tickets``), so the served document is true for that app.
:func:`undocumented_api_routes` lists routes an app has that the document lacks and
:func:`unserved_operations` the reverse, so tests keep the two true together.
"""

from __future__ import annotations

import copy
import importlib
import re
from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from dashboard.openapi_paths import PATH_MODULES
from dashboard.openapi_paths.common import ERROR

#: where an app keeps its (full) document: tests may add path examples there
EXTENSION_KEY = "streettwin_openapi"
#: route prefixes the contract covers (pages, assets and ``/ws/live`` are not REST)
CONTRACT_PREFIXES: tuple[str, ...] = ("/api/", "/auth/", "/metrics")
_IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
#: endpoint of the ``/api/<path>`` fallback (not part of the contract)
NOT_FOUND_ENDPOINT = "api_not_found"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR}
    for name in PATH_MODULES:
        module = importlib.import_module(name)
        clash = paths.keys() & module.PATHS.keys()
        if clash:
            raise ValueError(f"{name} documents paths twice: {sorted(clash)}")
        paths.update(module.PATHS)
        schemas.update(module.SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StreetTwin API",
            "version": "1",
            "description": "Live readings in, twin state, warnings and dispatch out. Values "
            "SI; times UTC epoch s or ISO 8601 with offset. Routes marked with security "
            "take a bearer token (``Authorization: Bearer <user>.<secret>``) or a login "
            "session cookie; cookie writes also send ``X-CSRF-Token``.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "__Host-st_session",
                    "description": "set by POST /api/login (``st_session`` on plain http)",
                },
            },
        },
    }


#: the whole contract: every route any StreetTwin app may have
OPENAPI: dict[str, Any] = _build()


def _openapi_path(rule: str) -> str:
    """Flask rule → OpenAPI path (``<path:sensor_id>`` → ``{sensor_id}``)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def served_operations(server: flask.Flask) -> set[tuple[str, str]]:
    """``(method, OpenAPI path)`` of every contract route of an app (methods lower case)."""
    out = set()
    for rule in server.url_map.iter_rules():
        if not rule.rule.startswith(CONTRACT_PREFIXES) or rule.endpoint == NOT_FOUND_ENDPOINT:
            continue
        for method in (rule.methods or set()) - _IGNORED_METHODS:
            out.add((method.lower(), _openapi_path(rule.rule)))
    return out


def openapi_document(server: flask.Flask | None = None) -> dict[str, Any]:
    """A copy of the document; with ``server``, only the operations that app has.

    Parameters
    ----------
    server : flask.Flask, optional
        The app; its document (:data:`EXTENSION_KEY`, else :data:`OPENAPI`) is trimmed to
        the routes it has.
    """
    if server is None:
        return copy.deepcopy(OPENAPI)
    doc = copy.deepcopy(server.extensions.get(EXTENSION_KEY, OPENAPI))
    have = served_operations(server)
    paths = {}
    for path, item in doc["paths"].items():
        ops = {m: op for m, op in item.items() if (m, path) in have}
        if ops:
            paths[path] = ops
    doc["paths"] = paths
    return doc


def register_openapi(server: flask.Flask, document: dict[str, Any] | None = None) -> None:
    """Add ``GET /api/openapi.json`` serving ``document`` (default :data:`OPENAPI`).

    The answer is built per request from the routes the app has then, so blueprints
    registered after this call are described too. Also adds the ``/api/<path>`` fallback
    (:func:`api_not_found`), so that no ``/api`` URL reaches the pages' catch-all.
    """
    server.extensions[EXTENSION_KEY] = openapi_document() if document is None else document

    def openapi_json() -> flask.Response:
        return flask.jsonify(openapi_document(flask.current_app))

    server.add_url_rule("/api/openapi.json", "openapi_json", openapi_json, methods=["GET"])
    server.add_url_rule(
        "/api/<path:rest>", NOT_FOUND_ENDPOINT, api_not_found, methods=list(_METHODS)
    )


def api_not_found(rest: str) -> flask.Response:
    """An ``/api`` URL no route answers: 405 (with ``Allow``) if another method would match,
    else 404 — JSON through the app's error handler, never the page shell's HTML ``200``."""
    adapter = flask.current_app.url_map.bind_to_environ(flask.request.environ)
    allowed = []
    for method in _METHODS:
        try:
            endpoint, _ = adapter.match(flask.request.path, method=method)
        except HTTPException:
            continue
        if endpoint != NOT_FOUND_ENDPOINT:
            allowed.append(method)
    if allowed:
        flask.abort(405, valid_methods=allowed)
    flask.abort(404, description=f"no API route {flask.request.path}")


def undocumented_api_routes(
    server: flask.Flask, document: dict[str, Any] | None = None
) -> list[str]:
    """``"METHOD /path"`` of every contract route of ``server`` missing from the document."""
    doc = OPENAPI if document is None else document
    return sorted(
        f"{method.upper()} {path}"
        for method, path in served_operations(server)
        if method not in doc["paths"].get(path, {})
    )


def unserved_operations(server: flask.Flask, document: dict[str, Any] | None = None) -> list[str]:
    """``"METHOD /path"`` of every documented operation ``server`` has no route for."""
    doc = OPENAPI if document is None else document
    have = served_operations(server)
    return sorted(
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in item
        if (method, path) not in have
    )
