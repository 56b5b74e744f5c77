"""Pieces of the OpenAPI document, one module per group of routes; :mod:`dashboard.openapi`
joins them (``PATHS`` and ``SCHEMAS`` of every module in :data:`PATH_MODULES`)."""

from __future__ import annotations

#: modules whose ``PATHS`` (OpenAPI path → operations) and ``SCHEMAS`` form the document
PATH_MODULES: tuple[str, ...] = (
    "dashboard.openapi_paths.core",
    "dashboard.openapi_paths.live",
    "dashboard.openapi_paths.layers",
    "dashboard.openapi_paths.auth",
    "dashboard.openapi_paths.dispatch",
    "dashboard.openapi_paths.reports",
    "dashboard.openapi_paths.alerts",
)
