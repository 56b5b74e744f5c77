"""The trends page (``/trends``): leaders' figures over weeks, by type, grid and community.

Read only for every role. The figures come from :func:`twin.events.kpi.kpi_figures` (the
rollup kept exact with every ticket change); sensor uptime from the live state (share of each
grid's sensors with a good, recent reading). Each chart exports PNG through plotly's own
"download plot" button (no kaleido, works offline) and CSV through ``dcc.Download``.
Inspections done vs due come from the scheduled inspection tickets
(:func:`twin.events.kpi.inspection_figures`), by the week each round fell due.
"""

from __future__ import annotations

import time
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboard.i18n_pages import TYPE_NAMES, tr
from dashboard.pages._access import denied, lang_of, may_open, page_principal, ticket_store

dash.register_page(__name__, path="/trends", name="Trends", title="StreetTwin 趋势", order=5)

PATH = "/trends"
POLL_MS = 10_000
PERIODS = (4, 12, 52)
CHARTS = ("week", "rate", "times", "community", "uptime", "inspections")
TIME_COLUMNS = (
    ("mean_time_to_dispatch_s", "t_dispatch"),
    ("mean_time_to_accept_s", "t_accept"),
    ("mean_time_to_arrive_s", "t_arrive"),
    ("mean_time_to_close_s", "t_close"),
)


#: the figures of one group, in the order the tables and CSV files show them
FIGURE_COLUMNS = ("found", "handled", "handling_rate", *(c for c, _ in TIME_COLUMNS))
#: columns of the inspections table (and its CSV)
INSPECTION_COLUMNS = ("week", "due", "done", "done_rate")
#: the inspections chart's words (zh, en)
INSPECTION_TEXT = {
    "title": ("巡查：完成与应查", "Inspections done vs due"),
    "due": ("应查", "Due"),
    "done": ("完成", "Done"),
    "rate": ("完成率 (%)", "Done (%)"),
}


