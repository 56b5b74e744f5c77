"""``/api/layers/live.json`` and the map page's deck: overlay values read from the runtime."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dashboard.api_layers import map_deck
from dashboard.app import create_app
from dashboard.context import CONFIG_KEY
from twin.samples import tiny_registry

OVERLAYS = ["flood-depth", "grid-state", "networks", "fire-arrival", "crowd-density"]
OVERLAYS += ["tickets", "crews"]


@pytest.fixture(scope="module")
def app():
    return create_app(tiny_registry(), settings={"TESTING": True})


def fake_runtime(reg):
    """A runtime whose warning service holds a nowcast result (no threads, no models run)."""
    depth = np.zeros(reg.dem.shape)
    depth[5, 5] = 0.4
    nowcaster = SimpleNamespace(
        flood=SimpleNamespace(grid=reg.dem, model=SimpleNamespace(depth=depth), depth_scale=1.0),
        _fire=SimpleNamespace(ids=np.array(["B0001", "B0002"]), arrival_time_s=[0.0, 1500.0]),
        _fire_t0=1000.0,
        latest={
            "crowd": {"density": {"F03": 6.0}},
            "utility": {"open": [{"kind": "pipe_burst", "target": "P02", "cleared_at": None}]},
        },
    )
    store = SimpleNamespace(active=lambda: [{"area_id": "G02", "level": 4}])
    service = SimpleNamespace(current_nowcaster=nowcaster, store=store, clock=lambda: 1300.0)
    return SimpleNamespace(warnings=service)


def test_without_a_runtime_every_overlay_is_present_and_empty(app) -> None:
    body = app.server.test_client().get("/api/layers/live.json").get_json()
    layers = body["layers"]
    assert set(layers) == set(OVERLAYS)
    assert layers["flood-depth"]["wet_cells"] == 0
    assert layers["tickets"]["data"] == [] and layers["networks"]["items"] == {}


def test_live_values_come_from_the_warning_services_nowcast(app) -> None:
    ctx = app.server.config[CONFIG_KEY]
    ctx.runtime = fake_runtime(ctx.registry)
    try:
        r = app.server.test_client().get("/api/layers/live.json?layers=flood-depth,fire-arrival,"
                                         "crowd-density,networks,grid-state")  # fmt: skip
    finally:
        ctx.runtime = None
    assert r.headers["Cache-Control"] == "no-store"
    layers = r.get_json()["layers"]
    assert layers["flood-depth"]["wet_cells"] == 1 and layers["flood-depth"]["max_depth_m"] == 0.4
    # 300 s after the first ignition: B0001 burns, B0002 is reached in 1200 s = 20 min
    fire = layers["fire-arrival"]["items"]
    assert fire["B0001"]["band"] == 0 and fire["B0002"] == {
        "band": 1, "min": 20.0, "c": [230, 159, 0, 235],
    }  # fmt: skip
    assert layers["crowd-density"]["items"]["F03"]["los"] == "F"  # 6 p/m² standing
    assert layers["networks"]["items"]["P02"]["c"] == [213, 94, 0, 255]
    assert layers["grid-state"]["items"] == {"G02": {"level": "red", "c": [215, 25, 32, 255]}}


def test_map_deck_adds_hidden_overlays_to_the_district_deck(app) -> None:
    ctx = app.server.config[CONFIG_KEY]
    deck = map_deck(ctx, "terrain")
    layers = {e["id"]: e for e in deck["deck"]["layers"]}
    assert layers["hillshade"].get("visible", True) is True
    assert layers["flood-depth"]["visible"] is False and layers["tickets"]["visible"] is False
    assert "visible" not in layers["buildings"]
    assert deck["live"] == OVERLAYS
    # the wall screen's deck is unchanged: the district's own seven layers
    assert len(ctx.deck("terrain")["deck"]["layers"]) == 7
