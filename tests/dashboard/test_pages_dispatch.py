"""The dispatch page's callbacks as plain functions, on a real event store and app."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from dashboard import dispatch_desk as desk
from tests.dashboard.pages_app import build_pages_app, page_module


@pytest.fixture(scope="module")
def pa(tmp_path_factory):
    return build_pages_app(tmp_path_factory.mktemp("dispatch-page"))


@pytest.fixture(scope="module")
def dispatch(pa):
    return page_module("dispatch")


class Recorder:
    """A stand-in runtime that keeps what the pages publish."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def publish_event(self, event: dict) -> None:
        self.events.append(event)


def _ticket(pa, ref_tag: str, level="red", type_="water", node="J03"):
    return pa.store.create(
        source="warning", type=type_, level=level, grid_code="G01", node=node, source_ref=ref_tag
    )


def test_queue_puts_red_first_then_nearest_deadline(dispatch):
    t = SimpleNamespace
    q = [
        t(id=1, level="blue", created_at=0.0),
        t(id=2, level="red", created_at=9.0),
        t(id=3, level="red", created_at=1.0),
        t(id=4, level="orange", created_at=0.0),
    ]
    # 2 and 3 are both red: 2's deadline is nearer although it is newer
    assert [x.id for x in desk.sort_queue(q, {2: 100.0, 3: 200.0})] == [2, 3, 4, 1]


def test_countdown_shows_minutes_hours_and_overdue(dispatch):
    assert desk.countdown_text(59) == "0:59"
    assert desk.countdown_text(3600 + 62) == "1:01:02"
    assert desk.countdown_text(-90, "zh") == "已超时 1:30"


def test_operator_sees_suggestion_and_assigns_it(pa, dispatch):
    t = _ticket(pa, "W-unit-1")
    recorder = Recorder()
    rc = pa.as_user("op")
    try:
        from dashboard.context import current_context

        current_context().runtime = recorder
        panel = str(dispatch.show_detail(t.ref, "", 0, 0, "en")[0])
        # K2 is nearer by road but has no water skill: K1 (at J01) is the suggestion
        assert "Suggested crew: " in panel and "K1 · travel" in panel
        msg = desk.handle_action(_principal(), pa.store, t.ref, "dispatch", "K1", None, "en")
        assert msg.startswith("Done · dispatch")
        view = pa.store.get(t.id)
        assert (view.state, view.crew_id) == ("dispatched", "K1")
        assert recorder.events[-1] == {
            **recorder.events[-1],
            "type": "ticket",
            "ref": t.ref,
            "action": "dispatch",
            "state": "dispatched",
            "crew_id": "K1",
        }
        queue, _ = dispatch.refresh_queue(1, 0, "", "en")
        assert f"data-ticket='{t.ref}'" in str(queue) or t.ref in str(queue)
    finally:
        current_context().runtime = None
        rc.pop()


def _principal():
    import flask

    return flask.g.st_principal[0]


def test_leader_callbacks_change_nothing(pa, dispatch):
    t = _ticket(pa, "W-unit-2")
    rc = pa.as_user("boss")
    try:
        before = pa.store.get(t.id).version
        msg = desk.handle_action(_principal(), pa.store, t.ref, "dispatch", "K1", None, "en")
        assert msg == "Read only: your role cannot change anything"
        # even past the page check, the store refuses the leader
        assert desk.apply_action(pa.store, _principal(), t.id, "dispatch", "K1").startswith("✗")
        assert pa.store.get(t.id).version == before
        panel = dispatch.detail_panel(pa.store, pa.store.get(t.id), _principal(), "en")
        buttons = [
            c
            for block in panel
            if hasattr(block, "children") and isinstance(block.children, list)
            for c in block.children
            if type(c).__name__ == "Button"
        ]
        assert buttons and all(b.disabled for b in buttons)
    finally:
        rc.pop()


def test_pages_refuse_roles_without_access(pa, dispatch):
    for user in ("crew1", None):
        rc = pa.as_user(user)
        try:
            assert dispatch.layout().id == "st-denied"
        finally:
            rc.pop()


