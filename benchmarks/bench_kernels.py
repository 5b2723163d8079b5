"""Similarity-reduction throughput, accuracy and memory: exposure._core against the baselines a user would pick.

    pytest benchmarks/bench_kernels.py                          # n = 100,000 queries (several minutes)
    EXPOSURE_BENCH_N=5000 pytest benchmarks/bench_kernels.py    # smoke run
    python benchmarks/report.py <json>                          # the markdown tables

Queries (n, 384) and keys (m = 1,000 and 4,000), random unit rows, fixed seed. Every
case runs on the same thread count (EXPOSURE_BENCH_THREADS, default 2) unless its name
says otherwise: native via its ``threads`` argument, torch via ``torch.set_num_threads``,
faiss via ``faiss.omp_set_num_threads``, numpy's BLAS via threadpoolctl (when
threadpoolctl is missing, set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS yourself before
starting Python). Cases, per m:

* ``core {max,top5,logsumexp}``: ``kernels.reduce`` in float32 (the reference below).
* ``core-int8 {max,top5,logsumexp}``: ``precision="int8"`` (max / top5 re-rank the
  default ``k + 4`` candidates exactly; logsumexp is int8-approximate).
* ``core top5, 1 thread`` and ``core-int8 top5, 1 thread``: OpenMP scaling.
* ``numpy sgemm``: chunked ``np.matmul`` and nothing else, the ceiling for a fused
  kernel; ``numpy {max,top5,logsumexp}``: the same chunks, then the reduction in numpy.
* ``torch {max,top5,logsumexp}``: chunked ``torch.mm`` in float32, then torch's reduction;
  ``torch-bf16 ...``: the same with queries and keys cast to bfloat16 once, outside the
  timing (scores and reductions in bfloat16, as a user who casts gets them).
* ``faiss IndexFlatIP top5``: ``index.search(queries, 5)`` on a flat inner-product index.
* ``sentence-transformers top5``: ``sentence_transformers.util.semantic_search(queries,
  keys, top_k=5)`` with torch tensors and its default chunk sizes (skipped when missing).
* ``peak memory ...``: one call per case in a fresh subprocess, reporting how far the
  process's peak RSS rose above its RSS once the inputs exist (``extra_info["peak_mib"]``;
  the timing of these cases is the whole subprocess and means nothing): our top5 in
  float32 and int8, numpy materialising the full n x m matrix then ``argpartition``,
  and numpy's chunked top5. Needs Linux: after building the inputs, freed memory is
  returned to the OS (glibc ``malloc_trim``) and the peak (VmHWM) reset through
  ``/proc/self/clear_refs``; the input-building temporaries would otherwise hide or
  absorb a smaller peak.

``report.py`` turns each case's median time into GFLOP/s, 2 * n * m * d / time: the
matmul work, whatever the reduction or precision (for int8 an equivalent rate); the
stored n, m, d and the timings are its only inputs. Approximate cases (int8, bf16)
record, outside the timing, their accuracy against the float32 ``core`` result on
the same data: ``recall@1`` (max) or ``recall@5`` (top5), the mean share of the
reference's indices found, and ``max_abs_err`` of the values.
"""

import contextlib
import ctypes
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from _common import recall_at_k, torch_chunks
from exposure import kernels

N = int(os.environ.get("EXPOSURE_BENCH_N", "100000"))
THREADS = int(os.environ.get("EXPOSURE_BENCH_THREADS", "2"))
D = 384
K_TOP = 5
CHUNK = 4096  # query rows per numpy / torch matmul
TEMPERATURE = 0.05
ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - documented fallback: set the env vars
    threadpool_limits = None


def _blas_threads():
    return threadpool_limits(limits=THREADS) if threadpool_limits else contextlib.nullcontext()


@contextlib.contextmanager
def _torch_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        with torch.inference_mode():
            yield
    finally:
        torch.set_num_threads(before)


def _unit_rows(rng, rows):
    x = rng.standard_normal((rows, D), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


_DATA = {}


def data(m):
    """Cached (queries, keys): generating 100k x 384 rows costs more than some cases."""
    if m not in _DATA:
        rng = np.random.default_rng(0)
        _DATA[m] = (_unit_rows(rng, N), _unit_rows(rng, m))
    return _DATA[m]


CORE_KWARGS = {"max": {"op": "max"}, "top5": {"op": "topk", "k": K_TOP},
               "logsumexp": {"op": "logsumexp", "temperature": TEMPERATURE}}
_REFERENCE = {}


def reference(m, op):
    """The float32 ``core`` result every approximate case is compared with."""
    if (m, op) not in _REFERENCE:
        _REFERENCE[m, op] = kernels.reduce(*data(m), threads=THREADS, **CORE_KWARGS[op])
    return _REFERENCE[m, op]


def measure(benchmark, fn, m, impl, op, threads=THREADS):
    """Time ``fn`` (1 warm-up, 3 rounds); the case is named ``f"{impl} {op}"`` plus the thread count if not THREADS."""
    case = f"{impl} {op}" + ("" if threads == THREADS else f", {threads} thread{'s' * (threads > 1)}")
    benchmark.group = f"n={N} m={m} d={D}"
    benchmark.extra_info.update(n=N, m=m, d=D, threads=threads, isa=kernels.build_info()["isa"],
                                case=case, impl=impl, op=op)
    return benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)


