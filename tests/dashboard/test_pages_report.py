"""The report form renders (Dash 4 components only) and carries the CSRF token and photo slot."""

from __future__ import annotations

import json

from dash._utils import to_json

from tests.dashboard import dispatch_fixtures

registry = dispatch_fixtures.registry
dispatch_app = dispatch_fixtures.dispatch_app


def test_report_form_renders_with_token_fields_and_native_photo_input(dispatch_app):
    from dashboard.pages import report  # pages register only once an app exists

    server = dispatch_app.app.server
    with server.test_request_context("/report?lang=en"):
        tree = json.loads(to_json(report.layout(lang="en", lon="114.1", lat="22.5")))
    text = json.dumps(tree)
    props = list(_props(tree))
    names = {p["name"] for p in props if "name" in p}
    assert names == {"csrf_token", "lang", "category", "address", "lon", "lat", "text"}
    assert {p["value"] for p in props if p.get("name") in ("lon", "lat")} == {"114.1", "22.5"}
    (form,) = [p for p in props if p.get("action")]
    assert (form["action"], form["encType"]) == ("/api/reports", "multipart/form-data")
    # the page script puts a native file input named "photo" into this slot (see the browser
    # test of the form; raw HTML in dcc.Markdown is not rendered by Dash 4)
    (slot,) = [p for p in props if p.get("className") == "st-photo-slot"]
    assert (slot["data-name"], slot["data-accept"]) == ("photo", "image/jpeg,image/png")
    assert "Reports are not enabled" not in text


def _props(node):
    if isinstance(node, dict):
        if "props" in node:
            yield node["props"]
        for v in node.values():
            yield from _props(v)
    elif isinstance(node, list):
        for v in node:
            yield from _props(v)
