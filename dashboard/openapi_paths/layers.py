"""OpenAPI paths of the map layers API (:mod:`dashboard.api_layers`): cacheable deck.gl JSON."""

from __future__ import annotations

from typing import Any

from dashboard.openapi_paths.common import error, obj, query_param

_STYLE = query_param("style", "map style (default ``plain``)", {"type": "string"})
_VERSION = query_param("v", "the ETag: the answer is then immutable", {"type": "string"})
_CACHE_HEADERS = {
    "ETag": {"schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
}
_NOT_MODIFIED = {"description": "If-None-Match matched the ETag", "headers": _CACHE_HEADERS}


def _ok(schema: dict, description: str) -> dict:
    return {
        "description": description,
        "headers": _CACHE_HEADERS,
        "content": {"application/json": {"schema": schema}},
    }


PATHS: dict[str, Any] = {
    "/api/layers/deck.json": {
        "get": {
            "operationId": "layersDeck",
            "tags": ["map"],
            "summary": "The whole deck.gl deck of a map style, every layer with its data",
            "parameters": [_STYLE, _VERSION],
            "responses": {
                "200": _ok(
                    obj(
                        ["deck", "background", "style"],
                        {
                            "deck": {"type": "object", "description": "deck.gl jsonInput"},
                            "background": {"type": "string", "description": "CSS colour"},
                            "style": {"type": "string"},
                        },
                    ),
                    "the deck (gzip when accepted)",
                ),
                "304": _NOT_MODIFIED,
                "404": error("unknown map style"),
            },
        }
    },
    "/api/layers/{layer_id}.json": {
        "get": {
            "operationId": "layerData",
            "tags": ["map"],
            "summary": "One layer's data: a GeoJSON FeatureCollection or records",
            "parameters": [
                {
                    "name": "layer_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                },
                _STYLE,
                _VERSION,
            ],
            "responses": {
                "200": _ok({"type": ["object", "array"]}, "the layer's data"),
                "304": _NOT_MODIFIED,
                "404": error("unknown layer or map style"),
            },
        }
    },
    "/api/layers/live.json": {
        "get": {
            "operationId": "layersLive",
            "tags": ["map"],
            "summary": "Current values of the model-driven map layers (never geometry)",
            "parameters": [
                query_param("layers", "comma-separated layer ids (default all)", {"type": "string"})
            ],
            "responses": {
                "200": {
                    "description": "values by layer id; a layer without a model is empty",
                    "content": {
                        "application/json": {
                            "schema": obj(
                                ["at", "layers"],
                                {
                                    "at": {"type": "number", "description": "UTC epoch s"},
                                    "layers": {"type": "object"},
                                },
                            )
                        }
                    },
                }
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {}
