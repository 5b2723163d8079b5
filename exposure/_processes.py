"""Processes and OpenMP: what is safe after ``fork``, and how worker processes must be started.

OpenMP runtimes keep a pool of worker threads once a parallel region has run. ``fork``
copies only the calling thread, so in a forked child the pool's bookkeeping points at
threads that do not exist: with GNU libgomp (what gcc builds and the torch wheels
use, one copy shared by ``exposure._core`` and torch) the child's first
multithreaded OpenMP region waits for them forever. A pool of ``fork`` workers
(``multiprocessing``'s default start method on Linux before Python 3.14) created
after :func:`exposure.kernels.reduce` or torch ran on several threads hangs that way.

What the library does about it:

* :func:`note_threads` is called (by :func:`fork_safe_threads`) before every call that may start
  OpenMP threads (a native ``reduce`` or ``sparse_topk`` not pinned to one thread, a torch CPU
  ``reduce``).
* At ``fork``, the parent records whether the child inherits a broken pool: threads
  may have run (:func:`note_threads`, or torch is loaded) and the process has more
  than one thread (on Linux, counted in ``/proc/self/task``; elsewhere assumed).
  The mark passes on to the child's own children.
* In such a child, :func:`fork_safe_threads` turns the thread count into 1 and logs
  a warning once: a one-thread region never touches the pool, so ``reduce`` runs,
  single-threaded, instead of hanging. This was checked with real forked children
  under a timeout (``tests/test_processes.py``): the multithreaded call hangs, the
  one-thread call returns the same results.

torch's own CPU operators hang the same way in such a child unless
``torch.set_num_threads(1)`` is called there first. Before a torch CPU ``reduce`` in such a
child, :func:`fork_safe_torch` does that once, for the rest of the process (the process
cannot run torch on more threads anyway), with the same warning; the library cannot do it
for torch code it does not run. The fix for both is to start workers without ``fork``:
:func:`worker_context` gives the ``multiprocessing`` context every worker pool of
this library must use.

>>> from exposure._processes import worker_context
>>> worker_context().get_start_method()
'spawn'
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from typing import Any, Optional

logger = logging.getLogger(__name__)

__all__ = ["FORK_HELP", "fork_safe_threads", "fork_safe_torch", "forked_after_threads", "note_threads",
           "worker_context", "peak_rss_mb"]

#: What to do instead of forking; part of the warning and of the library's docs.
FORK_HELP = (
    "start worker processes with multiprocessing's 'spawn' or 'forkserver' start method "
    "(exposure._processes.worker_context(), or multiprocessing.get_context('spawn')) instead of "
    "os.fork or the 'fork' start method; torch CPU operators in such a child hang too unless "
    "torch.set_num_threads(1) is called there first"
)

_threads_started = False  # this process may have started OpenMP worker threads
_child_inherits = False   # set in the parent just before fork: the child gets a broken thread pool
_unsafe = False           # this process was forked after OpenMP threads ran in an ancestor
_warned = False


def note_threads() -> None:
    """Record that this process is about to run (or has run) OpenMP on more than one thread."""
    global _threads_started
    _threads_started = True


def forked_after_threads() -> bool:
    """True in a process forked (at any depth) after OpenMP threads ran in its parent."""
    return _unsafe


def fork_safe_threads(threads: Optional[int], what: str = "exposure.kernels.reduce") -> Optional[int]:
    """The thread count for a native call about to run: ``threads``, or 1 in a process forked after OpenMP
    threads ran (warning once, with the fix). A count other than 1 is recorded (:func:`note_threads`)."""
    global _warned
    if not _unsafe or threads == 1:
        if threads != 1:
            note_threads()
        return threads
    if not _warned:
        _warned = True
        asked = "the default thread count" if threads is None else f"threads={threads}"
        logger.warning(
            "%s: process %d was forked after OpenMP threads ran in its parent, and OpenMP (libgomp) "
            "cannot start threads in such a child (they would hang), so it runs on 1 thread here instead "
            "of %s. For parallel workers, %s.", what, os.getpid(), asked, FORK_HELP)
    return 1


def fork_safe_torch(torch: Any, what: str = "exposure.kernels.reduce") -> None:
    """Before a torch CPU call: in a process forked after OpenMP threads ran, set torch to one thread, once and
    for the rest of the process (more would hang), warning once as :func:`fork_safe_threads` does. Elsewhere
    torch's thread count is the caller's and is left as it is (recorded when it is above 1)."""
    if not _unsafe:
        if torch.get_num_threads() != 1:
            note_threads()
        return
    if torch.get_num_threads() != 1:
        fork_safe_threads(None, what)  # the warning, once
        torch.set_num_threads(1)


def worker_context(method: str = "spawn") -> Any:
    """The ``multiprocessing`` context for worker processes: ``"spawn"`` (default) or ``"forkserver"``.

    Workers started this way begin in a fresh interpreter, so OpenMP and torch threads of
    the parent cannot hang them and they run multithreaded. Every worker pool in this
    library must be created from it, e.g. ``worker_context().Pool(4)`` or
    ``ProcessPoolExecutor(mp_context=worker_context())``. ``"forkserver"`` (POSIX only)
    starts workers faster once its server runs; ``"fork"`` is refused.

    >>> worker_context("fork")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: worker_context(method='fork'): method must be 'spawn' or 'forkserver' ...
    """
    if method not in ("spawn", "forkserver"):
        raise ValueError(f"worker_context(method={method!r}): method must be 'spawn' or 'forkserver' "
                         "('fork' hangs after OpenMP threads ran; see exposure._processes)")
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"worker_context(method={method!r}): not available on this platform "
                         f"({', '.join(multiprocessing.get_all_start_methods())}); use 'spawn'")
    return multiprocessing.get_context(method)


def _thread_count() -> int:
    """Threads of this process (Linux: /proc/self/task); 2 where unknown, so forks stay guarded."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 2


def _before_fork() -> None:
    global _child_inherits
    maybe_threads = _threads_started or "torch" in sys.modules
    _child_inherits = _unsafe or (maybe_threads and _thread_count() > 1)


def _after_fork_in_child() -> None:
    global _unsafe, _threads_started, _warned
    _unsafe = _child_inherits
    _threads_started = False
    _warned = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    On Linux ``VmHWM`` (since this program started): ``ru_maxrss`` also counts, for an instant, the pages of
    a large parent that forked it, so a job started from a big Python process would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
