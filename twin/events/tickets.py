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
from types import SimpleNamespace

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from twin.events import audit, kpi, sla, writepath
from twin.events.db import session_factory
from twin.events.groupcommit import GroupCommitWriter
from twin.events.lifecycle import (
    ESCALATABLE_STATES,
    ESCALATE,
    ESCALATE_PERMISSION,
    LEVELS,
    MAX_ESCALATION,
    OPEN_STATES,
    SOURCES,
    SYSTEM,
    TICKET_TYPES,
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
from twin.events.models import SlaTimer, Ticket, Transition, not_round_clause, round_clause
from twin.events.roles import SCOPES, PermissionDeniedError, can

#: the history step of a raised level (:meth:`TicketStore.raise_level`)
RELEVEL = "relevel"


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

    # -- a raised warning -------------------------------------------------------------------
    def raise_level(
        self,
        ticket_id: int,
        level: str,
        *,
        actor: Actor = SYSTEM,
        description: str | None = None,
    ) -> TransitionView | None:
        """Raise an open ticket's level (its warning was raised, say yellow → red); never lowers.

        The level and (if given) the description change, a ``relevel`` step (from = to = the
        state, note ``"yellow → red"``) and an audit row are written, and the running SLA
        clock is planned again with the higher level's limits from the same base: a red
        warning's ticket must be dispatched within red's time, not the yellow it started at
        (a deadline already passed fires at once). All in one transaction.

        Returns
        -------
        TransitionView or None
            The committed step; None when ``level`` is not higher or the ticket is not open.
        """
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
        if not can(actor.role, "ticket.create"):
            raise PermissionDeniedError(f"role {actor.role!r} may not raise a ticket's level")
        now = self.clock()
        with self.sessions() as s, s.begin():
            t = s.get(Ticket, ticket_id, with_for_update=True)
            if t is None:
                raise TicketNotFoundError(f"no ticket {ticket_id}")
            if t.state not in OPEN_STATES or LEVELS.index(level) <= LEVELS.index(t.level):
                return None
            before = t.level
            t.level, t.version, t.updated_at = level, t.version + 1, now
            if description:
                t.description = description
            step = _transition(t, t.version, RELEVEL, t.state, t.state, actor, now,
                               f"{before} → {level}")  # fmt: skip
            s.add(step)
            sla.cancel_pending(s, t.id, now)
            sla.schedule(s, t, now, self.policy)
            self._audit(s, actor, RELEVEL, t, now, {"from": before, "to": level})
            return TransitionView(
                ticket_id=t.id, seq=step.seq, action=RELEVEL, from_state=t.state,
                to_state=t.state, actor=actor.user, actor_role=actor.role, at=now,
                note=step.note, crew_id=t.crew_id,
            )  # fmt: skip

    # -- escalation ------------------------------------------------------------------------
    def escalate(
        self,
        ticket_id: int,
        *,
        actor: Actor,
        note: str = "",
        expected_version: int | None = None,
    ) -> TransitionView:
        """Escalate a ticket one stage up: to the supervisor (manager), then the next level
        (leader) — what the SLA timers do at a deadline, done now by a dispatcher.

        The ticket keeps its state; its ``escalation`` goes up by one, a transition
        ``escalate`` (from = to = the state, who, when, note) and an audit row naming who is
        told are written, and the pending SLA escalations to the same or a lower stage are
        cancelled (that person already knows) — all in one transaction. Any later lifecycle
        step starts the next milestone at stage 0, as it does after a timer's escalation.

        Parameters
        ----------
        ticket_id : int
        actor : Actor
            Needs :data:`~twin.events.lifecycle.ESCALATE_PERMISSION`; denials are audited.
        note : str
            Why (shown in the ticket's history).
        expected_version : int, optional
            Refuse with StaleTicketError if the ticket changed since the caller read it.

        Returns
        -------
        TransitionView
            The committed step (``action == "escalate"``).

        Raises
        ------
        TicketNotFoundError, PermissionDeniedError, StaleTicketError, InvalidTransitionError
            The last when the ticket has no running SLA clock or is already at the top stage.
        """
        now = self.clock()
        error: Exception | None = None
        view: TransitionView | None = None
        with self.engine.begin() as conn:
            row = (
                conn.execute(select(_T).where(_T.c.id == ticket_id).with_for_update())
                .mappings()
                .first()
            )
            t = None if row is None else SimpleNamespace(**row)
            if t is None:
                error = TicketNotFoundError(f"no ticket {ticket_id}")
            elif not can(actor.role, ESCALATE_PERMISSION) or not _visible(actor, t):
                wanted = {"wanted": f"ticket.{ESCALATE}"}
                writepath.append_audit(
                    conn, now, [(actor.user, actor.role, "access.denied", t.id, False, wanted)]
                )
                error = PermissionDeniedError(f"role {actor.role!r} may not ticket.{ESCALATE}")
            else:
                error = _escalation_refusal(t, expected_version)
            if error is None:
                view = self._write_escalation(conn, t, actor, note, now)
        if error is not None:
            raise error
        return view

    @staticmethod
    def _write_escalation(conn, t: SimpleNamespace, actor: Actor, note: str, now: float):
        stage = t.escalation + 1
        conn.execute(
            update(_T)
            .where(_T.c.id == t.id)
            .values(escalation=stage, version=t.version + 1, updated_at=now)
        )
        row = {
            "ticket_id": t.id,
            "seq": t.version + 1,
            "action": ESCALATE,
            "from_state": t.state,
            "to_state": t.state,
            "actor": actor.user,
            "actor_role": actor.role,
            "at": now,
            "note": note,
            "crew_id": t.crew_id,
        }
        conn.execute(insert(Transition.__table__), [row])
        timers = SlaTimer.__table__
        conn.execute(
            update(timers)
            .where(
                timers.c.ticket_id == t.id,
                timers.c.kind == "escalate",
                timers.c.stage <= stage,
                timers.c.fired_at.is_(None),
                timers.c.cancelled_at.is_(None),
            )
            .values(cancelled_at=now)
        )
        detail = {"from": t.state, "to": t.state, "stage": stage, "notify": sla.NOTIFY_ROLE[stage]}
        writepath.append_audit(
            conn, now, [(actor.user, actor.role, f"ticket.{ESCALATE}", t.id, True, detail)]
        )
        return TransitionView(**row)

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
        self, actor: Actor, *, states: Sequence[str] | None = None, rounds: bool | None = None
    ) -> list[TicketView]:
        """Tickets this actor may see, newest first; ``rounds`` True: only the scheduled
        inspection rounds, False: all but them, None: all."""
        if not can(actor.role, "ticket.read"):
            raise PermissionDeniedError(f"role {actor.role!r} may not ticket.read")
        stmt = select(Ticket).order_by(Ticket.id.desc())
        if states:
            stmt = stmt.where(Ticket.state.in_(states))
        if rounds is not None:
            stmt = stmt.where(round_clause() if rounds else not_round_clause())
        if SCOPES.get(actor.role) == "own_crew":
            stmt = stmt.where(Ticket.crew_id == actor.crew_id)
        with self.sessions() as s:
            return [TicketView.of(t) for t in s.scalars(stmt)]

    def wall_counts(self, now: float | None = None) -> dict[str, int]:
        """Counts for the wall screen over the incident tickets (all but the scheduled
        inspection rounds, which are routine work), no one's details: ``open``
        (reported, dispatched, accepted or on site) and ``overdue`` (a running SLA clock whose
        deadline for the next milestone has passed at ``now``, default the store's clock).

        The deadline of the next milestone is the latest one scheduled for it: a reopened
        ticket keeps the fired timers of its earlier pass, whose deadlines are older.
        """
        now = self.clock() if now is None else now
        incident = not_round_clause()
        with self.sessions() as s:
            n_open = s.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(incident, Ticket.state.in_(OPEN_STATES))
            )
            rows = s.execute(
                select(Ticket.state, SlaTimer.milestone, func.max(SlaTimer.deadline_at))
                .join(SlaTimer, SlaTimer.ticket_id == Ticket.id)
                .where(
                    incident,
                    Ticket.state.in_(sla.NEXT_MILESTONE),
                    SlaTimer.cancelled_at.is_(None),
                )
                .group_by(Ticket.id, Ticket.state, SlaTimer.milestone)
            ).all()
        overdue = sum(
            1
            for state, milestone, deadline in rows
            if milestone == sla.NEXT_MILESTONE[state] and deadline <= now
        )
        return {"open": int(n_open or 0), "overdue": overdue}

    def history(self, ticket_id: int, actor: Actor | None = None) -> list[TransitionView]:
        """Every step of a ticket, in order (TicketNotFoundError if the actor may not see it)."""
        if actor is not None:
            self.get(ticket_id, actor)
        with self.sessions() as s:
            rows = s.scalars(
                select(Transition).where(Transition.ticket_id == ticket_id).order_by(Transition.seq)
            )
            return [TransitionView.of(r) for r in rows]


_T = Ticket.__table__


def _escalation_refusal(t: SimpleNamespace, expected_version: int | None) -> TicketError | None:
    """Why ``t`` cannot be escalated now (None: it can)."""
    if expected_version is not None and expected_version != t.version:
        return StaleTicketError(f"ticket {t.id} is at version {t.version}, not {expected_version}")
    if t.state not in ESCALATABLE_STATES:
        return InvalidTransitionError(f"cannot escalate ticket {t.id}: it is {t.state}")
    if t.escalation >= MAX_ESCALATION:
        return InvalidTransitionError(
            f"ticket {t.id} is already escalated to the {sla.NOTIFY_ROLE[MAX_ESCALATION]}"
        )
    return None


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
