"""The app factory, /api/health, the offline deck.gl route, the map page and ``serve``."""

from __future__ import annotations

import importlib
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.cli import build_parser
from dashboard.commands.serve import settings_from_args
from dashboard.deckgl import DECKGL_ROUTE, deckgl_bundle_dir, fit_view
from layers.style import DARK, css
from twin.samples import tiny_registry

URL = re.compile(r"""(?:https?|wss?):(?:\\u002f|/){2}([^/"'\s\\]+)""", re.IGNORECASE)
LOCAL_HOSTS = {"localhost", "127.0.0.1"}


@pytest.fixture(scope="module")
def app():
    return create_app(tiny_registry(), settings={"TESTING": True, "DATABASE_URL": "sqlite://"})


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def map_page(app):
    """The page module as Dash loaded it for the app (pages never import the app)."""
    return importlib.import_module("dashboard.pages.map")


def external_hosts(text: str) -> set[str]:
    """Hosts of http(s)/ws(s) URLs in ``text`` other than the local machine."""
    return {h.split(":")[0] for h in URL.findall(text)} - LOCAL_HOSTS


def test_settings_reach_flask_config(app) -> None:
    assert app.server.config["TESTING"] is True
    assert app.server.config["DATABASE_URL"] == "sqlite://"


def test_health_reports_district_and_counts(client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "district": "Dongcheng Sample Street",
        "district_zh": "东城示例街道",
        "buildings": 12,
        "sensors": 15,
        "version": metadata.version("streettwin"),
    }


def test_deckgl_bundle_served_from_installed_pydeck(client) -> None:
    response = client.get(DECKGL_ROUTE)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    body = response.get_data()
    assert len(body) > 1_000_000
    assert body == (deckgl_bundle_dir() / "index.js").read_bytes()
    assert b"createDeck" in body and b"updateDeck" in body
    assert client.get(DECKGL_ROUTE + ".map").status_code == 200


def test_vendor_route_serves_nothing_else(client) -> None:
    folder = DECKGL_ROUTE.rsplit("/", 1)[0]
    assert client.get(folder + "/extensionRequires.js").status_code == 404
    # a path escaping the folder never reaches the files (Dash answers it with its page shell)
    escaped = client.get(folder + "/..%2F__init__.py")
    assert escaped.mimetype == "text/html"
    assert b"pydeck" not in escaped.get_data()


