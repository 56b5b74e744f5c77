"""``streettwin demo``: start the field devices and the twin together, as the Procfile does."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``demo`` on the CLI."""
    p = sub.add_parser("demo", help="run the field devices and the twin (make demo)")
    p.add_argument("--district", required=True, type=Path, help="district folder")
    p.add_argument("--host", default="127.0.0.1", help="web host")
    p.add_argument("--port", type=int, default=8050, help="web port")
    p.add_argument("--device-port", type=int, default=5020, help="Modbus TCP port of the devices")
    p.add_argument("--db", default=None, help="database URL (default: SQLite in the district)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start ``devices`` as a child process, then ``serve`` in this one; stop both together."""
    exe = [sys.executable, "-m", "dashboard.cli"]
    devices = subprocess.Popen(
        [*exe, "devices", "--district", str(args.district), "--host", "127.0.0.1"]
        + ["--port", str(args.device_port)]
    )
    time.sleep(1.0)
    if devices.poll() is not None:
        sys.stderr.write("field devices failed to start; see the messages above\n")
        return 1
    serve = [*exe, "serve", "--district", str(args.district), "--host", args.host]
    serve += ["--port", str(args.port), "--device-port", str(args.device_port), "--demo-accounts"]
    if args.db:
        serve += ["--db", args.db]
    twin = subprocess.Popen(serve)

    def stop(*_: object) -> None:
        for proc in (twin, devices):
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while twin.poll() is None and devices.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for proc in (twin, devices):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return twin.returncode or 0
