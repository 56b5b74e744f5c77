"""``streettwin serve``: load a district and run the web app (pages, API) on one host:port.

The app runs in one gunicorn worker with threads (``gthread``), as shared/architecture.md asks:
one process holds the twin (ingest, models, web), so it keeps one live state. Everything is
loaded and started in the worker, after gunicorn's fork: threads do not survive a fork, and
numba's OpenMP pool must not either (a parallel model call in a child of a process that
already started the pool stops that child with SIGTERM, "fork() called from a process already
using GNU OpenMP"; loading a registry runs one, its spatial check). So gunicorn's master only
checks that the district exists; a district that exists but cannot be read stops the server
(exit status 4) with the reason, instead of a worker restarting forever. If the worker dies,
gunicorn starts a new one, which reopens the durable stores. ``--server werkzeug`` runs
Flask's development server instead (one process, for debugging).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` on the CLI."""
    p = sub.add_parser("serve", help="run the twin's web app for a district")
    p.add_argument(
        "--district",
        required=True,
        help="district folder, or a postgresql+psycopg:// URL of a registry on PostGIS",
    )
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8050, help="listen port (default 8050)")
    p.add_argument("--db", default=None, help="database URL (storage; default SQLite later)")
    p.add_argument(
        "--device-port", type=int, default=None, help="Modbus TCP port of the field devices"
    )
    p.add_argument("--map", type=Path, default=None, help="register-map folder to poll")
    p.add_argument(
        "--data-dir", type=Path, default=None, help="durable state folder (default DIR/run)"
    )
    p.add_argument(
        "--server",
        choices=("gunicorn", "werkzeug"),
        default="gunicorn",
        help="web server: gunicorn (default; one worker with threads) or werkzeug (development)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=64,
        help="gunicorn request threads (default 64); each open live-map websocket keeps one",
    )
    p.add_argument(
        "--demo-accounts",
        action="store_true",
        help="on an event store with no accounts, add demo crews and accounts (make demo)",
    )
    p.set_defaults(func=run)


def _shown(district: str) -> str:
    """The district as it may be printed: a database URL without its password."""
    from twin.registry_pg import is_postgres_url

    if not is_postgres_url(district):
        return str(district)
    from sqlalchemy.engine import make_url

    return make_url(str(district)).render_as_string(hide_password=True)


def settings_from_args(args: argparse.Namespace) -> dict[str, object]:
    """App settings from the command line (the factory's ``settings``)."""
    return {
        "DISTRICT_DIR": _shown(args.district),
        "DATABASE_URL": args.db,
        "DEVICE_PORT": args.device_port,
        "WEBHOOK_URL": os.environ.get("STREETTWIN_WEBHOOK_URL") or None,
    }


def ingest_token(data_dir: Path) -> str:
    """The push-ingestion bearer token: ``STREETTWIN_INGEST_TOKEN`` or a generated file."""
    token = os.environ.get("STREETTWIN_INGEST_TOKEN", "")
    if token:
        return token
    path = data_dir / "ingest.token"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def register_map_for(args: argparse.Namespace, registry):
    """The register map to poll: ``--map``, else generated for ``--device-port``, else None."""
    if args.map is not None:
        from twin.registermap import load_register_map

        return load_register_map(args.map)
    if args.device_port is not None:
        from sim.registermap_gen import generate_register_map

        return generate_register_map(registry.sensors, port=args.device_port)
    return None


def _seed_demo(db: str | None, registry, data_dir: Path) -> None:
    from dashboard.demo_accounts import DEMO_ACCOUNTS, seed_demo
    from twin.events.db import sqlite_url

    password = seed_demo(db or sqlite_url(data_dir / "events.sqlite"), registry, data_dir)
    if password is not None:
        names = ", ".join(f"{n} ({r})" for n, r in DEMO_ACCOUNTS.items())
        print(f"demo accounts {names}; password {password} (kept in {data_dir}/demo-accounts.txt)",
              flush=True)  # fmt: skip


