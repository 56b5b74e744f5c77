"""The district map page (``/``): 3-D buildings on the twin's own base map, layers, legend, zh/en.

The deck.gl payload (:func:`dashboard.api_layers.current_map_deck`: the district deck plus
the hazard and operations overlays of :data:`layers.registry.LAYERS`) travels in
``dcc.Store("st-deck")``; the clientside function ``streettwin.renderDeck``
(``assets/streettwin_map.js``) mounts the deck once the layout exists and updates it whenever
the store changes. The layer switcher is a checklist over :data:`LAYERS`; the clientside
``streettwin.setLayers`` (``assets/streettwin_layers.js``) shows and hides layers in the
browser and fetches live overlay values, so switching never re-sends geometry. Server
callbacks are thin: they map the style, language and layer switches to data built by
:mod:`layers` and cached on the app.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from dashboard.api_layers import current_map_deck
from dashboard.context import current_context
from layers.registry import LAYERS
from layers.style import PLAIN, RGB, STYLES, css

dash.register_page(__name__, path="/", name="Map", title="StreetTwin 街道数字孪生", order=0)

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
DEFAULT_STYLE = "plain"

#: every text on the page, by language
TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "StreetTwin 街道数字孪生",
        "subtitle": "{district} · {buildings} 栋建筑 · {grids} 个网格 · {sensors} 个传感器",
        "style": "地图样式",
        "plain": "浅色",
        "dark": "深色",
        "terrain": "地形",
        "layers": "图层",
        "legend": "图例",
        "basemap": "底图",
        "water": "河流水体",
        "road": "道路",
        "grid": "网格边界",
        "hint": "拖动平移 · 右键拖动旋转倾斜 · 滚轮缩放",
    },
    "en": {
        "title": "StreetTwin street digital twin",
        "subtitle": "{district} · {buildings} buildings · {grids} grids · {sensors} sensors",
        "style": "Map style",
        "plain": "Plain",
        "dark": "Dark",
        "terrain": "Terrain",
        "layers": "Layers",
        "legend": "Legend",
        "basemap": "Base map",
        "water": "River & water",
        "road": "Road",
        "grid": "Grid boundary",
        "hint": "Drag to pan · right-drag to rotate and tilt · wheel to zoom",
    },
}


def layout(lang: str = DEFAULT_LANG, **_query: Any) -> html.Div:
    """The page in ``lang`` (``?lang=en``; the switch changes it in place); built per request
    from the app's twin (``current_context``)."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    return html.Div(
        id="st-root",
        className="st-page st-style-plain",
        children=[
            html.Header(
                className="st-header",
                children=[
                    html.Div(
                        [
                            html.H1("StreetTwin 街道数字孪生", id="st-title"),
                            html.Div(subtitle(lang), id="st-subtitle"),
                        ]
                    ),
                    html.Div(
                        className="st-controls",
                        children=[
                            dcc.RadioItems(
                                id="st-lang",
                                options=[
                                    {"label": "中文", "value": "zh"},
                                    {"label": "EN", "value": "en"},
                                ],
                                value=lang,
                                inline=True,
                                className="st-switch",
                            ),
                            html.Span(TEXT[DEFAULT_LANG]["style"], id="st-style-label"),
                            dcc.RadioItems(
                                id="st-style",
                                options=style_options(DEFAULT_LANG),
                                value=DEFAULT_STYLE,
                                inline=True,
                                className="st-switch",
                            ),
                        ],
                    ),
                ],
            ),
            html.Main(
                className="st-map-wrap",
                children=[
                    html.Div(
                        id="st-map",
                        className="st-map",
                        role="img",
                        **{"aria-label": "3-D map of the district / 街道三维地图"},
                    ),
                    # folded by default: an open list would hide a corner of the district
                    html.Details(
                        [
                            html.Summary(TEXT[DEFAULT_LANG]["layers"], id="st-layers-title"),
                            dcc.Checklist(
                                id="st-layers",
                                options=layer_options(DEFAULT_LANG),
                                value=DEFAULT_LAYERS,
                                className="st-layer-list",
                            ),
                        ],
                        id="st-layer-panel",
                        className="st-layer-panel",
                        open=False,
                    ),
                    html.Aside(
                        legend(DEFAULT_LANG, DEFAULT_STYLE, DEFAULT_LAYERS),
                        id="st-legend",
                        className="st-legend",
                    ),
                    html.Div(id="st-layers-status", hidden=True),
                    html.Div(TEXT[DEFAULT_LANG]["hint"], id="st-hint", className="st-hint"),
                    html.Div(id="st-map-status", className="st-map-status", hidden=True),
                ],
            ),
            dcc.Store(id="st-deck", data=current_map_deck(DEFAULT_STYLE)),
        ],
    )


