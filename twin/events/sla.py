"""Time limits (SLA) per ticket type and level: reminders, escalations, stored timers.

Limits are data (:data:`DEFAULT_RULES`, overridable per ``(type, level)``), counted from the
ticket's SLA base (creation, or its last reopen) to each milestone state. Whenever a ticket
changes state the store cancels its pending timers and schedules three for the next milestone:
a reminder ``remind_before_s`` before the deadline, an escalation to the supervisor (manager)
at the deadline, and one to the next level (leader) ``escalate_next_s`` later — the "timeout
reminder" of the source documents. Timers are rows, so they survive restarts;
:func:`due_actions` fires the ones that are due and records each in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from twin.events import audit
from twin.events.models import SlaTimer, Ticket

MINUTE = 60.0
HOUR = 3600.0

#: state → the milestone it must reach next (no entry: no clock runs)
NEXT_MILESTONE: MappingProxyType = MappingProxyType(
    {
        "reported": "dispatched",
        "dispatched": "accepted",
        "accepted": "on_site",
        "on_site": "resolved",
        "resolved": "closed",
        "verified": "closed",
    }
)

#: who is told at each stage (0 reminder; 1 supervisor; 2 the next level)
NOTIFY_ROLE: MappingProxyType = MappingProxyType({1: "manager", 2: "leader"})


@dataclass(frozen=True)
class SlaRule:
    """Time limits [s] from the SLA base to each milestone, and the alarm spacing [s]."""

    dispatched_s: float
    accepted_s: float
    on_site_s: float
    resolved_s: float
    closed_s: float
    remind_before_s: float
    escalate_next_s: float

    def limit_s(self, milestone: str) -> float:
        """Time allowed from the SLA base to reach ``milestone`` [s]."""
        return getattr(self, f"{milestone}_s")


#: level → rule (convention of this project, tune per city; red is the tightest)
DEFAULT_RULES: MappingProxyType = MappingProxyType(
    {
        "red": SlaRule(
            5 * MINUTE, 10 * MINUTE, 30 * MINUTE, 4 * HOUR, 24 * HOUR, 2 * MINUTE, 10 * MINUTE
        ),
        "orange": SlaRule(
            10 * MINUTE, 20 * MINUTE, 60 * MINUTE, 8 * HOUR, 48 * HOUR, 5 * MINUTE, 30 * MINUTE
        ),
        "yellow": SlaRule(
            30 * MINUTE, 60 * MINUTE, 2 * HOUR, 24 * HOUR, 72 * HOUR, 10 * MINUTE, HOUR
        ),
        "blue": SlaRule(2 * HOUR, 4 * HOUR, 8 * HOUR, 72 * HOUR, 168 * HOUR, 30 * MINUTE, 4 * HOUR),
    }
)

#: (type, level) → rule, taking precedence over the level's rule
DEFAULT_OVERRIDES: MappingProxyType = MappingProxyType(
    {
        # gas leaks and fires need a crew on site faster than a blocked drain
        ("gas", "red"): SlaRule(
            3 * MINUTE, 5 * MINUTE, 15 * MINUTE, 2 * HOUR, 24 * HOUR, MINUTE, 5 * MINUTE
        ),
        ("fire", "red"): SlaRule(
            2 * MINUTE, 4 * MINUTE, 12 * MINUTE, 2 * HOUR, 24 * HOUR, MINUTE, 5 * MINUTE
        ),
    }
)


@dataclass(frozen=True)
class SlaPolicy:
    """Rules by level with ``(type, level)`` overrides; plain data, swap it per city."""

    rules: MappingProxyType = field(default_factory=lambda: DEFAULT_RULES)
    overrides: MappingProxyType = field(default_factory=lambda: DEFAULT_OVERRIDES)

    def rule(self, ticket_type: str, level: str) -> SlaRule:
        """The rule for a ticket of this type and level."""
        return self.overrides.get((ticket_type, level)) or self.rules[level]


DEFAULT_POLICY = SlaPolicy()


_CANCEL = (
    update(SlaTimer)
    .where(
        SlaTimer.ticket_id == bindparam("tid"),
        SlaTimer.fired_at.is_(None),
        SlaTimer.cancelled_at.is_(None),
    )
    .values(cancelled_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def cancel_pending(session: Session, ticket_id: int, now: float) -> None:
    """Cancel every pending timer of a ticket (its state changed); one prebuilt UPDATE."""
    session.execute(_CANCEL, {"tid": ticket_id, "now": now})


def timer_plan(ticket_type: str, level: str, state: str, base_at: float, policy: SlaPolicy):
    """The (milestone, kind, stage, deadline, due) timers for a ticket in ``state``.

    >>> [(k, s, due) for _, k, s, _, due in timer_plan("water", "red", "reported", 0.0,
    ...                                                 DEFAULT_POLICY)]
    [('remind', 0, 180.0), ('escalate', 1, 300.0), ('escalate', 2, 900.0)]
    """
    milestone = NEXT_MILESTONE.get(state)
    if milestone is None:
        return []
    rule = policy.rule(ticket_type, level)
    deadline = base_at + rule.limit_s(milestone)
    return [
        (milestone, "remind", 0, deadline, deadline - rule.remind_before_s),
        (milestone, "escalate", 1, deadline, deadline),
        (milestone, "escalate", 2, deadline, deadline + rule.escalate_next_s),
    ]


def schedule(session: Session, ticket: Ticket, now: float, policy: SlaPolicy) -> None:
    """Schedule the reminder and two escalations for the ticket's next milestone.

    A reminder whose deadline has already passed is not scheduled (the escalation says it).
    """
    rows = [
        {
            "ticket_id": ticket.id,
            "milestone": milestone,
            "kind": kind,
            "stage": stage,
            "deadline_at": deadline,
            "due_at": due,
        }
        for milestone, kind, stage, deadline, due in timer_plan(
            ticket.type, ticket.level, ticket.state, ticket.sla_base_at, policy
        )
        if not (kind == "remind" and deadline <= now)
    ]
    if rows:
        session.execute(insert(SlaTimer), rows)


@dataclass(frozen=True)
class SlaAction:
    """A reminder or escalation to deliver; ``notify_role`` says to whom."""

    ticket_id: int
    ticket_ref: str
    milestone: str
    kind: str
    stage: int
    notify_role: str
    crew_id: str | None
    deadline_at: float
    due_at: float


def _notify_role(stage: int, milestone: str, crew_id: str | None) -> str:
    if stage > 0:
        return NOTIFY_ROLE[stage]
    # the crew is reminded of its own steps; the operator of dispatching and closing
    crew_steps = ("accepted", "on_site", "resolved")
    return "crew" if crew_id and milestone in crew_steps else "operator"


def due_actions(
    sessions: sessionmaker[Session] | Callable[[], Session], now: float, *, limit: int = 1000
) -> list[SlaAction]:
    """Fire every pending timer due at or before ``now`` and return what to deliver.

    Each fired timer is marked with ``fired_at``, escalations raise the ticket's
    ``escalation`` level, and every action gets an audit row — all in one transaction, so
    an action is returned only once, after it is durably recorded.

    Parameters
    ----------
    sessions : sessionmaker
        Session factory of the event store.
    now : float
        Current time, UTC epoch seconds.
    limit : int
        Most timers fired in one call (the rest wait for the next scan).
    """
    out: list[SlaAction] = []
    with sessions() as session, session.begin():
        rows = session.execute(
            select(SlaTimer, Ticket)
            .join(Ticket, Ticket.id == SlaTimer.ticket_id)
            .where(
                SlaTimer.fired_at.is_(None),
                SlaTimer.cancelled_at.is_(None),
                SlaTimer.due_at <= now,
            )
            .order_by(SlaTimer.due_at, SlaTimer.id)
            .limit(limit)
            .with_for_update(of=SlaTimer)
        ).all()
        for timer, ticket in rows:
            timer.fired_at = now
            if timer.kind == "escalate":
                ticket.escalation = max(ticket.escalation, timer.stage)
            action = SlaAction(
                ticket_id=ticket.id,
                ticket_ref=ticket.ref,
                milestone=timer.milestone,
                kind=timer.kind,
                stage=timer.stage,
                notify_role=_notify_role(timer.stage, timer.milestone, ticket.crew_id),
                crew_id=ticket.crew_id,
                deadline_at=timer.deadline_at,
                due_at=timer.due_at,
            )
            audit.append(
                session,
                at=now,
                actor="sla",
                role="system",
                action=f"sla.{timer.kind}",
                object_type="ticket",
                object_id=ticket.id,
                detail={
                    "milestone": timer.milestone,
                    "stage": timer.stage,
                    "notify": action.notify_role,
                    "deadline_at": timer.deadline_at,
                },
            )
            out.append(action)
    return out


def pending_timers(session: Session, ticket_id: int) -> list[SlaTimer]:
    """Pending timers of one ticket, soonest first (for the ticket page)."""
    return list(
        session.scalars(
            select(SlaTimer)
            .where(
                SlaTimer.ticket_id == ticket_id,
                SlaTimer.fired_at.is_(None),
                SlaTimer.cancelled_at.is_(None),
            )
            .order_by(SlaTimer.due_at)
        )
    )