def record_accuracy(benchmark, m, op, values, indices=None):
    """``max_abs_err`` of the values and ``recall@k`` of the indices against :func:`reference`."""
    ref = reference(m, op)
    err = np.abs(np.asarray(values, dtype=np.float32) - ref.values).max()
    benchmark.extra_info["max_abs_err"] = float(f"{err:.3g}")
    if indices is not None:
        k = ref.indices.reshape(N, -1).shape[1]
        benchmark.extra_info[f"recall@{k}"] = round(recall_at_k(indices, ref.indices), 6)


# ---------------------------------------------------------------------------
# numpy: chunked matmul, then the reduction on each chunk


def numpy_chunks(queries, keys, reduce_chunk):
    keys_t = keys.T
    buf = np.empty((CHUNK, keys.shape[0]), dtype=np.float32)
    for i in range(0, queries.shape[0], CHUNK):
        scores = np.matmul(queries[i : i + CHUNK], keys_t, out=buf[: min(CHUNK, queries.shape[0] - i)])
        reduce_chunk(i, scores)


def numpy_sgemm(queries, keys):
    numpy_chunks(queries, keys, lambda i, s: None)


def numpy_max(queries, keys):
    values = np.empty(queries.shape[0], np.float32)
    indices = np.empty(queries.shape[0], np.int64)

    def chunk(i, s):
        best = s.argmax(axis=1)
        indices[i : i + len(s)] = best
        values[i : i + len(s)] = s[np.arange(len(s)), best]

    numpy_chunks(queries, keys, chunk)
    return values, indices


def _sorted_topk(scores):
    """The K_TOP best of each row of ``scores``, descending: argpartition, then sort those."""
    part = np.argpartition(-scores, K_TOP - 1, axis=1)[:, :K_TOP]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1)
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(part, order, axis=1)


def numpy_topk(queries, keys):
    values = np.empty((queries.shape[0], K_TOP), np.float32)
    indices = np.empty((queries.shape[0], K_TOP), np.int64)

    def chunk(i, s):
        values[i : i + len(s)], indices[i : i + len(s)] = _sorted_topk(s)

    numpy_chunks(queries, keys, chunk)
    return values, indices


def numpy_full_topk(queries, keys):
    """What a user without a fused kernel writes first: the whole n x m matrix, then argpartition."""
    return _sorted_topk(queries @ keys.T)


def numpy_logsumexp(queries, keys):
    values = np.empty(queries.shape[0], np.float32)

    def chunk(i, s):
        top = s.max(axis=1, keepdims=True)
        values[i : i + len(s)] = (top + TEMPERATURE * np.log(np.exp((s - top) / TEMPERATURE).sum(axis=1, keepdims=True)))[:, 0]

    numpy_chunks(queries, keys, chunk)
    return values


# ---------------------------------------------------------------------------
# torch CPU: chunked torch.mm (_common.torch_chunks), then torch's own reductions


TORCH_REDUCTIONS = {
    "max": lambda s: s.max(dim=1),
    "top5": lambda s: s.topk(K_TOP, dim=1),
    "logsumexp": lambda s: torch.logsumexp(s / TEMPERATURE, dim=1) * TEMPERATURE,
}


def _cat_chunks(chunks):
    """torch_chunks output as numpy (float32 values, indices or None)."""
    if isinstance(chunks[0], torch.Tensor):
        return torch.cat(chunks).float().numpy(), None
    return torch.cat([c[0] for c in chunks]).float().numpy(), torch.cat([c[1] for c in chunks]).numpy()


# ---------------------------------------------------------------------------
# peak memory: one case per fresh subprocess, so no case inherits another's peak

PEAK_CASES = {
    "core top5": lambda q, k: kernels.reduce(q, k, "topk", k=K_TOP, threads=THREADS),
    "core-int8 top5": lambda q, k: kernels.reduce(q, k, "topk", k=K_TOP, threads=THREADS, precision="int8"),
    "numpy full-matrix top5": numpy_full_topk,
    "numpy top5": numpy_topk,
}


