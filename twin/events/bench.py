"""``streettwin bench dispatch``: ticket transitions per second and leaders' query time.

Two figures on SQLite (WAL, synchronous=FULL, on a temp file):

- ``transitions_per_s``: full lifecycles (dispatch → ... → close, each with its transition,
  SLA timers and hash-chained audit row) applied through :meth:`TicketStore.apply` in batches
  — group commit, every step durable before it is acknowledged. One commit per step is also
  reported (``transitions_per_s_single_commit``): it is bound by the disk's fsync rate; and
  ``transitions_per_s_group_commit``: 32 threads each calling ``transition()`` one step at a
  time, grouped into shared transactions by the store's writer thread.
- ``kpi_query_ms``: :func:`kpi_figures` by type over 1,000,000 historical tickets (20,000 with
  ``--smoke``), bulk-inserted with Core ``executemany`` and rolled up once (as an import
  would); median of ``--repeat`` runs. Beside it: by grid × week over the last 12 weeks, and
  the same by-type figures by a full scan of the tickets (``kpi_query_exact_scan_ms``).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from twin.events.crews import CrewInfo, upsert_crew
from twin.events.db import make_engine, sqlite_url
from twin.events.kpi import kpi_figures, kpi_figures_exact, rebuild_rollup
from twin.events.lifecycle import LEVELS, TICKET_TYPES, Actor, TransitionRequest, iso_week
from twin.events.migrations import upgrade
from twin.events.models import Ticket
from twin.events.tickets import TicketStore

HISTORY_TICKETS = 1_000_000
SMOKE_HISTORY_TICKETS = 20_000
LIFECYCLE_TICKETS = 400
SMOKE_LIFECYCLE_TICKETS = 60
BATCH = 100
#: concurrent callers in the group-commit figure (web request threads)
GROUP_COMMIT_THREADS = 32
INSERT_CHUNK = 50_000
#: 2026-01-05 00:00 UTC, a Monday: start of the synthetic history [s]
HISTORY_START = 1_767_571_200.0
HISTORY_WEEKS = 52
WEEK_S = 7 * 86_400.0

OPERATOR = Actor("bench-operator", "operator")
LIFECYCLE = ("dispatch", "accept", "arrive", "resolve", "verify", "close")


def _crew_actor(crew_id: str) -> Actor:
    return Actor(f"bench-{crew_id}", "crew", crew_id)


def _lifecycle_steps(store: TicketStore, n: int) -> list[list[TransitionRequest]]:
    """Create n tickets and their crews; return the six steps of each, step by step."""
    for i in range(n):
        upsert_crew(store.sessions, CrewInfo(f"c{i}", f"crew {i}", frozenset({"water"}), "n0"))
    ids = [
        store.create(source="report", type="water", level="yellow", grid_code=f"g{i % 20}").id
        for i in range(n)
    ]
    steps = []
    for action in LIFECYCLE:
        row = []
        for i, tid in enumerate(ids):
            crew = f"c{i}"
            actor = _crew_actor(crew) if action in ("accept", "arrive", "resolve") else OPERATOR
            cid = crew if action == "dispatch" else None
            row.append(TransitionRequest(tid, action, actor, "bench", crew_id=cid))
        steps.append(row)
    return steps


def measure_transitions(url: str, n: int, batch: int | None) -> float:
    """Transitions per second applied in batches of ``batch`` (None: one commit each)."""
    engine = make_engine(url)
    store = TicketStore(engine)
    steps = _lifecycle_steps(store, n)
    done = 0
    t0 = time.perf_counter()
    for row in steps:
        if batch is None:
            for req in row:
                store.transition(
                    req.ticket_id, req.action, actor=req.actor, note=req.note, crew_id=req.crew_id
                )
                done += 1
        else:
            for k in range(0, len(row), batch):
                results = store.apply(row[k : k + batch])
                bad = [r for r in results if isinstance(r, Exception)]
                if bad:
                    raise RuntimeError(f"bench transition refused: {bad[0]}")
                done += len(results)
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return done / elapsed


def measure_group_commit(url: str, n: int, threads: int = GROUP_COMMIT_THREADS) -> float:
    """Transitions per second when ``threads`` callers each call :meth:`TicketStore.transition`
    (one step at a time, as web requests do); the store's writer thread groups them."""
    from concurrent.futures import ThreadPoolExecutor

    engine = make_engine(url)
    store = TicketStore(engine)
    steps = _lifecycle_steps(store, n)

    def run(req: TransitionRequest) -> None:
        store.transition(
            req.ticket_id, req.action, actor=req.actor, note=req.note, crew_id=req.crew_id
        )

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for row in steps:  # a ticket's steps are ordered; tickets run concurrently
            list(pool.map(run, row))
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return sum(len(r) for r in steps) / elapsed