def subtitle(lang: str) -> str:
    """The district line under the title, in ``lang``."""
    registry = current_context().registry
    meta = registry.meta
    name = meta.get("name_zh" if lang == "zh" else "name_en") or meta.get("name_en", "")
    return TEXT[lang]["subtitle"].format(
        district=name,
        buildings=len(registry.buildings),
        grids=len(registry.grids),
        sensors=len(registry.sensors),
    )


def style_options(lang: str) -> list[dict[str, str]]:
    """Options of the map-style switch, labelled in ``lang``."""
    return [{"label": TEXT[lang][name], "value": name} for name in STYLES]


#: layers in the switcher: all but those that belong to one map style (the hillshade)
SWITCHABLE: list[str] = [i for i, spec in LAYERS.items() if spec.styles is None]
#: layers switched on when the page opens
DEFAULT_LAYERS: list[str] = [i for i in SWITCHABLE if LAYERS[i].visible]


def layer_options(lang: str) -> list[dict[str, str]]:
    """Options of the layer switcher, one per switchable row of :data:`LAYERS`, in ``lang``."""
    return [
        {"label": LAYERS[i].name_zh if lang == "zh" else LAYERS[i].name_en, "value": i}
        for i in SWITCHABLE
    ]


def legend(lang: str, style: str, shown: list[str] | None = None) -> list[Any]:
    """Legend rows of the layers ``shown`` (default: those on at start), then the base map."""
    map_style = STYLES.get(style, PLAIN)
    text = TEXT[lang]
    shown_ids = set(DEFAULT_LAYERS if shown is None else shown)
    rows: list[Any] = [html.H2(text["legend"])]
    for spec in LAYERS.values():
        if spec.legend is None or spec.id not in shown_ids:
            continue
        rows.append(html.H3(spec.name_zh if lang == "zh" else spec.name_en))
        rows.extend(_swatch(label, rgb) for label, rgb in spec.legend(lang))
    rows.append(html.H3(text["basemap"]))
    rows.append(_swatch(text["water"], map_style.landuse.get("water", map_style.landuse_default)))
    rows.append(_swatch(text["road"], map_style.roads.get("arterial", map_style.road_default)))
    rows.append(_swatch(text["grid"], map_style.grid_line, outline=True))
    return rows


def _swatch(label: str, rgb: RGB, *, outline: bool = False) -> html.Div:
    colour = css(rgb[:3])
    box_style = {"borderColor": colour} if outline else {"background": colour}
    return html.Div(
        [
            html.Span(className="st-swatch" + (" st-outline" if outline else ""), style=box_style),
            label,
        ],
        className="st-legend-row",
    )


@callback(
    Output("st-deck", "data"),
    Output("st-root", "className"),
    Input("st-style", "value"),
    prevent_initial_call=True,
)
def on_style(style: str) -> tuple[dict[str, Any], str]:
    """Map style switched: the cached deck of that style and the page's style class."""
    style = style if style in STYLES else DEFAULT_STYLE
    return current_map_deck(style), f"st-page st-style-{style}"


@callback(
    Output("st-title", "children"),
    Output("st-subtitle", "children"),
    Output("st-style-label", "children"),
    Output("st-style", "options"),
    Output("st-legend", "children"),
    Output("st-hint", "children"),
    Output("st-layers-title", "children"),
    Output("st-layers", "options"),
    Input("st-lang", "value"),
    Input("st-style", "value"),
    Input("st-layers", "value"),
    prevent_initial_call=True,
)
def on_lang(lang: str, style: str, shown: list[str] | None) -> tuple[Any, ...]:
    """Language, style or layers switched: every text of the page in that language."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    text = TEXT[lang]
    return (
        text["title"],
        subtitle(lang),
        text["style"],
        style_options(lang),
        legend(lang, style, shown or []),
        text["hint"],
        text["layers"],
        layer_options(lang),
    )


clientside_callback(
    ClientsideFunction(namespace="streettwin", function_name="renderDeck"),
    Output("st-map-status", "children"),
    Input("st-deck", "data"),
    Input("st-lang", "value"),
    State("st-map", "id"),
)


clientside_callback(
    ClientsideFunction(namespace="streettwin", function_name="setLayers"),
    Output("st-layers-status", "children"),
    Input("st-layers", "value"),
    State("st-layers", "options"),
    State("st-map", "id"),
)
