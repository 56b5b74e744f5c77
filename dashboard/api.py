"""The REST API under ``/api``: a Flask blueprint; handlers reach the twin via the context."""

from __future__ import annotations

from importlib import metadata

import flask

from dashboard.context import current_context

api = flask.Blueprint("api", __name__, url_prefix="/api")


def package_version() -> str:
    """Installed version of the ``streettwin`` distribution ("0+unknown" when not installed)."""
    try:
        return metadata.version("streettwin")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@api.get("/health")
def health() -> flask.Response:
    """``GET /api/health``: liveness and what the twin watches.

    Returns
    -------
    JSON
        ``{"status": "ok", "district": name, "district_zh": 中文名, "buildings": n,
        "sensors": n, "version": "x.y.z"}``
    """
    registry = current_context().registry
    meta = registry.meta
    return flask.jsonify(
        status="ok",
        district=str(meta.get("name_en") or meta.get("name_zh") or ""),
        district_zh=str(meta.get("name_zh") or ""),
        buildings=len(registry.buildings),
        sensors=len(registry.sensors),
        version=package_version(),
    )
