"""The map page's layer switcher in a real browser: overlays switch on and off, legend follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.test_map_page import open_map, wait_drawn

pytestmark = pytest.mark.browser

LAYER_IDS = "() => window.streettwinDecks['st-map'].deck.props.layers.map(l => l.id)"


def test_switcher_shows_networks_and_hides_buildings(
    page_and_log, live_server, artifacts_dir: Path
):
    page, log = page_and_log
    open_map(page, live_server)
    assert page.inner_text("#st-map-status") == "ready:plain:7"  # overlays start switched off
    before = page.evaluate(LAYER_IDS)
    assert "networks" not in before and "buildings" in before

    page.locator("#st-layers-title").click()  # unfold the switcher (folded not to hide the map)
    page.get_by_label("供水供电管网").check()
    page.wait_for_function(f"({LAYER_IDS})().includes('networks')", timeout=10_000)
    page.wait_for_function("document.getElementById('st-legend').innerText.includes('供水管道')")
    networks = page.evaluate(
        """() => window.streettwinDecks['st-map'].deck.props.layers
             .filter(l => l.id === 'networks')
             .map(l => [l.props.visible, l.props.data.features.length])"""
    )
    assert networks == [[True, 6]]  # four pipes and two feeders of the tiny district

    page.get_by_label("建筑", exact=True).uncheck()
    page.wait_for_function(f"!({LAYER_IDS})().includes('buildings')", timeout=10_000)
    wait_drawn(page)
    page.screenshot(path=str(artifacts_dir / "map_layers_networks.png"))
    # values of model-driven overlays were fetched (empty here: no runtime) without errors
    page.wait_for_function("Object.keys(window.streettwinLayers.state.values).includes('networks')")

    page.get_by_label("建筑", exact=True).check()
    page.get_by_label("供水供电管网").uncheck()
    back = "ids.includes('buildings') && !ids.includes('networks')"
    page.wait_for_function(f"(() => {{ const ids = ({LAYER_IDS})(); return {back}; }})()")
    assert log.page_errors == [] and log.console_errors == [] and log.foreign_requests == []
