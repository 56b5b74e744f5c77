"""``streettwin users`` and ``totp enrol``: the first admin, from the command line, then 2FA."""

from __future__ import annotations

import io
import json
import sys

import pyotp
import pytest

from dashboard.cli import main
from twin.events.db import make_engine, sqlite_url
from twin.events.users import CodeRequiredError, UserStore

PASSWORD = "correct horse battery staple"


def _run(argv, capsys, stdin=""):
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        rc = main(argv)
    finally:
        sys.stdin = old
    return rc, capsys.readouterr()


def test_first_admin_then_second_factor_then_login(tmp_path, capsys):
    where = ["--data-dir", str(tmp_path)]
    rc, out = _run(
        ["users", "add", "chief", "--role", "admin", "--password-stdin", "--json", *where],
        capsys,
        PASSWORD + "\n",
    )
    assert rc == 0 and json.loads(out.out.splitlines()[-1])["role"] == "admin"
    assert PASSWORD not in out.out + out.err  # never echoed
    rc, out = _run(["users", "add", "chief", "--role", "operator", "--password-stdin", *where],
                   capsys, PASSWORD + "\n")  # fmt: skip
    assert rc == 1 and "exists" in out.err
    rc, out = _run(["users", "add", "x", "--role", "admin", "--password-stdin", *where],
                   capsys, "short\n")  # fmt: skip
    assert rc == 1 and "at least" in out.err

    rc, out = _run(["totp", "enrol", "chief", "--json", *where], capsys)
    secret = pyotp.parse_uri(json.loads(out.out.splitlines()[-1])["otpauth_uri"]).secret
    rc, out = _run(["users", "list", "--json", *where], capsys)
    (row,) = json.loads(out.out.splitlines()[-1])["users"]
    assert (row["username"], row["role"], row["totp"]) == ("chief", "admin", True)
    assert "hash" not in json.dumps(row) and secret not in out.out

    engine = make_engine(sqlite_url(tmp_path / "events.sqlite"))
    users = UserStore(engine)
    with pytest.raises(CodeRequiredError):  # an admin without a code does not get in
        users.authenticate("chief", PASSWORD)
    assert users.authenticate("chief", PASSWORD, pyotp.TOTP(secret).now()).role == "admin"
    engine.dispose()
