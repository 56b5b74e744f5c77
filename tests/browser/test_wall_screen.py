"""The wall screen (/ops) in a real browser against a real live stack (Modbus devices → twin).

One page is loaded once (the deck.gl bundle is slow to parse on SwiftShader) and the tests run
in order on it; the last one stops the live hub, so it must stay last. Screenshots at both
wall sizes go to ``tests/artifacts/``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM_ARGS
from twin.samples import tiny_registry

pytestmark = pytest.mark.browser

WALL_HD = {"width": 1920, "height": 1080}
WALL_4K = {"width": 3840, "height": 2160}
MAP_BACKGROUND = (14, 18, 26)  # layers.style.DARK.background
LIVE = "() => window.streettwinLive && window.streettwinLive.state.status === 'live'"


@pytest.fixture(scope="module")
def stack():
    from dashboard.livestack import start_live_stack

    s = start_live_stack(tiny_registry())
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def wall(chromium_path: Path, tmp_path_factory, stack):
    """(page, log) of /ops at 1920×1080, drawn and live."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("wall-profile")
    log: dict[str, list[str]] = {"console": [], "page": [], "foreign": []}
    local = urlsplit(stack.url).netloc
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium_path),
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            headless=True,
            viewport=WALL_HD,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and log["console"].append(m.text))
        page.on("pageerror", lambda e: log["page"].append(str(e)))

        def on_request(request) -> None:
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != local:
                log["foreign"].append(request.url)

        page.on("request", on_request)
        page.goto(stack.url + "/ops")
        page.wait_for_function(
            "window.streettwinLive && window.streettwinLive.state.firstPaintAt !== null",
            timeout=60_000,
        )
        page.wait_for_function(LIVE, timeout=20_000)
        page.wait_for_function(
            "window.streettwinLive.counts()[0] >= 10", timeout=20_000
        )  # polled sensors read GOOD
        try:
            yield page, log
        finally:
            context.close()


def map_rgb(page) -> np.ndarray:
    png = page.locator("#ops-map").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def roof_points(page) -> list[tuple[float, float]]:
    reg = tiny_registry()
    c = reg.metric("buildings").centroid.to_crs(4326)
    pts = [
        [float(p.x), float(p.y), float(h)]
        for p, h in zip(c, reg.buildings["height_m"], strict=True)
    ]
    return page.evaluate(
        """(pts) => {
          const deck = window.streettwinLive.state.entries['ops-map'].entry.deck;
          const vp = deck.getViewports()[0];
          return pts.map(p => vp.project(p).slice(0, 2));
        }""",
        pts,
    )


def test_wall_screen_draws_the_district_live_with_no_console_errors(wall, artifacts_dir) -> None:
    page, log = wall
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "wall_1920x1080_zh.png"))
    rgb = map_rgb(page)
    h, w, _ = rgb.shape
    roofs = [(int(x), int(y)) for x, y in roof_points(page) if 2 <= x < w - 2 and 2 <= y < h - 2]
    assert len(roofs) >= 10
    background = np.array(MAP_BACKGROUND)
    drawn = [
        (x, y) for x, y in roofs if (np.abs(rgb[y, x] - background).sum() > 40)
    ]  # a roof pixel is not the empty map colour
    assert len(drawn) >= 0.9 * len(roofs)
    # KPI tiles show live counts; parts not wired yet say so instead of a fake zero
    assert int(page.inner_text("#ops-kpi-live-value")) >= 10
    assert page.inner_text("#ops-kpi-tickets-value") == "—"
    assert page.inner_text("#ops-kpi-tickets-note") == "未接入"
    assert "实时连接" in page.inner_text("#ops-conn")
    assert page.locator("#ops-stale-banner").is_hidden()
    # the clock is +08:00 local time
    assert page.inner_text("#ops-clock").endswith("+08:00")
    assert log["page"] == [] and log["console"] == [] and log["foreign"] == []


