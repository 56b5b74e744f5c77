"""The trends page's figures, league table and CSV on a store with a frozen clock."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.dashboard.pages_app import build_pages_app, page_module

#: 2026-11-23 08:00 UTC, a Monday (ISO week 2026-W48)
T0 = 1_795_420_800.0


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """G01: one ticket closed after 15 min and one still open; G02: one closed after 5 min."""
    clock = Clock()
    pa = build_pages_app(tmp_path_factory.mktemp("trends"), clock=clock)
    op, crew = pa.actor("op"), pa.actor("crew1")
    s = pa.store

    def run(t, close_after_s):
        for dt, action, actor, kw in (
            (60, "dispatch", op, {"crew_id": "K1"}),
            (120, "accept", crew, {}),
            (300, "arrive", crew, {}),
            (close_after_s - 120, "resolve", crew, {}),
            (close_after_s - 60, "verify", op, {}),
            (close_after_s, "close", op, {}),
        ):
            clock.t = t.created_at + dt
            s.transition(t.id, action, actor=actor, **kw)

    clock.t = T0
    a = s.create(
        source="warning",
        type="water",
        level="red",
        grid_code="G01",
        node="J03",
        source_ref="W-tr-1",
        community_code="C01",
    )
    run(a, 900)
    clock.t = T0 + 1000
    s.create(
        source="warning",
        type="water",
        level="blue",
        grid_code="G01",
        node="J03",
        source_ref="W-tr-2",
        community_code="C01",
    )
    clock.t = T0 + 2000
    c = s.create(
        source="device",
        type="water",
        level="yellow",
        grid_code="G02",
        node="J03",
        source_ref="dev-tr-3",
        community_code="C01",
    )
    run(c, 600)
    return pa, page_module("trends")


def test_figures_by_grid_hand_checked(world):
    pa, trends = world
    df = trends.kpi_frame(pa.store.engine, ("grid",), 202601).set_index("grid")
    assert df.loc["G01", "found"] == 2 and df.loc["G01", "handled"] == 1
    assert df.loc["G01", "handling_rate"] == pytest.approx(0.5)
    assert df.loc["G01", "mean_time_to_close_s"] == pytest.approx(900.0)
    assert df.loc["G02", "mean_time_to_close_s"] == pytest.approx(600.0)
    assert df.loc["G01", "mean_time_to_dispatch_s"] == pytest.approx(60.0)


def test_place_filter_keeps_only_that_grid(world):
    pa, trends = world
    df = trends.kpi_frame(pa.store.engine, ("type",), 202601, place="G02")
    assert df.to_dict("records")[0]["found"] == 1
    assert df["handling_rate"].tolist() == [1.0]


def test_league_table_ranks_by_rate_then_closing_time(world):
    pa, trends = world
    league = trends.league_table(trends.kpi_frame(pa.store.engine, ("grid",), 202601))
    assert league[["rank", "grid"]].values.tolist() == [[1, "G02"], [2, "G01"]]


def test_charts_and_csv_carry_the_same_numbers(world):
    pa, trends = world
    data = trends.trend_data(pa.store, None, pa.app.server.config["STREETTWIN"].registry, 52, "")
    figs = trends.build_figures(data, "en")
    week = figs["week"].data
    assert list(week[0].x) == ["2026-W48"] and list(week[0].y) == [3] and list(week[1].y) == [2]
    # times by type in minutes: dispatch 1, accept 2, arrive 5, close (15 + 10) / 2 = 12.5
    assert [t.y[0] for t in figs["times"].data] == [1.0, 2.0, 5.0, 12.5]
    csv = data["grid"].to_csv(index=False)
    assert csv.splitlines()[0].startswith("grid,found,handled,handling_rate")
    assert "G01,2,1,0.5," in csv


def test_page_is_for_leaders_managers_operators_only(world):
    pa, trends = world
    for user, allowed in (("boss", True), ("mgr", True), ("op", True), ("crew1", False)):
        rc = pa.as_user(user)
        try:
            assert (getattr(trends.layout(), "id", None) != "st-denied") is allowed
        finally:
            rc.pop()


def test_inspections_chart_shows_due_done_and_share(world):
    pa, trends = world
    data = trends.trend_data(pa.store, None, pa.app.server.config["STREETTWIN"].registry, 52, "")
    assert list(data["inspections"].columns) == ["week", "due", "done", "done_rate"]
    assert data["inspections"].empty  # this store has no inspection rounds
    frame = pd.DataFrame({"week": [202647, 202648], "due": [4, 5], "done": [4, 2],
                          "done_rate": [1.0, 0.4]})  # fmt: skip
    fig = trends.build_figures({**data, "inspections": frame}, "en")["inspections"]
    due, done, share = fig.data
    assert list(due.x) == ["2026-W47", "2026-W48"] and list(due.y) == [4, 5]
    assert list(done.y) == [4, 2] and list(share.y) == [100.0, 40.0] and share.yaxis == "y2"
    assert fig.layout.title.text == "Inspections done vs due"
    assert "inspections" in trends.CHARTS  # a graph, a PNG button and a CSV button each


def test_a_chart_without_numbers_says_so_and_rates_read_0_to_100(world):
    pa, trends = world
    data = trends.trend_data(pa.store, None, pa.app.server.config["STREETTWIN"].registry, 52, "")
    figs = trends.build_figures(data, "zh")
    assert figs["rate"].layout.yaxis.range == (0, 100)
    assert not figs["week"].layout.annotations  # it has numbers
    # no inspection rounds in this store: a note instead of axes from -1 to 1
    (note,) = figs["inspections"].layout.annotations
    assert note.text == "暂无数据" and figs["inspections"].layout.yaxis.visible is False
