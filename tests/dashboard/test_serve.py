"""``streettwin serve`` as a real process: gunicorn, one worker with threads, clean stops.

The server is started as operators start it (``python -m dashboard.cli serve``) on a saved
sample district and spoken to over real sockets: HTTP, the live websocket, a pushed reading.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import simple_websocket

from dashboard.livestack import free_port
from twin.registry_io import save_registry
from twin.samples import tiny_registry

READY = "StreetTwin is running at"


class Served:
    """A ``serve`` process and its output files."""

    def __init__(self, district: Path, port: int, out: Path) -> None:
        self.port, self.out = port, out
        self.stdout, self.stderr = out / "stdout.txt", out / "stderr.txt"
        cmd = [sys.executable, "-m", "dashboard.cli", "serve", "--district", str(district)]
        cmd += ["--port", str(port), "--threads", "8"]
        with self.stdout.open("ab") as o, self.stderr.open("ab") as e:
            self.proc = subprocess.Popen(cmd, stdout=o, stderr=e, env={**os.environ})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def wait_ready(self, count: int = 1, timeout: float = 90.0) -> None:
        """Wait until the worker has announced itself ``count`` times and answers."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.output()
            if self.stdout.read_text().count(READY) >= count:
                try:
                    if requests.get(f"{self.url}/api/health", timeout=2).ok:
                        return
                except requests.ConnectionError:
                    pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not start:\n{self.output()}")

    def worker_pid(self) -> int:
        kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        assert len(kids) == 1, kids  # one worker holds the live state
        return int(kids[0])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture()
def district(tmp_path):
    registry = tiny_registry()
    return save_registry(registry, tmp_path / "district"), registry


def _push(served: Served, district: Path, sensor: str, value: float) -> dict:
    token = (district / "run" / "ingest.token").read_text().strip()
    body = {
        "readings": [
            {"sensor_id": sensor, "value": value, "observed_at": datetime.now(UTC).isoformat()}
        ]
    }
    res = requests.post(
        f"{served.url}/api/readings",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert res.status_code == 200, res.text
    return res.json()


def test_serve_runs_on_gunicorn_keeps_readings_across_worker_crash_and_restart(district, tmp_path):
    path, registry = district
    sensor = registry.sensors.loc[registry.sensors["kind"] == "river_level", "sensor_id"].iloc[0]
    port = free_port()
    served = Served(path, port, tmp_path)
    try:
        served.wait_ready()
        res = requests.get(f"{served.url}/api/health", timeout=5)
        assert res.headers["Server"].startswith("gunicorn")
        assert res.json()["buildings"] == len(registry.buildings)
        assert "development server" not in served.output()

        # the live map's websocket is served by the same worker
        ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/ws/live")
        try:
            hello = ws.receive(timeout=10)
        finally:
            ws.close()
        assert json.loads(hello) == {"type": "hello", "sensors": len(registry.sensors)}

        assert _push(served, path, sensor, 3.25)["accepted"] == 1

        # a report placed on the map runs a parallel (OpenMP) numba query in the worker: it
        # must not stop it (a pool started in gunicorn's master before the fork would)
        worker = served.worker_pid()
        spot = registry.buildings.geometry.representative_point().iloc[0]
        report = {"category": "water", "text": "积水", "lon": spot.x, "lat": spot.y}
        res = requests.post(f"{served.url}/api/reports", json=report, timeout=30)
        assert res.status_code == 201, res.text
        time.sleep(2.0)
        assert served.worker_pid() == worker
        assert requests.get(f"{served.url}/api/health", timeout=5).ok
        assert "fork() called" not in served.output()

        # a crashed worker is replaced; what was acknowledged before the crash is still there
        os.kill(served.worker_pid(), signal.SIGKILL)
        served.wait_ready(count=2)
        one = requests.get(f"{served.url}/api/sensors/{sensor}", timeout=5).json()
        assert one["value"] == pytest.approx(3.25)
        assert _push(served, path, sensor, 3.5)["accepted"] == 1

        # SIGTERM stops the worker's threads and stores, and the server exits cleanly
        assert served.stop() == 0
        assert "twin stopped: workers joined, stores closed" in served.output()
    finally:
        served.stop()

    again = Served(path, port, tmp_path)
    try:
        again.wait_ready(count=3)
        one = requests.get(f"{again.url}/api/sensors/{sensor}", timeout=5).json()
        assert one["value"] == pytest.approx(3.5)
    finally:
        again.stop()


def test_serve_reports_a_missing_district_before_starting_a_server(tmp_path):
    port = free_port()
    res = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "serve", "--district", str(tmp_path / "none")]
        + ["--port", str(port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2
    assert f"cannot serve {tmp_path / 'none'}" in res.stderr
    assert "district.gpkg does not exist" in res.stderr
    assert "Traceback" not in res.stderr
    assert "gunicorn" not in res.stderr.lower()
