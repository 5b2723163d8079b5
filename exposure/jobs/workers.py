"""A pool of worker processes for the text work of a batch job, ahead of the model.

The model stage (encoder, second stage of the unit classifier, heads, assigner) runs
in the job's process; the text work on the next chunks (normalise, segment, language
check, the classifier's first stage, context features:
:func:`~exposure.postings.frontend.prepare`) runs meanwhile in ``workers`` processes,
started with "spawn" (:func:`~exposure._processes.worker_context`: no inherited OpenMP
or torch threads to hang on). The workers import numpy and the text modules only,
never torch. Results come back in input order.

A worker that ends before its work is done (killed, out of memory, or failing to start:
"spawn" imports the caller's script again, so a script must start the pool under
``if __name__ == "__main__":``) stops the pool with a :class:`WorkerError` that says so,
never a hang.

>>> from exposure.postings import UnitClassifier
>>> with TextWorkers(UnitClassifier.load(), workers=0) as pool:
...     [(item, prepared) for item, prepared in pool.map([("a", ["text"])])]
[('a', None)]
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Tuple

from .._processes import peak_rss_mb, worker_context
from ..postings.classifier import UnitClassifier
from ..postings.frontend import MAX_CHARS, PreparedPostings, prepare

__all__ = ["TextWorkers", "WorkerError", "default_workers"]

logger = logging.getLogger(__name__)

# Set in each worker process by _start.
_classifier: Optional[UnitClassifier] = None
_max_chars = MAX_CHARS
_units = False
_languages: Tuple[str, ...] = ("en",)


def default_workers() -> int:
    """All cores but one (the model's), and none on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(cores - 1, 0)


class WorkerError(RuntimeError):
    """A text worker process ended before its work was done; the message says how and what to do.

    ``how`` says how the workers that ended did (``"killed by SIGKILL"``, ``"exit status 1"``), or is empty.
    """

    def __init__(self, message: str, how: str = "") -> None:
        super().__init__(message)
        self.how = how


def _start(classifiers: Any, max_chars: int, units: bool = False, languages: Tuple[str, ...] = ("en",)) -> None:
    global _classifier, _max_chars, _units, _languages
    # The classifier (about 1.7 MB pickled) comes through a queue, not with the process's start-up data:
    # a worker that fails to start would leave that data half-read and the pool waiting on it for ever.
    _classifier, _max_chars, _units, _languages = pickle.loads(classifiers.get()), max_chars, units, languages
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose job was killed (``kill -9`` leaves no time to stop the pool) exits within a second."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _prepare(texts: List[Any]) -> Tuple[PreparedPostings, float]:
    return prepare(texts, _classifier, _max_chars, _units, _languages), peak_rss_mb()


def _exit_status(process: Any, deadline: float) -> Optional[int]:
    """``process.exitcode``, waiting for it until ``deadline`` (``time.monotonic``): a broken pool is stopping
    its workers.

    The pool's own thread reaps them too: whichever thread's ``waitpid`` comes second gets no status, and the
    exit code shows once the first has recorded it, so it is asked again rather than read once.
    """
    process.join(max(deadline - time.monotonic(), 0.0))
    while process.exitcode is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.exitcode


class TextWorkers:
    """``workers`` processes that :func:`~exposure.postings.frontend.prepare` chunks of posting texts.

    ``workers=0`` does no work: :meth:`map` yields ``None`` for each chunk, and the caller scores
    the texts itself. Use it as a context manager; the processes stop at the end.
    """

    def __init__(self, classifier: UnitClassifier, workers: int = 0, max_chars: int = MAX_CHARS,
                 units: bool = False, languages: Sequence[str] = ("en",)) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.workers = int(workers)
        self._classifier = classifier  # the first stage and the context scaling: numpy arrays, no model
        self._max_chars = int(max_chars)
        self._units = bool(units)  # every unit's text and first-stage result too, for the per-unit output
        self._languages = tuple(languages)  # the languages read (PostingScorer.languages)
        self._pool: Optional[ProcessPoolExecutor] = None
        self._queue: Any = None
        #: The largest peak resident memory of a worker so far, in MB (None before any result).
        self.peak_rss_mb: Optional[float] = None

    def __enter__(self) -> "TextWorkers":
        if self.workers:
            context = worker_context()
            self._queue = context.Queue()
            payload = pickle.dumps(self._classifier, protocol=pickle.HIGHEST_PROTOCOL)
            for _ in range(self.workers):  # one copy per worker, written by the queue's thread
                self._queue.put(payload)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start,
                                             initargs=(self._queue, self._max_chars, self._units, self._languages))
        return self

    def __exit__(self, *exc) -> None:
        started = 0
        if self._pool is not None:
            started = len(getattr(self._pool, "_processes", None) or {})  # each took one copy of the classifier
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._queue is not None:
            # Workers start as work comes: take back the copies of those that never started, or the queue's
            # thread would wait for ever to write them. (A worker that died before taking its copy leaves that
            # copy with the queue's thread, which this process does not wait for.)
            for _ in range(self.workers - started):
                try:
                    self._queue.get(timeout=5.0)
                except queue.Empty:
                    break
            self._queue.cancel_join_thread()
            self._queue.close()
            self._queue = None

    def serves(self, classifier: UnitClassifier, workers: int, max_chars: int, units: bool = False) -> bool:
        """Whether this pool does the text work that ``classifier``, ``workers``, ``max_chars`` and ``units``
        ask for."""
        return (self.workers, self._max_chars, self._units) == (workers, int(max_chars), bool(units)) and \
            self._classifier.same_text_work(classifier)

    def _submit(self, texts: Sequence) -> List[Future]:
        """The chunk in one piece per worker, so that the workers share it."""
        step = max(1, -(-len(texts) // self.workers))
        try:
            return [self._pool.submit(_prepare, list(texts[a:a + step])) for a in range(0, len(texts), step)]
        except BrokenProcessPool as exc:
            raise self._broken() from exc

    def _broken(self) -> WorkerError:
        """The error for a pool that lost a worker, with how the workers that ended did."""
        ended, deadline = set(), time.monotonic() + 1.0
        for process in list(getattr(self._pool, "_processes", {}).values()):
            code = _exit_status(process, deadline)
            if code is not None and code < 0:
                try:
                    ended.add(f"killed by {signal.Signals(-code).name}")
                except ValueError:
                    ended.add(f"killed by signal {-code}")
            elif code:
                ended.add(f"exit status {code}")
        if len(ended) > 1:  # the pool stops the other workers with SIGTERM once one has ended
            ended.discard("killed by SIGTERM")
        how = ", ".join(sorted(ended))
        return WorkerError(
            f"a text worker process ended before its work was done{f' ({how})' if how else ''}. Out of memory: use "
            "fewer workers or smaller chunks. From a Python script: start the work under `if __name__ == "
            "\"__main__\":` (the workers start with spawn, which imports the script again). With 0 workers the "
            "text work runs in this process", how)

    def map(self, chunks: Iterable[Tuple[Any, Sequence]]) -> Iterator[Tuple[Any, Optional[PreparedPostings]]]:
        """``(item, prepared texts)`` for each ``(item, texts)`` of ``chunks``, in order.

        The first chunks are handed to the workers at once, before the first result is asked for (a job
        starts them while its model loads); the next ones while the caller works on this one: at most
        ``workers + 1`` chunks are in flight, so memory stays bounded.
        """
        if self._pool is None:
            return ((item, None) for item, _ in chunks)
        return _Stream(self, iter(chunks))

    def _collect(self, entry: Tuple[Any, List[Future]]) -> Tuple[Any, PreparedPostings]:
        item, futures = entry
        try:
            results = [f.result() for f in futures]
        except BrokenProcessPool as exc:
            raise self._broken() from exc
        for _, peak in results:
            if peak == peak and (self.peak_rss_mb is None or peak > self.peak_rss_mb):
                self.peak_rss_mb = peak
        return item, PreparedPostings.concat([prepared for prepared, _ in results])


class _Stream:
    """The chunks of :meth:`TextWorkers.map`: ``workers + 1`` submitted when made, one more per result taken."""

    def __init__(self, pool: TextWorkers, chunks: Iterator[Tuple[Any, Sequence]]) -> None:
        self._pool, self._chunks, self._pending = pool, chunks, deque()
        self._fill()

    def _fill(self) -> None:
        while len(self._pending) <= self._pool.workers:
            nxt = next(self._chunks, None)
            if nxt is None:
                return
            item, texts = nxt
            self._pending.append((item, self._pool._submit(texts)))

    def __iter__(self) -> "_Stream":
        return self

    def __next__(self) -> Tuple[Any, PreparedPostings]:
        self._fill()
        if not self._pending:
            raise StopIteration
        return self._pool._collect(self._pending.popleft())