def layout(lang: str = "zh", **_: Any) -> html.Div:
    """Filters, six charts with PNG/CSV export and the grid league table."""
    lang = lang_of(lang)
    principal = page_principal()
    if not may_open(principal, PATH):
        return denied(PATH, lang)
    from dashboard.context import current_context

    grids = current_context().registry.grids
    place_options = [{"label": tr("all", lang), "value": ""}] + [
        {"label": f"{g.name_zh if lang == 'zh' else g.name_en} ({g.grid_id})", "value": g.grid_id}
        for g in grids.itertuples()
    ]
    charts = []
    for name in CHARTS:
        charts.append(
            html.Div(
                className="st-chart",
                children=[
                    dcc.Graph(
                        id=f"st-tr-{name}",
                        config={
                            "displaylogo": False,
                            "toImageButtonOptions": {"format": "png", "filename": f"trends_{name}"},
                        },
                    ),
                    html.Button(
                        tr("csv", lang),
                        id={"type": "st-tr-csv", "chart": name},
                        className="st-btn",
                        n_clicks=0,
                    ),
                ],
            )
        )
    return html.Div(
        className="st-wp st-trends",
        lang="zh-CN" if lang == "zh" else "en",
        children=[
            html.Header(
                [
                    html.H1(tr("trends_title", lang)),
                    html.Span(principal.user.username, className="st-who"),
                ],
                className="st-wp-head",
            ),
            html.Div(
                className="st-filters",
                children=[
                    html.Div(
                        [
                            html.Label(tr("period", lang)),
                            dcc.Dropdown(
                                id="st-tr-period",
                                options=[{"label": str(n), "value": n} for n in PERIODS],
                                value=12,
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.Label(tr("place", lang)),
                            dcc.Dropdown(
                                id="st-tr-place", options=place_options, value="", clearable=False
                            ),
                        ]
                    ),
                ],
            ),
            html.Div(id="st-tr-note", className="st-na"),
            html.Div(charts, className="st-charts"),
            html.H2(tr("league", lang)),
            html.Div(id="st-tr-league"),
            dcc.Download(id="st-tr-download"),
            dcc.Store(id="st-tr-lang", data=lang),
            dcc.Interval(id="st-tr-poll", interval=POLL_MS),
        ],
    )


# -- data (plain functions) -------------------------------------------------------------------
def week_floor(now: float, weeks: int) -> int:
    """The yyyyww ISO week ``weeks - 1`` weeks before the week of ``now``.

    >>> week_floor(1_795_420_800.0, 1)  # 2026-11-23, a Monday in ISO week 48
    202648
    """
    from twin.events.lifecycle import iso_week

    return iso_week(now - (weeks - 1) * 7 * 86_400)


def kpi_frame(engine: Any, by: tuple[str, ...], from_week: int, place: str = "") -> pd.DataFrame:
    """KPI rows as a table (one column per group key and figure); ``place`` filters a grid."""
    from twin.events.kpi import kpi_figures

    keys = tuple(dict.fromkeys(by + (("grid",) if place else ())))
    rows = kpi_figures(engine, keys, from_week=from_week)
    recs = [{**r.key, **{k: v for k, v in r.__dict__.items() if k != "key"}} for r in rows]
    df = pd.DataFrame.from_records(recs, columns=[*keys, *FIGURE_COLUMNS])
    if place:
        df = df[df["grid"] == place]
    if "grid" in keys and "grid" not in by:
        df = df.drop(columns="grid")
    if len(by) and len(df):
        sums = df.groupby(list(by), as_index=False, dropna=False).agg(
            {"found": "sum", "handled": "sum", **{c: "mean" for c, _ in TIME_COLUMNS}}
        )
        sums["handling_rate"] = sums["handled"] / sums["found"]
        df = sums[[*by, *FIGURE_COLUMNS]]
    return df.reset_index(drop=True)


def inspection_frame(engine: Any, from_week: int, place: str = "") -> pd.DataFrame:
    """Inspection rounds due and done per week (the week each fell due); ``place``: a grid."""
    from twin.events.kpi import inspection_figures

    rows = inspection_figures(engine, ("week",), from_week=from_week, grid=place or None)
    recs = [{"week": r.key["week"], "due": r.due, "done": r.done, "done_rate": r.done_rate}
            for r in rows]  # fmt: skip
    return pd.DataFrame.from_records(recs, columns=list(INSPECTION_COLUMNS))


def uptime_frame(runtime: Any, registry: Any) -> pd.DataFrame:
    """Per grid: sensors, how many read GOOD now, and the share [0-1]."""
    from twin.state import Quality

    if runtime is None or not len(registry.sensors):
        return pd.DataFrame(columns=["grid", "sensors", "good", "uptime"])
    good = runtime.state.quality == Quality.GOOD
    grids = registry.sensors["grid_id"].to_numpy() if "grid_id" in registry.sensors else None
    if grids is None or len(grids) != len(good):
        grids = ["all"] * len(good)
    df = pd.DataFrame({"grid": grids, "good": good.astype(int)})
    out = df.groupby("grid", as_index=False).agg(sensors=("good", "size"), good=("good", "sum"))
    out["uptime"] = out["good"] / out["sensors"]
    return out


def league_table(by_grid: pd.DataFrame) -> pd.DataFrame:
    """Grids ranked: handling rate (high first), then mean time to close (short first)."""
    if by_grid.empty:
        return by_grid
    df = by_grid.sort_values(
        ["handling_rate", "mean_time_to_close_s", "grid"],
        ascending=[False, True, True],
        na_position="last",
    ).reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    return df


def _minutes(s: Any) -> Any:
    return None if s is None or pd.isna(s) else round(float(s) / 60.0, 1)


def build_figures(data: dict[str, pd.DataFrame], lang: str) -> dict[str, go.Figure]:
    """The six charts from the tables of :func:`trend_data`."""
    from twin.events.kpi import week_label

    figs: dict[str, go.Figure] = {}
    week = data["week"]
    x = [week_label(int(w)) for w in week["week"]] if len(week) else []
    figs["week"] = go.Figure(
        [
            go.Bar(name=tr("found", lang), x=x, y=list(week.get("found", []))),
            go.Bar(name=tr("handled", lang), x=x, y=list(week.get("handled", []))),
        ],
        layout={"title": tr("found_vs_handled", lang), "barmode": "group"},
    )
    grid = data["grid"]
    figs["rate"] = go.Figure(
        [go.Bar(x=list(grid.get("grid", [])), y=[100 * v for v in grid.get("handling_rate", [])])],
        layout={
            "title": f"{tr('handling_rate', lang)} (%) · {tr('grid', lang)}",
            "yaxis": {"range": [0, 100]},
        },
    )
    typ = data["type"]
    names = [tr(t, lang, TYPE_NAMES) for t in typ.get("type", [])]
    figs["times"] = go.Figure(
        [
            go.Bar(name=tr(label, lang), x=names, y=[_minutes(v) for v in typ.get(col, [])])
            for col, label in TIME_COLUMNS
        ],
        layout={"title": tr("times", lang), "barmode": "group"},
    )
    com = data["community"]
    cx = [c or "—" for c in com.get("community", [])]
    figs["community"] = go.Figure(
        [
            go.Bar(name=tr("found", lang), x=cx, y=list(com.get("found", []))),
            go.Bar(name=tr("handled", lang), x=cx, y=list(com.get("handled", []))),
        ],
        layout={"title": f"{tr('found_vs_handled', lang)} · {tr('community', lang)}"},
    )
    up = data["uptime"]
    figs["uptime"] = go.Figure(
        [go.Bar(x=list(up.get("grid", [])), y=[100 * v for v in up.get("uptime", [])])],
        layout={"title": f"{tr('uptime', lang)} (%)", "yaxis": {"range": [0, 100]}},
    )
    figs["inspections"] = inspection_figure(data["inspections"], lang)
    for fig in figs.values():
        fig.update_layout(margin={"l": 40, "r": 10, "t": 40, "b": 40}, height=300)
        if not _has_values(fig):  # say so, rather than draw empty axes from -1 to 1
            fig.update_layout(
                xaxis={"visible": False},
                yaxis={"visible": False},
                annotations=[
                    {"text": tr("no_data", lang), "showarrow": False, "font": {"size": 16},
                     "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
                ],
            )  # fmt: skip
    return figs


def _has_values(fig: go.Figure) -> bool:
    """Whether any trace of ``fig`` has a number to draw (None and NaN are gaps)."""
    return any(v is not None and v == v for trace in fig.data for v in (trace.y or ()))


def inspection_figure(insp: pd.DataFrame, lang: str) -> go.Figure:
    """Bars of rounds due and done per week, and the share done (%) on a second axis."""
    from twin.events.kpi import week_label

    def text(key: str) -> str:
        return tr(key, lang, INSPECTION_TEXT)

    x = [week_label(int(w)) for w in insp["week"]]
    return go.Figure(
        [
            go.Bar(name=text("due"), x=x, y=list(insp["due"])),
            go.Bar(name=text("done"), x=x, y=list(insp["done"])),
            go.Scatter(
                name=text("rate"),
                x=x,
                y=[100 * v for v in insp["done_rate"]],
                yaxis="y2",
                mode="lines+markers",
            ),
        ],
        layout={
            "title": text("title"),
            "barmode": "group",
            "yaxis2": {"overlaying": "y", "side": "right", "range": [0, 105]},
        },
    )


def trend_data(store: Any, runtime: Any, registry: Any, weeks: int, place: str) -> dict:
    """Every table the page shows, for the last ``weeks`` weeks and a grid (or all)."""
    since = week_floor(time.time(), int(weeks))
    engine = store.engine
    return {
        "week": kpi_frame(engine, ("week",), since, place),
        "grid": kpi_frame(engine, ("grid",), since, place),
        "type": kpi_frame(engine, ("type",), since, place),
        "community": kpi_frame(engine, ("community",), since, place),
        "uptime": uptime_frame(runtime, registry),
        "inspections": inspection_frame(engine, since, place),
    }


def _league_html(df: pd.DataFrame, lang: str):
    if df.empty:
        return html.P(tr("no_data", lang), className="st-empty")
    head = ["#", tr("grid", lang), tr("found", lang), tr("handled", lang),
            tr("handling_rate", lang), tr("t_close", lang) + " (min)"]  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td(r.rank),
                html.Td(r.grid),
                html.Td(r.found),
                html.Td(r.handled),
                html.Td(f"{100 * r.handling_rate:.1f}%"),
                html.Td(
                    "—"
                    if _minutes(r.mean_time_to_close_s) is None
                    else _minutes(r.mean_time_to_close_s)
                ),  # fmt: skip
            ],
            **{"data-grid": str(r.grid)},
        )
        for r in df.itertuples()
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        className="st-table",
        id="st-tr-league-table",
    )


