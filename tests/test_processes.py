"""exposure._processes: fork after OpenMP threads ran, exposure.kernels.reduce runs single-threaded in the child
instead of hanging; worker processes are spawned.

libgomp's thread pool does not survive ``fork``: a child's first multithreaded
OpenMP region waits forever for the parent's worker threads. Every scenario runs in
a fresh interpreter under a timeout, so a regression fails here instead of hanging
the suite.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from exposure._processes import worker_context

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

TIMEOUT = 90

PRELUDE = """
import logging, os, sys
import numpy as np
from exposure import _processes, kernels

rng = np.random.default_rng(0)
Q = rng.standard_normal((600, 48)).astype(np.float32)
K = rng.standard_normal((900, 48)).astype(np.float32)
G = np.arange(900) % 7


def compute(threads):
    return (kernels.reduce(Q, K, "topk", k=3, threads=threads),
            kernels.reduce(Q, K, "logsumexp", groups=G, threads=threads),
            kernels.reduce(Q, K, "max", groups=G, precision="int8", threads=threads))


def same(a, b):
    return all(np.array_equal(x.values, y.values) and
               (x.indices is None or np.array_equal(x.indices, y.indices)) for x, y in zip(a, b))


def in_child(work):
    # runs work() in a forked child; its exit status: 0 when work() returned True
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if work() else 1
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
"""


def run_script(body: str) -> subprocess.CompletedProcess:
    code = PRELUDE + textwrap.dedent(body)
    try:
        proc = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-c", code], capture_output=True,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hung for {TIMEOUT} s (a forked child waiting for OpenMP threads?); stdout: {e.stdout!r}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_child_forked_after_threads_runs_single_threaded():
    proc = run_script("""
        ref = compute(2)                      # OpenMP threads now exist in this process
        def child():
            assert _processes.forked_after_threads()
            ok = same(compute(None), ref) and same(compute(2), ref)
            # the mark passes on: a grandchild is just as unable to start threads
            return ok and in_child(lambda: _processes.forked_after_threads() and same(compute(4), ref)) == 0
        print("child", in_child(child))
    """)
    assert "child 0" in proc.stdout
    # one warning per process (child and grandchild), saying what to do instead
    assert proc.stderr.count("was forked after OpenMP threads ran in its parent") == 2, proc.stderr
    assert "runs on 1 thread" in proc.stderr and "worker_context()" in proc.stderr
    assert "multiprocessing.get_context('spawn')" in proc.stderr


def test_multiprocessing_fork_pool_after_threads():
    proc = run_script("""
        import multiprocessing
        ref = kernels.reduce(Q, K, "max", threads=2)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            out = pool.starmap(kernels.max_sim, [(Q, K)] * 2)
        print("same", all(np.array_equal(o.indices, ref.indices) for o in out))
    """)
    assert "same True" in proc.stdout


@pytest.mark.slow
def test_torch_tensors_in_a_child_forked_after_torch_threads():
    pytest.importorskip("torch")
    proc = run_script("""
        import torch
        torch.set_num_threads(2)
        a = torch.randn(1500, 1500)
        (a @ a).sum()                         # torch's OpenMP threads now exist
        q, k = torch.from_numpy(Q), torch.from_numpy(K)
        ref, ref_native = kernels.reduce(q, k, "topk", k=3), compute(None)
        def child():
            out = kernels.reduce(q, k, "topk", k=3)  # on torch's thread count: set to 1 here, once
            return (torch.equal(out.indices, ref.indices) and torch.get_num_threads() == 1
                    and same(compute(None), ref_native))
        print("child", in_child(child))
    """)
    assert "child 0" in proc.stdout
    assert "was forked after OpenMP threads ran" in proc.stderr


@pytest.mark.slow
def test_native_tokenizer_in_a_child_forked_after_threads():
    proc = run_script("""
        from exposure import _bert
        from exposure.encoder import _default_model_path
        tokenizer, _ = _bert.load(_default_model_path())
        texts = [f"Inspect {'welded ' * (i % 7)}joints on line {i}." for i in range(5000)]
        ref = tokenizer(texts, max_length=64).ids   # the native tokenizer's OpenMP threads now exist
        print("child", in_child(lambda: np.array_equal(tokenizer(texts, max_length=64).ids, ref)))
    """)
    assert "child 0" in proc.stdout
    assert "the native WordPiece tokenizer" in proc.stderr and "runs on 1 thread" in proc.stderr


def test_fork_without_threads_keeps_the_thread_count():
    proc = run_script("""
        ref = compute(1)                      # single-threaded: no OpenMP pool to inherit
        def child():
            return not _processes.forked_after_threads() and same(compute(2), ref)
        print("child", in_child(child))
    """)
    assert "child 0" in proc.stdout
    assert "forked after OpenMP threads" not in proc.stderr


@pytest.mark.slow
def test_worker_context_spawns_workers_that_run_multithreaded():
    proc = run_script("""
        ref = kernels.reduce(Q, K, "max", threads=2)
        with _processes.worker_context().Pool(1) as pool:
            out = pool.apply(kernels.reduce, (Q, K, "max"), {"threads": 2})
        print("same", np.array_equal(out.indices, ref.indices))
    """)
    assert "same True" in proc.stdout
    assert "forked after OpenMP threads" not in proc.stderr


def test_worker_context_refuses_fork():
    assert worker_context().get_start_method() == "spawn"
    with pytest.raises(ValueError, match=r"'spawn' or 'forkserver'.*'fork' hangs"):
        worker_context("fork")
