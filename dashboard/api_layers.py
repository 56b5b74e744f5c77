"""``/api/layers``: the district's deck.gl layers as cacheable JSON, outside Dash's callbacks.

A page that ships ~5 MB of geometry through a ``dcc.Store`` pays for it three times on every
load: Dash serialises it in a callback response, the renderer copies it into React props, the
browser parses it again. The wall screen instead fetches the deck from here, in parallel with
the deck.gl bundle, straight into ``createDeck``. Bodies are serialised (and gzipped) once per
style by :meth:`dashboard.context.TwinContext.serialised_deck` and carry a strong ETag, so a
reload costs one ``304 Not Modified``; a URL with ``v=<etag>`` is immutable and is not even
revalidated.

Routes
------
``GET /api/layers/deck.json?style=dark``
    ``{"deck": jsonInput, "background": css, "style": name}`` — every layer with its data.
``GET /api/layers/<layer_id>.json?style=dark``
    One layer's ``data`` (GeoJSON FeatureCollection or records), e.g. for deck.gl's
    ``data: url``.
"""

from __future__ import annotations

import flask

from dashboard.context import current_context
from dashboard.deckgl import JSONBlob
from layers.style import STYLES

api_layers = flask.Blueprint("api_layers", __name__, url_prefix="/api/layers")

#: revalidate every time (cheap: a 304) unless the URL names the version
REVALIDATE = "no-cache"
#: a URL carrying ``v=<etag>`` never changes: a year, immutable
IMMUTABLE = "public, max-age=31536000, immutable"
DEFAULT_STYLE = "plain"
#: the wall screen's map style: its deck is built when the app starts
WALL_STYLE = "dark"


def deck_url(style: str, version: str | None = None) -> str:
    """Path of the deck of ``style``; with ``version`` (an ETag) the URL is immutable."""
    url = f"{api_layers.url_prefix}/deck.json?style={style}"
    return f"{url}&v={version}" if version else url


def _style() -> str:
    style = flask.request.args.get("style", DEFAULT_STYLE)
    if style not in STYLES:
        flask.abort(404, description=f"unknown map style {style!r}; known: {', '.join(STYLES)}")
    return style


def send_blob(blob: JSONBlob) -> flask.Response:
    """``blob`` with ETag and cache headers; 304 on a matching ``If-None-Match``; gzip if asked."""
    request = flask.request
    versioned = request.args.get("v") == blob.etag
    headers = {
        "ETag": f'"{blob.etag}"',
        "Cache-Control": IMMUTABLE if versioned else REVALIDATE,
        "Vary": "Accept-Encoding",
    }
    if blob.etag in request.if_none_match:
        return flask.Response(status=304, headers=headers)
    body = blob.body
    if "gzip" in request.accept_encodings:
        body = blob.gzipped
        headers["Content-Encoding"] = "gzip"
    return flask.Response(body, status=200, mimetype="application/json", headers=headers)


@api_layers.get("/deck.json")
def deck() -> flask.Response:
    """The whole deck of a map style (``?style=``, default ``plain``)."""
    return send_blob(current_context().serialised_deck(_style()).deck)


@api_layers.get("/<layer_id>.json")
def layer(layer_id: str) -> flask.Response:
    """One layer's data in a map style (``?style=``)."""
    blobs = current_context().serialised_deck(_style()).layers
    if layer_id not in blobs:
        flask.abort(404, description=f"no layer {layer_id!r}; known: {', '.join(blobs)}")
    return send_blob(blobs[layer_id])


def register_layers_api(
    server: flask.Flask, *, warm_styles: tuple[str, ...] = (WALL_STYLE,)
) -> None:
    """Mount :data:`api_layers` on ``server``; build the decks of ``warm_styles`` now.

    Parameters
    ----------
    server : flask.Flask
        The app's server; its config must hold the :class:`~dashboard.context.TwinContext`.
    warm_styles : tuple of str
        Map styles whose decks are built in a background thread right away (the wall
        screen's), so the first browser to connect finds them ready.
    """
    server.register_blueprint(api_layers)
    if warm_styles:
        from dashboard.context import CONFIG_KEY

        server.config[CONFIG_KEY].warm(warm_styles)
