"""The working pages in a real browser (Debian's chromium): dispatch, crew, trends, scenarios.

One live server (runtime + dispatch + accounts) and one browser serve every test; each user
has their own browser context (own cookies and localStorage). The tests run in order on
shared state: a ticket is assigned, received, resolved offline-then-online, closed and
counted; a leader fails to change anything; a manager runs a flood scenario without touching
the live twin. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM_ARGS
from tests.dashboard.pages_app import PASSWORD, build_pages_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
T = 20_000  # ms: generous for SwiftShader on a shared 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, PagesApp, runtime) of a live app with dispatch and a running runtime."""
    from werkzeug.serving import make_server

    from dashboard.runtime import build_runtime
    from twin.samples import tiny_registry

    registry = tiny_registry()
    tmp = tmp_path_factory.mktemp("working-pages")
    runtime = build_runtime(registry, tmp / "twin", restore=False)
    runtime.start()
    pa = build_pages_app(tmp / "events", runtime=runtime, registry=registry)
    srv = make_server("127.0.0.1", 0, pa.app.server, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, name="pages-web", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}", pa, runtime
    finally:
        srv.shutdown()
        runtime.stop()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(chromium_path),
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            headless=True,
        )
        try:
            yield b
        finally:
            b.close()


class User:
    """A logged-in browser context and its page."""

    def __init__(self, browser, url: str, name: str, viewport: dict) -> None:
        self.ctx = browser.new_context(
            viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        self.errors: list[str] = []
        self.page = self.ctx.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        r = self.ctx.request.post(f"{url}/api/login", data={"username": name, "password": PASSWORD})
        assert r.ok, r.text()
        self.csrf = r.json()["csrf_token"]

    def post(self, url: str, body: dict) -> int:
        """A JSON POST from inside the page (its cookies, its CSRF token); the status."""
        return self.page.evaluate(
            """async ([url, body, csrf]) => (await fetch(url, {method: "POST",
                 headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                 body: JSON.stringify(body)})).status""",
            [url, body, self.csrf],
        )


@pytest.fixture(scope="module")
def users(browser, server):
    url = server[0]
    made = {
        "op": User(browser, url, "op", DESK),
        "crew1": User(browser, url, "crew1", PHONE),
        "boss": User(browser, url, "boss", DESK),
        "mgr": User(browser, url, "mgr", DESK),
    }
    yield made
    for u in made.values():
        u.ctx.close()


@pytest.fixture(scope="module")
def ticket(server):
    """One red water ticket at junction J03, opened by the system from a warning."""
    _, pa, runtime = server
    t = pa.store.create(
        source="warning",
        type="water",
        level="red",
        grid_code="G01",
        node="J03",
        lon=113.7539,
        lat=23.0199,
        description="下穿通道积水 / flooded underpass",
        source_ref="W-browser-1",
    )
    return t


def wait_status(page, element_id: str, prefix: str) -> None:
    """Wait until a map's status element (written by renderDeck) starts with ``prefix``."""
    page.wait_for_function(
        "([id, p]) => (document.getElementById(id).textContent || '').startsWith(p)",
        arg=[element_id, prefix],
        timeout=T,
    )


def wait_until(fn, timeout_s: float = 20.0, what: str = "condition"):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_dispatcher_assigns_and_crew_page_receives_it(server, users, ticket, artifacts_dir):
    url, pa, runtime = server
    crew, op = users["crew1"], users["op"]
    crew.page.goto(f"{url}/crew")
    crew.page.wait_for_selector("#st-crew-list", timeout=T)
    crew.page.wait_for_function(
        "() => window.streettwinPages && window.streettwinPages.status === 'live'", timeout=T
    )
    assert crew.page.locator(f'.st-tcard[data-ref="{ticket.ref}"]').count() == 0

    op.page.goto(f"{url}/dispatch")
    row = op.page.locator(f'tr[data-ticket="{ticket.ref}"]')
    row.wait_for(timeout=T)
    assert row.get_attribute("data-state") == "reported"
    # a red ticket has a live countdown to its dispatch deadline
    assert op.page.locator(f'tr[data-ticket="{ticket.ref}"] [data-deadline]').count() == 1
    row.click()
    op.page.wait_for_selector("#st-dsp-suggest:has-text('K1')", timeout=T)
    op.page.click(".st-act-dispatch")
    op.page.wait_for_selector(f'tr[data-ticket="{ticket.ref}"][data-state="dispatched"]', timeout=T)
    op.page.screenshot(path=str(artifacts_dir / "dispatch_assigned.png"))

    card = crew.page.locator(f'.st-tcard[data-ref="{ticket.ref}"]')
    card.wait_for(timeout=T)
    crew.page.wait_for_function("() => (window.streettwinPages.beeps || 0) >= 1", timeout=T)
    assert crew.page.locator("#st-new").is_visible()
    wait_status(crew.page, "st-crew-map-status", "ready")
    crew.page.screenshot(path=str(artifacts_dir / "crew_new_dispatch_phone.png"), full_page=True)
    assert pa.store.get(ticket.id).crew_id == "K1"


def test_crew_resolves_offline_then_online(server, users, ticket, artifacts_dir, tmp_path):
    url, pa, _ = server
    crew, op, boss = users["crew1"], users["op"], users["boss"]
    page = crew.page
    photo = tmp_path / "site.png"
    Image.new("RGB", (64, 48), (40, 120, 200)).save(photo)

    crew.ctx.set_offline(True)
    page.wait_for_function("() => !navigator.onLine", timeout=T)
    card = f'.st-tcard[data-ref="{ticket.ref}"]'
    page.click(f"{card} button[data-action='accept']")
    page.click(f"{card} button[data-action='arrive']")
    page.fill(f"{card} textarea.st-note", "已抽排，通道恢复通行")
    page.set_input_files(f"{card} input.st-photo", str(photo))
    page.click(f"{card} button[data-action='resolve']")
    page.wait_for_function("() => window.streettwinPages.readQueue().length === 3", timeout=T)
    queued_items = page.evaluate("() => window.streettwinPages.readQueue()")
    assert [i["action"] for i in queued_items] == ["accept", "arrive", "resolve"]
    assert len({i["key"] for i in queued_items}) == 3
    assert pa.store.get(ticket.id).state == "dispatched"  # nothing reached the server
    assert page.locator("#st-offline-note").is_visible()
    page.screenshot(path=str(artifacts_dir / "crew_offline_queued_phone.png"), full_page=True)

    crew.ctx.set_offline(False)
    wait_until(lambda: pa.store.get(ticket.id).state == "resolved", what="resolve to arrive")
    page.wait_for_function("() => window.streettwinPages.readQueue().length === 0", timeout=T)
    steps = pa.store.history(ticket.id)
    assert [s.action for s in steps] == ["create", "dispatch", "accept", "arrive", "resolve"]
    assert steps[-1].note.startswith("已抽排，通道恢复通行 [photo:")
    # a replay of the same queue (a lost answer) changes nothing
    replay = [
        {"key": k["key"], "ticket_id": k["ticket_id"], "action": k["action"]} for k in queued_items
    ]
    assert crew.post(f"{url}/api/crew/sync", {"actions": replay}) == 200
    assert len(pa.store.history(ticket.id)) == 5

    # the operator sees it resolved, verifies and closes it
    row = f'tr[data-ticket="{ticket.ref}"]'
    op.page.wait_for_selector(f'{row}[data-state="resolved"]', timeout=T)
    op.page.click(row)
    op.page.wait_for_selector(".st-act-verify:not([disabled])", timeout=T)
    op.page.click(".st-act-verify")
    op.page.wait_for_selector(".st-act-close:not([disabled])", timeout=T)
    op.page.click(".st-act-close")
    op.page.wait_for_selector(f'{row}[data-state="closed"]', timeout=T)
    assert "[photo:" in op.page.inner_text("#st-dsp-history")
    op.page.screenshot(path=str(artifacts_dir / "dispatch_closed.png"))

    boss.page.goto(f"{url}/trends")
    league = boss.page.locator('#st-tr-league-table tr[data-grid="G01"]')
    league.wait_for(timeout=T)
    cells = league.locator("td").all_inner_texts()
    assert cells[2:5] == ["1", "1", "100.0%"]  # found, handled, handling rate
    boss.page.wait_for_selector("#st-tr-week .main-svg", timeout=T)
    boss.page.screenshot(path=str(artifacts_dir / "trends_leader.png"), full_page=True)


def test_leader_cannot_change_anything(server, users, ticket, artifacts_dir):
    url, pa, _ = server
    boss = users["boss"]
    before = [(s.seq, s.action) for s in pa.store.history(ticket.id)]
    other = pa.store.create(
        source="device",
        type="power",
        level="yellow",
        grid_code="G02",
        node="J05",
        source_ref="dev-browser-2",
    )
    boss.page.goto(f"{url}/dispatch")
    boss.page.wait_for_selector("#st-dsp-readonly:has-text('只读')", timeout=T)
    boss.page.click(f'tr[data-ticket="{other.ref}"]')
    boss.page.wait_for_selector("#st-dsp-suggest", timeout=T)
    buttons = boss.page.locator("#st-dsp-detail button")
    assert buttons.count() >= 6
    assert all(b.is_disabled() for b in buttons.all())
    boss.page.screenshot(path=str(artifacts_dir / "dispatch_leader_read_only.png"))
    # and straight at the server: the API, the crew sync route
    assert boss.post(f"{url}/api/tickets/{other.ref}/dispatch", {"crew_id": "K2"}) == 403
    sync = {"actions": [{"key": "x1", "ticket_id": other.ref, "action": "accept"}]}
    assert boss.post(f"{url}/api/crew/sync", sync) == 403
    boss.page.goto(f"{url}/scenarios")
    boss.page.wait_for_selector("#st-denied", timeout=T)
    boss.page.goto(f"{url}/crew")
    boss.page.wait_for_selector("#st-denied", timeout=T)
    assert pa.store.get(other.id).state == "reported"
    assert [(s.seq, s.action) for s in pa.store.history(ticket.id)] == before


def test_manager_runs_flood_scenario_and_exports_briefing(server, users, artifacts_dir):
    url, pa, runtime = server
    mgr = users["mgr"]
    events_before = json.dumps(list(runtime.events), sort_keys=True, default=str)
    tickets_before = [(t.id, t.state, t.version) for t in pa.store.list_visible(pa.actor("op"))]
    state_before = runtime.state.value.copy()

    page = mgr.page
    page.goto(f"{url}/scenarios?file=rainstorm_50y.toml")
    page.wait_for_selector("#st-sc-run", timeout=T)
    # a Chicago design storm takes a return period and a rain scale, not a fire's inputs
    assert page.is_visible("#st-sc-return") and page.is_hidden("#st-sc-f-ignition")
    assert page.get_attribute("#st-sc-return", "placeholder") == "50"
    page.fill("#st-sc-duration", "30")
    page.fill("#st-sc-scale", "1.5")
    page.click("#st-sc-run")
    page.wait_for_selector("#st-sc-status:has-text('✓')", timeout=90_000)
    reached = int(page.inner_text("#st-sc-figure-table [data-key='buildings_reached']"))
    assert reached >= 1
    # scrub to the end of the timeline: the result map redraws at that step
    page.locator("#st-sc-time [role=slider]").first.focus()
    page.keyboard.press("End")
    wait_status(page, "st-sc-map-status", "ready:scenario-6")
    # beside it, the separate baseline run (no rain) at the same time
    wait_status(page, "st-sc-map-base-status", "ready:baseline-6")
    assert page.inner_text("#st-sc-figure-table [data-base='buildings_reached']") == "0"
    page.click("#st-sc-save")
    page.wait_for_selector("#st-sc-saved:has-text('.nc')", timeout=T)
    page.screenshot(path=str(artifacts_dir / "scenario_flood_manager.png"), full_page=True)

    for lang, word in (("zh", "情景推演简报"), ("en", "Scenario briefing")):
        page.locator(f"#st-sc-brief-lang input[value='{lang}']").check()
        with page.expect_download(timeout=T) as dl:
            page.click("#st-sc-brief")
        path = artifacts_dir / f"scenario_briefing_{lang}.html"
        dl.value.save_as(str(path))
        text = path.read_text(encoding="utf-8")
        assert word in text and "data:image/png;base64," in text
        assert 'data-key="buildings_reached">' + str(reached) in text
        assert "http://" not in text and "https://" not in text  # self-contained

    # the what-if left the live twin alone
    assert json.dumps(list(runtime.events), sort_keys=True, default=str) == events_before
    assert [
        (t.id, t.state, t.version) for t in pa.store.list_visible(pa.actor("op"))
    ] == tickets_before
    assert np.array_equal(runtime.state.value, state_before, equal_nan=True)
    assert not mgr.errors, mgr.errors


def test_resident_sends_a_report_with_a_photo_through_the_form(browser, server, artifacts_dir):
    """No account: the native form posts category, place, text and a photo; the page then
    shows the receipt. A place outside the district comes back with the reason, in Chinese,
    the chosen category kept."""
    from twin.events.models import Report

    url, pa, _ = server
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    png = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(png, format="PNG")
    try:
        page.goto(f"{url}/report?lon=300&lat=23.02")
        page.wait_for_selector("#st-report-form input[type=file][name=photo]", timeout=T)
        page.select_option("select[name=category]", "gas")
        page.fill("textarea[name=text]", "燃气味道很重")
        page.click("#st-report-form button[type=submit]")
        page.wait_for_selector("#st-report-error", timeout=T)
        assert page.inner_text("#st-report-error") == "未能提交：地点不在本街道范围内"
        assert page.eval_on_selector("select[name=category]", "e => e.value") == "gas"

        page.fill("input[name=lon]", "113.75034")
        page.fill("input[name=lat]", "23.02026")
        page.fill("textarea[name=text]", "燃气味道很重")
        page.set_input_files(
            "input[name=photo]", {"name": "leak.png", "mimeType": "image/png",
                                  "buffer": png.getvalue()}
        )  # fmt: skip
        page.click("#st-report-form button[type=submit]")
        page.wait_for_selector("#st-report-receipt", timeout=T)
        assert page.inner_text("#st-report-state") == "已受理"
        page.screenshot(path=str(artifacts_dir / "report_sent_phone.png"))
        receipt = page.inner_text("#st-report-receipt")
    finally:
        ctx.close()
    with pa.store.sessions() as s:
        (r,) = s.query(Report).filter(Report.ref == receipt).all()
        assert (r.category, r.text) == ("gas", "燃气味道很重") and r.ticket_id is not None
        assert r.photo_path and r.photo_path.endswith(".png")
    assert not errors, errors


def test_pages_raised_no_script_errors(users):
    for name, u in users.items():
        assert not u.errors, (name, u.errors)


def _png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_screenshots_kept(artifacts_dir):
    names = [
        "dispatch_assigned",
        "crew_new_dispatch_phone",
        "crew_offline_queued_phone",
        "dispatch_closed",
        "trends_leader",
        "dispatch_leader_read_only",
        "scenario_flood_manager",
        "report_sent_phone",
    ]
    for n in names:
        w, h = _png_size(Path(artifacts_dir / f"{n}.png").read_bytes())
        assert w >= 300 and h >= 300
