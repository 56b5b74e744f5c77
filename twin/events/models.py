"""Tables of the event store: tickets, transitions, crews, users, audit, SLA timers, reports.

Times are UTC epoch seconds in double-precision columns (``*_at``): durations and week
buckets are then plain arithmetic that SQLite and PostgreSQL evaluate alike. Residents are
never stored: a reporter is referenced by an opaque id (``reporter_ref``) issued by the
reporting channel, and free text is limited to what a ticket needs.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    or_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: constraint names Alembic can compare and drop on every backend
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every event-store table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Crew(Base):
    """A field crew: skills, shift, position on the road graph and availability."""

    __tablename__ = "crews"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    #: comma-separated subset of ``crews.SKILLS``
    skills: Mapped[str] = mapped_column(String(128))
    #: shift start and end as seconds after local midnight; end < start wraps midnight
    shift_start_s: Mapped[int] = mapped_column(Integer, default=0)
    shift_end_s: Mapped[int] = mapped_column(Integer, default=86_400)
    #: road-graph node the crew is at (or last reported)
    node: Mapped[str | None] = mapped_column(String(64))
    lon: Mapped[float | None] = mapped_column(Double)
    lat: Mapped[float | None] = mapped_column(Double)
    #: free / busy / off_duty
    state: Mapped[str] = mapped_column(String(16), default="free")
    grid_code: Mapped[str | None] = mapped_column(String(64))


class User(Base):
    """An account; the login layer fills ``password_hash`` (salted, cost-factored)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    crew_id: Mapped[str | None] = mapped_column(ForeignKey("crews.id"))
    #: grids a crew member or operator works in, comma-separated; empty = all
    grid_codes: Mapped[str] = mapped_column(String(512), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    #: RFC 6238 TOTP secret (base32) of the second factor; None = not enrolled
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: time step (epoch s // 30) of the last accepted one-time code: a code is used once
    totp_last_step: Mapped[int | None] = mapped_column(Integer)


class Ticket(Base):
    """A hazard to handle, from a warning, a device fault, a report or an inspection.

    The ``*_at`` milestone columns hold when the ticket last entered each state since it was
    (re)opened; they make the leaders' figures one aggregate scan.
    """

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: unguessable public reference for URLs and reporters (ids are never exposed)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    #: warning / device / report / inspection
    source: Mapped[str] = mapped_column(String(16))
    #: opaque id of the originating alert, device or report
    source_ref: Mapped[str | None] = mapped_column(String(128))
    #: hazard type: water / power / gas / fire / medical / general
    type: Mapped[str] = mapped_column(String(16))
    #: warning level: blue / yellow / orange / red
    level: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    grid_code: Mapped[str] = mapped_column(String(64))
    community_code: Mapped[str | None] = mapped_column(String(64))
    node: Mapped[str | None] = mapped_column(String(64))
    lon: Mapped[float | None] = mapped_column(Double)
    lat: Mapped[float | None] = mapped_column(Double)
    description: Mapped[str] = mapped_column(Text, default="")
    #: opaque reporter id (never a name or phone number)
    reporter_ref: Mapped[str | None] = mapped_column(String(64))
    crew_id: Mapped[str | None] = mapped_column(ForeignKey("crews.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    #: 0 none, 1 supervisor told, 2 next level told
    escalation: Mapped[int] = mapped_column(Integer, default=0)
    #: number of transitions so far (the last transition's ``seq``)
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: ISO week of creation as yyyyww (e.g. 202647), for weekly figures
    created_week: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Double)
    #: start of the SLA clock: creation, or the last reopen
    sla_base_at: Mapped[float] = mapped_column(Double)
    dispatched_at: Mapped[float | None] = mapped_column(Double)
    accepted_at: Mapped[float | None] = mapped_column(Double)
    on_site_at: Mapped[float | None] = mapped_column(Double)
    resolved_at: Mapped[float | None] = mapped_column(Double)
    verified_at: Mapped[float | None] = mapped_column(Double)
    closed_at: Mapped[float | None] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (
        Index("ix_tickets_state", "state"),
        Index("ix_tickets_crew_state", "crew_id", "state"),
        Index("ix_tickets_grid_created", "grid_code", "created_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_source_ref", "source", "source_ref"),
        # covering index for the leaders' figures: the aggregate reads the index only
        Index(
            "ix_tickets_kpi",
            "type",
            "state",
            "created_at",
            "dispatched_at",
            "accepted_at",
            "on_site_at",
            "closed_at",
        ),
    )


#: ``source_ref`` prefix of a scheduled inspection round (:mod:`twin.events.inspections`).
#: Rounds are routine work, not incidents; a hazard found on a round is an inspection ticket
#: too (``hazard:<round ref>``), and an incident.
ROUND_PREFIX = "insp:"


def is_round(source: str | None, source_ref: str | None) -> bool:
    """Whether a ticket with this source is a scheduled inspection round."""
    return source == "inspection" and (source_ref or "").startswith(ROUND_PREFIX)


def round_clause():
    """SQL condition true of the scheduled inspection rounds (the ``(source, source_ref)``
    index finds them)."""
    return and_(Ticket.source == "inspection", Ticket.source_ref.like(f"{ROUND_PREFIX}%"))


def not_round_clause():
    """SQL condition true of every ticket but the scheduled inspection rounds (SQL's ``NOT``
    of :func:`round_clause` would drop the tickets without a ``source_ref``)."""
    return or_(
        Ticket.source != "inspection",
        Ticket.source_ref.is_(None),
        Ticket.source_ref.not_like(f"{ROUND_PREFIX}%"),
    )


class Transition(Base):
    """One step of a ticket's lifecycle: who, when, from, to, and a note."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    #: 1, 2, 3 ... per ticket
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    at: Mapped[float] = mapped_column(Double)
    note: Mapped[str] = mapped_column(Text, default="")
    crew_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("ticket_id", "seq", name="uq_transitions_ticket_seq"),)


class SlaTimer(Base):
    """A stored reminder or escalation due at ``due_at`` unless the milestone is reached."""

    __tablename__ = "sla_timers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    #: the state the ticket must reach: dispatched / accepted / on_site / resolved / closed
    milestone: Mapped[str] = mapped_column(String(16))
    #: remind / escalate
    kind: Mapped[str] = mapped_column(String(16))
    #: 0 reminder, 1 supervisor, 2 next level
    stage: Mapped[int] = mapped_column(Integer)
    deadline_at: Mapped[float] = mapped_column(Double)
    due_at: Mapped[float] = mapped_column(Double)
    fired_at: Mapped[float | None] = mapped_column(Double)
    cancelled_at: Mapped[float | None] = mapped_column(Double)

    __table_args__ = (
        Index("ix_sla_timers_pending", "fired_at", "cancelled_at", "due_at"),
        Index("ix_sla_timers_ticket", "ticket_id"),
    )


class Report(Base):
    """A report from a grid worker or resident; the reporter sees its status by ``ref``."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float | None] = mapped_column(Double)
    lat: Mapped[float | None] = mapped_column(Double)
    #: standard address of the place (not of the reporter)
    address: Mapped[str | None] = mapped_column(String(256))
    text: Mapped[str] = mapped_column(Text, default="")
    photo_path: Mapped[str | None] = mapped_column(String(256))
    reporter_ref: Mapped[str | None] = mapped_column(String(64))
    grid_code: Mapped[str | None] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[float] = mapped_column(Double)


class KpiRollup(Base):
    """Running sums of the leaders' figures per week × type × grid × community.

    Kept exact in the same transaction as every ticket change (a change adds its ticket's new
    contribution and takes away the old), so the figures read a few thousand rows instead of
    millions of tickets. ``community_code`` is "" when a ticket has none.
    """

    __tablename__ = "kpi_rollup"

    created_week: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    found: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    n_dispatch: Mapped[int] = mapped_column(Integer, default=0)
    sum_dispatch_s: Mapped[float] = mapped_column(Double, default=0.0)
    n_accept: Mapped[int] = mapped_column(Integer, default=0)
    sum_accept_s: Mapped[float] = mapped_column(Double, default=0.0)
    n_arrive: Mapped[int] = mapped_column(Integer, default=0)
    sum_arrive_s: Mapped[float] = mapped_column(Double, default=0.0)
    n_close: Mapped[int] = mapped_column(Integer, default=0)
    sum_close_s: Mapped[float] = mapped_column(Double, default=0.0)


class AuditEntry(Base):
    """One audit row; ``hash`` = sha256(previous hash + canonical row). Append-only."""

    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    #: canonical JSON of extra facts (no personal data, no secrets)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)


class AuditHead(Base):
    """The single row holding the chain's last seq and hash; locked to append in order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


#: triggers that refuse UPDATE and DELETE on the audit table (the hash chain still detects
#: changes made by someone who drops them first)
AUDIT_GUARD_DDL: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit is append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    ],
}

for _dialect, _statements in AUDIT_GUARD_DDL.items():
    for _sql in _statements:
        event.listen(AuditEntry.__table__, "after_create", DDL(_sql).execute_if(dialect=_dialect))
