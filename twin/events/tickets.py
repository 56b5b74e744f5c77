"""The ticket lifecycle: a state machine whose every step is durable, audited and checked.

reported → dispatched → accepted → on_site → resolved → verified → closed, with ``reject``
(a crew declines a dispatch), ``reject_fix`` (the verifier sends the work back), ``reassign``,
``dismiss`` (a false report), ``merge`` of duplicates and ``reopen``. Each step writes the
ticket, a transition row (who, when, from, to, note), the SLA timers and an audit row in ONE
transaction; a method returns — and a caller may acknowledge — only after that commit.
Permissions are checked here too (roles and a crew's own tickets), so no route can skip them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from twin.events import audit, kpi, sla, writepath
from twin.events.db import session_factory
from twin.events.groupcommit import GroupCommitWriter
from twin.events.lifecycle import (
    LEVELS,
    OPEN_STATES,
    SOURCES,
    SYSTEM,
    TICKET_TYPES,
    Actor,
    TicketNotFoundError,
    TicketView,
    TransitionRequest,
    TransitionView,
    check_opaque_ref,
    iso_week,
)
from twin.events.models import Ticket, Transition
from twin.events.roles import SCOPES, PermissionDeniedError, can


class TicketStore:
    """Tickets on the event store: create, transition, read; every change audited.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        From :func:`twin.events.db.make_engine`, schema already migrated.
    clock : callable
        Returns UTC epoch seconds (inject a frozen clock in tests).
    policy : sla.SlaPolicy
        Time limits.
    group_commit : bool
        Route :meth:`transition` through a :class:`~twin.events.groupcommit.GroupCommitWriter`
        (concurrent callers share one transaction and one fsync).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        policy: sla.SlaPolicy = sla.DEFAULT_POLICY,
        group_commit: bool = True,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.clock = clock
        self.policy = policy
        #: the single writer thread that batches concurrent :meth:`transition` calls
        self.writer = GroupCommitWriter(self.apply) if group_commit else None

    # -- create -------------------------------------------------------------------------
    def create(
        self,
        *,
        source: str,
        type: str,
        level: str,
        grid_code: str,
        actor: Actor = SYSTEM,
        source_ref: str | None = None,
        community_code: str | None = None,
        node: str | None = None,
        lon: float | None = None,
        lat: float | None = None,
        description: str = "",
        reporter_ref: str | None = None,
        note: str = "",
    ) -> TicketView:
        """Open a ticket (state ``reported``); a warning or device fault that already has an
        open ticket returns that ticket instead of a duplicate."""
        for name, value, allowed in (
            ("source", source, SOURCES),
            ("type", type, TICKET_TYPES),
            ("level", level, LEVELS),
        ):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")
        check_opaque_ref(reporter_ref)
        now = self.clock()
        if not can(actor.role, "ticket.create"):
            with self.sessions() as s, s.begin():
                self._audit_denied(s, actor, "create", None, now)
            raise PermissionDeniedError(f"role {actor.role!r} may not ticket.create")
        with self.sessions() as s, s.begin():
            if source_ref is not None and source in ("warning", "device"):
                open_one = s.scalars(
                    select(Ticket).where(
                        Ticket.source == source,
                        Ticket.source_ref == source_ref,
                        Ticket.state.in_(OPEN_STATES),
                    )
                ).first()
                if open_one is not None:
                    return TicketView.of(open_one)
            t = Ticket(
                ref=secrets.token_hex(8),
                source=source,
                source_ref=source_ref,
                type=type,
                level=level,
                state="reported",
                grid_code=grid_code,
                community_code=community_code,
                node=None if node is None else str(node),
                lon=lon,
                lat=lat,
                description=description,
                reporter_ref=reporter_ref,
                escalation=0,
                version=1,
                created_week=iso_week(now),
                created_at=now,
                sla_base_at=now,
                updated_at=now,
            )
            s.add(t)
            s.flush()
            kpi.apply_delta(s, t, kpi.ZERO)
            s.add(_transition(t, 1, "create", None, "reported", actor, now, note))
            sla.schedule(s, t, now, self.policy)
            self._audit(s, actor, "create", t, now, {"from": None, "to": "reported"})
            return TicketView.of(t)

    # -- transitions ---------------------------------------------------------------------
    def transition(
        self,
        ticket_id: int,
        action: str,
        *,
        actor: Actor,
        note: str = "",
        crew_id: str | None = None,
        into: int | None = None,
        expected_version: int | None = None,
    ) -> TransitionView:
        """Apply one action and return the committed step (raises on refusal).

        With group commit on (the default) the step joins whatever other threads are
        submitting at the same moment in one transaction; it returns after that commit.
        """
        req = TransitionRequest(ticket_id, action, actor, note, crew_id, into, expected_version)
        if self.writer is not None:
            result = self.writer(req)
        else:
            (result,) = self.apply([req])
        if isinstance(result, Exception):
            raise result
        return result

    def apply(self, requests: Sequence[TransitionRequest]) -> list[TransitionView | Exception]:
        """Apply a batch in one commit (group commit): one fsync for many steps.

        Every step is checked completely before it writes anything, so a refused step
        leaves the others intact; its slot in the result holds the exception (denials are
        audited). Nothing is returned before the commit; a database error fails the batch.
        The write path is SQLAlchemy Core (:mod:`twin.events.writepath`).
        """
        if not requests:
            return []
        now = self.clock()
        with self.engine.begin() as conn:
            return writepath.apply_batch(conn, requests, now, self.policy)

    # -- access and audit ---------------------------------------------------------------
    @staticmethod
    def _audit(s: Session, actor: Actor, action: str, t: Ticket, now: float, detail: dict):
        audit.append(
            s,
            at=now,
            actor=actor.user,
            role=actor.role,
            action=f"ticket.{action}",
            object_type="ticket",
            object_id=t.id,
            detail=detail,
        )

    @staticmethod
    def _audit_denied(s: Session, actor: Actor, action: str, ticket_id, now: float) -> None:
        audit.append(
            s,
            at=now,
            actor=actor.user,
            role=actor.role,
            action="access.denied",
            object_type="ticket",
            object_id="" if ticket_id is None else ticket_id,
            success=False,
            detail={"wanted": f"ticket.{action}"},
        )

    # -- reads ---------------------------------------------------------------------------
    def get(self, ticket_id: int, actor: Actor | None = None) -> TicketView:
        """One ticket; a crew actor sees only its own (others look absent, no id probing)."""
        with self.sessions() as s:
            t = s.get(Ticket, ticket_id)
            if t is None or (actor is not None and not _visible(actor, t)):
                raise TicketNotFoundError(f"no ticket {ticket_id}")
            return TicketView.of(t)

    def list_visible(
        self, actor: Actor, *, states: Sequence[str] | None = None
    ) -> list[TicketView]:
        """Tickets this actor may see, newest first."""
        if not can(actor.role, "ticket.read"):
            raise PermissionDeniedError(f"role {actor.role!r} may not ticket.read")
        stmt = select(Ticket).order_by(Ticket.id.desc())
        if states:
            stmt = stmt.where(Ticket.state.in_(states))
        if SCOPES.get(actor.role) == "own_crew":
            stmt = stmt.where(Ticket.crew_id == actor.crew_id)
        with self.sessions() as s:
            return [TicketView.of(t) for t in s.scalars(stmt)]

    def history(self, ticket_id: int, actor: Actor | None = None) -> list[TransitionView]:
        """Every step of a ticket, in order (TicketNotFoundError if the actor may not see it)."""
        if actor is not None:
            self.get(ticket_id, actor)
        with self.sessions() as s:
            rows = s.scalars(
                select(Transition).where(Transition.ticket_id == ticket_id).order_by(Transition.seq)
            )
            return [TransitionView.of(r) for r in rows]


def _visible(actor: Actor, t: Ticket) -> bool:
    scope = SCOPES.get(actor.role, "none")
    if not can(actor.role, "ticket.read") or scope == "none":
        return False
    return scope != "own_crew" or (actor.crew_id is not None and t.crew_id == actor.crew_id)


def _transition(
    t: Ticket, seq: int, action: str, from_state, to_state: str, actor: Actor, now: float, note: str
) -> Transition:
    return Transition(
        ticket_id=t.id,
        seq=seq,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor.user,
        actor_role=actor.role,
        at=now,
        note=note,
        crew_id=t.crew_id,
    )
