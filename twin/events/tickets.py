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

from twin.events import audit, kpi, sla
from twin.events.db import session_factory
from twin.events.lifecycle import (
    HANDLED_STATES,
    LEVELS,
    MILESTONE_COLUMN,
    OPEN_STATES,
    SOURCES,
    SYSTEM,
    TICKET_TYPES,
    TRANSITIONS,
    Actor,
    InvalidTransitionError,
    StaleTicketError,
    TicketError,
    TicketNotFoundError,
    TicketView,
    TransitionRequest,
    TransitionView,
    check_opaque_ref,
    iso_week,
)
from twin.events.models import Crew, Ticket, Transition
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
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        policy: sla.SlaPolicy = sla.DEFAULT_POLICY,
    ) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.clock = clock
        self.policy = policy

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
        """Apply one action and return the committed step (raises on refusal)."""
        req = TransitionRequest(ticket_id, action, actor, note, crew_id, into, expected_version)
        (result,) = self.apply([req])
        if isinstance(result, Exception):
            raise result
        return result

    def apply(self, requests: Sequence[TransitionRequest]) -> list[TransitionView | Exception]:
        """Apply a batch in one commit (group commit): one fsync for many steps.

        Every step is checked completely before it writes anything, so a refused step
        leaves the others intact; its slot in the result holds the exception (denials are
        audited). Nothing is returned before the commit; a database error fails the batch.
        """
        results: list[TransitionView | Exception] = []
        now = self.clock()
        # no autoflush: the whole batch is flushed once at commit (executemany inserts)
        with self.sessions() as s, s.begin(), s.no_autoflush:
            for req in requests:
                try:
                    results.append(self._step(s, req, now))
                except PermissionDeniedError as exc:
                    self._audit_denied(s, req.actor, req.action, req.ticket_id, now)
                    results.append(exc)
                except TicketError as exc:
                    results.append(exc)
        return results

    def _step(self, s: Session, req: TransitionRequest, now: float) -> TransitionView:
        t = s.execute(select(Ticket).where(Ticket.id == req.ticket_id).with_for_update()).scalar()
        if t is None:
            raise TicketNotFoundError(f"no ticket {req.ticket_id}")
        _authorise(req.actor, req.action, t)
        if req.expected_version is not None and req.expected_version != t.version:
            raise StaleTicketError(
                f"ticket {t.id} is at version {t.version}, not {req.expected_version}"
            )
        to_state = TRANSITIONS.get((t.state, req.action))
        if to_state is None:
            allowed = sorted(a for (st, a) in TRANSITIONS if st == t.state) or ["nothing"]
            raise InvalidTransitionError(
                f"cannot {req.action} ticket {t.id}: it is {t.state}; "
                f"from {t.state} you may {', '.join(allowed)}"
            )
        from_state = t.state
        before = kpi.contribution(t)
        detail = self._effects(s, t, req, to_state, now)
        t.state = to_state
        column = MILESTONE_COLUMN.get(to_state)
        if column is not None:
            setattr(t, column, now)
        t.version += 1
        t.updated_at = now
        t.escalation = 0
        kpi.apply_delta(s, t, before)
        row = _transition(t, t.version, req.action, from_state, to_state, req.actor, now, req.note)
        s.add(row)
        sla.cancel_pending(s, t.id, now)
        sla.schedule(s, t, now, self.policy)
        self._audit(
            s, req.actor, req.action, t, now, {"from": from_state, "to": to_state, **detail}
        )
        return TransitionView.of(row)

    def _effects(
        self, s: Session, t: Ticket, req: TransitionRequest, to_state: str, now: float
    ) -> dict:
        """Crew bookkeeping and merge/reopen side effects; all checks come before any write."""
        action = req.action
        if action in ("dispatch", "reassign"):
            if req.crew_id is None:
                raise InvalidTransitionError(f"{action} needs a crew_id")
            if req.crew_id == t.crew_id:
                raise InvalidTransitionError(f"ticket {t.id} is already with crew {t.crew_id}")
            crew = s.get(Crew, req.crew_id, with_for_update=True)
            if crew is None:
                raise InvalidTransitionError(f"no crew {req.crew_id!r}")
            if crew.state != "free":
                raise InvalidTransitionError(f"crew {crew.id} is {crew.state}, not free")
            self._free_crew(s, t)
            crew.state = "busy"
            t.crew_id = crew.id
            return {"crew": crew.id}
        if action == "merge":
            if req.into is None or req.into == t.id:
                raise InvalidTransitionError("merge needs another ticket to merge into")
            target = s.get(Ticket, req.into)
            if target is None or target.state not in OPEN_STATES | HANDLED_STATES:
                raise InvalidTransitionError(f"ticket {req.into} is not live: cannot merge into it")
            self._free_crew(s, t)
            t.merged_into_id = target.id
            return {"into": target.id}
        if action in ("reject", "resolve"):
            self._free_crew(s, t)
            if action == "reject":
                t.crew_id = None
        elif action == "reject_fix" and t.crew_id is not None:
            crew = s.get(Crew, t.crew_id, with_for_update=True)
            crew.state = "busy"
        elif action == "reopen":
            t.crew_id = None
            t.sla_base_at = now
            for column in MILESTONE_COLUMN.values():
                setattr(t, column, None)
        return {}

    @staticmethod
    def _free_crew(s: Session, t: Ticket) -> None:
        if t.crew_id is not None:
            crew = s.get(Crew, t.crew_id, with_for_update=True)
            if crew is not None and crew.state == "busy":
                crew.state = "free"

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


def _authorise(actor: Actor, action: str, t: Ticket) -> None:
    """Raise PermissionDeniedError unless the role may act, and a crew only on its own ticket."""
    if not can(actor.role, f"ticket.{action}"):
        raise PermissionDeniedError(f"role {actor.role!r} may not ticket.{action}")
    if SCOPES.get(actor.role) == "own_crew" and (
        actor.crew_id is None or t.crew_id != actor.crew_id
    ):
        raise PermissionDeniedError(f"ticket {t.id} is not dispatched to crew {actor.crew_id!r}")


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
