"""A small HTTP control channel into the simulated world of ``streettwin devices``.

The twin never talks to the world; people running a demo or an exercise do: they start a
storm, a fault or a crowd event here and watch the twin detect it through its sensors.
Loopback only by default, JSON in and out::

    POST /storm  {"total_mm": 80, "duration_min": 60, "center": [lon, lat]?}
    POST /fault  {"kind": "pipe_burst", "target": "P0001", "duration_min": 30?, ...params}
    POST /crowd  {"facility_id": "F0001", "peak_people": 5000, "duration_min": 60, "in_min": 0}
    GET  /events the world's injected storms, faults and crowd events
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _storm(world: Any, body: dict) -> dict:
    center = body.get("center")
    event = world.start_storm(
        total_mm=float(body["total_mm"]),
        duration_s=60.0 * float(body.get("duration_min", 60)),
        center=tuple(center) if center else None,
    )
    return {"event_id": event}


def _fault(world: Any, body: dict) -> dict:
    params = {k: v for k, v in body.items() if k not in ("kind", "target", "duration_min")}
    duration = body.get("duration_min")
    event = world.inject_fault(
        str(body["kind"]),
        str(body["target"]),
        duration_s=None if duration is None else 60.0 * float(duration),
        **params,
    )
    return {"event_id": event}


def _crowd(world: Any, body: dict) -> dict:
    event = world.schedule_crowd_event(
        str(body["facility_id"]),
        world.t + 60.0 * float(body.get("in_min", 0)),
        60.0 * float(body.get("duration_min", 60)),
        float(body["peak_people"]),
    )
    return {"event_id": event}


ACTIONS = {"/storm": _storm, "/fault": _fault, "/crowd": _crowd}


def make_handler(world: Any) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one world."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, obj: Any) -> None:
            data = json.dumps(obj, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/events":
                self._reply(200, world.events())
            else:
                self._reply(404, {"error": f"unknown path {self.path}"})

        def do_POST(self) -> None:  # noqa: N802
            action = ACTIONS.get(self.path)
            if action is None:
                self._reply(404, {"error": f"unknown path {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._reply(413, {"error": "body too large"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
                self._reply(200, action(world, body))
            except KeyError as exc:
                self._reply(400, {"error": f"missing field {exc.args[0]!r}"})
            except (ValueError, TypeError) as exc:
                self._reply(400, {"error": str(exc)})

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("world control: " + fmt, *args)

    return Handler


def serve_world_control(world: Any, host: str, port: int) -> ThreadingHTTPServer:
    """Start the control server in a daemon thread; returns it (``shutdown()`` to stop)."""
    server = ThreadingHTTPServer((host, port), make_handler(world))
    threading.Thread(target=server.serve_forever, name="world-control", daemon=True).start()
    return server