def test_page_html_loads_deckgl_locally_and_names_no_external_host(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'src="{DECKGL_ROUTE}"' in html
    assert "streettwin_map.js" in html
    assert "StreetTwin 街道数字孪生" in html
    assert external_hosts(html) == set()


def test_url_check_sees_an_external_host() -> None:
    text = '<script src="https://cdn.example.com/x.js"></script> "http:\\u002f\\u002fa.org:80/"'
    assert external_hosts(text) == {"cdn.example.com", "a.org"}
    assert external_hosts('href="http://127.0.0.1:8050/"') == set()


def test_map_layout_carries_the_district_deck(app, map_page) -> None:
    with app.server.test_request_context("/"):
        layout = map_page.layout()
    payload = json.loads(json.dumps(layout.to_plotly_json(), default=lambda o: o.to_plotly_json()))
    text = json.dumps(payload, ensure_ascii=False)
    assert external_hosts(text) == set()
    store = _find(payload, "st-deck")["props"]["data"]
    deck = store["deck"]
    ids = [layer["id"] for layer in deck["layers"]]
    district = ["landuse", "roads", "grids", "sensor-grids", "buildings", "sensors", "warnings"]
    assert [i for i in ids if i in district] == district  # the wall's layers, in draw order
    overlays = {"flood-depth", "grid-state", "networks", "fire-arrival", "crowd-density"}
    assert overlays | {"tickets", "crews"} <= set(ids)  # the map page's switchable overlays
    assert all(
        not layer.get("visible", True) for layer in deck["layers"] if layer["id"] in overlays
    )
    assert "mapStyle" not in deck and "mapProvider" not in deck
    buildings = deck["layers"][ids.index("buildings")]["data"]["features"]
    assert len(buildings) == 12
    view = deck["initialViewState"]
    assert 113.75 < view["longitude"] < 113.754 and 23.02 < view["latitude"] < 23.022
    assert "12 栋建筑" in text and "4 个网格" in text


def test_style_callback_switches_to_the_cached_dark_deck(app, map_page) -> None:
    with app.server.test_request_context("/"):
        data, class_name = map_page.on_style("dark")
        again, _ = map_page.on_style("dark")
        fallback, _ = map_page.on_style("no-such-style")
    assert data["style"] == "dark" and class_name == "st-page st-style-dark"
    assert data["background"] == css(DARK.background)
    assert again is data  # built once per style
    assert fallback["style"] == "plain"


def test_language_callback_gives_english_texts(app, map_page) -> None:
    with app.server.test_request_context("/"):
        out = map_page.on_lang("en", "plain", ["buildings", "networks"])
    title, subtitle, style_label, options, legend, hint, layers_title, layer_options = out
    assert title == "StreetTwin street digital twin"
    assert subtitle == "Dongcheng Sample Street · 12 buildings · 4 grids · 15 sensors"
    assert style_label == "Map style"
    assert [o["label"] for o in options] == ["Plain", "Dark", "Terrain"]
    legend_text = json.dumps([c.to_plotly_json() for c in legend], default=str)
    assert "Residential" in legend_text and "River & water" in legend_text
    assert layers_title == "Layers" and len(layer_options) >= 10


def test_each_app_gets_its_own_page_callbacks() -> None:
    """Page callbacks live in a Dash-global list; a second app must not lose them."""
    first = create_app(tiny_registry(), settings={"TESTING": True})
    second = create_app(tiny_registry(), settings={"TESTING": True})
    for app in (first, second):
        deps = app.server.test_client().get("/_dash-dependencies").json
        outputs = [d["output"] for d in deps]
        assert outputs.count("st-map-status.children") == 1
        assert sum("st-deck.data" in o for o in outputs) == 1


def test_fit_view_centres_the_bounds() -> None:
    view = fit_view((113.0, 23.0, 113.02, 23.01), viewport_px=(512, 512), pitch=30)
    assert view["longitude"] == 113.01 and view["latitude"] == 23.005 and view["pitch"] == 30
    wider = fit_view((113.0, 23.0, 113.04, 23.01), viewport_px=(512, 512), pitch=30)
    assert view["zoom"] - wider["zoom"] == pytest.approx(1.0, abs=0.01)  # twice as wide


def test_serve_parser_takes_the_contract_options(monkeypatch) -> None:
    monkeypatch.delenv("STREETTWIN_WEBHOOK_URL", raising=False)
    args = build_parser().parse_args(
        ["serve", "--district", "d", "--host", "0.0.0.0", "--port", "9000", "--db", "sqlite://"]
    )
    assert (args.host, args.port) == ("0.0.0.0", 9000)
    assert settings_from_args(args) == {
        "DISTRICT_DIR": "d",
        "DATABASE_URL": "sqlite://",
        "DEVICE_PORT": None,
        "WEBHOOK_URL": None,
    }
    defaults = build_parser().parse_args(["serve", "--district", "d"])
    assert (defaults.host, defaults.port, defaults.db) == ("127.0.0.1", 8050, None)


def test_serve_command_answers_health(tmp_path: Path) -> None:
    from twin.registry_io import save_registry

    district = save_registry(tiny_registry(), tmp_path / "district")
    port = _free_port()
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", "--district", str(district)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        health = _wait_for_json(f"http://127.0.0.1:{port}/api/health", proc, timeout_s=60)
        assert health["status"] == "ok" and health["buildings"] == 12
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert f"http://localhost:{port}/" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_json(url: str, proc: subprocess.Popen, *, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no answer from {url} within {timeout_s} s")


def _find(node, component_id: str):
    """The component with ``component_id`` in a plotly-JSON layout tree."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        for value in node.get("props", {}).values():
            found = _find(value, component_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _find(item, component_id)
            if found is not None:
                return found
    return None


def test_map_opens_in_the_language_of_its_link(app, map_page) -> None:
    def text(lang: str) -> str:
        tree = map_page.layout(lang=lang).to_plotly_json()
        return json.dumps(tree, default=lambda o: o.to_plotly_json(), ensure_ascii=False)

    with app.server.test_request_context("/?lang=en"):
        en, odd = text("en"), text("xx")
    assert '"value": "en"' in en and "12 buildings" in en
    assert "12 栋建筑" in odd  # an unknown language falls back to Chinese
