"""Token-bucket rate limits per client key (IP address or account), in memory and clocked.

A bucket holds up to ``burst`` tokens and refills at ``rate_per_s``; each request takes one,
and a request finding the bucket empty is refused (the web layer answers 429 with the wait).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: buckets kept before the idle ones are forgotten (bounds memory under address scans)
MAX_KEYS = 10_000


class RateLimiter:
    """Per-key token buckets.

    Parameters
    ----------
    rate_per_s : float
        Refill rate [tokens/s].
    burst : int
        Bucket size: requests allowed at once.
    clock : callable
        Monotonic seconds.

    >>> t = [0.0]
    >>> rl = RateLimiter(rate_per_s=1.0, burst=2, clock=lambda: t[0])
    >>> [rl.allow("ip")[0] for _ in range(3)]
    [True, True, False]
    >>> t[0] = 1.0; rl.allow("ip")[0]
    True
    """

    def __init__(
        self, *, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = float(rate_per_s)
        self.burst = int(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()

    def allow(self, key: str) -> tuple[bool, float]:
        """Take a token for ``key``; returns (allowed, seconds to wait when refused)."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
            if tokens >= 1.0:
                self._store(key, tokens - 1.0, now)
                return True, 0.0
            self._store(key, tokens, now)
            return False, (1.0 - tokens) / self.rate_per_s

    def _store(self, key: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
            full = [k for k, (n, a) in self._buckets.items()
                    if n + (now - a) * self.rate_per_s >= self.burst]  # fmt: skip
            for k in full or list(self._buckets)[: MAX_KEYS // 10]:
                del self._buckets[k]
        self._buckets[key] = (tokens, now)