def test_ticket_and_exposure_tiles_show_the_servers_counts_when_wired(wall) -> None:
    """The tiles read /api/live/status: this stack has no event store (null → "—" and 未接入);
    the same page given counts (as a twin with dispatch and warnings answers) shows them."""
    page, log = wall
    polls = page.evaluate("window.streettwinOps.kpiPolls || 0")
    assert polls >= 1  # polled on start
    assert page.evaluate("window.streettwinOps.kpi.tickets_open") is None
    counts = {"tickets_open": 1234, "tickets_overdue": 3, "people_warned": 456}

    def answer(route):
        body = route.fetch().json()
        body["kpi"].update(counts)
        route.fulfill(json=body)

    page.route("**/api/live/status", answer)
    try:
        page.evaluate("window.streettwinOps.pollStatus()")
        page.wait_for_function(f"window.streettwinOps.kpiPolls > {polls}")
        assert page.inner_text("#ops-kpi-tickets-value") == "1,234"
        assert page.inner_text("#ops-kpi-overdue-value") == "3"
        assert page.inner_text("#ops-kpi-people-value") == "456"
        assert page.inner_text("#ops-kpi-tickets-note") == ""
        classes = page.evaluate(
            "['tickets', 'overdue'].map(k => document.getElementById('ops-kpi-' + k).className)"
        )
        assert "ops-nw" not in classes[0] and "ops-alarm" not in classes[0]
        assert "ops-alarm" in classes[1]  # overdue tickets are an alarm colour
    finally:
        page.unroute("**/api/live/status")
    page.evaluate("window.streettwinOps.pollStatus()")
    page.wait_for_function(f"window.streettwinOps.kpiPolls > {polls + 1}")
    assert page.inner_text("#ops-kpi-tickets-value") == "—"
    assert page.inner_text("#ops-kpi-tickets-note") == "未接入"
    assert "ops-nw" in page.evaluate("document.getElementById('ops-kpi-overdue').className")
    assert log["page"] == [] and log["console"] == []


def test_a_register_changed_at_a_modbus_device_shows_within_2_s(wall, stack) -> None:
    page, _ = wall
    before = int(page.inner_text("#ops-kpi-alarm-value"))
    started = time.perf_counter()
    stack.set_value("SN004", 0.42)  # road water 42 cm: above the 15 cm alarm line
    page.wait_for_function(
        """() => {
          const S = window.streettwinLive.state, i = S.pointIndex['SN004'];
          return Math.abs(S.value[i] - 0.42) < 1e-3 && S.lastPaint
            && S.lastPaint.version >= S.version - 1;
        }""",
        timeout=5_000,
        polling=20,
    )
    elapsed = time.perf_counter() - started
    page.wait_for_function(
        f"Number(document.getElementById('ops-kpi-alarm-value').textContent) === {before + 1}",
        timeout=2_000,
    )
    assert elapsed < 2.0, f"register change took {elapsed:.2f} s to reach the wall screen"
    state = page.evaluate(
        "() => { const S = streettwinLive.state; return S.states[S.pointIndex['SN004']]; }"
    )
    assert state == 3  # alarm


def test_a_new_red_warning_flies_to_it_and_raises_the_alert(wall, stack, artifacts_dir) -> None:
    page, log = wall
    sensors = tiny_registry().sensors
    target = sensors.loc[sensors["sensor_id"] == "SN009"].geometry.iloc[0]
    stack.runtime.publish_event(
        {
            "type": "warning",
            "id": "W-TEST-1",
            "hazard": "flood",
            "level": "red",
            "area_id": "G04",
            "lon": target.x,
            "lat": target.y,
            "headline_zh": "东江大道严重积水，请立即疏散",
            "headline_en": "Severe ponding on Dongjiang Avenue, evacuate now",
            "issued": time.time(),
        }
    )
    alert = page.locator("#ops-alert")
    alert.wait_for(state="visible", timeout=5_000)
    assert "ops-alert-red" in alert.get_attribute("class")
    assert "红色预警" in alert.inner_text() and "东江大道严重积水" in alert.inner_text()
    assert page.inner_text("#ops-warn-red") == "1"
    assert "红色预警" in page.inner_text("#ops-ticker")
    assert "洪涝 · 网格 G04" in alert.inner_text()  # no area name in this event: the grid code
    # a street-wide rainstorm, named by the engine: its hazard and area read in Chinese
    stack.runtime.publish_event(
        {"type": "warning", "id": "W-TEST-2", "hazard": "rainstorm", "level": "orange",
         "area_id": "S01", "area_name_zh": "示例街道", "area_name_en": "Sample Street",
         "headline_zh": "示例街道暴雨橙色预警", "headline_en": "Orange rainstorm warning",
         "issued": time.time()}
    )  # fmt: skip
    page.wait_for_function(
        "document.getElementById('ops-ticker').innerText.includes('示例街道暴雨橙色预警')",
        timeout=5_000,
    )  # the red alert stays up (more severe); the ticker lists both
    tick = page.locator(".ops-tick-orange").inner_text()
    assert "暴雨 · 示例街道 · 示例街道暴雨橙色预警" in tick
    assert "rainstorm" not in tick and "网格" not in tick
    ops = page.evaluate("() => window.streettwinOps")
    assert ops["alerts"] >= 1 and ops["beeps"] >= 1
    assert ops["lastFlyTo"]["id"] == "W-TEST-1"
    page.wait_for_timeout(3_000)  # the fly-to transition lasts 2.5 s
    centre = page.evaluate(
        """() => { const vp = streettwinLive.state.entries['ops-map'].entry.deck.getViewports()[0];
                   return [vp.longitude, vp.latitude, vp.zoom]; }"""
    )
    assert abs(centre[0] - target.x) < 1e-4 and abs(centre[1] - target.y) < 1e-4
    page.screenshot(path=str(artifacts_dir / "wall_1920x1080_red_alert.png"))
    page.click("#ops-ack-btn")
    assert alert.is_hidden()
    assert log["page"] == [] and log["console"] == []


