"""The composition root: Dash app and pages, REST API, websocket, CLI and wiring."""