def _vm_kib(field):
    """``VmRSS`` / ``VmHWM`` (peak) of this process from /proc/self/status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def peak_rss_increase_mib(case, m):
    """Run one PEAK_CASES entry in this process; MiB its peak RSS rose above the RSS with the inputs built."""
    queries, keys = data(m)
    # Hand the freed input-building temporaries back to the OS (glibc), else the call reuses
    # those resident pages unseen; then reset the peak to the current RSS.
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _vm_kib("VmHWM")
    with _blas_threads():
        PEAK_CASES[case](queries, keys)
    return (_vm_kib("VmHWM") - before) / 1024


# ---------------------------------------------------------------------------
# cases

MS = [1000, 4000]


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("op", ["max", "top5", "logsumexp"])
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_core(benchmark, m, op, precision):
    queries, keys = data(m)
    impl = "core" if precision == "fp32" else f"core-{precision}"
    result = measure(benchmark, lambda: kernels.reduce(queries, keys, threads=THREADS, precision=precision,
                                                       **CORE_KWARGS[op]), m, impl, op)
    assert result.values.shape[0] == N
    if precision == "fp32":
        _REFERENCE.setdefault((m, op), result)
    else:
        record_accuracy(benchmark, m, op, result.values, result.indices)


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_core_one_thread(benchmark, m, precision):
    if THREADS == 1:
        pytest.skip("EXPOSURE_BENCH_THREADS=1: the main cases already run on one thread")
    queries, keys = data(m)
    impl = "core" if precision == "fp32" else f"core-{precision}"
    measure(benchmark, lambda: kernels.reduce(queries, keys, threads=1, precision=precision, **CORE_KWARGS["top5"]),
            m, impl, "top5", threads=1)


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("op", ["sgemm", "max", "top5", "logsumexp"])
def test_numpy(benchmark, m, op):
    queries, keys = data(m)
    fn = {"sgemm": numpy_sgemm, "max": numpy_max, "top5": numpy_topk, "logsumexp": numpy_logsumexp}[op]
    with _blas_threads():
        measure(benchmark, lambda: fn(queries, keys), m, "numpy", op)


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("op", ["max", "top5", "logsumexp"])
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_torch_cpu(benchmark, m, op, dtype):
    queries, keys = (torch.from_numpy(x) for x in data(m))
    if dtype == "bf16":  # cast once, outside the timing
        queries, keys = queries.bfloat16(), keys.bfloat16()
    impl = "torch" if dtype == "fp32" else f"torch-{dtype}"
    with _torch_threads():
        chunks = measure(benchmark, lambda: torch_chunks(queries, keys, TORCH_REDUCTIONS[op], CHUNK), m, impl, op)
    if dtype != "fp32":
        record_accuracy(benchmark, m, op, *_cat_chunks(chunks))


@pytest.mark.parametrize("m", MS)
def test_faiss_flat_ip_top5(benchmark, m):
    faiss = pytest.importorskip("faiss")
    queries, keys = data(m)
    faiss.omp_set_num_threads(THREADS)
    index = faiss.IndexFlatIP(D)
    index.add(keys)
    with _blas_threads():
        scores, ids = measure(benchmark, lambda: index.search(queries, K_TOP), m, "faiss IndexFlatIP", "top5")
    assert ids.shape == (N, K_TOP)


@pytest.mark.parametrize("m", MS)
def test_sentence_transformers_top5(benchmark, m):
    st_util = pytest.importorskip("sentence_transformers.util")
    queries, keys = (torch.from_numpy(x) for x in data(m))
    with _torch_threads():
        hits = measure(benchmark, lambda: st_util.semantic_search(queries, keys, top_k=K_TOP), m,
                       "sentence-transformers", "top5")
    assert len(hits) == N and len(hits[0]) == K_TOP


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("case", list(PEAK_CASES))
def test_peak_memory(benchmark, m, case):
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("peak memory needs Linux's /proc/self/clear_refs to reset the peak RSS")
    # This folder on the path, as pytest puts it, for bench_kernels' own imports (_common).
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_kernels as b; "
            f"print(b.peak_rss_increase_mib({case!r}, {m}))")

    def run():
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return float(proc.stdout.split()[-1])

    benchmark.group = f"peak memory n={N} m={m} d={D}"
    impl, op = case.rsplit(" ", 1)
    benchmark.extra_info.update(n=N, m=m, d=D, k=K_TOP, threads=THREADS, case=case, impl=impl, op=op)
    peak = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["peak_mib"] = round(peak, 1)
