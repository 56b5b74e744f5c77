"""One-time codes (RFC 6238 TOTP) for the second factor of administrators and auditors.

MLPS 2.0 level 3 asks for two factors for administrators: the password, and a 6-digit code
from an authenticator app that holds a shared secret (HMAC-SHA1, 30 s steps, the defaults every
app uses). A code is accepted within :data:`DRIFT_STEPS` steps of the server's clock, and only
once: the caller stores the accepted time step and passes it back as ``after``, so a code seen
over a shoulder or in a proxy log cannot be replayed inside its window.

The secret is shown once at enrolment (an ``otpauth://`` URI for the app) and is never logged.
"""

from __future__ import annotations

import hmac

import pyotp

#: roles that must give a one-time code at login (accounts and audit apart, both guarded)
TOTP_ROLES: frozenset[str] = frozenset({"admin", "auditor"})
#: length of one time step [s] (RFC 6238 default; authenticator apps assume it)
STEP_S = 30
DIGITS = 6
#: steps either side of "now" still accepted (clock drift between phone and server)
DRIFT_STEPS = 1
ISSUER = "StreetTwin"


def new_secret() -> str:
    """A fresh random secret, base32 (160 bits, the RFC 4226 recommended length)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (as text or a QR code).

    >>> provisioning_uri("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "root")
    'otpauth://totp/StreetTwin:root?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=StreetTwin'
    """
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
        name=username, issuer_name=issuer
    )


def code_at(secret: str, t: float) -> str:
    """The code valid at UTC epoch second ``t`` (what the app shows then).

    RFC 6238 appendix B, SHA-1 seed, T = 59 s (its 8-digit 94287082, cut to 6 digits):

    >>> code_at("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59)
    '287082'
    """
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).at(int(t))


def matching_step(secret: str, code: str, now: float, *, after: int | None = None) -> int | None:
    """The time step whose code is ``code``, within :data:`DRIFT_STEPS` of ``now``, or None.

    Parameters
    ----------
    secret : str
        The account's base32 secret.
    code : str
        What the user typed (spaces ignored).
    now : float
        Server time, UTC epoch seconds.
    after : int, optional
        The last step already used: only later steps match (no replay).

    Returns
    -------
    int or None
        The step (``epoch s // STEP_S``) to store as used, or None when the code is wrong,
        out of the window, or already used.

    >>> s = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    >>> matching_step(s, "287082", 70), matching_step(s, "287082", 70, after=1)
    (1, None)
    """
    code = "".join(str(code).split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    base = int(now // STEP_S)
    for step in range(max(0, base - DRIFT_STEPS), base + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
