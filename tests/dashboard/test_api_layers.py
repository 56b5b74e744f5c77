"""``/api/layers``: the deck served outside Dash, cached by ETag; the wall screen uses it."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from dashboard.api_layers import IMMUTABLE, REVALIDATE, WALL_STYLE, deck_url
from dashboard.app import create_app
from layers.basemap import build_grids_layer, outline_polygons, road_polygons
from layers.style import DARK, css
from twin.samples import tiny_registry

OPS_JS = Path(__file__).resolve().parents[2] / "dashboard" / "assets" / "streettwin_ops.js"
LAYER_IDS = ["landuse", "roads", "grids", "sensor-grids", "buildings", "sensors", "warnings"]


@pytest.fixture(scope="module")
def app():
    return create_app(tiny_registry(), settings={"TESTING": True})


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


def test_deck_json_carries_every_layer_with_its_data(client) -> None:
    r = client.get(deck_url("dark"))
    assert r.status_code == 200 and r.mimetype == "application/json"
    body = r.get_json()
    assert body["style"] == "dark" and body["background"] == css(DARK.background)
    deck = body["deck"]
    assert [layer["id"] for layer in deck["layers"]] == LAYER_IDS
    assert len(deck["layers"][4]["data"]["features"]) == 12  # the sample's 12 buildings
    assert len(deck["layers"][5]["data"]) == 15  # and 15 sensors
    assert "mapStyle" not in deck and "mapProvider" not in deck


def test_reload_costs_a_304_and_a_versioned_url_is_immutable(client) -> None:
    first = client.get(deck_url("dark"))
    etag = first.headers["ETag"].strip('"')
    assert first.headers["Cache-Control"] == REVALIDATE
    again = client.get(deck_url("dark"), headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304 and again.get_data() == b""
    pinned = client.get(deck_url("dark", etag))
    assert pinned.status_code == 200 and pinned.headers["Cache-Control"] == IMMUTABLE
    stale = client.get(deck_url("dark", "not-the-etag"))
    assert stale.headers["Cache-Control"] == REVALIDATE
    # another style is another document
    assert client.get(deck_url("plain")).headers["ETag"] != first.headers["ETag"]


def test_gzip_when_the_browser_accepts_it(client) -> None:
    raw = client.get(deck_url("dark")).get_data()
    packed = client.get(deck_url("dark"), headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == raw
    assert len(packed.get_data()) < len(raw) / 2


def test_one_layer_alone_and_unknown_names_are_404(client) -> None:
    buildings = client.get("/api/layers/buildings.json?style=dark").get_json()
    assert buildings["type"] == "FeatureCollection" and len(buildings["features"]) == 12
    assert client.get("/api/layers/flood.json?style=dark").status_code == 404
    assert client.get("/api/layers/deck.json?style=neon").status_code == 404


def test_wall_screen_names_the_deck_url_instead_of_carrying_geometry(app) -> None:
    import importlib

    ops = importlib.import_module("dashboard.pages.operations")
    with app.server.test_request_context("/ops"):
        layout = ops.layout()
    text = json.dumps(layout.to_plotly_json(), default=lambda o: o.to_plotly_json())
    assert '"FeatureCollection"' not in text  # no geometry in the Dash layout
    assert len(text) < 60_000
    assert deck_url(WALL_STYLE) in text
    # the page's script prefetches the same URL before Dash has rendered the layout
    js_url = re.search(r'var DECK_URL = "([^"]+)"', OPS_JS.read_text()).group(1)
    assert js_url == deck_url(WALL_STYLE)


def test_roads_are_polygons_of_their_width() -> None:
    line = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (50, 0.2), (100, 0)])], crs=32649)
    poly = road_polygons(line, np.array([10.0])).to_crs(32649).iloc[0]
    # the 0.2 m kink is simplified away (tolerance 0.5 m): a 100 m × 10 m strip plus two
    # half-octagon ends (radius 5 m, 2 segments a quarter): 1000 + 2·√2·25 = 1070.7 m²
    assert poly.area == pytest.approx(1070.7, abs=0.5)
    assert shapely.get_num_coordinates(poly) == 11


def test_grid_outlines_are_rings_with_a_per_feature_colour() -> None:
    square = gpd.GeoDataFrame(
        {"grid_id": ["G1"], "code": ["1"], "name_zh": ["一"], "name_en": ["One"]},
        geometry=[shapely.box(0, 0, 200, 100)],
        crs=32649,
    )
    ring = outline_polygons(square, 4.0).to_crs(32649).iloc[0]
    # 600 m of boundary, 4 m wide, mitred corners: 600·4 = 2400 m²
    assert ring.area == pytest.approx(2400.0, rel=1e-3)
    assert len(ring.interiors) == 1
    layer = json.loads(build_grids_layer(square.to_crs(4326), style=DARK).to_json())
    assert layer["filled"] is True and layer["stroked"] is False
    assert layer["getFillColor"] == "@@=properties.colour"
    assert layer["data"]["features"][0]["properties"]["colour"] == list(DARK.grid_line)
