"""The ticket lifecycle as data: states, allowed transitions, errors, actors and views.

The store in :mod:`twin.events.tickets` applies this table; routes and pages read it to show
which buttons a ticket offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import MappingProxyType

from twin.events.models import Ticket, Transition

STATES: tuple[str, ...] = (
    "reported", "dispatched", "accepted", "on_site", "resolved", "verified", "closed",
    "dismissed", "merged",
)  # fmt: skip
OPEN_STATES: frozenset[str] = frozenset({"reported", "dispatched", "accepted", "on_site"})
HANDLED_STATES: frozenset[str] = frozenset({"resolved", "verified", "closed"})
SOURCES: tuple[str, ...] = ("warning", "device", "report", "inspection")
TICKET_TYPES: tuple[str, ...] = ("water", "power", "gas", "fire", "medical", "general")
LEVELS: tuple[str, ...] = ("blue", "yellow", "orange", "red")

#: (from state, action) → to state; anything absent is forbidden
TRANSITIONS: MappingProxyType = MappingProxyType(
    {
        ("reported", "dispatch"): "dispatched",
        ("reported", "dismiss"): "dismissed",
        ("reported", "merge"): "merged",
        ("dispatched", "accept"): "accepted",
        ("dispatched", "reject"): "reported",
        ("dispatched", "reassign"): "dispatched",
        ("dispatched", "merge"): "merged",
        ("accepted", "arrive"): "on_site",
        ("accepted", "reassign"): "dispatched",
        ("accepted", "merge"): "merged",
        ("on_site", "resolve"): "resolved",
        ("on_site", "reassign"): "dispatched",
        ("on_site", "merge"): "merged",
        ("resolved", "verify"): "verified",
        ("resolved", "reject_fix"): "accepted",
        ("verified", "close"): "closed",
        ("verified", "reopen"): "reported",
        ("closed", "reopen"): "reported",
        ("dismissed", "reopen"): "reported",
    }
)
ACTIONS: tuple[str, ...] = tuple(sorted({a for _, a in TRANSITIONS}))

#: the manual escalation: not a move between states but a step up the chain of command
#: (1 supervisor = manager, 2 next level = leader, as the SLA timers' stages), recorded as a
#: transition whose from and to state are the same (:meth:`TicketStore.escalate`)
ESCALATE = "escalate"
#: whoever may dispatch may escalate (the roles table has no row of its own for it)
ESCALATE_PERMISSION = "ticket.dispatch"
#: states with an SLA clock running: there is a milestone to escalate about
ESCALATABLE_STATES: frozenset[str] = OPEN_STATES | frozenset({"resolved", "verified"})
#: highest escalation stage (the next level above the supervisor)
MAX_ESCALATION = 2

#: state → the milestone column stamped on entering it
MILESTONE_COLUMN: MappingProxyType = MappingProxyType(
    {
        "dispatched": "dispatched_at",
        "accepted": "accepted_at",
        "on_site": "on_site_at",
        "resolved": "resolved_at",
        "verified": "verified_at",
        "closed": "closed_at",
    }
)

# looks like a phone number, ID-card number or e-mail: personal data, not an opaque id
_PERSONAL = re.compile(r"@|\d{7,}")


class TicketError(Exception):
    """Base of the lifecycle's errors."""


class TicketNotFoundError(TicketError, LookupError):
    """No ticket with that id (or not one this actor may see)."""


class InvalidTransitionError(TicketError, ValueError):
    """The action is not allowed from the ticket's state, or its arguments are wrong."""


class StaleTicketError(TicketError):
    """The ticket changed since the caller read it (``expected_version`` mismatch)."""


@dataclass(frozen=True)
class Actor:
    """Who acts: an account name (never a resident), its role and, for crews, the crew."""

    user: str
    role: str
    crew_id: str | None = None


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class TicketView:
    """A ticket as read back after commit."""

    id: int
    ref: str
    source: str
    source_ref: str | None
    type: str
    level: str
    state: str
    grid_code: str
    community_code: str | None
    node: str | None
    crew_id: str | None
    merged_into_id: int | None
    escalation: int
    version: int
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, t: Ticket) -> TicketView:
        return cls(**{f.name: getattr(t, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class TransitionView:
    """One recorded step: who, when, from, to and the note."""

    ticket_id: int
    seq: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    actor_role: str
    at: float
    note: str
    crew_id: str | None

    @classmethod
    def of(cls, t: Transition) -> TransitionView:
        return cls(**{f.name: getattr(t, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class TransitionRequest:
    """One requested step, for :meth:`TicketStore.apply` batches."""

    ticket_id: int
    action: str
    actor: Actor
    note: str = ""
    crew_id: str | None = None
    into: int | None = None
    expected_version: int | None = None


def iso_week(t: float) -> int:
    """ISO year and week of a UTC time as yyyyww.

    >>> iso_week(0.0)  # 1970-01-01 is in ISO week 1 of 1970
    197001
    """
    y, w, _ = datetime.fromtimestamp(t, UTC).isocalendar()
    return y * 100 + w


def check_opaque_ref(value: str | None, what: str = "reporter_ref") -> None:
    """Refuse what looks like personal data where only an opaque id may go."""
    if value is not None and _PERSONAL.search(value):
        raise ValueError(f"{what} must be an opaque id, not personal data")
