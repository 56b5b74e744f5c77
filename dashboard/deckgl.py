"""deck.gl in the browser, offline: the bundle served from the installed pydeck, and deck JSON.

pydeck's wheel ships the deck.gl bundle (``pydeck/nbextension/static/index.js``, UMD). Loaded
by a plain ``<script>`` it defines the globals ``createDeck({container, jsonInput, tooltip})``
and ``updateDeck(jsonInput, deck)``. We serve that file from the installed package (never a
copy in the repo) and build ``jsonInput`` with ``map_provider=None``, so no tile, style or
script is fetched from the internet.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask
import pydeck as pdk

from layers.registry import build_layers
from layers.style import STYLES, css
from twin.registry import Registry

#: URL of the deck.gl bundle; its source map sits next to it, as the bundle's comment expects
DECKGL_ROUTE = "/vendor/deckgl/index.js"
_VENDOR_FILES = {"index.js", "index.js.map"}
#: browsers may keep the bundle a day: it changes only when pydeck is upgraded
BUNDLE_MAX_AGE_S = 86400

#: view used to fit the district: pitch (degrees) and a typical map size (CSS px)
DEFAULT_PITCH_DEG = 45.0
FIT_VIEWPORT_PX = (1280, 720)
#: zoom levels left as margin around the fitted bounds (the tilt shrinks the far edge)
FIT_MARGIN_ZOOM = 0.25
#: world size at zoom 0 in deck.gl's Web Mercator, px
TILE_PX = 512


def deckgl_bundle_dir() -> Path:
    """Folder of the deck.gl bundle inside the installed pydeck package."""
    return Path(pdk.__file__).resolve().parent / "nbextension" / "static"


def register_deckgl_route(server: flask.Flask) -> None:
    """Serve the bundle (and its source map) at :data:`DECKGL_ROUTE` on ``server``."""
    folder = deckgl_bundle_dir()
    if not (folder / "index.js").is_file():
        raise FileNotFoundError(f"pydeck's deck.gl bundle is missing: {folder / 'index.js'}")

    def deckgl_file(filename: str) -> flask.Response:
        if filename not in _VENDOR_FILES:
            flask.abort(404)
        mimetype = "text/javascript" if filename.endswith(".js") else "application/json"
        return flask.send_from_directory(
            folder, filename, mimetype=mimetype, max_age=BUNDLE_MAX_AGE_S
        )

    server.add_url_rule(DECKGL_ROUTE.rsplit("/", 1)[0] + "/<filename>", "deckgl_file", deckgl_file)


def fit_view(
    bounds: tuple[float, float, float, float],
    *,
    viewport_px: tuple[int, int] = FIT_VIEWPORT_PX,
    pitch: float = DEFAULT_PITCH_DEG,
) -> dict[str, float]:
    """A deck.gl view state that shows ``bounds`` (lon/lat degrees) in a viewport.

    deck.gl's Web Mercator zoom ``z`` shows ``512 · 2**z`` px per 360° of longitude; the
    latitude span is measured in Mercator units. A quarter zoom level of margin keeps the
    edges in view when the map is tilted. Below, 0.0217 Mercator degrees fill 1024 px at zoom
    log2(1024 · 360 / (512 · 0.0217)) = 15.02, less the margin:

    >>> v = fit_view((113.74, 23.01, 113.76, 23.03), viewport_px=(1024, 1024), pitch=0)
    >>> round(v["zoom"], 2), v["longitude"], v["latitude"]
    (14.77, 113.75, 23.02)
    """
    west, south, east, north = bounds
    width_px, height_px = viewport_px

    def merc_y(lat: float) -> float:
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    span_x = max(east - west, 1e-6)
    span_y = max(merc_y(north) - merc_y(south), 1e-6)
    zoom = min(
        math.log2(width_px * 360 / (TILE_PX * span_x)),
        math.log2(height_px * 360 / (TILE_PX * span_y)),
    )
    return {
        "longitude": round((west + east) / 2, 6),
        "latitude": round((south + north) / 2, 6),
        "zoom": round(zoom - FIT_MARGIN_ZOOM, 2),
        "pitch": pitch,
        "bearing": 0.0,
    }


def deck_json(layers: list[pdk.Layer], view: dict[str, float]) -> dict[str, Any]:
    """The ``jsonInput`` of ``createDeck``: layers and view, no base-map provider.

    Parameters
    ----------
    layers : list of pydeck.Layer
        Layers with explicit ids, bottom first.
    view : dict
        ``longitude``, ``latitude`` (degrees), ``zoom``, ``pitch``, ``bearing`` (degrees).
    """
    # pydeck's serializer is pure-Python and indents: keep the (large) layer data out of it
    # and put the already JSON-ready data back afterwards.
    data = {layer.id: layer.data for layer in layers}
    light = []
    for layer in layers:
        stub = copy.copy(layer)
        stub.data = []
        light.append(stub)
    deck = pdk.Deck(
        layers=light,
        initial_view_state=pdk.ViewState(**view, max_pitch=75),
        map_provider=None,
        map_style=None,
    )
    out = json.loads(deck.to_json())
    for entry in out["layers"]:
        entry["data"] = data[entry["id"]]
    return out


def district_deck(registry: Registry, *, style: str = "plain") -> dict[str, Any]:
    """The whole district on a map: base map, grid outlines and 3-D buildings.

    Returns
    -------
    dict
        ``{"deck": jsonInput, "background": css colour of the map, "style": style}`` — what
        the page's ``dcc.Store`` carries to the browser.
    """
    bounds = tuple(float(v) for v in registry.buildings.total_bounds)
    if not all(math.isfinite(v) for v in bounds):
        bounds = tuple(float(v) for v in registry.grids.total_bounds)
    layers = build_layers(registry.layers, style=style)
    return {
        "deck": deck_json(layers, fit_view(bounds)),
        "background": css(STYLES[style].background),
        "style": style,
    }


#: gzip level of cached JSON: level 5 is ~3× smaller than raw at a fraction of level 9's time
GZIP_LEVEL = 5


@dataclass(frozen=True)
class JSONBlob:
    """A JSON document serialised once: raw and gzip bytes and a strong ETag (content hash)."""

    body: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def of(cls, obj: Any) -> JSONBlob:
        """Serialise ``obj`` compactly (no spaces, UTF-8) and hash it."""
        body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        return cls(body=body, gzipped=gzip.compress(body, GZIP_LEVEL, mtime=0), etag=digest)


@dataclass(frozen=True)
class SerialisedDeck:
    """A :func:`district_deck` payload ready to serve: the whole deck and each layer's data.

    Attributes
    ----------
    deck : JSONBlob
        ``{"deck": jsonInput, "background", "style"}`` with every layer's data inline.
    layers : dict of str → JSONBlob
        Each layer's ``data`` alone, by layer id.
    """

    deck: JSONBlob
    layers: dict[str, JSONBlob] = field(default_factory=dict)


def serialise_deck(payload: dict[str, Any]) -> SerialisedDeck:
    """Serialise a :func:`district_deck` payload (once per style; the server caches it)."""
    layers = {entry["id"]: JSONBlob.of(entry["data"]) for entry in payload["deck"]["layers"]}
    return SerialisedDeck(deck=JSONBlob.of(payload), layers=layers)