# -- callbacks ------------------------------------------------------------------------------
def _data(weeks, place):
    from dashboard.context import current_context

    c = current_context()
    return trend_data(ticket_store(), c.runtime, c.registry, weeks or 12, place or "")


@callback(
    *[Output(f"st-tr-{name}", "figure") for name in CHARTS],
    Output("st-tr-league", "children"),
    Output("st-tr-note", "children"),
    Input("st-tr-period", "value"),
    Input("st-tr-place", "value"),
    Input("st-tr-poll", "n_intervals"),
    State("st-tr-lang", "data"),
)
def refresh(weeks, place, _n, lang):
    """Charts and league table for the filters."""
    lang = lang_of(lang)
    if not may_open(page_principal(), PATH):
        return (*[dash.no_update] * len(CHARTS), denied(PATH, lang), "")
    if ticket_store() is None:
        empty = go.Figure(layout={"title": tr("no_data", lang)})
        return (*[empty] * len(CHARTS), "", tr("not_wired", lang))
    data = _data(weeks, place)
    figs = build_figures(data, lang)
    return (*[figs[n] for n in CHARTS], _league_html(league_table(data["grid"]), lang), "")


@callback(
    Output("st-tr-download", "data"),
    Input({"type": "st-tr-csv", "chart": ALL}, "n_clicks"),
    State("st-tr-period", "value"),
    State("st-tr-place", "value"),
    prevent_initial_call=True,
)
def export_csv(clicks, weeks, place):
    """The table behind one chart as CSV."""
    trig = ctx.triggered_id
    if not trig or not any(clicks or []) or not may_open(page_principal(), PATH):
        return dash.no_update
    if ticket_store() is None:
        return dash.no_update
    name = trig["chart"]
    key = {"rate": "grid", "times": "type"}.get(name, name)
    df = _data(weeks, place)[key]
    return dcc.send_data_frame(df.to_csv, f"trends_{name}.csv", index=False)
