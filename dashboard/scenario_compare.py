"""The scenarios page's comparison of a what-if run with its baseline run: figures side by side
(baseline, scenario, difference) and the timeline of both."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import html

from dashboard import briefing
from dashboard.i18n_pages import tr
from dashboard.scenario_jobs import ScenarioJob

#: column heads of the comparison table (zh, en)
COMPARE_TEXT = {
    "figure": ("指标", "Figure"),
    "baseline": ("基线", "Baseline"),
    "result": ("推演", "Scenario"),
    "difference": ("差值", "Difference"),
    "baseline_run": ("（无灾害注入）", "(no hazard injected)"),
}


def compare_figures(result: dict[str, Any], baseline: dict[str, Any]) -> list[tuple]:
    """(key, baseline, result, difference) for every headline figure of the result; the
    difference is None where either side is not a number.

    >>> compare_figures({"people_affected": 120, "ignition": "B1"}, {"people_affected": 0})
    [('people_affected', 0, 120, 120), ('ignition', None, 'B1', None)]
    """
    rows = []
    for key, value in result.items():
        other = baseline.get(key)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      for v in (value, other))  # fmt: skip
        diff = round(value - other, 2) if numbers else None
        rows.append((key, other, value, diff))
    return rows


def baseline_figures(job: ScenarioJob, registry: Any) -> dict[str, Any]:
    """Headline figures of the job's baseline run (empty if it has none)."""
    if job.base_ds is None:
        return {}
    b = briefing.affected_buildings(job.base_ds, registry)
    return briefing.headline(
        job.base_summary, briefing.affected_facilities(job.base_ds, registry, b)
    )


def compare_table(figures: dict, base: dict, names: dict, lang: str) -> html.Table:
    """Baseline, scenario and their difference for each headline figure."""

    def text(key: str) -> str:
        return tr(key, lang, COMPARE_TEXT)

    def cell(v: Any, **kw: Any) -> html.Td:
        return html.Td("—" if v is None else str(v), **kw)

    head = html.Tr([html.Th(text(k)) for k in ("figure", "baseline", "result", "difference")])
    rows = [
        html.Tr(
            [
                html.Th(names.get(k, k)),
                cell(b, **{"data-base": k}),
                cell(v, **{"data-key": k}),
                cell(d, **{"data-diff": k}),
            ]
        )
        for k, b, v, d in compare_figures(figures, base)
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="st-table",
                      id="st-sc-figure-table")  # fmt: skip


def timeline_figure(job: ScenarioJob, names: dict, lang: str) -> go.Figure:
    """Depth and flooded area over time (a fire: buildings reached by each minute) for the
    scenario (solid) and the baseline (dashed)."""
    fig = go.Figure(layout={"title": names["timeline"], "height": 300})
    runs = [(job.ds, "", "solid"), (job.base_ds, f" · {tr('baseline', lang)}", "dash")]
    for ds, suffix, dash_style in runs:
        if ds is None or ("time" not in ds.dims and "arrival_time" not in ds):
            continue
        tl = briefing.timeline_frame(ds)
        for k, c in enumerate([c for c in tl.columns if c != "t_min"][:2]):
            # depth (m) and area (m²) differ by orders of magnitude: one axis each
            fig.add_trace(
                go.Scatter(
                    x=tl["t_min"],
                    y=tl[c],
                    name=names.get(c, c) + suffix,
                    yaxis="y2" if k else "y",
                    line={"dash": dash_style},
                )
            )
    fig.update_layout(yaxis2={"overlaying": "y", "side": "right"})
    return fig
