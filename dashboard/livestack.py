"""A whole live twin in one process for browser tests and ``bench ui``: devices, poller, web.

:func:`start_live_stack` starts simulated Modbus field devices (:class:`sim.devices.FieldDevices`)
whose values the caller changes in a plain numpy array, a runtime polling them, and the web
app on a free loopback port (threaded Werkzeug). This is the real path of a reading:
register → Modbus TCP → poller → ingest → state → ``/ws/live`` → browser.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: device tick and poll period used by the stack, s (fast, so a change shows within 2 s)
STACK_TICK_S = 0.1
STACK_POLL_S = 0.5


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveStack:
    """Handles of a running stack; :meth:`stop` ends everything it started."""

    url: str
    runtime: Any
    values: np.ndarray  # SI values served by the devices, aligned with ``regmap.sensor_ids``
    regmap: Any
    _server: Any = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _devices: Any = None

    def set_value(self, sensor_id: str, value_si: float) -> None:
        """Change what a device register serves (the next tick encodes it)."""
        idx = int(np.flatnonzero(np.asarray(self.regmap.sensor_ids) == sensor_id)[0])
        self.values[idx] = value_si

    def stop(self) -> None:
        self._server.shutdown()
        self.runtime.stop()
        if self._loop is not None and self._devices is not None:
            fut = asyncio.run_coroutine_threadsafe(self._devices.stop(), self._loop)
            try:
                fut.result(timeout=5)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
        for t in self._threads:
            t.join(timeout=5)


def start_live_stack(registry: Any, *, with_devices: bool = True) -> LiveStack:
    """Start devices (optional), runtime and web app for ``registry``; returns the handles.

    Initial values are 0 (in range for every field), so every sensor reads GOOD once polled.
    """
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dashboard.runtime import build_runtime
    from sim.registermap_gen import generate_register_map

    runtime = build_runtime(registry, tempfile.mkdtemp(prefix="streettwin-ui-"), restore=False)
    regmap = generate_register_map(registry.sensors, port=free_port(), poll_interval_s=STACK_POLL_S)
    values = np.zeros(len(regmap.sensor_ids))
    stack = LiveStack(url="", runtime=runtime, values=values, regmap=regmap)
    if with_devices:
        from sim.devices import FieldDevices

        devices = FieldDevices(regmap, lambda now: values.copy(), tick_s=STACK_TICK_S)
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run_devices() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(devices.start())
            started.set()
            loop.run_forever()

        t = threading.Thread(target=run_devices, name="field-devices", daemon=True)
        t.start()
        started.wait(10)
        stack._loop, stack._devices = loop, devices
        stack._threads.append(t)
        runtime.attach_modbus(regmap)
    runtime.start()
    app = create_app(registry, settings={"TESTING": True}, runtime=runtime)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    t = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    t.start()
    stack._server = server
    stack._threads.append(t)
    stack.url = f"http://127.0.0.1:{server.server_port}"
    return stack