def test_report_becomes_a_ticket_linked_to_it(pa, dispatch):
    import time

    from twin.events.models import Report

    with pa.store.sessions() as s, s.begin():
        s.add(
            Report(
                ref="r-unit-1",
                category="water",
                text="井盖冒水",
                grid_code="G02",
                reporter_ref="anon-7",
                created_at=time.time(),
            )
        )
    rc = pa.as_user("op")
    try:
        with pa.store.sessions() as s:
            rid = s.query(Report).filter_by(ref="r-unit-1").one().id
        assert desk.open_report_ticket(pa.store, _principal(), rid) == "done"
        with pa.store.sessions() as s:
            tid = s.get(Report, rid).ticket_id
        t = pa.store.get(tid)
        assert (t.source, t.type, t.grid_code, t.state) == ("report", "water", "G02", "reported")
        # a second click does not open a second ticket
        assert desk.open_report_ticket(pa.store, _principal(), rid) == "done"
        assert (
            len([x for x in pa.store.list_visible(_principal().actor) if x.source == "report"]) == 1
        )
    finally:
        rc.pop()


def test_escalate_button_raises_the_ticket_and_pushes_it_live(pa, dispatch):
    t = _ticket(pa, "W-unit-esc", level="orange")
    recorder = Recorder()
    rc = pa.as_user("op")
    try:
        from dashboard.context import current_context

        current_context().runtime = recorder
        panel = dispatch.detail_panel(pa.store, pa.store.get(t.id), _principal(), "en")
        assert not _buttons(panel)["escalate"].disabled
        msg = desk.handle_action(
            _principal(), pa.store, t.ref, "escalate", None, None, "en", "pump down"
        )
        assert msg.startswith("Done · escalate")
        view = pa.store.get(t.id)
        assert (view.escalation, view.state) == (1, "reported")
        assert pa.store.history(t.id)[-1].note == "pump down"
        assert recorder.events[-1]["action"] == "escalate"
        assert recorder.events[-1]["escalation"] == 1
        html_panel, shown = dispatch.show_detail(t.ref, "", 0, 0, "en")
        assert "supervisor told" in str(html_panel) and shown == f"{t.ref}:{view.version}"
        desk.handle_action(_principal(), pa.store, t.ref, "escalate", None, None, "en")
        panel = dispatch.detail_panel(pa.store, pa.store.get(t.id), _principal(), "en")
        assert _buttons(panel)["escalate"].disabled  # the next level is the top
    finally:
        current_context().runtime = None
        rc.pop()


def _buttons(panel):
    return {
        c.id["action"]: c
        for block in panel
        if hasattr(block, "children") and isinstance(block.children, list)
        for c in block.children
        if type(c).__name__ == "Button" and isinstance(c.id, dict)
    }


def test_crew_cards_redraw_only_when_the_crews_tickets_change(pa, dispatch):
    import dash

    from tests.dashboard.pages_app import page_module

    crew_page = page_module("crew")
    t = _ticket(pa, "W-unit-crew", level="yellow")
    k1 = next(c for c in pa.svc.crews() if c.id == "K1")
    if k1.state == "free":
        pa.store.transition(t.id, "dispatch", actor=pa.actor("op"), crew_id="K1")
    rc = pa.as_user("crew1")
    try:
        cards, _deck, refs, sig = crew_page.refresh(0, 0, "en", None, None)
        assert refs and len(sig) == len(refs) and all(":" in s for s in sig)
        # another ticket changes (a live bump): nothing redrawn, a note being typed survives
        other = _ticket(pa, "W-unit-other", level="blue")
        pa.store.escalate(other.id, actor=pa.actor("op"))
        assert crew_page.refresh(1, 1, "en", refs, sig) == (dash.no_update,) * 4
        # one of the crew's own tickets changes: redrawn
        mine = next(x for x in crew_page.crew_tickets(pa.store, _principal()))
        if mine.state == "dispatched":
            pa.store.transition(mine.id, "accept", actor=pa.actor("crew1"))
        else:
            pa.store.escalate(mine.id, actor=pa.actor("op"))
        out = crew_page.refresh(2, 2, "en", refs, sig)
        assert out[0] is not dash.no_update and out[3] != sig
    finally:
        rc.pop()


def test_queue_lists_incidents_by_default_and_rounds_on_request(pa, dispatch):
    incident = _ticket(pa, "W-kind-1", level="orange")
    round_ = pa.store.create(
        source="inspection", type="general", level="blue", grid_code="G01",
        source_ref="insp:B1:2026-11:1",
    )  # fmt: skip
    hazard = pa.store.create(
        source="inspection", type="fire", level="orange", grid_code="G01",
        source_ref=f"hazard:{round_.ref}",
    )  # fmt: skip
    rc = pa.as_user("op")
    try:
        shown = {
            kind: str(dispatch.refresh_queue(1, 0, "", "en", kind)[0])
            for kind in ("incidents", "rounds", "all")
        }
    finally:
        rc.pop()
    # a hazard found on a round is an incident; the round itself is routine work
    assert incident.ref in shown["incidents"] and hazard.ref in shown["incidents"]
    assert round_.ref not in shown["incidents"]
    assert round_.ref in shown["rounds"] and incident.ref not in shown["rounds"]
    assert all(t.ref in shown["all"] for t in (incident, round_, hazard))


