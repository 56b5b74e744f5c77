"""The transition write path: a batch of steps checked in memory, written in one Core transaction.

The ORM made every step cost a dozen round trips and object bookkeeping (about 300 steps/s per
core). Here a batch reads its tickets and crews with two prebuilt ``SELECT ... WHERE id IN``
statements (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
writers), applies every step to plain in-memory rows — a later step of the same ticket sees the
earlier one — and then writes everything with one ``executemany`` per table: ticket updates,
transition rows, crew states, SLA cancel + schedule, the KPI rollup deltas (summed per key) and
the hash-chained audit rows (the chain head read and written once). One commit, one fsync.

The semantics are the ORM path's: each step is fully checked before it changes anything, so a
refused step leaves the others intact; denials are audited in order with the changes; nothing
is returned before the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from twin.events import audit, kpi, sla
from twin.events.lifecycle import (
    HANDLED_STATES,
    MILESTONE_COLUMN,
    OPEN_STATES,
    TRANSITIONS,
    Actor,
    InvalidTransitionError,
    StaleTicketError,
    TicketError,
    TicketNotFoundError,
    TransitionRequest,
    TransitionView,
)
from twin.events.models import AuditEntry, AuditHead, Crew, SlaTimer, Ticket, Transition
from twin.events.roles import SCOPES, PermissionDeniedError, can

T = Ticket.__table__
C = Crew.__table__
A = AuditEntry.__table__
H = AuditHead.__table__

#: ticket columns a transition may change (written back with one executemany UPDATE)
MUTABLE = (
    "state", "crew_id", "merged_into_id", "escalation", "version", "updated_at", "sla_base_at",
    *MILESTONE_COLUMN.values(),
)  # fmt: skip

# prebuilt statements: compiled once, then SQLAlchemy's cache hits on every batch
_LOAD_TICKETS = (
    select(T).where(T.c.id.in_(bindparam("ids", expanding=True))).order_by(T.c.id).with_for_update()
)
_LOAD_CREWS = (
    select(C.c.id, C.c.state)
    .where(C.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(C.c.id)
    .with_for_update()
)
_UPDATE_TICKET = (
    update(T).where(T.c.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in MUTABLE})
)
_UPDATE_CREW = update(C).where(C.c.id == bindparam("b_id")).values(state=bindparam("b_state"))
_INSERT_TRANSITION = insert(Transition.__table__)
_INSERT_TIMERS = insert(SlaTimer.__table__)
_CANCEL_TIMERS = (
    update(SlaTimer.__table__)
    .where(
        SlaTimer.__table__.c.ticket_id == bindparam("b_tid"),
        SlaTimer.__table__.c.fired_at.is_(None),
        SlaTimer.__table__.c.cancelled_at.is_(None),
    )
    .values(cancelled_at=bindparam("b_now"))
)
_HEAD = select(H.c.seq, H.c.hash).where(H.c.id == 1).with_for_update()
_INSERT_HEAD = insert(H)
_UPDATE_HEAD = update(H).where(H.c.id == 1).values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
_INSERT_AUDIT = insert(A)


class Batch:
    """One transaction's worth of steps: in-memory rows plus everything to write at commit.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection inside ``engine.begin()``.
    now : float
        The batch's time, UTC epoch seconds.
    policy : sla.SlaPolicy
        Time limits for the timers scheduled by each step.
    """

    def __init__(self, conn: Connection, now: float, policy: sla.SlaPolicy) -> None:
        self.conn = conn
        self.now = now
        self.policy = policy
        self.tickets: dict[int, SimpleNamespace] = {}
        self.crews: dict[str, str] = {}  # id → state
        self.first_kpi: dict[int, tuple] = {}  # ticket id → contribution before the batch
        self.dirty_tickets: set[int] = set()
        self.dirty_crews: set[str] = set()
        self.transitions: list[dict] = []
        self.audit_rows: list[tuple] = []

    # -- loading --------------------------------------------------------------------------
    def load(self, requests: Sequence[TransitionRequest]) -> None:
        """Read (and lock) every ticket and crew the batch may touch, in id order."""
        ids = {r.ticket_id for r in requests} | {r.into for r in requests if r.into is not None}
        ids = sorted(i for i in ids if isinstance(i, int))
        if ids:
            for row in self.conn.execute(_LOAD_TICKETS, {"ids": ids}).mappings():
                self.tickets[row["id"]] = SimpleNamespace(**row)
        crew_ids = {r.crew_id for r in requests if r.crew_id is not None}
        crew_ids |= {t.crew_id for t in self.tickets.values() if t.crew_id is not None}
        if crew_ids:
            for cid, state in self.conn.execute(_LOAD_CREWS, {"ids": sorted(crew_ids)}):
                self.crews[cid] = state

    # -- one step ---------------------------------------------------------------------------
    def step(self, req: TransitionRequest) -> TransitionView:
        """Check and apply one step in memory; raises a TicketError/denial, changing nothing."""
        t = self.tickets.get(req.ticket_id)
        if t is None:
            raise TicketNotFoundError(f"no ticket {req.ticket_id}")
        authorise(req.actor, req.action, t)
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
        if t.id not in self.first_kpi:
            self.first_kpi[t.id] = kpi.contribution(t)
        detail = self._effects(t, req, to_state)
        t.state = to_state
        column = MILESTONE_COLUMN.get(to_state)
        if column is not None:
            setattr(t, column, self.now)
        t.version += 1
        t.updated_at = self.now
        t.escalation = 0
        self.dirty_tickets.add(t.id)
        row = {
            "ticket_id": t.id,
            "seq": t.version,
            "action": req.action,
            "from_state": from_state,
            "to_state": to_state,
            "actor": req.actor.user,
            "actor_role": req.actor.role,
            "at": self.now,
            "note": req.note,
            "crew_id": t.crew_id,
        }
        self.transitions.append(row)
        self.audit_rows.append(
            (
                req.actor.user,
                req.actor.role,
                f"ticket.{req.action}",
                t.id,
                True,
                {"from": from_state, "to": to_state, **detail},
            )
        )
        return TransitionView(**row)

    def deny(self, actor: Actor, action: str, ticket_id) -> None:
        """Record a refused step in the audit log (written with the batch)."""
        oid = "" if ticket_id is None else ticket_id
        self.audit_rows.append(
            (actor.user, actor.role, "access.denied", oid, False, {"wanted": f"ticket.{action}"})
        )

    def _effects(self, t: SimpleNamespace, req: TransitionRequest, to_state: str) -> dict:
        """Crew bookkeeping and merge/reopen side effects; all checks come before any write."""
        action = req.action
        if action in ("dispatch", "reassign"):
            if req.crew_id is None:
                raise InvalidTransitionError(f"{action} needs a crew_id")
            if req.crew_id == t.crew_id:
                raise InvalidTransitionError(f"ticket {t.id} is already with crew {t.crew_id}")
            state = self.crews.get(req.crew_id)
            if state is None:
                raise InvalidTransitionError(f"no crew {req.crew_id!r}")
            if state != "free":
                raise InvalidTransitionError(f"crew {req.crew_id} is {state}, not free")
            self._free_crew(t)
            self._set_crew(req.crew_id, "busy")
            t.crew_id = req.crew_id
            return {"crew": req.crew_id}
        if action == "merge":
            if req.into is None or req.into == t.id:
                raise InvalidTransitionError("merge needs another ticket to merge into")
            target = self.tickets.get(req.into)
            if target is None or target.state not in OPEN_STATES | HANDLED_STATES:
                raise InvalidTransitionError(f"ticket {req.into} is not live: cannot merge into it")
            self._free_crew(t)
            t.merged_into_id = target.id
            return {"into": target.id}
        if action in ("reject", "resolve"):
            self._free_crew(t)
            if action == "reject":
                t.crew_id = None
        elif action == "reject_fix" and t.crew_id is not None:
            self._set_crew(t.crew_id, "busy")
        elif action == "reopen":
            t.crew_id = None
            t.sla_base_at = self.now
            for column in MILESTONE_COLUMN.values():
                setattr(t, column, None)
        return {}

    def _set_crew(self, crew_id: str, state: str) -> None:
        if crew_id in self.crews:
            self.crews[crew_id] = state
            self.dirty_crews.add(crew_id)

    def _free_crew(self, t: SimpleNamespace) -> None:
        if t.crew_id is not None and self.crews.get(t.crew_id) == "busy":
            self._set_crew(t.crew_id, "free")

    # -- writing -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every change of the batch: one executemany per table, audit chain last."""
        conn, now = self.conn, self.now
        if self.dirty_tickets:
            rows = [self.tickets[i] for i in sorted(self.dirty_tickets)]
            conn.execute(
                _UPDATE_TICKET,
                [{"b_id": t.id, **{f"b_{c}": getattr(t, c) for c in MUTABLE}} for t in rows],
            )
            conn.execute(_INSERT_TRANSITION, self.transitions)
            conn.execute(_CANCEL_TIMERS, [{"b_tid": t.id, "b_now": now} for t in rows])
            timers = [
                {
                    "ticket_id": t.id,
                    "milestone": milestone,
                    "kind": kind,
                    "stage": stage,
                    "deadline_at": deadline,
                    "due_at": due,
                }
                for t in rows
                for milestone, kind, stage, deadline, due in sla.timer_plan(
                    t.type, t.level, t.state, t.sla_base_at, self.policy
                )
                if not (kind == "remind" and deadline <= now)
            ]
            if timers:
                conn.execute(_INSERT_TIMERS, timers)
            self._flush_kpi(rows)
        if self.dirty_crews:
            conn.execute(
                _UPDATE_CREW,
                [{"b_id": c, "b_state": self.crews[c]} for c in sorted(self.dirty_crews)],
            )
        if self.audit_rows:
            append_audit(conn, now, self.audit_rows)

    def _flush_kpi(self, rows: list[SimpleNamespace]) -> None:
        sums: dict[tuple, list] = {}
        for t in rows:
            after = kpi.contribution(t)
            key = (t.created_week, t.type, t.grid_code, t.community_code or "")
            acc = sums.setdefault(key, [0] * len(kpi.SUM_COLUMNS))
            for j, (a, b) in enumerate(zip(after, self.first_kpi[t.id], strict=True)):
                acc[j] += a - b
        params = [
            {
                **dict(zip(kpi.KEY_COLUMNS, key, strict=True)),
                **dict(zip(kpi.SUM_COLUMNS, d, strict=True)),
            }
            for key, d in sums.items()
            if any(d)
        ]
        if not params:
            return
        dialect = self.conn.dialect.name
        if dialect in kpi._UPSERT_MAKERS:
            self.conn.execute(kpi._upsert(dialect), params)
            return
        with Session(bind=self.conn) as s:  # other backends: the rollup's own update/insert
            for p in params:
                t = SimpleNamespace(**{**p, "state": "reported"})
                kpi.apply_delta(s, t, kpi.ZERO)


