"""The wall screen (``/ops``): dark live map, KPI tiles, warnings ticker, alerts, clock, replay.

Laid out for 1920×1080 and 3840×2160 (sizes in ``vw``/``clamp`` so text stays readable from
5 m on both). The map's geometry does not travel through Dash: the page names
``/api/layers/deck.json`` (:mod:`dashboard.api_layers`, cached with an ETag) and the browser
fetches it — already while Dash builds the page — straight into deck.gl. Everything that
changes is driven in the browser by ``assets/streettwin_ops.js`` from ``/ws/live`` and
``/api/live/...``: the page needs no clicks to stay current, and says so loudly when it is *not*
current (connection state, data age, a stale banner).

Query parameters: ``?lang=en`` (default Chinese), ``?kiosk=1`` (hide the controls; run
``chromium --kiosk --autoplay-policy=no-user-gesture-required http://HOST:8050/ops?kiosk=1``
for a wall with sound and no browser chrome), ``?large=1`` (large text).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from dashboard.api_layers import WALL_STYLE, deck_url
from dashboard.context import current_context
from dashboard.i18n import DEFAULT_LANG, LANGS, browser_table, t
from layers.style import SENSOR_STATE_STYLE, SENSOR_STATES, WARNING_LEVELS, WARNING_NAMES, css

dash.register_page(__name__, path="/ops", name="Operations", title="StreetTwin 指挥大屏", order=1)

DECK_STYLE = WALL_STYLE
#: minutes the time slider reaches back (bounded by the in-memory history ring)
REPLAY_MINUTES = 30


def _i18n(tag: Any, key: str, lang: str, **kw: Any) -> Any:
    """An element whose text the browser rewrites on a language switch."""
    return tag(t(key, lang), **{"data-i18n": key}, **kw)


def kpi_tile(key: str, lang: str, tile_id: str, *, extra_class: str = "") -> html.Div:
    """One KPI tile: big number (``—`` until known) and its label."""
    return html.Div(
        className=f"ops-kpi {extra_class}".strip(),
        id=f"ops-kpi-{tile_id}",
        children=[
            html.Div("—", className="ops-kpi-value", id=f"ops-kpi-{tile_id}-value"),
            _i18n(html.Div, key, lang, className="ops-kpi-label"),
            html.Div("", className="ops-kpi-note", id=f"ops-kpi-{tile_id}-note"),
        ],
    )


def warning_tiles(lang: str) -> html.Div:
    """Active warnings by level: colour AND text (蓝/黄/橙/红色预警) on every tile."""
    col = 0 if lang == "zh" else 1
    return html.Div(
        className="ops-kpi ops-kpi-warnings",
        id="ops-kpi-warnings",
        children=[
            _i18n(html.Div, "kpi_warnings", lang, className="ops-kpi-label"),
            html.Div(
                className="ops-levels",
                children=[
                    html.Div(
                        className=f"ops-level ops-level-{lvl}",
                        children=[
                            html.Span("0", id=f"ops-warn-{lvl}", className="ops-level-count"),
                            html.Span(
                                WARNING_NAMES[lvl][col],
                                className="ops-level-name",
                                **{"data-level": lvl},
                            ),
                        ],
                    )
                    for lvl in reversed(WARNING_LEVELS)
                ],
            ),
        ],
    )


def legend(lang: str) -> html.Aside:
    """Sensor states and warning levels, both as colour and text."""
    col = 1 if lang == "zh" else 2
    rows: list[Any] = [_i18n(html.H2, "legend_sensors", lang)]
    for s in SENSOR_STATES:
        colour, *_ = SENSOR_STATE_STYLE[s]
        rows.append(
            html.Div(
                [
                    html.Span(className="ops-swatch", style={"background": css(colour)}),
                    html.Span(SENSOR_STATE_STYLE[s][col], **{"data-state": s}),
                ],
                className="ops-legend-row",
            )
        )
    rows.append(_i18n(html.H2, "legend_warnings", lang))
    for lvl in WARNING_LEVELS:
        rows.append(
            html.Div(
                [
                    html.Span(className=f"ops-swatch ops-ring ops-ring-{lvl}"),
                    html.Span(WARNING_NAMES[lvl][col - 1], **{"data-level": lvl}),
                ],
                className="ops-legend-row",
            )
        )
    return html.Aside(rows, id="ops-legend", className="ops-legend")


def layout(lang: str = DEFAULT_LANG, kiosk: str = "0", large: str = "0", **_: Any) -> html.Div:
    """The wall screen; built per request from the app's twin."""
    ctx = current_context()
    lang = lang if lang in LANGS else DEFAULT_LANG
    meta = ctx.registry.meta
    district = {"zh": meta.get("name_zh") or "", "en": meta.get("name_en") or ""}
    classes = ["ops-page"]
    if kiosk in ("1", "true"):
        classes.append("ops-kiosk")
    if large in ("1", "true"):
        classes.append("ops-large")
    config = {
        "lang": lang,
        "district": district,
        "live": ctx.runtime is not None,
        "replay_minutes": REPLAY_MINUTES,
        "deck_url": deck_url(DECK_STYLE),
        **browser_table(),
    }
    return html.Div(
        id="ops-root",
        className=" ".join(classes),
        lang="zh-CN" if lang == "zh" else "en",
        children=[
            html.Header(
                className="ops-top",
                children=[
                    html.Div(
                        className="ops-title-block",
                        children=[
                            html.H1(
                                [
                                    html.Span(district[lang], id="ops-district"),
                                    " · ",
                                    _i18n(html.Span, "ops_title", lang),
                                ],
                                id="ops-title",
                            ),
                        ],
                    ),
                    html.Div(
                        className="ops-status",
                        children=[
                            html.Div("--:--:--", id="ops-clock", className="ops-clock"),
                            html.Div(
                                [
                                    html.Span(className="ops-dot"),
                                    _i18n(html.Span, "conn_connecting", lang, id="ops-conn-text"),
                                ],
                                id="ops-conn",
                                className="ops-conn ops-conn-connecting",
                                role="status",
                                **{"aria-live": "polite"},
                            ),
                            html.Div(
                                [
                                    _i18n(html.Span, "fresh_label", lang),
                                    " ",
                                    html.Span("—", id="ops-fresh-value"),
                                ],
                                id="ops-fresh",
                                className="ops-fresh",
                            ),
                        ],
                    ),
                    html.Nav(
                        className="ops-controls",
                        children=[
                            html.Button(t("lang_switch", lang), id="ops-lang-btn", type="button"),
                            _i18n(
                                html.Button, "large_text", lang, id="ops-large-btn", type="button"
                            ),
                            _i18n(html.Button, "mute", lang, id="ops-mute-btn", type="button"),
                            html.A(t("login", lang), href="/login", **{"data-i18n": "login"}),
                        ],
                    ),
                ],
            ),
            html.Div(
                id="ops-stale-banner", className="ops-stale-banner", hidden=True, role="alert"
            ),
            html.Div(
                id="ops-alert",
                className="ops-alert",
                hidden=True,
                role="alert",
                children=[
                    html.Span(id="ops-alert-text", className="ops-alert-text"),
                    _i18n(html.Button, "ack", lang, id="ops-ack-btn", type="button"),
                    _i18n(html.Button, "mute", lang, id="ops-alert-mute-btn", type="button"),
                ],
            ),
            html.Main(
                className="ops-main",
                children=[
                    html.Section(
                        className="ops-kpis",
                        children=[
                            warning_tiles(lang),
                            kpi_tile("kpi_sensors_live", lang, "live", extra_class="ops-ok"),
                            kpi_tile("kpi_sensors_stale", lang, "stale", extra_class="ops-stale"),
                            kpi_tile("kpi_sensors_alarm", lang, "alarm", extra_class="ops-alarm"),
                            kpi_tile("kpi_tickets_open", lang, "tickets", extra_class="ops-nw"),
                            kpi_tile("kpi_tickets_overdue", lang, "overdue", extra_class="ops-nw"),
                            kpi_tile("kpi_people_warned", lang, "people", extra_class="ops-nw"),
                        ],
                    ),
                    html.Div(
                        className="ops-map-wrap",
                        children=[
                            html.Div(
                                id="ops-map",
                                className="ops-map",
                                role="img",
                                **{"aria-label": "live map / 实时地图"},
                            ),
                            legend(lang),
                            html.Div(
                                id="ops-replay-badge", className="ops-replay-badge", hidden=True
                            ),
                            html.Div(id="ops-card", className="ops-card", hidden=True),
                            html.Div(id="ops-map-status", hidden=True),
                        ],
                    ),
                ],
            ),
            html.Footer(
                className="ops-bottom",
                children=[
                    html.Div(
                        className="ops-ticker",
                        children=[
                            _i18n(html.Span, "ticker_label", lang, className="ops-ticker-label"),
                            html.Div(
                                html.Span(t("ticker_none", lang), id="ops-ticker-text"),
                                className="ops-ticker-track",
                                id="ops-ticker",
                                **{"aria-live": "polite"},
                            ),
                        ],
                    ),
                    html.Div(
                        className="ops-replay",
                        children=[
                            html.Label(
                                t("slider_label", lang, n=REPLAY_MINUTES),
                                htmlFor="ops-slider",
                                id="ops-slider-label",
                            ),
                            dcc.Input(
                                id="ops-slider",
                                type="range",
                                min=-REPLAY_MINUTES,
                                max=0,
                                step=1,
                                value=0,
                                className="ops-slider",
                                style={"width": "18vw"},
                            ),
                            _i18n(
                                html.Button, "live_button", lang, id="ops-live-btn", type="button"
                            ),
                        ],
                    ),
                ],
            ),
            dcc.Store(id="ops-config", data=config),
        ],
    )


clientside_callback(
    ClientsideFunction(namespace="streettwin", function_name="renderOps"),
    Output("ops-map-status", "children"),
    Input("ops-config", "data"),
    State("ops-map", "id"),
)
