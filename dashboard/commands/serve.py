"""``streettwin serve``: load a district and run the web app (pages, API) on one host:port."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` on the CLI."""
    p = sub.add_parser("serve", help="run the twin's web app for a district")
    p.add_argument("--district", required=True, type=Path, help="district folder")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8050, help="listen port (default 8050)")
    p.add_argument("--db", default=None, help="database URL (storage; default SQLite later)")
    p.add_argument(
        "--device-port", type=int, default=None, help="Modbus TCP port of the field devices"
    )
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> dict[str, object]:
    """App settings from the command line (the factory's ``settings``)."""
    return {
        "DISTRICT_DIR": str(args.district),
        "DATABASE_URL": args.db,
        "DEVICE_PORT": args.device_port,
    }


def run(args: argparse.Namespace) -> int:
    """Load the registry, build the app and serve it until interrupted (threaded Werkzeug)."""
    from dashboard.app import create_app
    from twin.registry_io import load_registry

    started = time.perf_counter()
    sys.stderr.write(f"loading district {args.district} ...\n")
    registry = load_registry(args.district)
    app = create_app(registry, settings=settings_from_args(args))
    log.info(
        "district %s: %d buildings loaded in %.1f s",
        registry.meta.get("name_en", ""),
        len(registry.buildings),
        time.perf_counter() - started,
    )
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
    print(f"StreetTwin is running at http://{host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    app.run(host=args.host, port=args.port, debug=False, threaded=True)
    return 0
