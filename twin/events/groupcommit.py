"""Group commit: one writer thread turns concurrent transition requests into shared transactions.

Each caller puts its request on a queue and waits on a future. The writer takes whatever is
waiting (up to ``max_batch``), applies it as one batch in one transaction, and completes the
futures only after that commit — so every acknowledgement is durable, and N concurrent callers
pay for one fsync instead of N. The thread starts on the first request and exits after
``idle_exit_s`` without work, so idle stores (and tests) hold no thread.

If a batch fails with a database error (not a refusal, which is a per-step result), every
request of it is retried alone, so one poisonous request cannot fail its neighbours.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)

#: most requests committed together (bounds one transaction's lock time)
MAX_BATCH = 256
#: seconds without a request after which the writer thread exits
IDLE_EXIT_S = 2.0


class GroupCommitWriter:
    """A single writer thread batching requests into ``apply_batch`` calls.

    Parameters
    ----------
    apply_batch : callable
        ``apply_batch(requests) -> list[result | Exception]`` in one transaction; called only
        from the writer thread.
    max_batch : int
        Most requests per batch.
    idle_exit_s : float
        Idle time after which the thread exits [s] (restarted by the next request).
    """

    def __init__(
        self,
        apply_batch: Callable[[Sequence[Any]], list[Any]],
        *,
        max_batch: int = MAX_BATCH,
        idle_exit_s: float = IDLE_EXIT_S,
        name: str = "ticket-writer",
    ) -> None:
        self._apply = apply_batch
        self.max_batch = max_batch
        self.idle_exit_s = idle_exit_s
        self.name = name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: batches committed and requests in them (figures for the bench and metrics)
        self.batches = 0
        self.requests = 0

    def submit(self, request: Any) -> Future:
        """Queue one request; the future resolves to its result after the commit."""
        fut: Future = Future()
        with self._lock:
            self._queue.put((request, fut))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        return fut

    def __call__(self, request: Any, timeout: float | None = None) -> Any:
        """Submit and wait for the committed result (an Exception result is returned, not
        raised)."""
        return self.submit(request).result(timeout)

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_exit_s)
            except queue.Empty:
                with self._lock:  # submit() puts under this lock, so nothing slips past
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            items = [first]
            while len(items) < self.max_batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(items)

    def _commit(self, items: list[tuple[Any, Future]]) -> None:
        try:
            results = self._apply([req for req, _ in items])
        except Exception as exc:
            if len(items) > 1:
                log.warning("group commit of %d failed; retrying one by one", len(items))
                for item in items:
                    self._commit([item])
                return
            log.warning("ticket write failed: %s", type(exc).__name__)
            items[0][1].set_exception(exc)
            return
        self.batches += 1
        self.requests += len(items)
        for (_, fut), res in zip(items, results, strict=True):
            fut.set_result(res)
