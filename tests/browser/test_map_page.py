"""The map page in a real browser: deck.gl draws the district offline, Chinese renders.

The tests share one loaded page (``map_page``); each leaves the map as it found it, except
the last, which switches style and language. Screenshots go to ``tests/artifacts/``
(git-ignored) for people to look at.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from twin.samples import tiny_registry

pytestmark = pytest.mark.browser

#: a pixel "changed" when its RGB channels differ by more than this in total (0–765)
PIXEL_CHANGE = 30
READY = "() => (document.getElementById('st-map-status') || {}).textContent || ''"
DRAWN = """() => {
  const entry = (window.streettwinDecks || {})['st-map'];
  if (!entry || !entry.deck.isInitialized) return false;
  const layers = entry.deck.layerManager ? entry.deck.layerManager.getLayers() : [];
  return layers.length > 0 && layers.every(l => l.isLoaded)
    && !entry.deck.needsRedraw({clearRedrawFlags: false});
}"""


@pytest.fixture(scope="module")
def map_page(page_and_log, live_server: str):
    """The map page, loaded once and drawn."""
    page, log = page_and_log
    open_map(page, live_server)
    return page, log


def wait_drawn(page) -> None:
    """Wait until deck.gl has no pending redraw, plus a frame's grace."""
    page.wait_for_function(DRAWN, timeout=30_000)
    page.wait_for_timeout(300)


def open_map(page, url: str, *, status_prefix: str = "ready:plain") -> None:
    """Load the page and wait until the deck has drawn every layer."""
    page.goto(url + "/")
    page.wait_for_function(f"({READY})().startsWith('{status_prefix}')", timeout=60_000)
    wait_drawn(page)


def map_pixels(page) -> np.ndarray:
    """The map element as an RGB array (rows, cols, 3)."""
    png = page.locator("#st-map").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def roof_points(page) -> dict[str, tuple[float, float]]:
    """Screen position (px in the map element) of each building's roof centre."""
    reg = tiny_registry()
    centroids = reg.metric("buildings").centroid.to_crs(4326)
    points = [
        [b, float(c.x), float(c.y), float(h)]
        for b, c, h in zip(
            reg.buildings["building_id"], centroids, reg.buildings["height_m"], strict=True
        )
    ]
    projected = page.evaluate(
        """(points) => {
          const deck = window.streettwinDecks['st-map'].deck;
          const viewport = deck.getViewports()[0];
          return points.map(([id, lon, lat, h]) => [id, viewport.project([lon, lat, h])]);
        }""",
        points,
    )
    return {b: (xy[0], xy[1]) for b, xy in projected}


def test_map_draws_district_offline_without_console_errors(map_page, artifacts_dir: Path) -> None:
    page, log = map_page
    page.screenshot(path=str(artifacts_dir / "map_plain_zh.png"))
    with_buildings = map_pixels(page)

    # draw the same deck without its buildings layer: pixels at the roofs must change
    page.evaluate(
        """() => {
          const entry = window.streettwinDecks['st-map'];
          const deck = entry.payload.deck;
          const layers = deck.layers.filter(l => l.id !== 'buildings');
          window.updateDeck({...deck, layers: layers}, entry.deck);
        }"""
    )
    wait_drawn(page)
    without_buildings = map_pixels(page)
    roofs_xy = roof_points(page)
    page.evaluate(
        """() => {
          const entry = window.streettwinDecks['st-map'];
          window.updateDeck(entry.payload.deck, entry.deck);
        }"""
    )
    Image.fromarray(without_buildings.astype(np.uint8)).save(
        artifacts_dir / "map_plain_no_buildings.png"
    )

    height, width, _ = with_buildings.shape
    changed = np.abs(with_buildings - without_buildings).sum(axis=2) > PIXEL_CHANGE
    roofs = {
        b: (int(x), int(y))
        for b, (x, y) in roofs_xy.items()
        if 2 <= x < width - 2 and 2 <= y < height - 2
    }
    assert len(roofs) >= 10, f"buildings off screen: {sorted(roofs)}"
    drawn = [b for b, (x, y) in roofs.items() if changed[y - 1 : y + 2, x - 1 : x + 2].all()]
    assert len(drawn) >= 0.9 * len(roofs), (
        f"no building pixels at roofs of {set(roofs) - set(drawn)}"
    )
    # the base map is drawn too: the map is not one flat colour without buildings
    assert len(np.unique(without_buildings.reshape(-1, 3), axis=0)) > 20
    # buildings cover a real share of the map, not a few stray pixels
    assert changed.mean() > 0.03

    assert log.page_errors == []
    assert log.console_errors == []
    assert log.foreign_requests == []


def test_chinese_title_renders_with_a_cjk_font(map_page) -> None:
    page, log = map_page
    assert page.inner_text("#st-title") == "StreetTwin 街道数字孪生"
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    title = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#st-title"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": title})["fonts"]
    cjk = [f for f in fonts if "CJK" in f["familyName"] or "CJK" in f.get("postScriptName", "")]
    # six Chinese glyphs (街道数字孪生) drawn from a real CJK font, not tofu boxes
    assert sum(f["glyphCount"] for f in cjk) >= 6, fonts
    assert log.console_errors == []


def test_dark_style_english_and_building_tooltip(map_page, artifacts_dir: Path) -> None:
    page, log = map_page
    wait_drawn(page)
    page.get_by_text("深色", exact=True).click()
    page.wait_for_function(f"({READY})() === 'ready:dark:7'", timeout=30_000)
    page.get_by_text("EN", exact=True).click()
    page.wait_for_function(
        "document.getElementById('st-title').textContent === 'StreetTwin street digital twin'"
    )
    wait_drawn(page)
    header = page.eval_on_selector(".st-header", "e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(20, 26, 36)"
    assert "Residential" in page.inner_text("#st-legend")

    box = page.locator("#st-map").bounding_box()
    x, y = roof_points(page)["B0001"]
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    text = tooltip.inner_text()
    assert "No. 2 Dongjiang Avenue" in text and "Levels: 6" in text
    page.screenshot(path=str(artifacts_dir / "map_dark_en.png"))
    assert log.page_errors == [] and log.console_errors == [] and log.foreign_requests == []
