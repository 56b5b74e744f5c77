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
``GET /api/layers/live.json?layers=flood-depth,tickets``
    Current values of the model-driven layers (:func:`live_values`), never geometry. A layer
    whose model is not running here is present and empty.

The map page's deck (:func:`map_deck`) is the district deck plus the on-demand overlays of
:data:`layers.registry.LAYERS` (hidden until switched on) and, in the terrain style, the
hillshade; it is built once per style and kept on the app.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import flask
import numpy as np

from dashboard.context import TwinContext, current_context
from dashboard.deckgl import JSONBlob, deck_json
from layers.crowd import crowd_places, crowd_values
from layers.dispatch import crew_points, road_node_positions, ticket_points
from layers.fire import fire_values
from layers.flood import flood_depth_values
from layers.gridstate import grid_state_values
from layers.networks import fault_values
from layers.registry import LAYERS, build_layers
from layers.style import STYLES

log = logging.getLogger(__name__)

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


# --- the map page's deck: district deck + on-demand overlays ---------------------------------
#: where the map decks are cached on the app (``server.extensions``)
MAP_DECKS_KEY = "streettwin_map_decks"
_MAP_LOCK = threading.Lock()


def map_deck(ctx: TwinContext, style: str, cache: dict | None = None) -> dict[str, Any]:
    """The map page's deck payload of ``style``: the context's district deck with the layers it
    leaves out (on-demand overlays, the terrain hillshade) merged in draw order.

    Layers whose row in :data:`layers.registry.LAYERS` says ``visible=False`` are marked
    ``"visible": false``: the layer switcher turns them on in the browser.

    Returns
    -------
    dict
        ``{"deck", "background", "style"}`` like :meth:`TwinContext.deck`, plus ``"live"``:
        ids of the layers whose values :func:`live_values` serves.
    """
    if cache is not None and style in cache:
        return cache[style]
    base = ctx.deck(style)
    have = {entry["id"] for entry in base["deck"]["layers"]}
    registry = ctx.registry
    sources = {**registry.layers, "dem": registry.dem}
    extra_ids = [i for i in LAYERS if i not in have]
    extra = build_layers(sources, style=style, only=extra_ids)
    view = base["deck"].get("initialViewState", {})
    extra_json = {e["id"]: e for e in deck_json(extra, dict(view))["layers"]} if extra else {}
    by_id = {e["id"]: e for e in base["deck"]["layers"]} | extra_json
    merged = []
    for layer_id, spec in LAYERS.items():
        if layer_id not in by_id:
            continue
        entry = dict(by_id[layer_id])
        if not spec.visible:
            entry["visible"] = False
        merged.append(entry)
    payload = {
        **base,
        "deck": {**base["deck"], "layers": merged},
        "live": [e["id"] for e in merged if LAYERS[e["id"]].live],
    }
    if cache is not None:
        cache[style] = payload
    return payload


def current_map_deck(style: str) -> dict[str, Any]:
    """:func:`map_deck` of the app serving this request, cached on the app."""
    app = flask.current_app
    with _MAP_LOCK:
        cache = app.extensions.setdefault(MAP_DECKS_KEY, {})
        return map_deck(current_context(), style, cache)


# --- live values of model-driven layers ------------------------------------------------------
def _nowcaster(runtime: Any) -> Any:
    """The warning service's nowcaster if it exists yet (never built from here: building it
    takes seconds and belongs to the service's own thread)."""
    service = getattr(runtime, "warnings", None)
    return None if service is None else getattr(service, "current_nowcaster", None)


def flood_depth_of(nowcaster: Any) -> Any:
    """The nowcast's current water depth as a DataArray on its grid (m), or None."""
    flood = getattr(nowcaster, "flood", None)
    model = getattr(flood, "model", None)
    if model is None:
        return None
    depth = np.array(model.depth, dtype=float) * float(getattr(flood, "depth_scale", 1.0))
    return flood.grid.copy(data=depth)


def fire_arrival_of(nowcaster: Any, now: float) -> tuple[list[str], np.ndarray]:
    """Building ids and fire arrival times from ``now`` (s; NaN = not reached) of the nowcast."""
    fire = getattr(nowcaster, "_fire", None)
    t0 = getattr(nowcaster, "_fire_t0", None)
    if fire is None or t0 is None:
        return [], np.zeros(0)
    arrival = np.array(fire.arrival_time_s, dtype=float) - (now - float(t0))
    return [str(b) for b in fire.ids], arrival


def _open_faults(nowcaster: Any) -> list[dict[str, Any]]:
    latest = getattr(nowcaster, "latest", {}) or {}
    if "utility" in latest:
        return list(latest["utility"].get("open", []))
    detector = getattr(nowcaster, "utility_detector", None)
    return list(getattr(detector, "open", {}).values()) if detector is not None else []