def start_twin(args: argparse.Namespace, registry, data_dir: Path):
    """Wire and start the runtime and its workers; returns the app and a function to stop them."""
    from dashboard.app import create_app
    from dashboard.inspection_scheduler import start_inspection_scheduler
    from dashboard.runtime import build_runtime
    from dashboard.sla_scanner import start_sla_scanner
    from dashboard.warning_service import attach_warning_service

    runtime = build_runtime(registry, data_dir, ingest_token=ingest_token(data_dir))
    regmap = register_map_for(args, registry)
    if regmap is not None:
        runtime.attach_modbus(regmap)
    settings = settings_from_args(args)
    attach_warning_service(runtime, settings)  # nowcasts and warnings, started with the runtime
    if getattr(args, "demo_accounts", False):
        _seed_demo(args.db, registry, Path(data_dir))
    runtime.start()
    app = create_app(registry, settings=settings, runtime=runtime)
    inspections = start_inspection_scheduler(app)  # graded patrol rounds, on schedule
    sla = start_sla_scanner(app)  # reminders and escalations when time limits fall due

    def stop() -> None:
        for worker in (inspections, sla):
            if worker is not None:
                worker.stop()
        runtime.stop()
        log.info("twin stopped: workers joined, stores closed")

    return app, stop


def _announce(args: argparse.Namespace) -> None:
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
    print(f"StreetTwin is running at http://{host}:{args.port}/  (Ctrl+C to stop)", flush=True)


def gunicorn_options(args: argparse.Namespace) -> dict[str, object]:
    """gunicorn settings for ``serve``: one worker with threads, errors to stderr, no access log."""
    return {
        "bind": f"{args.host}:{args.port}",
        "workers": 1,  # one process holds the live state (shared/architecture.md)
        "worker_class": "gthread",
        "threads": max(int(args.threads), 4),
        # the worker's main thread answers the master's heartbeat; model runs happen in other
        # threads, but a long GIL-holding stretch must not get a healthy worker killed
        "timeout": 120,
        "graceful_timeout": 5,  # open websockets are closed after this on a stop
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "streettwin-serve",
    }


def _load(args: argparse.Namespace):
    """The district's registry (errors: :class:`twin.registry_io.RegistryError` and others)."""
    from twin.registry_pg import load_any

    started = time.perf_counter()
    registry = load_any(args.district)
    log.info(
        "district %s: %d buildings loaded in %.1f s",
        registry.meta.get("name_en", ""),
        len(registry.buildings),
        time.perf_counter() - started,
    )
    return registry


def _serve_gunicorn(args: argparse.Namespace, data_dir: Path) -> int:
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter

    stops: list = []

    def worker_exit(server, worker) -> None:  # in the worker process, as it ends
        while stops:
            stops.pop()()

    class TwinServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in {**gunicorn_options(args), "worker_exit": worker_exit}.items():
                self.cfg.set(key, value)

        def load(self):  # in the worker, after the fork
            try:
                registry = _load(args)
            except Exception as exc:  # unreadable district: stop rather than restart forever
                sys.stderr.write(f"cannot serve {_shown(args.district)}: {exc}\n")
                sys.stderr.flush()
                sys.exit(Arbiter.APP_LOAD_ERROR)
            app, stop = start_twin(args, registry, data_dir)
            stops.append(stop)
            log.info("serving with gunicorn (%d threads)", self.cfg.threads)
            _announce(args)
            return app.server

    TwinServer().run()  # returns only through SystemExit, with gunicorn's exit status
    return 0


def run(args: argparse.Namespace) -> int:
    """Serve the district's app with gunicorn (or Werkzeug) until stopped."""
    from twin.registry_io import RegistryError, district_gpkg
    from twin.registry_pg import is_postgres_url

    sys.stderr.write(f"loading district {_shown(args.district)} ...\n")
    if is_postgres_url(args.district) and args.data_dir is None:
        sys.stderr.write("a registry URL needs --data-dir (the folder for logs and results)\n")
        return 2
    data_dir = Path(args.data_dir or Path(args.district) / "run")
    try:
        if not is_postgres_url(args.district):
            district_gpkg(args.district)  # exists: checked before any server starts
        if args.server == "gunicorn":
            return _serve_gunicorn(args, data_dir)
        registry = _load(args)
    except RegistryError as exc:
        sys.stderr.write(f"cannot serve {_shown(args.district)}: {exc}\n")
        return 2
    app, stop = start_twin(args, registry, data_dir)
    _announce(args)
    try:
        app.run(host=args.host, port=args.port, debug=False, threaded=True)
    finally:
        stop()
    return 0