def append_audit(conn: Connection, now: float, rows: list[tuple]) -> None:
    """Append audit rows ``(actor, role, action, object_id, success, detail)`` to the chain.

    The head row is locked and read once, every hash computed in order exactly as
    :func:`twin.events.audit.append` does, the rows inserted with one executemany and the head
    moved once — same chain, one round trip instead of one per row.
    """
    head = conn.execute(_HEAD).first()
    if head is None:
        seq, prev = 0, audit.GENESIS_HASH
        conn.execute(_INSERT_HEAD, {"id": 1, "seq": 0, "hash": prev})
    else:
        seq, prev = head
    out = []
    for actor, role, action, object_id, success, detail in rows:
        seq += 1
        text = audit._detail_text(detail)
        oid = str(object_id)
        digest = audit.chain_hash(
            prev, audit.canonical(seq, now, actor, role, action, "ticket", oid, success, text)
        )
        out.append(
            {
                "seq": seq,
                "at": float(now),
                "actor": actor,
                "role": role,
                "action": action,
                "object_type": "ticket",
                "object_id": oid,
                "success": bool(success),
                "detail": text,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    conn.execute(_INSERT_AUDIT, out)
    conn.execute(_UPDATE_HEAD, {"b_seq": seq, "b_hash": prev})


def apply_batch(
    conn: Connection, requests: Sequence[TransitionRequest], now: float, policy: sla.SlaPolicy
) -> list[TransitionView | Exception]:
    """Check and apply ``requests`` in order inside ``conn``'s transaction (caller commits)."""
    batch = Batch(conn, now, policy)
    batch.load(requests)
    results: list[TransitionView | Exception] = []
    for req in requests:
        try:
            results.append(batch.step(req))
        except PermissionDeniedError as exc:
            batch.deny(req.actor, req.action, req.ticket_id)
            results.append(exc)
        except TicketError as exc:
            results.append(exc)
    batch.flush()
    return results


def authorise(actor: Actor, action: str, t) -> None:
    """Raise PermissionDeniedError unless the role may act, and a crew only on its own ticket."""
    if not can(actor.role, f"ticket.{action}"):
        raise PermissionDeniedError(f"role {actor.role!r} may not ticket.{action}")
    if SCOPES.get(actor.role) == "own_crew" and (
        actor.crew_id is None or t.crew_id != actor.crew_id
    ):
        raise PermissionDeniedError(f"ticket {t.id} is not dispatched to crew {actor.crew_id!r}")
