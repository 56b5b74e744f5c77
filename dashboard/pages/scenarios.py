"""The scenarios page (``/scenarios``): what-if runs for emergency managers, off the live twin.

A run reads the registry and writes only its own dataset — it never touches the live state,
warnings or tickets — in a background thread whose progress a ``dcc.Interval`` polls. The
result's timeline is scrubbed with a slider over its output times on a deck.gl map beside a
separate baseline run at the same time (same start state, no hazard injected:
:func:`dashboard.scenario_jobs.baseline_of`); the headline figures are compared side by side
(baseline, scenario, difference) and the timeline chart shows both runs; affected buildings,
roads and critical facilities are listed with figures and charts; a run can be saved
(NetCDF + the district's results index) and exported as a self-contained HTML briefing in
Chinese or English (:mod:`dashboard.briefing`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
import numpy as np
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from dashboard import briefing
from dashboard.i18n_pages import tr
from dashboard.pages._access import denied, lang_of, may, may_open, page_principal
from dashboard.scenario_compare import (
    COMPARE_TEXT,
    baseline_figures,
    compare_table,
    timeline_figure,
)
from dashboard.scenario_jobs import (
    SCENARIOS_DIR,
    ScenarioJob,
    customise,
    get_job,
    map_payload,
    scenario_files,
    start_job,
)

dash.register_page(__name__, path="/scenarios", name="Scenarios", title="StreetTwin 推演", order=6)

PATH = "/scenarios"
PEOPLE_KEYS = (
    "people_affected", "elderly_alone_affected", "disabled_affected", "children_affected",
)  # fmt: skip


# -- layout ---------------------------------------------------------------------------------------
def layout(lang: str = "zh", file: str | None = None, **_: Any) -> html.Div:
    """Scenario choice and parameters, run + progress, maps, figures, save and briefing;
    ``?file=<name>.toml`` preselects a scenario."""
    lang = lang_of(lang)
    principal = page_principal()
    if not may_open(principal, PATH):
        return denied(PATH, lang)
    from dashboard.context import current_context

    registry = current_context().registry
    files = scenario_files()
    name_col = "name_zh" if lang == "zh" else "name_en"
    buildings = [
        {"label": f"{b.building_id} {getattr(b, name_col)}", "value": b.building_id}
        for b in registry.buildings.itertuples()
    ]

    chosen = file if file in {p.name for p in files} else (files[0].name if files else None)
    shown = scenario_fields(chosen)

    def field(label: str, comp: Any, fid: str | None = None) -> html.Div:
        if fid is None:
            return html.Div([html.Label(label), comp])
        return html.Div([html.Label(label), comp], id=fid, hidden=shown["hidden"][fid])

    return html.Div(
        className="st-wp st-scenarios",
        lang="zh-CN" if lang == "zh" else "en",
        children=[
            html.Header([html.H1(tr("scenarios_title", lang))], className="st-wp-head"),
            html.P(tr("sandbox", lang), className="st-na"),
            html.Div(
                className="st-filters",
                children=[
                    field(
                        tr("scenario", lang),
                        dcc.Dropdown(
                            id="st-sc-file",
                            options=[
                                {"label": scenario_label(p, lang), "value": p.name} for p in files
                            ],
                            value=chosen,
                            clearable=False,
                        ),
                    ),
                    field(
                        tr("duration_min", lang),
                        dcc.Input(
                            id="st-sc-duration",
                            type="number",
                            min=5,
                            step=5,
                            placeholder=shown["duration"],
                        ),
                    ),
                    field(
                        tr("return_period", lang),
                        dcc.Input(
                            id="st-sc-return",
                            type="number",
                            min=1,
                            step=1,
                            placeholder=shown["return"],
                        ),
                        "st-sc-f-return",
                    ),
                    field(
                        tr("rain_scale", lang),
                        dcc.Input(id="st-sc-scale", type="number", value=1.0, min=0.1, step=0.1),
                        "st-sc-f-scale",
                    ),
                    field(
                        tr("ignition", lang),
                        dcc.Dropdown(
                            id="st-sc-ignition",
                            options=buildings,
                            value=shown["ignition"],
                        ),
                        "st-sc-f-ignition",
                    ),
                    field(
                        tr("wind", lang),
                        dcc.Input(
                            id="st-sc-wind",
                            type="number",
                            min=0,
                            step=0.5,
                            placeholder=shown["wind"],
                        ),
                        "st-sc-f-wind",
                    ),
                    html.Button(tr("run", lang), id="st-sc-run", className="st-btn", n_clicks=0),
                ],
            ),
            html.Div(
                [
                    html.Progress(id="st-sc-progress", value="0", max="1", className="st-progress"),
                    html.Span(id="st-sc-status", role="status"),
                ]
            ),
            html.Div(
                [tr("time_step", lang), dcc.Slider(id="st-sc-time", min=0, max=0, step=1, value=0)],
                id="st-sc-timeline",
            ),
            html.Div(
                className="st-sc-cols",
                children=[
                    html.Div(
                        [
                            html.H2(
                                f"{tr('baseline', lang)} {tr('baseline_run', lang, COMPARE_TEXT)}"
                            ),
                            html.Div(id="st-sc-map-base", className="st-crew-map"),
                        ]
                    ),  # fmt: skip
                    html.Div(
                        [
                            html.H2(tr("result", lang)),
                            html.Div(id="st-sc-map", className="st-crew-map"),
                        ]
                    ),  # fmt: skip
                ],
            ),
            html.Div(id="st-sc-map-status", hidden=True),
            html.Div(id="st-sc-map-base-status", hidden=True),
            html.H2(tr("affected", lang)),
            html.Div(id="st-sc-figures"),
            html.Div(
                [
                    dcc.Graph(id="st-sc-timeline-chart", figure=waiting_figure(lang)),
                    dcc.Graph(id="st-sc-affected-chart", figure=waiting_figure(lang)),
                ],
                className="st-charts",
            ),
            html.Div(id="st-sc-lists"),
            html.Div(
                className="st-actions",
                children=[
                    html.Button(tr("save", lang), id="st-sc-save", className="st-btn", n_clicks=0),
                    dcc.RadioItems(
                        id="st-sc-brief-lang",
                        options=[
                            {"label": "中文", "value": "zh"},
                            {"label": "English", "value": "en"},
                        ],
                        value=lang,
                        inline=True,
                    ),
                    html.Button(
                        tr("briefing", lang), id="st-sc-brief", className="st-btn", n_clicks=0
                    ),
                    html.Span(id="st-sc-saved", role="status"),
                ],
            ),
            dcc.Download(id="st-sc-download"),
            dcc.Store(id="st-sc-job"),
            dcc.Store(id="st-sc-deck"),
            dcc.Store(id="st-sc-deck-base"),
            dcc.Store(id="st-sc-lang", data=lang),
            dcc.Interval(id="st-sc-poll", interval=1000, disabled=True),
        ],
    )


def waiting_figure(lang: str) -> go.Figure:
    """What a chart shows before the first run: a line saying so, not empty axes."""
    return go.Figure(
        layout={
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "height": 300,
            "annotations": [
                {"text": tr("run_to_see", lang), "showarrow": False, "font": {"size": 15},
                 "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
            ],
        }
    )  # fmt: skip


# -- the inputs a scenario takes --------------------------------------------------------------
#: input fields (the ids of their boxes) → the hazards they change
FIELD_HAZARDS = {
    "st-sc-f-return": ("flood",),
    "st-sc-f-scale": ("flood",),
    "st-sc-f-ignition": ("fire",),
    "st-sc-f-wind": ("fire",),
}


def _scenario_path(file_name: str | None) -> Path | None:
    """The file of a scenario offered on the page (names only, never a path), or None."""
    path = SCENARIOS_DIR / str(file_name or "")
    if not file_name or path.parent != SCENARIOS_DIR or not path.exists():
        return None
    return path


def _load(file_name: str | None) -> Any:
    from sim.scenario.spec import ScenarioError, load_scenario

    path = _scenario_path(file_name)
    if path is None:
        return None
    try:
        return load_scenario(path)
    except ScenarioError:
        return None


def scenario_label(path: Any, lang: str) -> str:
    """A scenario's name in the page's language (``name_zh`` on Chinese pages, when given)."""
    sc = _load(path.name)
    if sc is None:
        return path.stem
    return (sc.name_zh or sc.name) if lang == "zh" else sc.name


def scenario_fields(file_name: str | None) -> dict[str, Any]:
    """What the inputs show for a scenario file: the file's own values as placeholders (an
    empty input keeps them) and which input boxes apply (``hidden``: box id → bool).

    A return period applies to a Chicago design storm only; rain scale to floods; the
    ignition building (the file's first, chosen in the list) and wind to fires.
    """
    sc = _load(file_name)
    hazard = sc.hazard if sc is not None else ""
    rain = sc.flood.rain if sc is not None and sc.flood is not None else None
    chicago = rain is not None and rain.kind == "chicago"
    hidden = {fid: hazard not in hz for fid, hz in FIELD_HAZARDS.items()}
    hidden["st-sc-f-return"] = not chicago
    fire = sc.fire if sc is not None else None
    return {
        "duration": "" if sc is None else f"{sc.duration_s / 60:g}",
        "return": f"{rain.return_period_y:g}" if chicago else "",
        "wind": f"{fire.wind_speed_m_s:g}" if fire else "",
        "ignition": fire.ignition[0] if fire and fire.ignition else None,
        "hidden": hidden,
    }


# -- callbacks ------------------------------------------------------------------------------------
@callback(
    Output("st-sc-duration", "placeholder"),
    Output("st-sc-return", "placeholder"),
    Output("st-sc-wind", "placeholder"),
    Output("st-sc-ignition", "value"),
    *(Output(fid, "hidden") for fid in FIELD_HAZARDS),
    Input("st-sc-file", "value"),
)
def on_file(file_name):
    """Another scenario chosen: its values as placeholders, its ignition building chosen, and
    only the inputs it takes."""
    shown = scenario_fields(file_name)
    ignition = shown["ignition"] if shown["ignition"] is not None else dash.no_update
    return shown["duration"], shown["return"], shown["wind"], ignition, *shown["hidden"].values()


def run_request(file_name, duration_min, return_period_y, rain_scale, ignition, wind, principal):
    """Check the caller and the inputs, then start the run; returns (job or None, message)."""
    from sim.scenario.run import Perturbation
    from sim.scenario.spec import ScenarioError, load_scenario

    if not may(principal, "scenario.run"):
        return None, "forbidden"
    path = _scenario_path(file_name)
    if path is None:
        return None, "unknown scenario"
    try:
        scenario = customise(load_scenario(path), duration_min=duration_min,
                             return_period_y=return_period_y)  # fmt: skip
    except ScenarioError as exc:
        return None, str(exc)
    from dashboard.context import current_context

    pert = Perturbation(
        rain_scale=float(rain_scale or 1.0),
        wind_speed_m_s=None if wind in (None, "") else float(wind),
        ignition=(str(ignition),) if scenario.hazard == "fire" and ignition else None,
    )
    job = start_job(current_context().registry, scenario, pert, principal.user.username)
    return job, ""


@callback(
    Output("st-sc-job", "data"),
    Output("st-sc-poll", "disabled"),
    Output("st-sc-status", "children"),
    Input("st-sc-run", "n_clicks"),
    State("st-sc-file", "value"),
    State("st-sc-duration", "value"),
    State("st-sc-return", "value"),
    State("st-sc-scale", "value"),
    State("st-sc-ignition", "value"),
    State("st-sc-wind", "value"),
    prevent_initial_call=True,
)
def on_run(n, file_name, duration, ret, scale, ignition, wind):
    """Run clicked: start a background run (managers only)."""
    if not n:
        return dash.no_update, dash.no_update, dash.no_update
    job, msg = run_request(file_name, duration, ret, scale, ignition, wind, page_principal())
    if job is None:
        return None, True, f"✗ {msg}"
    return job.id, False, f"{job.name} …"


@callback(
    Output("st-sc-progress", "value"),
    Output("st-sc-poll", "disabled", allow_duplicate=True),
    Output("st-sc-status", "children", allow_duplicate=True),
    Output("st-sc-time", "max"),
    Output("st-sc-time", "marks"),
    Output("st-sc-time", "value"),
    Output("st-sc-figures", "children"),
    Output("st-sc-timeline-chart", "figure"),
    Output("st-sc-affected-chart", "figure"),
    Output("st-sc-lists", "children"),
    Input("st-sc-poll", "n_intervals"),
    State("st-sc-job", "data"),
    State("st-sc-lang", "data"),
    prevent_initial_call=True,
)
def on_poll(_n, job_id, lang):
    """Progress while running; everything about the result once done."""
    lang = lang_of(lang)
    job = get_job(job_id, page_principal())
    nu = dash.no_update
    if job is None:
        return "0", True, nu, nu, nu, nu, nu, nu, nu, nu
    if job.status == "running":
        return f"{job.progress:.3f}", False, f"{job.name} · {100 * job.progress:.0f}%", *[nu] * 7
    if job.status == "failed":
        return "0", True, f"✗ {job.error}", *[nu] * 7
    return ("1", True, f"{job.name} · ✓", *result_view(job, lang))


def result_view(job: ScenarioJob, lang: str) -> tuple:
    """Slider range and marks, headline figures, charts and affected lists of a finished run."""
    from dashboard.context import current_context

    registry = current_context().registry
    ds = job.ds
    t_min = (np.asarray(ds["time"].to_numpy(), dtype=float) / 60.0) if "time" in ds.dims else [0.0]
    last = len(t_min) - 1
    marks = {i: f"{t_min[i]:.0f}′" for i in range(0, last + 1, max(1, last // 8))}
    buildings = briefing.affected_buildings(ds, registry)
    roads = briefing.affected_roads(ds, registry)
    facilities = briefing.affected_facilities(ds, registry, buildings)
    figures = briefing.headline(job.summary, facilities)
    names = briefing.texts(lang, ds)
    fig_table = compare_table(figures, baseline_figures(job, registry), names, lang)
    tl_fig = timeline_figure(job, names, lang)
    people = {k: figures[k] for k in PEOPLE_KEYS if k in figures}
    aff_fig = go.Figure(
        [go.Bar(x=[names.get(k, k) for k in people], y=list(people.values()))],
        layout={"title": names["people_affected"], "height": 300},
    )
    name_col = "name_zh" if lang == "zh" else "name_en"
    value = briefing.building_value_column(buildings)
    heads = {"building_id": "ID", "road_id": "ID", "id": "ID", name_col: names["building"],
             "use": names["use"], "max_depth_m": names["depth"], "occupants": names["people"],
             "impassable": names["impassable"], "kind": names["use"],
             "arrival_min": names.get("arrival_min", "arrival_min")}  # fmt: skip
    lists = html.Div(
        [
            html.H3(names["buildings"]),
            _list(
                briefing.with_use_names(buildings, lang),
                ["building_id", name_col, "use", value, "occupants"],
                heads,
            ),
            html.H3(names["roads"]),
            _list(roads, ["road_id", name_col, "max_depth_m", "impassable"], heads),
            html.H3(names["facilities"]),
            _list(facilities, ["id", name_col, "kind"], heads),
        ]
    )
    return last, marks, last, fig_table, tl_fig, aff_fig, lists


def _list(df, cols, heads):
    if df is None or df.empty:
        return html.P("—")
    return html.Table(
        [html.Thead(html.Tr([html.Th(heads.get(c, c)) for c in cols]))]
        + [html.Tr([html.Td(str(v)) for v in row]) for row in df[cols].itertuples(index=False)],
        className="st-table",
    )


@callback(
    Output("st-sc-deck", "data"),
    Output("st-sc-deck-base", "data"),
    Input("st-sc-time", "value"),
    Input("st-sc-time", "max"),
    State("st-sc-job", "data"),
)
def on_scrub(step, _max, job_id):
    """Slider moved (or a run finished): the result at that time beside the baseline run at
    the same time."""
    from dashboard.context import current_context

    job = get_job(job_id, page_principal())
    if job is None or job.status != "done":
        return dash.no_update, dash.no_update  # no WebGL work before there is a result
    base = current_context().deck("plain")
    n = job.ds.sizes.get("time", 1)
    step = int(min(max(step or 0, 0), n - 1))
    return (
        map_payload(base, job, step, "scenario"),
        map_payload(base, job, step, "baseline", baseline=True),
    )


for _store, _map, _status in (
    ("st-sc-deck", "st-sc-map", "st-sc-map-status"),
    ("st-sc-deck-base", "st-sc-map-base", "st-sc-map-base-status"),
):
    clientside_callback(
        ClientsideFunction(namespace="streettwin", function_name="renderDeck"),
        Output(_status, "children"),
        Input(_store, "data"),
        Input("st-sc-lang", "data"),
        State(_map, "id"),
    )


@callback(
    Output("st-sc-saved", "children"),
    Input("st-sc-save", "n_clicks"),
    State("st-sc-job", "data"),
    State("st-sc-lang", "data"),
    prevent_initial_call=True,
)
def on_save(n, job_id, lang):
    """Keep the run: NetCDF plus a row in the district's scenario results index."""
    from dashboard.context import current_context
    from sim.scenario.store import default_result_path, save_result

    principal = page_principal()
    job = get_job(job_id, principal)
    if not n or job is None or job.status != "done" or not may(principal, "scenario.run"):
        return dash.no_update
    c = current_context()
    folder = c.settings.get("DATA_DIR") or getattr(c.runtime, "data_dir", None) or "."
    kept = save_result(job.ds, job.summary, default_result_path(folder, job.name), folder)
    job.saved = kept["result"]
    return f"{tr('saved', lang_of(lang))}: {Path(kept['result']).name}"


@callback(
    Output("st-sc-download", "data"),
    Input("st-sc-brief", "n_clicks"),
    State("st-sc-job", "data"),
    State("st-sc-brief-lang", "value"),
    prevent_initial_call=True,
)
def on_briefing(n, job_id, lang):
    """The briefing of the finished run as a self-contained HTML file."""
    from dashboard.context import current_context

    job = get_job(job_id, page_principal())
    if not n or job is None or job.status != "done":
        return dash.no_update
    text = briefing.briefing_html(job.ds, job.summary, current_context().registry, lang=lang)
    stem = "briefing_" + ("en" if lang == "en" else "zh")
    return {"content": text, "filename": f"{stem}.html", "type": "text/html"}