def test_queue_draws_the_most_urgent_rows_and_counts_the_rest(dispatch):
    tickets = [
        SimpleNamespace(id=i, ref=f"T{i:05d}", level="blue", type="general", state="reported",
                        grid_code="G01", crew_id=None)
        for i in range(5)
    ]  # fmt: skip
    html_ = str(dispatch.queue_table(tickets, {}, 0.0, "en", limit=2))
    assert html_.count("st-dsp-row") == 2 and "T00000" in html_ and "T00002" not in html_
    assert "3 more not listed (the 2 most urgent are shown)" in html_
    assert "st-dsp-more" not in str(dispatch.queue_table(tickets, {}, 0.0, "en", limit=5))


def test_detail_tells_what_a_ticket_is_about_and_names_a_rounds_building(pa, dispatch):
    round_ = pa.store.create(
        source="inspection", type="fire", level="blue", grid_code="G01", node="J02",
        source_ref="insp:B0002:2026-11:2",
        description="level 2 inspection 2/3: fire_load+2, age+2, vulnerable+1",
    )  # fmt: skip
    report = pa.store.create(
        source="report", type="water", level="blue", grid_code="G01", node="J02",
        source_ref="R-what-1", description="water over the kerb at the school gate",
    )  # fmt: skip
    rc = pa.as_user("op")
    try:
        zh = str(dispatch.show_detail(round_.ref, "", 0, 0, "zh")[0])
        en = str(dispatch.show_detail(round_.ref, "", 0, 0, "en")[0])
        rep = str(dispatch.show_detail(report.ref, "", 0, 0, "en")[0])
    finally:
        rc.pop()
    assert "东江大道4号楼（B0002） · 二级管理巡查 第 2/3 次" in zh
    assert "风险因素：火灾荷载 +2、建筑年代 +2、独居老人与残障人士 +1" in zh
    assert "No. 4 Dongjiang Avenue (B0002) · level-2 inspection, round 2 of 3" in en
    assert "risk factors: fire load +2, building age +2, vulnerable residents +1" in en
    assert "level 2 inspection" not in zh and "water over the kerb at the school gate" in rep
    # the crew list names each crew's state in the page's language
    assert re.search(r"\((空闲|执行中|休班)\)", zh) and not re.search(r"\((free|busy)\)", zh)


def test_history_tells_each_step_in_the_pages_language(pa, dispatch):
    t = _ticket(pa, "W-history-1", level="yellow")
    pa.store.raise_level(t.id, "red")
    pa.store.escalate(t.id, actor=pa.actor("op"), note="no crew answers")
    steps = pa.store.history(t.id)
    zh = [li.children for li in dispatch.history_list(steps, "zh").children]
    en = [li.children for li in dispatch.history_list(steps, "en").children]
    assert [x.split(" · ")[1:3] for x in zh] == [
        ["system (系统)", "创建 → 待派"], ["system (系统)", "预警升级 → 待派"],
        ["op (调度员)", "上报 → 待派"],
    ]  # fmt: skip
    assert en[1].split(" · ")[2:] == ["level raised → reported", "Yellow → Red"]
    assert zh[1].split(" · ")[2:] == ["预警升级 → 待派", "黄色 → 红色"]


def test_crew_card_of_a_round_names_the_building_in_the_crews_language(pa):
    from tests.dashboard.pages_app import page_module

    row = SimpleNamespace(
        ref="T-card", level="blue", type="fire", grid_code="G01", state="dispatched",
        source="inspection", source_ref="insp:B0001:2026-11:1",
        description="level 4 inspection 1/1: fire_load+1",
    )  # fmt: skip
    rc = pa.as_user("crew1")
    try:
        zh = str(page_module("crew").ticket_card(row, "zh"))
    finally:
        rc.pop()
    assert "东江大道2号楼（B0001） · 四级管理巡查 第 1/1 次 · 风险因素：火灾荷载 +1" in zh
