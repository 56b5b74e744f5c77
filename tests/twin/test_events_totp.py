"""Second factor for administrators and auditors: TOTP enrolment, codes at login, one use per
code, wrong codes towards the lockout, secrets never in the audit log."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from twin.events.audit import verify_chain
from twin.events.db import make_engine, sqlite_url
from twin.events.lifecycle import Actor
from twin.events.migrations import upgrade
from twin.events.models import AuditEntry, User
from twin.events.roles import PermissionDeniedError
from twin.events.totp import code_at, matching_step
from twin.events.users import CodeRequiredError, HashParams, LoginError, UserStore

PW = "a long enough passphrase"
CHEAP = HashParams(n=2**10)


@pytest.fixture
def engine(tmp_path):
    url = sqlite_url(tmp_path / "u.db")
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def users(engine, clock):
    return UserStore(engine, clock=clock, params=CHEAP, max_failures=3, lockout_s=600)


def secret_of(uri: str) -> str:
    return parse_qs(urlsplit(uri).query)["secret"][0]


def reasons(users) -> list[tuple[str, bool, str]]:
    with users.sessions() as s:
        return [
            (a, ok, d)
            for a, ok, d in s.execute(
                select(AuditEntry.action, AuditEntry.success, AuditEntry.detail)
                .where(AuditEntry.action.like("auth.%"))
                .order_by(AuditEntry.seq)
            ).all()
        ]


def test_window_is_one_step_either_side_and_used_steps_never_match_again():
    s = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    # RFC 6238 appendix B: the code of T=59 s lives in step 1 (30..59 s)
    assert code_at(s, 59) == "287082" and code_at(s, 30) == "287082"
    assert [matching_step(s, "287082", t) for t in (0, 30, 89, 90)] == [1, 1, 1, None]
    assert matching_step(s, "287 082", 45) == 1  # spaces as apps show them
    assert matching_step(s, "287082", 45, after=1) is None
    assert matching_step(s, "28708", 45) is None and matching_step(s, "abcdef", 45) is None


def test_admin_is_refused_without_a_code_and_accepted_with_the_current_one(engine):
    users = UserStore(engine, params=CHEAP)  # real clock, as the authenticator app has
    users.add_user("root", "admin", PW)
    secret = secret_of(users.enrol_totp("root"))
    with pytest.raises(CodeRequiredError):
        users.authenticate("root", PW)
    assert users.authenticate("root", PW, pyotp.TOTP(secret).now()).role == "admin"
    with users.sessions() as s:
        u = s.scalars(select(User).where(User.username == "root")).one()
    assert u.totp_secret == secret
    assert abs(u.totp_last_step - time.time() // 30) <= 1


def test_admin_or_auditor_without_enrolment_cannot_log_in(users):
    users.add_user("root", "admin", PW)
    users.add_user("aud", "auditor", PW)
    for name in ("root", "aud"):
        with pytest.raises(LoginError) as err:
            users.authenticate(name, PW)
        assert not isinstance(err.value, CodeRequiredError)  # no second step to offer
        with pytest.raises(LoginError):
            users.authenticate(name, PW, "123456")
    assert {d for _, _, d in reasons(users)} == {'{"reason":"totp_not_enrolled"}'}


def test_a_used_code_is_refused_within_its_window(users, clock):
    users.add_user("root", "admin", PW)
    secret = secret_of(users.enrol_totp("root"))
    code = code_at(secret, clock.t)
    assert users.authenticate("root", PW, code).username == "root"
    with pytest.raises(LoginError):  # same code, same second
        users.authenticate("root", PW, code)
    clock.advance(29)  # still inside the ±1 step window
    with pytest.raises(LoginError):
        users.authenticate("root", PW, code)
    assert '"reason":"code_reused"' in reasons(users)[-1][2]
    clock.advance(31)  # the next step's code works once
    assert users.authenticate("root", PW, code_at(secret, clock.t)).role == "admin"


def test_wrong_codes_lock_the_account_like_wrong_passwords(users, clock):
    users.add_user("aud", "auditor", PW)
    secret = secret_of(users.enrol_totp("aud"))
    good = code_at(secret, clock.t)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    with pytest.raises(LoginError):
        users.authenticate("aud", PW + "x", good)  # 1: wrong password
    for _ in range(2):  # 2, 3: right password, wrong code
        with pytest.raises(LoginError):
            users.authenticate("aud", PW, wrong)
    with pytest.raises(LoginError):  # locked: right password and code refused
        users.authenticate("aud", PW, good)
    clock.advance(601)
    assert users.authenticate("aud", PW, code_at(secret, clock.t)).role == "auditor"
    got = [(a, ok) for a, ok, _ in reasons(users)]
    assert got == [
        ("auth.login", False), ("auth.login", False), ("auth.login", False),
        ("auth.lockout", True), ("auth.login", False), ("auth.login", True),
    ]  # fmt: skip
    assert '"reason":"bad_code"' in reasons(users)[1][2]


def test_second_step_finishes_with_the_pending_handle_once_and_not_after_it_expires(users, clock):
    users.add_user("root", "admin", PW)
    secret = secret_of(users.enrol_totp("root"))
    with pytest.raises(CodeRequiredError) as first:
        users.authenticate("root", PW)
    pending = first.value.pending
    assert users.pending_alive(pending) and len(pending) >= 40
    with pytest.raises(LoginError):
        users.authenticate_code("not-a-handle", code_at(secret, clock.t))
    assert users.authenticate_code(pending, code_at(secret, clock.t)).role == "admin"
    assert not users.pending_alive(pending)  # used up
    clock.advance(30)
    with pytest.raises(LoginError):
        users.authenticate_code(pending, code_at(secret, clock.t))
    with pytest.raises(CodeRequiredError) as again:
        users.authenticate("root", PW)
    clock.advance(users.pending_ttl_s + 1)
    with pytest.raises(LoginError):
        users.authenticate_code(again.value.pending, code_at(secret, clock.t))


def test_other_roles_log_in_with_a_password_unless_they_opt_in(users, clock):
    users.add_user("ann", "operator", PW)
    assert users.authenticate("ann", PW).role == "operator"
    secret = secret_of(users.enrol_totp("ann"))
    with pytest.raises(CodeRequiredError):
        users.authenticate("ann", PW)
    assert users.authenticate("ann", PW, code_at(secret, clock.t)).role == "operator"


def test_only_admins_enrol_and_the_secret_never_reaches_the_audit_log(users):
    users.add_user("root", "admin", PW)
    users.add_user("gw", "system")
    uri = users.enrol_totp("root")
    assert uri.startswith("otpauth://totp/StreetTwin:root?secret=")
    uri2 = users.enrol_totp("root", actor=Actor("root", "admin"))  # a lost phone: new secret
    assert secret_of(uri2) != secret_of(uri)
    with pytest.raises(PermissionDeniedError):
        users.enrol_totp("root", actor=Actor("aud", "auditor"))
    with pytest.raises(ValueError, match="bearer tokens"):
        users.enrol_totp("gw")
    with pytest.raises(LookupError):
        users.enrol_totp("nobody")
    with users.sessions() as s:
        rows = s.scalars(select(AuditEntry)).all()
        assert verify_chain(s).ok
    text = " ".join(f"{r.action} {r.object_id} {r.detail}" for r in rows)
    assert text.count("user.totp_enrol") == 2
    assert secret_of(uri) not in text and secret_of(uri2) not in text
