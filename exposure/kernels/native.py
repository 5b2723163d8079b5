"""The native kernels, ``exposure._core``: the checks at their boundary and the calls into them.

numpy arrays only; the arguments arrive checked by :func:`exposure.kernels.reduce` (for
:func:`reduce_native`) or are checked here. The compiled module also says what a reduction will
allocate (:func:`workspace_bytes`), computed by the code that sizes the kernel's buffers, so
:mod:`exposure.kernels.planning` never re-derives the C++ block sizing.
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from .. import _core, _processes
from ._base import Reduction
from ._checks import as_float32_array, as_int, optional_positive_int

__all__ = ["build_info", "reduce_native", "segment_sum", "sparse_topk", "workspace_bytes"]


def build_info() -> dict:
    """How the native kernel was built and which SIMD path it uses on this machine.

    Keys: ``isa`` (``"avx512"``, ``"avx2"`` or ``"scalar"``: the path in use),
    ``isa_detected`` (the best this CPU supports), ``isa_available``, ``tile``
    (micro-kernel rows x keys), ``int8`` (the ``precision="int8"`` micro-kernel:
    ``"avx512_vnni"``, or ``"scalar"``, exact but slow, on CPUs without VNNI or under
    a forced lower path), ``openmp``, ``threads`` (OpenMP default), ``compiler``.
    Set ``EXPOSURE_ISA=scalar|avx2|avx512`` before the first call to force a lower path.

    >>> from exposure.kernels import build_info
    >>> build_info()["isa"] in ("avx512", "avx2", "scalar")
    True
    """
    return dict(_core.build_info())


def workspace_bytes(n: int, m: int, d: int, op: str = "max", *, k: int = 0, num_groups: int = 1,
                    threads: Optional[int] = None, chunk_size: Optional[int] = None, precision: str = "fp32",
                    candidates: Optional[int] = None) -> int:
    """Bytes a native :func:`~exposure.kernels.reduce` of ``n`` queries and ``m`` keys of width ``d`` allocates
    besides its results: the packed keys and, per thread, a block's scratch (on the SIMD path in use).

    The kernel reports it from the functions that size its buffers (``csrc/similarity.hpp``), so it
    follows the thread count, the block size, the groups and the int8 candidates as the call would.
    ``threads``, ``chunk_size`` and ``candidates`` as for ``reduce`` (``None``: the defaults).

    >>> one = workspace_bytes(1000, 500, 384, "logsumexp", num_groups=50, threads=1)
    >>> two = workspace_bytes(1000, 500, 384, "logsumexp", num_groups=50, threads=2)
    >>> 500 * 384 * 4 < one < two
    True
    """
    return int(_core.workspace_bytes(n, m, d, op, k=k, num_groups=num_groups, threads=threads or 0,
                                     block_rows=chunk_size or 0, precision=precision, candidates=candidates or 0))


def reduce_native(queries: np.ndarray, keys: np.ndarray, op: str, k: int, temperature: float,
                  group_ids: Optional[np.ndarray], num_groups: int, out: Optional[np.ndarray], threads: Optional[int],
                  chunk_size: Optional[int], precision: str, candidates: Optional[int]) -> Reduction:
    """:func:`~exposure.kernels.reduce` on the native kernel, its arguments checked (C-contiguous float32
    inputs, int64 group ids or ``None``); the kernel checks the buffers again and releases the GIL."""
    if precision == "int8" and _core.int8_path() != "avx512_vnni":
        warnings.warn("precision='int8' has no fast kernel on this CPU or SIMD path (it needs AVX-512 VNNI): "
                      "a portable int8 kernel runs instead, slower than precision='fp32'", RuntimeWarning,
                      stacklevel=4)  # the caller of reduce()
    values, indices = _core.reduce(
        queries,
        keys,
        op,
        k=k,
        temperature=temperature,
        groups=group_ids,
        num_groups=num_groups,
        out=out,
        threads=threads or 0,
        block_rows=chunk_size or 0,
        precision=precision,
        candidates=candidates or 0,
    )
    return Reduction(values, indices)


def sparse_topk(q_ptr: np.ndarray, q_cols: np.ndarray, q_weights: np.ndarray, ptr: np.ndarray, keys: np.ndarray,
                weights: np.ndarray, num_keys: int, k: int, *, threads: Optional[int] = None) -> Reduction:
    """Per sparse query, the ``k`` keys of an inverted index with the largest dot product (the native kernel).

    Query ``i`` is the CSR row ``(q_cols[j], q_weights[j]) for j in range(q_ptr[i], q_ptr[i + 1])``; column
    ``c`` of the index holds ``(keys[p], weights[p]) for p in range(ptr[c], ptr[c + 1])``, keys in
    ``[0, num_keys)``. Each query's scores are summed in float64 from its columns' entries only, in that
    order, so a query costs what its columns hold, not ``num_keys``. Results: float32 ``values`` and int64
    ``indices`` of shape ``(n, k)``, descending, lower index first on ties; keys no column reaches score 0
    and fill the rest in index order. ``threads``: as for :func:`~exposure.kernels.reduce` (``None``: the
    OpenMP default).

    >>> import numpy as np
    >>> i64 = lambda *x: np.array(x, dtype=np.int64)
    >>> best = sparse_topk(i64(0, 2), i64(0, 1), np.array([1.0, 0.5]),          # one query: 1.0 col 0, 0.5 col 1
    ...                    i64(0, 1, 3), np.array([2, 0, 2], np.int32), np.ones(3, np.float32), 3, 2)
    >>> best.indices.tolist(), best.values.tolist()
    ([[2, 0]], [[1.5, 0.5]])
    """
    threads = _processes.fork_safe_threads(optional_positive_int(threads, "threads"), "exposure.kernels.sparse_topk")
    num_keys, k = as_int(num_keys, "num_keys must be an integer"), as_int(k, "k must be an integer")
    if num_keys < 0 or k < 0:
        raise ValueError(f"num_keys and k must be at least 0, got {num_keys} and {k}")
    values, indices = _core.sparse_topk(
        np.ascontiguousarray(q_ptr, dtype=np.int64), np.ascontiguousarray(q_cols, dtype=np.int64),
        np.ascontiguousarray(q_weights, dtype=np.float64), np.ascontiguousarray(ptr, dtype=np.int64),
        np.ascontiguousarray(keys, dtype=np.int32), np.ascontiguousarray(weights, dtype=np.float32), num_keys, k,
        threads=threads or 0)
    return Reduction(values, indices)


def segment_sum(values: np.ndarray, offsets: np.ndarray, *, threads: Optional[int] = None) -> np.ndarray:
    """Row sums of ``values`` per segment of consecutive rows, in float64 (the native kernel).

    Segment ``s`` is the rows ``offsets[s]`` to ``offsets[s + 1] - 1`` (``offsets`` starts at 0, never
    decreases and ends at the number of rows); an empty segment sums to 0. Each sum starts from the
    segment's first row and adds the others in row order in float64. On a matrix of several columns these
    are the sums of ``np.add.reduceat(values, offsets[:-1], axis=0, dtype=np.float64)`` for non-empty
    segments, to the bit (numpy adds a single column pairwise), without a float64 copy of ``values``: 17 to
    27 times as fast on the assigner's duty-search means (``benchmarks/bench_segments.py``). ``values`` is
    read as C-contiguous float32 (converted once otherwise). Returns float64
    ``(len(offsets) - 1, values.shape[1])``. ``threads``: as for :func:`~exposure.kernels.reduce`; the sums do
    not depend on it.

    >>> import numpy as np
    >>> segment_sum(np.arange(8, dtype=np.float32).reshape(4, 2), np.array([0, 1, 1, 4])).tolist()
    [[0.0, 1.0], [0.0, 0.0], [12.0, 15.0]]
    """
    threads = _processes.fork_safe_threads(optional_positive_int(threads, "threads"), "exposure.kernels.segment_sum")
    offsets = np.asarray(offsets)
    if offsets.dtype.kind not in "iu":
        raise TypeError(f"offsets must be integers, got {offsets.dtype} {offsets.shape}")
    return _core.segment_sum(as_float32_array(values, "values"), np.ascontiguousarray(offsets, dtype=np.int64),
                             threads=threads or 0)
