"""The app factory: one Dash app (pages, assets, offline deck.gl) on one Flask server with the API.

Follows Flask's ``create_app`` pattern: nothing is built at import time, tests pass their
settings, and pages find the twin through :mod:`dashboard.context` rather than importing the
app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash

from dashboard.api import api
from dashboard.api_layers import register_layers_api
from dashboard.api_live import api_live
from dashboard.api_readings import IngestContext, register_api_errors, register_readings_api
from dashboard.context import CONFIG_KEY, TwinContext
from dashboard.deckgl import DECKGL_ROUTE, register_deckgl_route
from dashboard.live import register_live_routes
from dashboard.metrics import register_metrics, runtime_metrics
from dashboard.openapi import register_openapi
from twin.registry import Registry

HERE = Path(__file__).resolve().parent
PAGES_DIR = HERE / "pages"
ASSETS_DIR = HERE / "assets"
APP_TITLE = "StreetTwin 街道数字孪生"

#: the page shell: no external fonts or scripts, Chinese first in the font stack
INDEX_STRING = """<!DOCTYPE html>
<html lang="zh-CN">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


class StreetTwinDash(dash.Dash):
    """Dash with a page config that names no external host.

    Dash writes the URL of its upstream version check into every page; the renderer only
    uses it for the developer-tools menu, which we never enable. Dropping it keeps the
    served HTML free of internet addresses, as an offline command centre needs.
    """

    def _config(self) -> dict[str, Any]:
        config = super()._config()
        config.pop("dash_version_url", None)
        config["disable_version_check"] = True
        return config


def create_app(
    registry: Registry, *, settings: dict[str, Any] | None = None, runtime: Any = None
) -> dash.Dash:
    """Build the StreetTwin web app for a district.

    Parameters
    ----------
    registry : twin.registry.Registry
        The district to show and serve.
    settings : dict, optional
        Flask config overrides, e.g. ``{"TESTING": True}``, ``{"DATABASE_URL": url}``.
    runtime : dashboard.runtime.TwinRuntime, optional
        The live twin (state, ingest, hub); enables ``/ws/live`` and the live API routes.

    Returns
    -------
    dash.Dash
        The app; ``app.server`` is the Flask WSGI app (``/``, ``/api/...``,
        :data:`dashboard.deckgl.DECKGL_ROUTE`). Run with ``app.run(...)``.
    """
    settings = dict(settings or {})
    app = StreetTwinDash(
        "dashboard",
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        external_scripts=[DECKGL_ROUTE],
        title=APP_TITLE,
        update_title=None,
        suppress_callback_exceptions=True,
        index_string=INDEX_STRING,
    )
    server = app.server
    server.config.update(settings)
    server.config[CONFIG_KEY] = TwinContext(registry=registry, settings=settings, runtime=runtime)
    server.register_blueprint(api)
    server.register_blueprint(api_live)
    register_api_errors(server)
    if runtime is not None:
        register_live_routes(server, runtime)
        register_readings_api(server, IngestContext(runtime.pipeline, runtime.ingest_token))
        register_metrics(server, runtime_metrics(runtime))
    if getattr(runtime, "warnings", None) is not None:
        from dashboard.api_alerts import api_alerts

        server.register_blueprint(api_alerts)
    register_openapi(server)
    register_deckgl_route(server)
    register_layers_api(server)
    # dispatch (tickets, login, reports in) when the settings name an event store
    from dashboard.dispatch_service import build_dispatch

    dispatch_service = build_dispatch(registry, settings, runtime)
    if dispatch_service is not None:
        from dashboard.api_dispatch import register_dispatch_api

        secure = bool(settings.get("AUTH_COOKIE_SECURE", True))
        register_dispatch_api(server, dispatch_service, secure=secure)
        from dashboard.api_crew_sync import register_crew_sync

        register_crew_sync(server)
    # Page modules register their callbacks in Dash's process-wide list, which the next app
    # to serve a request would take. Claim them for this app now, so that building several
    # apps in one process (tests, workers) gives each its own copy.
    app._setup_server()
    return app
