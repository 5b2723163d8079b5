"""Similarity-reduction throughput: exposure._core against numpy, torch and faiss.

    pytest benchmarks/bench_kernels.py                          # n = 100,000 queries (a few minutes)
    EXPOSURE_BENCH_N=5000 pytest benchmarks/bench_kernels.py    # smoke run

Queries (n, 384) and keys (m = 1,000 and 4,000), random unit rows, fixed seed. Every
case runs on the same thread count (EXPOSURE_BENCH_THREADS, default 2): native via its
``threads`` argument, torch via ``torch.set_num_threads``, faiss via
``faiss.omp_set_num_threads``, numpy's BLAS via threadpoolctl (when threadpoolctl is
missing, set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS yourself before starting Python).
``extra_info["gflops"]`` is 2 * n * m * d / best time: the matmul work, whatever the
reduction, so the raw sgemm case is the ceiling the fused kernels are measured against.
"""

import contextlib
import os

import numpy as np
import pytest
import torch

from exposure import kernels

N = int(os.environ.get("EXPOSURE_BENCH_N", "100000"))
THREADS = int(os.environ.get("EXPOSURE_BENCH_THREADS", "2"))
D = 384
K_TOP = 5
CHUNK = 4096  # query rows per numpy / torch matmul
TEMPERATURE = 0.05

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - documented fallback: set the env vars
    threadpool_limits = None


def _blas_threads():
    return threadpool_limits(limits=THREADS) if threadpool_limits else contextlib.nullcontext()


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


def measure(benchmark, fn, m, name):
    benchmark.group = f"n={N} m={m} d={D}"
    benchmark.extra_info.update(n=N, m=m, d=D, threads=THREADS, isa=kernels.build_info()["isa"], case=name)
    result = benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["gflops"] = round(2 * N * m * D / benchmark.stats.stats.min / 1e9, 1)
    return result


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


def numpy_topk(queries, keys):
    values = np.empty((queries.shape[0], K_TOP), np.float32)
    indices = np.empty((queries.shape[0], K_TOP), np.int64)

    def chunk(i, s):
        part = np.argpartition(-s, K_TOP - 1, axis=1)[:, :K_TOP]
        vals = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-vals, axis=1)
        indices[i : i + len(s)] = np.take_along_axis(part, order, axis=1)
        values[i : i + len(s)] = np.take_along_axis(vals, order, axis=1)

    numpy_chunks(queries, keys, chunk)
    return values, indices


def numpy_logsumexp(queries, keys):
    values = np.empty(queries.shape[0], np.float32)

    def chunk(i, s):
        top = s.max(axis=1, keepdims=True)
        values[i : i + len(s)] = (top + TEMPERATURE * np.log(np.exp((s - top) / TEMPERATURE).sum(axis=1, keepdims=True)))[:, 0]

    numpy_chunks(queries, keys, chunk)
    return values


# ---------------------------------------------------------------------------
# torch CPU: chunked torch.mm, then torch's own reductions


def torch_chunks(queries, keys, reduce_chunk):
    keys_t = keys.t()
    out = []
    for i in range(0, queries.shape[0], CHUNK):
        out.append(reduce_chunk(queries[i : i + CHUNK] @ keys_t))
    return out


TORCH_REDUCTIONS = {
    "max": lambda s: s.max(dim=1),
    "top5": lambda s: s.topk(K_TOP, dim=1),
    "logsumexp": lambda s: torch.logsumexp(s / TEMPERATURE, dim=1) * TEMPERATURE,
}


# ---------------------------------------------------------------------------
# cases

MS = [1000, 4000]


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("op", ["max", "top5", "logsumexp"])
def test_core(benchmark, m, op):
    queries, keys = data(m)
    kwargs = {"max": {"op": "max"}, "top5": {"op": "topk", "k": K_TOP},
              "logsumexp": {"op": "logsumexp", "temperature": TEMPERATURE}}[op]
    result = measure(benchmark, lambda: kernels.reduce(queries, keys, threads=THREADS, **kwargs), m, f"core {op}")
    assert result.values.shape[0] == N


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("op", ["sgemm", "max", "top5", "logsumexp"])
def test_numpy(benchmark, m, op):
    queries, keys = data(m)
    fn = {"sgemm": numpy_sgemm, "max": numpy_max, "top5": numpy_topk, "logsumexp": numpy_logsumexp}[op]
    with _blas_threads():
        measure(benchmark, lambda: fn(queries, keys), m, f"numpy {op}")


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("op", ["max", "top5", "logsumexp"])
def test_torch_cpu(benchmark, m, op):
    queries, keys = (torch.from_numpy(x) for x in data(m))
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        with torch.inference_mode():
            measure(benchmark, lambda: torch_chunks(queries, keys, TORCH_REDUCTIONS[op]), m, f"torch {op}")
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("m", MS)
def test_faiss_flat_ip_top5(benchmark, m):
    faiss = pytest.importorskip("faiss")
    queries, keys = data(m)
    faiss.omp_set_num_threads(THREADS)
    index = faiss.IndexFlatIP(D)
    index.add(keys)
    with _blas_threads():
        scores, ids = measure(benchmark, lambda: index.search(queries, K_TOP), m, "faiss IndexFlatIP top5")
    assert ids.shape == (N, K_TOP)
