"""Append-only, hash-chained audit log: who did what, when, and whether it succeeded.

Each row stores ``hash = sha256(prev_hash + canonical(row))``, so editing, inserting or
deleting any row breaks the chain from that row on; :func:`verify_chain` names the first bad
row. Rows are appended inside the caller's transaction (a ticket change and its audit row
commit together) after locking the single ``audit_head`` row, which serialises appenders on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already does. Database triggers refuse UPDATE and
DELETE; the chain still catches someone who drops them first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.events.models import AuditEntry, AuditHead

#: hash before the first row
GENESIS_HASH = "0" * 64


def canonical(
    seq: int,
    at: float,
    actor: str,
    role: str,
    action: str,
    object_type: str,
    object_id: str,
    success: bool,
    detail: str,
) -> str:
    """The exact text that is hashed for one row (JSON array, no spaces).

    >>> canonical(1, 0.5, "ann", "operator", "ticket.dispatch", "ticket", "7", True, "{}")
    '[1,0.5,"ann","operator","ticket.dispatch","ticket","7",true,"{}"]'
    """
    row = [seq, float(at), actor, role, action, object_type, object_id, bool(success), detail]
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, canonical_row: str) -> str:
    """sha256 hex of the previous hash followed by the canonical row."""
    return hashlib.sha256((prev_hash + canonical_row).encode("utf-8")).hexdigest()


def _detail_text(detail: dict[str, Any] | None) -> str:
    return json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def append(
    session: Session,
    *,
    at: float,
    actor: str,
    role: str,
    action: str,
    object_type: str,
    object_id: str | int,
    success: bool = True,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one row in the session's current transaction (the caller commits).

    Parameters
    ----------
    at : float
        UTC epoch seconds.
    actor, role : str
        Account name (never a resident) and its role.
    action : str
        Dotted action, e.g. ``"ticket.dispatch"``, ``"auth.login"``, ``"access.denied"``.
    object_type, object_id
        What was acted on.
    success : bool
        False for denials and failed logins.
    detail : dict, optional
        Extra facts; must carry no personal data or secrets.
    """
    # the head row is locked once per transaction and then kept in the session's identity map
    tx = session.get_transaction()
    cached = session.info.get("audit_head")
    if cached is not None and cached[0] is tx:
        head = cached[1]
    else:
        head = session.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
        session.add(head)
    seq = head.seq + 1
    text = _detail_text(detail)
    oid = str(object_id)
    digest = chain_hash(
        head.hash, canonical(seq, at, actor, role, action, object_type, oid, success, text)
    )
    entry = AuditEntry(
        seq=seq,
        at=float(at),
        actor=actor,
        role=role,
        action=action,
        object_type=object_type,
        object_id=oid,
        success=bool(success),
        detail=text,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    session.info["audit_head"] = (tx, head)
    return entry


@dataclass(frozen=True)
class ChainReport:
    """Outcome of :func:`verify_chain`; ``bad_seq`` names the first row that fails."""

    ok: bool
    rows: int
    bad_seq: int | None = None
    reason: str = ""


def verify_chain(session: Session, *, batch: int = 10_000) -> ChainReport:
    """Recompute every hash in order and compare with the stored chain and head.

    Returns
    -------
    ChainReport
        ``ok`` False with the first bad ``seq`` and why (edited row, gap, broken link,
        head mismatch after truncation).
    """
    prev = GENESIS_HASH
    expected_seq = 1
    rows = 0
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for e in session.scalars(stmt):
        if e.seq != expected_seq:
            return ChainReport(False, rows, expected_seq, f"row {expected_seq} is missing")
        if e.prev_hash != prev:
            return ChainReport(False, rows, e.seq, f"row {e.seq} does not link to row {e.seq - 1}")
        text = canonical(
            e.seq, e.at, e.actor, e.role, e.action, e.object_type, e.object_id, e.success, e.detail
        )
        if chain_hash(prev, text) != e.hash:
            return ChainReport(False, rows, e.seq, f"row {e.seq} was changed after it was written")
        prev = e.hash
        expected_seq += 1
        rows += 1
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (0, GENESIS_HASH) if head is None else (head.seq, head.hash)
    if head_seq != rows or head_hash != prev:
        return ChainReport(
            False, rows, rows + 1, f"chain ends at row {rows} but its head says row {head_seq}"
        )
    return ChainReport(True, rows)