def synthetic_history(n: int, rng: np.random.Generator) -> list[dict]:
    """n closed/handled/open historical tickets with plausible step times (no people)."""
    created = HISTORY_START + rng.uniform(0, HISTORY_WEEKS * WEEK_S, n)
    types = rng.integers(0, len(TICKET_TYPES), n)
    levels = rng.integers(0, len(LEVELS), n)
    grids = rng.integers(0, 200, n)
    d_dispatch = rng.exponential(600, n)
    d_accept = d_dispatch + rng.exponential(300, n)
    d_arrive = d_accept + rng.exponential(1200, n)
    d_close = d_arrive + rng.exponential(20_000, n)
    u = rng.uniform(0, 1, n)  # 0.9 closed, 0.05 open, 0.03 merged, 0.02 dismissed
    weeks = {}
    rows = []
    for i in range(n):
        c = float(created[i])
        wk = int((c - HISTORY_START) // WEEK_S)
        if wk not in weeks:
            weeks[wk] = iso_week(HISTORY_START + wk * WEEK_S)
        closed = u[i] < 0.9
        state = "closed" if closed else "reported" if u[i] < 0.95 else "merged"
        if u[i] >= 0.98:
            state = "dismissed"
        rows.append(
            {
                "ref": f"h{i:015x}",
                "source": "report",
                "type": TICKET_TYPES[types[i]],
                "level": LEVELS[levels[i]],
                "state": state,
                "grid_code": f"g{grids[i]:03d}",
                "community_code": f"c{grids[i] // 20:02d}",
                "description": "",
                "escalation": 0,
                "version": 7 if closed else 1,
                "created_week": weeks[wk],
                "created_at": c,
                "sla_base_at": c,
                "dispatched_at": c + float(d_dispatch[i]) if closed else None,
                "accepted_at": c + float(d_accept[i]) if closed else None,
                "on_site_at": c + float(d_arrive[i]) if closed else None,
                "resolved_at": c + float(d_close[i]) * 0.9 if closed else None,
                "verified_at": c + float(d_close[i]) * 0.95 if closed else None,
                "closed_at": c + float(d_close[i]) if closed else None,
                "updated_at": c,
            }
        )
    return rows


def load_history(engine, n: int, seed: int = 6) -> float:
    """Bulk-insert n historical tickets; return the seconds it took."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for start in range(0, n, INSERT_CHUNK):
        rows = synthetic_history(min(INSERT_CHUNK, n - start), rng)
        for j, r in enumerate(rows):
            r["ref"] = f"h{start + j:015x}"
        with engine.begin() as conn:
            conn.execute(insert(Ticket), rows)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - t0


def build_rollup(engine) -> float:
    """Rebuild the figures' rollup from the tickets; return the seconds it took."""
    t0 = time.perf_counter()
    with Session(engine) as s, s.begin():
        rebuild_rollup(s)
    return time.perf_counter() - t0


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def bench_dispatch(args) -> dict:
    """Run the dispatch benchmark; returns the figures (see the module docstring)."""
    smoke = bool(getattr(args, "smoke", False))
    repeat = int(getattr(args, "repeat", 3) or 3)
    n_life = SMOKE_LIFECYCLE_TICKETS if smoke else LIFECYCLE_TICKETS
    n_hist = SMOKE_HISTORY_TICKETS if smoke else HISTORY_TICKETS
    with tempfile.TemporaryDirectory(prefix="streettwin-bench-") as tmp:
        batched_url = sqlite_url(Path(tmp) / "batched.db")
        single_url = sqlite_url(Path(tmp) / "single.db")
        hist_url = sqlite_url(Path(tmp) / "history.db")
        group_url = sqlite_url(Path(tmp) / "group.db")
        for url in (batched_url, single_url, hist_url, group_url):
            upgrade(url)
        per_s = measure_transitions(batched_url, n_life, BATCH)
        per_s_single = measure_transitions(single_url, max(10, n_life // 4), None)
        per_s_group = measure_group_commit(group_url, n_life)
        engine = make_engine(hist_url)
        load_s = load_history(engine, n_hist)
        rollup_s = build_rollup(engine)
        kpi_type_ms = _median_ms(lambda: kpi_figures(engine, ("type",)), repeat)
        last12 = iso_week(HISTORY_START + (HISTORY_WEEKS - 12) * WEEK_S)
        kpi_grid_week_ms = _median_ms(
            lambda: kpi_figures(engine, ("grid", "week"), from_week=last12), repeat
        )
        exact_ms = _median_ms(lambda: kpi_figures_exact(engine, ("type",)), 1)
        rows = kpi_figures(engine, ())
        engine.dispose()
    return {
        "transitions_per_s": round(per_s, 1),
        "transitions_per_s_single_commit": round(per_s_single, 1),
        "transitions_per_s_group_commit": round(per_s_group, 1),
        "group_commit_threads": GROUP_COMMIT_THREADS,
        "batch": BATCH,
        "lifecycle_tickets": n_life,
        "kpi_query_ms": round(kpi_type_ms, 1),
        "kpi_grid_week_12w_ms": round(kpi_grid_week_ms, 1),
        "history_tickets": n_hist,
        "kpi_query_exact_scan_ms": round(exact_ms, 1),
        "history_load_s": round(load_s, 2),
        "history_rollup_s": round(rollup_s, 2),
        "history_handling_rate": round(rows[0].handling_rate, 4) if rows else None,
        "backend": "sqlite (WAL, synchronous=FULL)",
        "smoke": smoke,
        "floors": {"transitions_per_s": ">= 1000", "kpi_query_ms": "<= 500"},
    }
