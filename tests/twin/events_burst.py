"""Crash-test child: cycles tickets through their lifecycle, printing each acknowledged step.

``python -m tests.twin.events_burst URL N`` prints ``READY`` once N tickets exist, then
``ACK <ticket> <seq> <state>`` after each transition has committed, until killed.
"""

from __future__ import annotations

import itertools
import sys

from twin.events.crews import CrewInfo, upsert_crew
from twin.events.db import make_engine
from twin.events.lifecycle import Actor
from twin.events.tickets import TicketStore

OP = Actor("burst-op", "operator")
CYCLE = ("dispatch", "accept", "arrive", "resolve", "verify", "close", "reopen")


def main(url: str, n: int) -> None:
    store = TicketStore(make_engine(url))
    ids = []
    for i in range(n):
        upsert_crew(store.sessions, CrewInfo(f"k{i}", f"k{i}", frozenset({"water"}), "a"))
        t = store.create(source="report", type="water", level="red", grid_code="g1", actor=OP)
        ids.append(t.id)
    print("READY", flush=True)
    for step in itertools.count():
        action = CYCLE[(step // n) % len(CYCLE)]
        i = step % n
        crew = Actor(f"burst-k{i}", "crew", f"k{i}")
        actor = crew if action in ("accept", "arrive", "resolve") else OP
        kw = {"crew_id": f"k{i}"} if action == "dispatch" else {}
        done = store.transition(ids[i], action, actor=actor, note=f"step {step}", **kw)
        print(f"ACK {done.ticket_id} {done.seq} {done.to_state}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
