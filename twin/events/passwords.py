"""Password hashes: salted, cost-factored scrypt (standard library), checked in constant time.

Stored as ``scrypt$n$r$p$salt_b64$hash_b64`` so the cost can rise later without breaking old
hashes (each hash carries its own parameters).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

#: scrypt cost (N, r, p): 2**15 × 8 × 128 B = 32 MiB and ~0.1 s per hash here (OWASP's
#: minimum is N=2**17 with r=8, p=1 at 128 MiB; lower it only in tests)
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32


@dataclass(frozen=True)
class HashParams:
    """scrypt cost parameters (tests pass a cheap one)."""

    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P


#: the production cost
DEFAULT_HASH_PARAMS = HashParams()


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def hash_password(password: str, params: HashParams = HashParams()) -> str:
    """Salted scrypt hash as ``scrypt$n$r$p$salt_b64$hash_b64``.

    >>> h = hash_password("correct horse battery", HashParams(n=2**4))
    >>> h.split("$")[:4], verify_password("correct horse battery", h)
    (['scrypt', '16', '8', '1'], True)
    """
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=256 * 1024 * 1024,
        dklen=HASH_BYTES,
    )
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """True if ``password`` matches the stored hash (constant-time compare)."""
    if not encoded or not encoded.startswith("scrypt$"):
        return False
    _, n, r, p, salt, digest = encoded.split("$")
    got = hashlib.scrypt(
        password.encode("utf-8"),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        maxmem=256 * 1024 * 1024,
        dklen=HASH_BYTES,
    )
    return hmac.compare_digest(got, base64.b64decode(digest))