def test_clicking_a_sensor_opens_its_card_with_last_hour_sparkline(wall) -> None:
    page, _ = wall
    xy = page.evaluate(
        """() => { const S = streettwinLive.state, p = S.points[S.pointIndex['SN004']].p;
                   const vp = S.entries['ops-map'].entry.deck.getViewports()[0];
                   return vp.project(p).slice(0, 2); }"""
    )
    box = page.locator("#ops-map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    card = page.locator("#ops-card")
    card.wait_for(state="visible", timeout=5_000)
    text = card.inner_text()
    assert "SN004" in text and "42 cm" in text and "网格" in text
    assert page.locator("#ops-card polyline").count() == 1
    page.click(".st-card-close")


def test_replay_slider_shows_the_past_then_returns_to_live(wall) -> None:
    page, _ = wall
    page.evaluate(
        """() => { const s = document.getElementById('ops-slider'); s.value = -1;
                   s.dispatchEvent(new Event('input', {bubbles: true})); }"""
    )
    badge = page.locator("#ops-replay-badge")
    badge.wait_for(state="visible", timeout=5_000)
    assert badge.inner_text().startswith("回放")
    assert page.evaluate("() => streettwinLive.state.replay !== null")
    page.click("#ops-live-btn")
    assert badge.is_hidden()
    assert page.evaluate("() => streettwinLive.state.replay === null")


def test_english_switch_and_chinese_glyphs(wall) -> None:
    page, _ = wall
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#ops-title"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cjk = sum(f["glyphCount"] for f in fonts if "CJK" in f["familyName"])
    assert cjk >= 8, fonts  # 东城示例街道 + 城市运行指挥大屏, from a real CJK font
    page.click("#ops-lang-btn")
    assert "Operations wall" in page.inner_text("#ops-title")
    assert "Red warning" in page.inner_text("#ops-kpi-warnings")
    assert page.inner_text("#ops-kpi-tickets-note") == "not wired yet"
    # every header control stays on one line (the narrow "中文" button used to break in two)
    heights = page.eval_on_selector_all(
        ".ops-controls button", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and max(heights) < 1.6 * min(heights), heights
    page.keyboard.press("Tab")  # controls are reachable by keyboard
    page.click("#ops-lang-btn")
    assert "城市运行指挥大屏" in page.inner_text("#ops-title")


def test_4k_layout_scales_text_and_keeps_everything_on_screen(wall, artifacts_dir) -> None:
    page, _ = wall
    size_hd = page.eval_on_selector(
        "#ops-kpi-live-value", "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    page.set_viewport_size(WALL_4K)
    page.wait_for_timeout(1_000)
    page.screenshot(path=str(artifacts_dir / "wall_3840x2160_zh.png"))
    size_4k = page.eval_on_selector(
        "#ops-kpi-live-value", "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert 1.8 < size_4k / size_hd < 2.2
    bottom = page.eval_on_selector(".ops-bottom", "e => e.getBoundingClientRect().bottom")
    assert bottom <= WALL_4K["height"] + 1  # ticker and slider are on screen, not cut off
    assert page.locator("#ops-slider").bounding_box()["width"] > 300
    page.set_viewport_size(WALL_HD)


def test_stale_banner_appears_when_the_websocket_drops(wall, stack) -> None:
    """Must stay last: it stops the live hub."""
    page, _ = wall
    banner = page.locator("#ops-stale-banner")
    assert banner.is_hidden()
    stack.runtime.hub.stop()  # the server closes every websocket and accepts no new stream
    banner.wait_for(state="visible", timeout=10_000)
    assert "停止更新" in banner.inner_text()
    assert "连接中断" in page.inner_text("#ops-conn")