def _dispatch_records(registry: Any) -> tuple[list[dict], list[dict]]:
    """Open tickets and crews this caller may see (empty without dispatch or permission)."""
    from dashboard.api_dispatch import EXTENSION_KEY

    svc = flask.current_app.extensions.get(EXTENSION_KEY)
    if svc is None:
        return [], []
    from sqlalchemy import select

    from dashboard import auth
    from twin.events.lifecycle import OPEN_STATES
    from twin.events.models import Crew, Ticket
    from twin.events.roles import SCOPES, can

    stmt = select(Ticket).where(Ticket.state.in_(sorted(OPEN_STATES)))
    if auth.EXTENSION_KEY in flask.current_app.extensions:
        principal, _ = auth.current_principal()
        if principal is None or not can(principal.user.role, "ticket.read"):
            return [], []  # tickets are for dispatch roles: an anonymous map shows none
        if SCOPES.get(principal.user.role) == "own_crew":
            stmt = stmt.where(Ticket.crew_id == principal.actor.crew_id)
        elif principal.user.grid_codes:
            stmt = stmt.where(Ticket.grid_code.in_(list(principal.user.grid_codes)))
    cols = ("ref", "level", "state", "type", "lon", "lat", "node")
    with svc.store.sessions() as s:
        tickets = [{c: getattr(t, c) for c in cols} for t in s.scalars(stmt)]
        crews = [
            {c: getattr(k, c) for c in ("id", "name", "state", "lon", "lat", "node")}
            for k in s.scalars(select(Crew))
        ]
    nodes = road_node_positions(registry.roads)
    return ticket_points(tickets, nodes), crew_points(crews, nodes)


def live_values(ctx: TwinContext, layer_ids: list[str] | None = None) -> dict[str, Any]:
    """Current values of the model-driven layers, as the map's browser code applies them.

    Each entry has ``mode`` (:data:`layers.registry.LIVE_MODES`) and:

    * ``bitmap``: ``image`` (PNG data URL), ``bounds``;
    * ``colour``: ``key`` (feature property or record field naming the id), ``accessor``
      (the deck.gl colour prop), ``width`` (items carry a line width ``w`` too) and ``items``
      ``{id: {"c": RGBA, ...}}``; features not named keep their built colour;
    * ``subset``: ``source`` (layer whose features to draw), ``key`` and ``items``;
    * ``records``: ``data``, the layer's records.

    Without a runtime, a warning service, a nowcast result or a dispatch store, the layers
    concerned are empty — never an error.
    """
    wanted = [i for i in (layer_ids or LAYERS) if i in LAYERS and LAYERS[i].live]
    runtime = ctx.runtime
    nc = _nowcaster(runtime)
    service = getattr(runtime, "warnings", None)
    now = float(service.clock()) if service is not None else time.time()
    registry = ctx.registry
    out: dict[str, Any] = {}
    for layer_id in wanted:
        try:
            out[layer_id] = _one_layer(layer_id, registry, nc, service, now)
        except Exception:  # a model mid-update must not break the map: show it empty
            log.exception("live values of layer %s failed", layer_id)
            out[layer_id] = _one_layer(layer_id, registry, None, None, now)
    return {"at": now, "layers": out}


def _one_layer(layer_id: str, registry: Any, nc: Any, service: Any, now: float) -> dict:
    latest = getattr(nc, "latest", {}) or {}
    if layer_id == "flood-depth":
        values = flood_depth_values(flood_depth_of(nc) if nc is not None else None)
        return {"mode": "bitmap", **values}
    if layer_id == "fire-arrival":
        ids, arrival = fire_arrival_of(nc, now) if nc is not None else ([], [])
        return {"mode": "subset", "source": "buildings", "key": "building_id",
                "items": fire_values(ids, arrival)}  # fmt: skip
    if layer_id == "crowd-density":
        density = latest.get("crowd", {}).get("density")
        places = crowd_places(registry.facilities, registry.sensors)
        return {"mode": "colour", "key": "id", "accessor": "getFillColor",
                "items": crowd_values(places, density)}  # fmt: skip
    if layer_id == "networks":
        faults = _open_faults(nc) if nc is not None else []
        return {"mode": "colour", "key": "id", "accessor": "getLineColor", "width": True,
                "items": fault_values(faults)}  # fmt: skip
    if layer_id == "grid-state":
        active = service.store.active() if service is not None else []
        street = [str(registry.meta.get("street_id", "street"))]
        items = grid_state_values(registry.grids, active, street)
        return {"mode": "colour", "key": "grid_id", "accessor": "getFillColor", "items": items}
    if layer_id in ("tickets", "crews"):
        tickets, crews = _dispatch_records(registry)
        return {"mode": "records", "data": tickets if layer_id == "tickets" else crews}
    raise KeyError(layer_id)


@api_layers.get("/live.json")
def live() -> flask.Response:
    """Live values of model-driven layers (``?layers=a,b``; default all); never cached."""
    ids = [i for i in flask.request.args.get("layers", "").split(",") if i] or None
    body = live_values(current_context(), ids)
    return flask.Response(
        JSONBlob.of(body).body,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )
