"""The dispatch side of a serving twin: ticket store, accounts, reports in, events → tickets.

:func:`build_dispatch` wires it from the app settings (``DATABASE_URL``: a URL, or None for the
default SQLite file ``events.sqlite`` in the runtime's data folder); :func:`install_dispatch`
adds the login and dispatch routes and subscribes to the runtime's events, so that a
``device_offline`` or ``warning`` event opens a ticket in the right grid (deduplicated by
``source_ref`` while one is open).
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dashboard.ticket_feed import publish_ticket
from twin.events.crews import CrewInfo, load_crews
from twin.events.db import make_engine, sqlite_url
from twin.events.lifecycle import (
    LEVELS,
    SYSTEM,
    TICKET_TYPES,
    Actor,
    TicketNotFoundError,
    TicketView,
)
from twin.events.migrations import upgrade
from twin.events.models import Report, Ticket
from twin.events.ratelimit import RateLimiter
from twin.events.roles import SCOPES
from twin.events.tickets import TicketStore
from twin.events.users import HashParams, SessionStore, UserStore
from twin.registry import Registry

log = logging.getLogger(__name__)

#: report category → ticket level (a convention of this project: fire and gas reports are
#: urgent until a person has looked; everything else starts yellow)
REPORT_LEVEL = {"fire": "orange", "gas": "orange", "medical": "orange"}
#: warning hazard → ticket type
HAZARD_TYPE = {"flood": "water", "rain": "water", "fire": "fire", "crowd": "general",
               "utility": "power", "power": "power", "water": "water", "gas": "gas"}  # fmt: skip
#: photo limits: size [bytes] and the image types accepted (by magic number, not by name)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_MAGIC = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}
#: reports per client: burst, then one per this many seconds
REPORT_BURST = 5
REPORT_REFILL_S = 60.0
MAX_TEXT = 2000
STATUS_BURST = 30


@dataclass(eq=False)
class DispatchService:
    """Everything the dispatch routes need; one per app."""

    registry: Registry
    store: TicketStore
    users: UserStore
    sessions: SessionStore
    data_dir: Path
    runtime: Any = None
    report_limiter: RateLimiter = field(
        default_factory=lambda: RateLimiter(rate_per_s=1 / REPORT_REFILL_S, burst=REPORT_BURST)
    )
    #: receipt status look-ups per client address (guessing receipts must stay slow)
    status_limiter: RateLimiter = field(
        default_factory=lambda: RateLimiter(rate_per_s=0.5, burst=STATUS_BURST)
    )
    #: one thread turning runtime events into tickets, off the publisher's thread
    event_worker: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="event-tickets")
    )
    #: returns the road edges currently impassable (e.g. from the flood nowcast)
    impassable: Callable[[], set] = field(default_factory=lambda: set)

    # -- the live feed ------------------------------------------------------------------------
    def publish(self, view: TicketView, action: str) -> bool:
        """Push a committed ticket change to every open page (``/ws/live``); False without a
        live runtime. See :mod:`dashboard.ticket_feed`."""
        return publish_ticket(self.runtime, view, action)

    def _last_ticket_id(self) -> int:
        with self.store.sessions() as s:
            return s.scalar(select(func.max(Ticket.id))) or 0

    def _publish_created(self, view: TicketView | None, last_id: int) -> TicketView | None:
        # create() hands back the open ticket of a repeated warning or fault: no news then
        if view is not None and view.id > last_id:
            self.publish(view, "create")
        return view

    # -- visibility -------------------------------------------------------------------------
    def ticket(self, ref: str, actor: Actor, grids: tuple[str, ...] = ()) -> TicketView:
        """The ticket with public ``ref`` if this actor may see it, else TicketNotFoundError
        (others' tickets look absent: no probing by id or ref)."""
        with self.store.sessions() as s:
            tid = s.scalar(select(Ticket.id).where(Ticket.ref == str(ref)))
        if tid is None:
            raise TicketNotFoundError("no such ticket")
        t = self.store.get(tid, actor)
        if not in_grids(t, actor, grids):
            raise TicketNotFoundError("no such ticket")
        return t

    def ref_of(self, ticket_id: int | None) -> str | None:
        """Public ref of a ticket id (None passes through)."""
        if ticket_id is None:
            return None
        with self.store.sessions() as s:
            return s.scalar(select(Ticket.ref).where(Ticket.id == ticket_id))

    def id_of(self, ref: str) -> int | None:
        with self.store.sessions() as s:
            return s.scalar(select(Ticket.id).where(Ticket.ref == str(ref)))

    # -- places -----------------------------------------------------------------------------
    def grid_at(self, lon: float, lat: float) -> tuple[str | None, str | None, str | None]:
        """(grid id, community id, building id) at a point; Nones outside every grid."""
        b_row, g_row = self.registry.locate(lon, lat)
        if g_row[0] < 0:
            return None, None, None
        g = self.registry.grids.iloc[int(g_row[0])]
        b = self.registry.buildings
        building = None if b_row[0] < 0 else str(b["building_id"].iloc[int(b_row[0])])
        return str(g["grid_id"]), str(g["community_id"]), building

    def resolve_address(self, text: str) -> tuple[float, float] | None:
        """Point of a standard address given as text (exact zh/en match, then substring)."""
        a = self.registry.addresses
        text = text.strip()
        if not text:
            return None
        for col in ("text_zh", "text_en"):
            hit = a[a[col].astype(str).to_numpy() == text]
            if len(hit):
                return float(hit.geometry.iloc[0].x), float(hit.geometry.iloc[0].y)
        for col in ("text_zh", "text_en"):
            hit = a[a[col].astype(str).str.contains(text, regex=False).to_numpy()]
            if len(hit) == 1:
                return float(hit.geometry.iloc[0].x), float(hit.geometry.iloc[0].y)
        return None

    def nearest_road_node(self, lon: float, lat: float) -> str | None:
        """The road-graph junction nearest a point (metric distance)."""
        return self.registry.nearest_road_nodes([lon], [lat])[0]

    # -- reports in --------------------------------------------------------------------------
    def submit_report(
        self,
        *,
        category: str,
        text: str,
        lon: float | None,
        lat: float | None,
        address: str | None,
        photo: bytes | None,
        actor: Actor,
    ) -> str:
        """Store a report, open its ticket in the right grid, return the opaque receipt.

        Raises ValueError (bad category, place outside the district, bad photo).
        """
        if category not in TICKET_TYPES:
            raise ValueError(f"category must be one of {', '.join(TICKET_TYPES)}")
        if (lon is None or lat is None) and address:
            point = self.resolve_address(address)
            if point is None:
                raise ValueError("address not found")
            lon, lat = point
        if lon is None or lat is None:
            raise ValueError("give lon/lat or an address")
        grid, community, _building = self.grid_at(lon, lat)
        if grid is None:
            raise ValueError("the place is outside the district")
        photo_path = self._save_photo(photo) if photo else None
        reporter = None if actor.role == "anonymous" else f"acct-{actor.user}"
        last_id = self._last_ticket_id()
        t = self.store.create(
            source="report",
            type=category,
            level=REPORT_LEVEL.get(category, "yellow"),
            grid_code=grid,
            community_code=community,
            node=self.nearest_road_node(lon, lat),
            lon=lon,
            lat=lat,
            description=text[:MAX_TEXT],
            reporter_ref=reporter if reporter and len(reporter) <= 64 else None,
            actor=SYSTEM if actor.role == "anonymous" else Actor(actor.user, "system"),
        )
        receipt = secrets.token_urlsafe(18)
        with self.store.sessions() as s, s.begin():
            s.add(
                Report(
                    ref=receipt,
                    category=category,
                    lon=lon,
                    lat=lat,
                    address=address[:256] if address else None,
                    text=text[:MAX_TEXT],
                    photo_path=photo_path,
                    reporter_ref=reporter if reporter and len(reporter) <= 64 else None,
                    grid_code=grid,
                    ticket_id=t.id,
                    created_at=self.store.clock(),
                )
            )
        self._publish_created(t, last_id)
        return receipt

    def _save_photo(self, data: bytes) -> str:
        if len(data) > MAX_PHOTO_BYTES:
            raise ValueError(f"photo larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
        ext = next((e for magic, e in PHOTO_MAGIC.items() if data.startswith(magic)), None)
        if ext is None:
            raise ValueError("photo must be a JPEG or PNG image")
        folder = self.data_dir / "report_photos"
        folder.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16) + ext
        (folder / name).write_bytes(data)
        (folder / name).chmod(0o600)
        return f"report_photos/{name}"

    def report_status(self, receipt: str) -> dict | None:
        """What a reporter may see for a receipt: category, grid, status and times."""
        with self.store.sessions() as s:
            r = s.scalars(select(Report).where(Report.ref == str(receipt))).first()
            if r is None:
                return None
            t = s.get(Ticket, r.ticket_id) if r.ticket_id else None
        state = None if t is None else t.state
        return {
            "receipt": r.ref,
            "category": r.category,
            "grid": r.grid_code,
            "status": REPORTER_STATUS.get(state, "received"),
            "received_at": r.created_at,
            "updated_at": None if t is None else t.updated_at,
        }

    # -- events → tickets ---------------------------------------------------------------------
    def on_event(self, event: dict) -> TicketView | None:
        """Open a ticket for a ``device_offline`` or active ``warning`` event (else None)."""
        kind = event.get("type")
        if kind not in ("device_offline", "warning"):
            return None
        last_id = self._last_ticket_id()
        if kind == "device_offline":
            return self._publish_created(self._device_ticket(event), last_id)
        if event.get("status", "active") == "active":
            return self._publish_created(self._warning_ticket(event), last_id)
        return None

    def _device_ticket(self, event: dict) -> TicketView | None:
        device = str(event.get("device_id", ""))
        s = self.registry.sensors
        mine = s[s["device_id"].astype(str).to_numpy() == device]
        if not device or mine.empty:
            return None
        quantities = " ".join(mine["quantity"].astype(str))
        ttype = next((t for t in ("water", "gas", "power") if t in quantities), "general")
        p = mine.geometry.iloc[0]
        grid, community, _ = self.grid_at(float(p.x), float(p.y))
        return self.store.create(
            source="device",
            source_ref=device,
            type=ttype,
            level="yellow",
            grid_code=grid or str(mine["grid_id"].iloc[0]),
            community_code=community,
            node=self.nearest_road_node(float(p.x), float(p.y)),
            lon=float(p.x),
            lat=float(p.y),
            description="device offline",
        )

    def _warning_ticket(self, event: dict) -> TicketView | None:
        wid = event.get("id")
        lon, lat = event.get("lon"), event.get("lat")
        if wid is None:
            return None
        grids = set(self.registry.grids["grid_id"].astype(str))
        grid = str(event.get("area_id")) if str(event.get("area_id")) in grids else None
        community = None
        if lon is not None and lat is not None:
            g, community, _ = self.grid_at(float(lon), float(lat))
            grid = grid or g
        if grid is None:
            return None
        level = event.get("level") if event.get("level") in LEVELS else "yellow"
        headline = str(event.get("headline_zh") or event.get("headline_en") or "")[:500]
        view = self.store.create(
            source="warning",
            source_ref=str(wid),
            type=HAZARD_TYPE.get(str(event.get("hazard", "")), "general"),
            level=level,
            grid_code=grid,
            community_code=community,
            node=None if lon is None else self.nearest_road_node(float(lon), float(lat)),
            lon=None if lon is None else float(lon),
            lat=None if lat is None else float(lat),
            description=headline,
        )
        # the warning was raised (yellow → red): its open ticket follows, with red's deadlines
        # (checked here first: a repeated warning of the same level needs no locked read)
        higher = LEVELS.index(level) > LEVELS.index(view.level)
        if higher and self.store.raise_level(view.id, level, description=headline) is not None:
            view = self.store.get(view.id)
            self.publish(view, "relevel")
        return view

    def crews(self) -> list[CrewInfo]:
        return load_crews(self.store.sessions)


#: ticket state → what a reporter is told
REPORTER_STATUS = {
    "reported": "received",
    "dispatched": "in_progress",
    "accepted": "in_progress",
    "on_site": "in_progress",
    "resolved": "resolved",
    "verified": "resolved",
    "closed": "closed",
    "dismissed": "closed",
    "merged": "in_progress",
}


def in_grids(t: TicketView, actor: Actor, grids: tuple[str, ...]) -> bool:
    """Grid scope: a user bound to grids sees only tickets there (a crew its own tickets,
    wherever they are: the store already limits crews to tickets dispatched to them)."""
    if not grids or SCOPES.get(actor.role) == "own_crew":
        return True
    return t.grid_code in grids


def build_dispatch(
    registry: Registry, settings: dict[str, Any], runtime: Any = None
) -> DispatchService | None:
    """The dispatch service for an app, or None when the settings carry no ``DATABASE_URL``
    key (a registry-only app). ``DATABASE_URL=None`` means SQLite in the data folder."""
    if "DATABASE_URL" not in settings:
        return None
    data_dir = Path(
        settings.get("DATA_DIR")
        or getattr(runtime, "data_dir", None)
        or tempfile.mkdtemp(prefix="streettwin-dispatch-")
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.get("DATABASE_URL") or sqlite_url(data_dir / "events.sqlite")
    upgrade(url)
    engine = make_engine(url)
    clock = settings.get("CLOCK", time.time)
    params = settings.get("AUTH_HASH_PARAMS") or HashParams()
    users = UserStore(
        engine,
        clock=clock,
        params=params,
        max_failures=int(settings.get("AUTH_MAX_FAILURES", 5)),
        lockout_s=float(settings.get("AUTH_LOCKOUT_S", 900.0)),
    )
    sessions = SessionStore(
        clock=clock,
        idle_timeout_s=float(settings.get("AUTH_IDLE_TIMEOUT_S", 900.0)),
        absolute_timeout_s=float(settings.get("AUTH_ABSOLUTE_TIMEOUT_S", 12 * 3600.0)),
    )
    svc = DispatchService(
        registry=registry,
        store=TicketStore(engine, clock=clock),
        users=users,
        sessions=sessions,
        data_dir=data_dir,
        runtime=runtime,
    )
    nowcast = getattr(runtime, "impassable_edges", None)
    if callable(nowcast):
        svc.impassable = nowcast
    return svc


def subscribe(runtime: Any, svc: DispatchService) -> None:
    """Let the runtime's events open tickets (needs ``runtime.listeners``).

    Events are published from the poller's event loop, which must never wait on a durable
    write: the listener only hands the event to one worker thread (``svc.event_worker``).
    """
    listeners = getattr(runtime, "listeners", None)
    if listeners is None:
        return

    def handle(event: dict) -> None:
        try:
            svc.on_event(event)
        except Exception as exc:  # an event must never break the worker
            log.warning("event → ticket failed: %s", type(exc).__name__)

    def listener(event: dict) -> None:
        if event.get("type") in ("device_offline", "warning"):
            svc.event_worker.submit(handle, dict(event))

    listeners.append(listener)


def dispatch_service_of(obj: Any) -> DispatchService | None:
    """The dispatch service behind ``obj``: the service itself, an app made by
    :func:`dashboard.app.create_app` (Dash or Flask) with an event store, or anything with a
    ``dispatch`` attribute holding one; None when there is none."""
    if hasattr(obj, "store") and hasattr(obj, "registry"):
        return obj
    server = getattr(obj, "server", obj)  # a Dash app → its Flask server
    extensions = getattr(server, "extensions", None)
    if isinstance(extensions, dict) and "streettwin_dispatch" in extensions:
        return extensions["streettwin_dispatch"]
    inner = getattr(obj, "dispatch", None)
    return None if inner is None or inner is obj else dispatch_service_of(inner)
