"""Accounts: salted scrypt hashes, lockout, bearer tokens, admin-only account changes, audited
logins, and sessions with idle and absolute timeouts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from twin.events.audit import verify_chain
from twin.events.db import make_engine, sqlite_url
from twin.events.lifecycle import Actor
from twin.events.migrations import upgrade
from twin.events.models import AuditEntry, User
from twin.events.roles import PermissionDeniedError
from twin.events.users import (
    HashParams,
    LoginError,
    SessionStore,
    UserStore,
    hash_password,
    verify_password,
)

PW = "a long enough passphrase"
CHEAP = HashParams(n=2**10)


@pytest.fixture
def users(tmp_path, clock):
    url = sqlite_url(tmp_path / "u.db")
    upgrade(url)
    engine = make_engine(url)
    yield UserStore(engine, clock=clock, params=CHEAP, max_failures=3, lockout_s=600)
    engine.dispose()


def test_hash_is_salted_and_cost_factored():
    a, b = hash_password(PW, CHEAP), hash_password(PW, CHEAP)
    assert a != b and a.startswith("scrypt$1024$8$1$")
    assert verify_password(PW, a) and not verify_password(PW + "x", a)
    assert not verify_password(PW, None) and not verify_password(PW, "sha256$abc")


def test_lockout_after_failures_then_release(users, clock):
    users.add_user("ann", "operator", PW)
    for _ in range(3):
        with pytest.raises(LoginError):
            users.authenticate("ann", "wrong")
    with pytest.raises(LoginError):  # locked: right password refused
        users.authenticate("ann", PW)
    clock.advance(601)
    assert users.authenticate("ann", PW).role == "operator"
    with users.sessions() as s:
        u = s.scalars(select(User).where(User.username == "ann")).one()
        assert (u.failed_logins, u.locked_until) == (0, None)
        logins = s.execute(
            select(AuditEntry.action, AuditEntry.success, AuditEntry.detail)
            .where(AuditEntry.action.like("auth.%"))
            .order_by(AuditEntry.seq)
        ).all()
        assert verify_chain(s).ok
    assert [(a, ok) for a, ok, _ in logins] == [
        ("auth.login", False), ("auth.login", False), ("auth.login", False),
        ("auth.lockout", True), ("auth.login", False), ("auth.login", True),
    ]  # fmt: skip
    assert PW not in str(logins)


def test_unknown_user_is_refused_like_a_wrong_password_and_not_named_in_the_log(users):
    with pytest.raises(LoginError, match="wrong user name or password"):
        users.authenticate("13800000000", PW)
    with users.sessions() as s:
        row = s.scalars(select(AuditEntry)).one()
    assert (row.actor, row.object_id, row.success) == ("unknown", "", False)


def test_only_admins_manage_accounts_and_crews_need_a_crew(users):
    users.add_user("root", "admin", PW)
    with pytest.raises(PermissionDeniedError):
        users.add_user("eve", "operator", PW, actor=Actor("aud", "auditor"))
    with pytest.raises(ValueError, match="crew_id"):
        users.add_user("bob", "crew", PW, actor=Actor("root", "admin"))
    with pytest.raises(ValueError, match="12 characters"):
        users.add_user("cat", "operator", "short", actor=Actor("root", "admin"))
    assert users.add_user("dan", "leader", PW, actor=Actor("root", "admin")).role == "leader"


def test_bearer_token_authenticates_only_its_account_and_cannot_log_in(users):
    users.add_user("gw", "system")
    token = users.issue_token("gw")
    assert users.authenticate_token(token).username == "gw"
    assert users.authenticate_token(token + "x") is None
    assert users.authenticate_token("gw") is None
    with pytest.raises(LoginError):
        users.authenticate("gw", token.split(".", 1)[1])
    with users.sessions() as s:
        stored = s.scalars(select(User.password_hash).where(User.username == "gw")).one()
    assert token.split(".", 1)[1] not in stored


def test_sessions_time_out_when_idle_and_after_their_lifetime(clock):
    store = SessionStore(clock=clock, idle_timeout_s=100, absolute_timeout_s=250)
    from twin.events.users import UserView

    ws = store.create(UserView("ann", "operator", None, (), True))
    clock.advance(90)
    assert store.get(ws.sid)[0] is not None
    clock.advance(90)
    assert store.get(ws.sid)[0] is not None  # used 90 s ago: still alive
    clock.advance(90)
    assert store.get(ws.sid) == (None, "expired")  # 270 s after login
    ws2 = store.create(UserView("ann", "operator", None, (), True))
    assert ws2.sid != ws.sid and ws2.csrf != ws.csrf
    clock.advance(101)
    assert store.get(ws2.sid) == (None, "idle")
    assert store.get(ws2.sid) == (None, "unknown")
