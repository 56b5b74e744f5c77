"""Crash safety: SIGKILL a writer mid-burst; every acknowledged step is there, none is half."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from twin.events.audit import verify_chain
from twin.events.db import make_engine, session_factory
from twin.events.models import AuditEntry, Crew, Ticket, Transition

ROOT = Path(__file__).resolve().parents[2]
TICKETS = 5
ACKS_BEFORE_KILL = 40


def test_sigkill_mid_burst_loses_no_acknowledged_step_and_leaves_none_half(events_url):
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.twin.events_burst", events_url, str(TICKETS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acks = []
    deadline = time.monotonic() + 120
    for line in child.stdout:
        if line.startswith("ACK"):
            acks.append(tuple(line.split()[1:]))
            if len(acks) >= ACKS_BEFORE_KILL:
                break
        assert time.monotonic() < deadline, "burst too slow"
    child.send_signal(signal.SIGKILL)  # most likely inside the next transaction
    rest = child.stdout.read()  # acks printed before the kill still count
    child.wait()
    acks += [tuple(x.split()[1:]) for x in rest.splitlines() if x.startswith("ACK")]
    assert len(acks) >= ACKS_BEFORE_KILL

    engine = make_engine(events_url)  # "restart": a new engine on the same database
    with session_factory(engine)() as s:
        for ticket_id, seq, state in acks:
            row = s.scalars(
                select(Transition).where(
                    Transition.ticket_id == int(ticket_id), Transition.seq == int(seq)
                )
            ).one()
            assert row.to_state == state
        for t in s.scalars(select(Ticket)):
            last = s.scalars(
                select(Transition)
                .where(Transition.ticket_id == t.id)
                .order_by(Transition.seq.desc())
                .limit(1)
            ).one()
            assert (t.state, t.version) == (last.to_state, last.seq)
            busy = s.get(Crew, f"k{t.id - 1}").state == "busy"
            assert busy == (t.state in ("dispatched", "accepted", "on_site")), t.id
        n_transitions = s.scalar(select(func.count()).select_from(Transition))
        n_audited = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.object_type == "ticket", AuditEntry.action.like("ticket.%"))
        )
        assert n_transitions == n_audited
        assert verify_chain(s).ok
    engine.dispose()
