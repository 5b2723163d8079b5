"""Similarity reductions between query and key embeddings, without the n x m matrix.

One entry point, :func:`reduce`, computes dot products ``queries @ keys.T`` tile by
tile and reduces them on the fly per query (and per key group): ``"max"``, ``"topk"``,
``"logsumexp"``, or the full ``"matrix"`` when asked for. Rows are expected to be
L2-normalised by the caller; nothing here normalises.

* numpy arrays go to the native kernel ``exposure._core`` (SIMD picked at run time,
  OpenMP over query blocks, the GIL released; see :func:`build_info`);
* torch tensors (CPU or CUDA) go to a chunked ``torch.mm`` implementation with the same
  semantics, results on the input's device;
* :func:`reduce_on` runs numpy arrays on a torch device (a GPU) and returns numpy, keeping
  each keys array resident there while it lives: how a model on CUDA runs its searches.

``precision`` trades exactness for speed on large jobs: ``"int8"`` (numpy input) runs
the native kernel on int8 codes with one scale per row (AVX-512 VNNI where the CPU has
it), and re-ranks the best candidates of ``max`` / ``topk`` with exact float32 dot
products; ``"fp16"`` / ``"bf16"`` (torch input) multiply in half precision. The
accuracy each costs is measured in ``benchmarks/results/kernels.md``.

``exposure._reference`` is the numpy definition both are tested against.

>>> import numpy as np
>>> from exposure.kernels import reduce
>>> q = np.eye(2, 3, dtype=np.float32)               # 2 queries, d = 3
>>> keys = np.eye(3, dtype=np.float32)                 # 3 keys
>>> reduce(q, keys, "topk", k=2).indices.tolist()
[[0, 1], [1, 0]]
"""

from __future__ import annotations

import math
import operator
import os
import sys
import warnings
import weakref
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _core, _processes

Op = Literal["max", "topk", "logsumexp", "matrix"]
OPS: Tuple[str, ...] = ("max", "topk", "logsumexp", "matrix")
Precision = Literal["fp32", "int8", "fp16", "bf16"]
#: precisions per input kind: numpy arrays go to the native kernel, tensors to torch
NUMPY_PRECISIONS: Tuple[str, ...] = ("fp32", "int8")
TORCH_PRECISIONS: Tuple[str, ...] = ("fp32", "fp16", "bf16")
_TORCH_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}

if TYPE_CHECKING:
    import torch

# torch is never imported here: tensors can only arrive if the caller already imported it
Array = Union[np.ndarray, "torch.Tensor"]

__all__ = ["NUMPY_PRECISIONS", "OPS", "TORCH_PRECISIONS", "Reduction", "build_info", "logsumexp", "max_sim", "reduce",
           "gpu_or_none", "reduce_on", "segment_sum", "similarity_matrix", "sparse_topk", "topk"]


class Reduction(NamedTuple):
    """Result of :func:`reduce`.

    ``values``: float32 scores, shape ``(n,)`` for max/logsumexp, ``(n, k)`` for topk,
    ``(n, G)`` / ``(n, G, k)`` with groups, ``(n, m)`` for the matrix.
    ``indices``: int64 key indices with the same shape as ``values`` for max/topk
    (``-1`` where a group has no key to offer), ``None`` for logsumexp and matrix.
    """

    values: Array
    indices: Optional[Array]


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


def reduce(
    queries: Array,
    keys: Array,
    op: Op = "max",
    *,
    k: Optional[int] = None,
    temperature: float = 1.0,
    groups: Optional[Array] = None,
    num_groups: Optional[int] = None,
    out: Optional[Array] = None,
    threads: Optional[int] = None,
    chunk_size: Optional[int] = None,
    precision: Precision = "fp32",
    candidates: Optional[int] = None,
) -> Reduction:
    """Reduce the similarities ``queries @ keys.T`` per query, without materialising them.

    Args:
        queries: ``(n, d)`` float array, unit-norm rows (numpy array or torch tensor).
        keys: ``(m, d)`` float array of the same kind (both numpy or both torch).
        op: ``"max"`` (best score and its key index; ties go to the lowest index),
            ``"topk"`` (the ``k`` best, descending, lower index first on ties),
            ``"logsumexp"`` (``T * log(sum_j exp(s_ij / T))``, computed stably), or
            ``"matrix"`` (all ``n x m`` scores; only when you need them).
        k: number of keys to keep for ``"topk"``; ``0 <= k <= m``.
        temperature: ``T > 0`` for ``"logsumexp"``.
        groups: optional integer group id per key (length ``m``, values in
            ``[0, num_groups)``): results become per (query, group). An empty group
            yields ``-inf`` and index ``-1``; ``"topk"`` pads groups smaller than ``k``
            the same way (``k`` may exceed a group's size, but not ``m``).
        num_groups: number of groups; defaults to ``groups.max() + 1``.
        out: for ``"matrix"``, a C-contiguous float32 ``(n, m)`` array (or tensor) to
            write into instead of allocating.
        threads: threads for this call only (``None``: the OpenMP / torch default).
            Results are bit-identical whatever the thread count. In a process forked
            after OpenMP threads ran in its parent (``os.fork``, multiprocessing's
            ``'fork'`` start method) the call runs on one thread and logs a warning once,
            because more would hang: start workers with
            :func:`exposure._processes.worker_context` (``'spawn'``) instead.
        chunk_size: query rows per work item (native kernel) or per ``torch.mm``
            (torch); ``None`` picks a cache-friendly size.
        precision: ``"fp32"`` (default, exact float32). For numpy input, ``"int8"``:
            queries and keys quantised to int8 with one scale per row
            (``round(127 x / max|x|)``), dot products in int32. ``"max"`` and
            ``"topk"`` then keep ``candidates`` keys per (query, group) by int8
            score and return the best by exact float32 dot products of the inputs,
            so values are exact and only a key that int8 error pushes out of the
            candidates is missed; ``"logsumexp"`` and ``"matrix"`` return the
            int8 scores (absolute error about 0.003 on unit vectors of d = 384).
            For torch input, ``"fp16"`` or ``"bf16"``: the matrix products, max and
            top-k run in that dtype (scores rounded to it; values returned as
            float32), logsumexp in float32.
        candidates: keys re-ranked exactly per (query, group) with
            ``precision="int8"`` (``max``/``topk``); default ``k + 4`` (5 for
            ``max``), at least ``k``. More candidates: higher recall, slower.

    Returns:
        :class:`Reduction` of ``(values, indices)``: float32 values and int64 indices
        (``None`` for logsumexp and matrix), numpy for numpy input, torch tensors on
        the input's device for torch input.

    Inputs are used as they are when they are C-contiguous float32. float64, float16
    (and bfloat16 tensors) or non-contiguous inputs are converted with exactly one copy;
    integer, bool, complex and object arrays are rejected. Rows containing NaN or inf
    raise ``ValueError`` naming the first one. Torch results do not track gradients.
    A call whose results and scratch would not fit in the machine's memory (the GPU's
    for CUDA tensors), e.g. a ``num_groups`` far above the number of groups used,
    raises ``ValueError`` before allocating anything, saying what it would cost.

    Example:
        >>> import numpy as np
        >>> q = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
        >>> keys = np.array([[0.0, 1.0], [1.0, 0.0], [0.8, 0.6]], dtype=np.float32)
        >>> best = reduce(q, keys, "max")
        >>> best.indices.tolist(), best.values.astype(float).round(2).tolist()
        ([1, 2], [1.0, 0.96])
        >>> reduce(q, keys, "max", groups=[0, 1, 1]).indices.tolist()
        [[0, 1], [0, 2]]
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(map(repr, OPS))}, got {op!r}")
    torch = sys.modules.get("torch")
    q_is_torch = torch is not None and isinstance(queries, torch.Tensor)
    k_is_torch = torch is not None and isinstance(keys, torch.Tensor)
    if q_is_torch != k_is_torch:
        raise TypeError(
            "queries and keys must both be numpy arrays or both torch tensors, got "
            f"{_type_name(queries)} and {_type_name(keys)}"
        )
    threads = _optional_positive_int(threads, "threads")
    chunk_size = _optional_positive_int(chunk_size, "chunk_size")
    _check_precision(precision, candidates, op, q_is_torch)
    candidates = _optional_positive_int(candidates, "candidates")
    if out is not None and op != "matrix":
        raise ValueError(f"out is only supported with op='matrix', got op={op!r}")

    on_cpu = not q_is_torch or queries.device.type == "cpu"
    if on_cpu:  # forked after OpenMP threads ran: one thread, or the child hangs (see exposure._processes)
        threads = _processes.fork_safe_threads(threads)
    # torch's thread count is set around the conversions and checks too: they may run in parallel
    with _torch_threads(torch, queries.device, threads) if q_is_torch else nullcontext():
        return _reduce(queries, keys, op, k, temperature, groups, num_groups, out, threads, chunk_size, precision,
                       candidates, q_is_torch)


def _reduce(queries, keys, op, k, temperature, groups, num_groups, out, threads, chunk_size, precision, candidates,
            q_is_torch) -> Reduction:
    """reduce() once the arguments are checked and the thread count settled."""
    torch = sys.modules.get("torch")
    if q_is_torch:
        # the matmul's dtype: float32, or fp16/bf16 straight from the input (one conversion at most)
        dtype = getattr(torch, _TORCH_DTYPES[precision])
        queries = _as_tensor(queries, "queries", dtype)
        keys = _as_tensor(keys, "keys", dtype)
        if queries.device != keys.device:
            raise ValueError(
                f"queries and keys must be on the same device, got {queries.device} and {keys.device}"
            )
    else:
        queries = _as_float32_array(queries, "queries")
        keys = _as_float32_array(keys, "keys")
        if out is not None and not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array for numpy inputs, got {_type_name(out)}")
    n, d = queries.shape
    m = keys.shape[0]
    if keys.shape[1] != d:
        raise ValueError(
            f"keys must have {d} columns like the queries {tuple(queries.shape)}, "
            f"got {_dtype_name(keys)} {tuple(keys.shape)}"
        )
    k = _check_k(op, k, m)
    if op == "logsumexp":
        temperature = _check_temperature(temperature)
    group_ids, num_groups = _check_groups(op, groups, num_groups, m)
    _check_affordable(op, n, m, d, k, group_ids is not None, num_groups, out is not None, precision, candidates,
                      threads, chunk_size, queries.device if q_is_torch else None)

    if q_is_torch:
        return _torch_reduce(queries, keys, op, k, temperature, group_ids, num_groups, out, chunk_size)
    if precision == "int8" and _core.int8_path() != "avx512_vnni":
        warnings.warn("precision='int8' has no fast kernel on this CPU or SIMD path (it needs AVX-512 VNNI): "
                      "a portable int8 kernel runs instead, slower than precision='fp32'", RuntimeWarning,
                      stacklevel=3)  # the caller of reduce()
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


# id(array) -> (a weak reference to it, {device: its copy there}); see reduce_on
_RESIDENT: dict = {}


def _resident(array: np.ndarray, device: Any) -> "torch.Tensor":
    """``array`` as a tensor on ``device``: copied at the first call, then the same copy while the array lives."""
    torch = sys.modules["torch"]
    key = id(array)
    entry = _RESIDENT.get(key)
    if entry is None or entry[0]() is not array:
        def forget(ref: weakref.ref, key: int = key) -> None:
            if _RESIDENT.get(key, (None,))[0] is ref:
                del _RESIDENT[key]

        entry = _RESIDENT[key] = (weakref.ref(array, forget), {})
    copies = entry[1]
    if device not in copies:
        copies[device] = torch.tensor(array, device=device)
    return copies[device]


def gpu_or_none(device: Any) -> Any:
    """``device`` when it is a CUDA device, else ``None``: the ``device`` of :func:`reduce_on` for a model
    that runs on ``device`` (its similarity work follows it onto a GPU and stays on the native kernel
    otherwise).

    >>> gpu_or_none("cpu") is None
    True
    """
    torch = sys.modules.get("torch")
    if device is None or torch is None:
        return None
    device = torch.device(device)
    return device if device.type == "cuda" else None


def reduce_on(device: Any, queries: np.ndarray, keys: np.ndarray, op: Op = "max", **kwargs: Any) -> Reduction:
    """:func:`reduce` of numpy arrays, computed on the torch ``device`` (a GPU), with numpy results.

    ``device=None`` is :func:`reduce` itself (the native kernel on the CPU). Otherwise the queries are
    copied to the device at each call, and ``keys`` once: the copy is kept while the array object lives
    and serves every later call with it, so an index stays resident on the GPU. Pass as ``keys`` only
    arrays that are not changed in place afterwards (the indexes of the assigner, the capability set
    and the heads are built once). ``kwargs`` are :func:`reduce`'s.

    >>> import numpy as np
    >>> keys = np.eye(3, dtype=np.float32)
    >>> reduce_on(None, keys[[2]], keys, "max").indices.tolist()
    [2]
    """
    if device is None:
        return reduce(queries, keys, op, **kwargs)
    import torch  # asked to run on a torch device

    device = torch.device(device)
    queries = torch.tensor(_as_float32_array(queries, "queries"), device=device)
    keys = _as_float32_array(keys, "keys")  # the same object when it is already C-contiguous float32
    result = reduce(queries, _resident(keys, device), op, **kwargs)
    return Reduction(result.values.cpu().numpy(), None if result.indices is None else result.indices.cpu().numpy())


def max_sim(queries: Array, keys: Array, **kwargs: Any) -> Reduction:
    """Best key per query (or per query and group): ``reduce(queries, keys, "max", **kwargs)``.

    >>> import numpy as np
    >>> keys = np.eye(3, dtype=np.float32)
    >>> max_sim(keys[[2, 0]], keys).indices.tolist()
    [2, 0]
    """
    return reduce(queries, keys, "max", **kwargs)


def topk(queries: Array, keys: Array, k: int, **kwargs: Any) -> Reduction:
    """The ``k`` best keys per query, descending: ``reduce(queries, keys, "topk", k=k, **kwargs)``.

    >>> import numpy as np
    >>> keys = np.array([[1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    >>> topk(keys[:1], keys, 2).indices.tolist()
    [[0, 1]]
    """
    return reduce(queries, keys, "topk", k=k, **kwargs)


def logsumexp(queries: Array, keys: Array, temperature: float = 1.0, **kwargs: Any) -> Array:
    """Soft maximum ``T * log(sum_j exp(s_ij / T))`` per query (and group); returns the values.

    >>> import numpy as np
    >>> keys = np.eye(2, dtype=np.float32)
    >>> float(logsumexp(keys[:1], keys, temperature=0.01)[0]) == 1.0
    True
    """
    return reduce(queries, keys, "logsumexp", temperature=temperature, **kwargs).values


def similarity_matrix(queries: Array, keys: Array, *, out: Optional[Array] = None, **kwargs: Any) -> Array:
    """All ``n x m`` similarities, optionally written into ``out``; returns the matrix.

    >>> import numpy as np
    >>> keys = np.eye(2, dtype=np.float32)
    >>> similarity_matrix(keys, keys).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return reduce(queries, keys, "matrix", out=out, **kwargs).values


def sparse_topk(q_ptr: np.ndarray, q_cols: np.ndarray, q_weights: np.ndarray, ptr: np.ndarray, keys: np.ndarray,
                weights: np.ndarray, num_keys: int, k: int, *, threads: Optional[int] = None) -> Reduction:
    """Per sparse query, the ``k`` keys of an inverted index with the largest dot product (the native kernel).

    Query ``i`` is the CSR row ``(q_cols[j], q_weights[j]) for j in range(q_ptr[i], q_ptr[i + 1])``; column
    ``c`` of the index holds ``(keys[p], weights[p]) for p in range(ptr[c], ptr[c + 1])``, keys in
    ``[0, num_keys)``. Each query's scores are summed in float64 from its columns' entries only, in that
    order, so a query costs what its columns hold, not ``num_keys``. Results: float32 ``values`` and int64
    ``indices`` of shape ``(n, k)``, descending, lower index first on ties; keys no column reaches score 0
    and fill the rest in index order. ``threads``: as for :func:`reduce` (``None``: the OpenMP default).

    >>> import numpy as np
    >>> i64 = lambda *x: np.array(x, dtype=np.int64)
    >>> best = sparse_topk(i64(0, 2), i64(0, 1), np.array([1.0, 0.5]),          # one query: 1.0 col 0, 0.5 col 1
    ...                    i64(0, 1, 3), np.array([2, 0, 2], np.int32), np.ones(3, np.float32), 3, 2)
    >>> best.indices.tolist(), best.values.tolist()
    ([[2, 0]], [[1.5, 0.5]])
    """
    threads = _processes.fork_safe_threads(_optional_positive_int(threads, "threads"), "exposure.kernels.sparse_topk")
    num_keys, k = _as_int(num_keys, "num_keys must be an integer"), _as_int(k, "k must be an integer")
    if num_keys < 0 or k < 0:
        raise ValueError(f"num_keys and k must be at least 0, got {num_keys} and {k}")
    indices, values = _core.sparse_topk(
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
    ``(len(offsets) - 1, values.shape[1])``. ``threads``: as for :func:`reduce`; the sums do not depend on it.

    >>> import numpy as np
    >>> segment_sum(np.arange(8, dtype=np.float32).reshape(4, 2), np.array([0, 1, 1, 4])).tolist()
    [[0.0, 1.0], [0.0, 0.0], [12.0, 15.0]]
    """
    threads = _processes.fork_safe_threads(_optional_positive_int(threads, "threads"), "exposure.kernels.segment_sum")
    offsets = np.asarray(offsets)
    if offsets.dtype.kind not in "iu":
        raise TypeError(f"offsets must be integers, got {offsets.dtype} {offsets.shape}")
    return _core.segment_sum(_as_float32_array(values, "values"), np.ascontiguousarray(offsets, dtype=np.int64),
                             threads=threads or 0)


# ---------------------------------------------------------------------------
# Input checks: say what is wrong and what is accepted.


def _type_name(x: Any) -> str:
    t = type(x)
    return f"{t.__module__}.{t.__qualname__}"


def _dtype_name(x: Any) -> str:
    return str(x.dtype).replace("torch.", "")


def _as_float32_array(x: Any, name: str) -> np.ndarray:
    """C-contiguous float32 view of ``x``, copying at most once (float64/float16/strided)."""
    arr = np.asarray(x)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must be a floating-point array (float32, or float64/float16 converted once), "
            f"got {arr.dtype} {arr.shape}"
        )
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, d), got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _as_tensor(x: Any, name: str, dtype: Any) -> Any:
    """``x`` detached, C-contiguous and of ``dtype``, copying at most once."""
    torch = sys.modules["torch"]
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (float32, or float64/float16/bfloat16 converted once), "
            f"got {_dtype_name(x)} {tuple(x.shape)}"
        )
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, d), got {_dtype_name(x)} {tuple(x.shape)}")
    # one copy at most: .to() with an explicit memory format converts dtype and layout together
    return x.detach().to(dtype=dtype, memory_format=torch.contiguous_format)


def _as_int(value: Any, expected: str) -> int:
    """``value`` as a Python int (numpy integers too; bools refused), else a TypeError naming ``expected``."""
    if isinstance(value, bool):
        raise TypeError(f"{expected}, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{expected}, got {value!r}") from None


def _optional_positive_int(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    value = _as_int(value, f"{name} must be a positive int or None")
    if value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value}")
    return value


def _check_precision(precision: Any, candidates: Any, op: str, torch_input: bool) -> None:
    allowed = TORCH_PRECISIONS if torch_input else NUMPY_PRECISIONS
    if precision not in allowed:
        kind = "torch tensors" if torch_input else "numpy arrays"
        other = NUMPY_PRECISIONS if torch_input else TORCH_PRECISIONS
        hint = ""
        if precision in other:
            hint = (" ('int8' runs in the native kernel: pass numpy arrays)" if torch_input
                    else f" ({precision!r} runs in torch: pass torch tensors)")
        raise ValueError(f"precision for {kind} must be one of {', '.join(map(repr, allowed))}, got {precision!r}{hint}")
    if candidates is not None and not (precision == "int8" and op in ("max", "topk")):
        raise ValueError(f"candidates is only used with precision='int8' and op 'max' or 'topk', "
                         f"got precision={precision!r}, op={op!r}")


def _check_k(op: str, k: Any, m: int) -> int:
    if op != "topk":
        if k is not None:
            raise ValueError(f"k is only used with op='topk', got op={op!r}")
        return 0
    if k is None:
        raise ValueError("op='topk' needs k, the number of keys to keep per query")
    k = _as_int(k, "k must be an int")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if k > m:
        raise ValueError(f"k={k} is larger than the number of keys m={m}")
    return k


def _check_temperature(temperature: Any) -> float:
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise TypeError(f"temperature must be a positive number, got {temperature!r}") from None
    if not (t > 0 and math.isfinite(t)):
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    return t


def _check_groups(op: str, groups: Any, num_groups: Any, m: int) -> Tuple[Optional[np.ndarray], int]:
    """int64 group ids (validated on the host) and the group count; (None, 1) without groups."""
    if groups is None:
        if num_groups is not None:
            raise ValueError("num_groups needs groups, the group id of each key")
        return None, 1
    if op == "matrix":
        raise ValueError("groups are not supported with op='matrix'; reduce with 'max', 'topk' or 'logsumexp'")
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(groups, torch.Tensor):
        groups = groups.detach().cpu().numpy()
    ids = np.asarray(groups)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"groups must be an integer array (one group id per key), got {ids.dtype}")
    if ids.shape != (m,):
        raise ValueError(f"groups must have one entry per key, shape ({m},), got {ids.shape}")
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if num_groups is None:
        num_groups = int(ids.max()) + 1 if m else 0
    else:
        num_groups = _optional_positive_int(num_groups, "num_groups")
    bad = np.flatnonzero((ids < 0) | (ids >= num_groups))
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"groups[{j}] = {int(ids[j])} is outside [0, num_groups={num_groups})")
    return ids, num_groups


def _memory_limit(device: Any = None) -> Optional[int]:
    """Bytes a call may allocate at most: the GPU's memory for a CUDA device, else physical memory (None: unknown)."""
    if device is not None and device.type == "cuda":
        return int(sys.modules["torch"].cuda.get_device_properties(device).total_memory)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:,.1f} GiB"


def _check_affordable(op: str, n: int, m: int, d: int, k: int, grouped: bool, num_groups: int, has_out: bool,
                      precision: str, candidates: Optional[int], threads: Optional[int], chunk_size: Optional[int],
                      device: Any) -> None:
    """Refuse, before allocating, a call whose results and scratch would not fit in memory.

    Results: float32 values (+ int64 indices for max/topk) of shape (n, m), (n, G) or
    (n, G, k). Native scratch: the group layout (two size_t per group), and per thread
    and block row a float64 sum per group (logsumexp) or the int8 candidates per group.
    """
    G = num_groups if grouped else 1
    if op == "matrix":
        shape: Tuple[int, ...] = (n, m)
    else:
        shape = (n, G, k) if op == "topk" else (n, G)
        if not grouped:
            shape = shape[:1] + shape[2:]
    cells = math.prod(shape)
    result = 0 if has_out else 4 * cells
    if op in ("max", "topk"):
        result += 8 * cells
    scratch = 0
    if device is None:  # native kernel
        if grouped:
            scratch += 16 * (G + 1)
        rescored = precision == "int8" and op in ("max", "topk")
        if op == "logsumexp" or rescored:
            info = _core.build_info()
            t = threads or max(1, int(info["threads"]))
            mr = 8 if precision == "int8" else int(info["tile"].split("x")[0])  # the micro-tile's rows
            # query rows per block, as similarity.hpp's pick_block_rows chooses them
            rows = chunk_size or min(max(mr, min(512, (256 << 10) // (4 * max(d, 1)))), max(1, -(-n // t)))
            rows = -(-rows // mr) * mr
            if op == "logsumexp":
                per_row = 8 * G
            else:
                kk = 1 if op == "max" else k
                per_row = 12 * G * min(m, max(kk, candidates or kk + 4))
            scratch += t * rows * per_row
    limit = _memory_limit(device)
    total = result + scratch
    if limit is None or total <= limit:
        return

    kind = "int64 indices and float32 values" if op in ("max", "topk") else "float32 values"
    where = f"the {_gib(limit)} of memory of {device}" if device is not None and device.type == "cuda" \
        else f"the {_gib(limit)} of memory this machine has"
    asked = f"reduce(op={op!r}" + (f", k={k}" if op == "topk" else "") + \
        (f", num_groups={num_groups}" if grouped else "") + f") of {n} queries and {m} keys"
    cost = f"{_gib(result)} for its {kind} of shape {shape}"
    if scratch:
        cost += f" and {_gib(scratch)} of scratch: {_gib(total)}"
    fixes = []
    if grouped and num_groups > m:
        fixes.append(f"num_groups={num_groups} is more than the {m} keys, so at most {m} groups can hold a key: "
                     "number the groups used 0..G-1 without gaps (numpy.unique(groups, return_inverse=True)) "
                     "and pass num_groups=G, or leave num_groups out (it defaults to groups.max() + 1)")
    if op == "matrix":
        fixes.append("op='max', 'topk' or 'logsumexp' reduce the scores without materialising the n x m matrix")
    elif op == "topk" and k > 1:
        fixes.append("keep fewer keys (a smaller k)")
    per_query = result // max(n, 1)
    fit = (limit // 2 - scratch) // per_query if per_query else 0
    if n > 1 and fit >= 1:
        fixes.append(f"reduce the queries in slices of at most {fit:,} rows (queries[i:i + {fit}]) and "
                     "combine the results")
    raise ValueError(f"{asked} would need {cost}, more than {where}. Nothing was allocated. "
                     + ("To fix it: " + "; or ".join(fixes) + "." if fixes else ""))


# ---------------------------------------------------------------------------
# torch implementation: the same semantics with chunked torch.mm, for tensors on any device.


@contextmanager
def _torch_threads(torch: Any, device: Any, threads: Optional[int]):
    """torch's thread count is process-wide: set it for this call and put it back."""
    if threads is None or device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _check_finite_rows(torch: Any, x: Any, name: str) -> None:
    # A row sum is non-finite whenever the row holds NaN/inf; confirm on the few flagged rows
    # because huge finite values could overflow the sum.
    flagged = torch.nonzero(~torch.isfinite(x.sum(dim=1))).flatten()
    if flagged.numel():
        bad = flagged[~torch.isfinite(x[flagged]).all(dim=1)]
        if bad.numel():
            raise ValueError(f"{name} row {int(bad[0])} contains NaN or inf")


def _torch_topk(torch: Any, s: Any, k: int) -> Tuple[Any, Any]:
    """torch.topk with the kernel's tie rule: among equal scores, lower key indices first and kept."""
    values, indices = torch.topk(s, k, dim=1, largest=True, sorted=True)
    if k == 0:
        return values, indices
    # 1. order equal scores by index: sort by index, then stable sort by score
    indices, by_index = indices.sort(dim=1)
    values, by_score = values.gather(1, by_index).sort(dim=1, descending=True, stable=True)
    indices = indices.gather(1, by_score)
    # 2. rows whose k-th score ties with a key left out may have kept the wrong one: full stable sort
    kth = values[:, -1:]
    unsure = torch.nonzero((s == kth).sum(dim=1) > (values == kth).sum(dim=1)).flatten()
    if unsure.numel():
        sv, si = torch.sort(s[unsure], dim=1, descending=True, stable=True)
        values[unsure] = sv[:, :k]
        indices[unsure] = si[:, :k]
    return values, indices


def _torch_reduce(queries, keys, op, k, temperature, group_ids, num_groups, out, chunk_size) -> Reduction:
    """The torch implementation; the caller has set torch's thread count for the call."""
    torch = sys.modules["torch"]
    device = queries.device
    n, m = queries.shape[0], keys.shape[0]
    _check_finite_rows(torch, queries, "queries")
    _check_finite_rows(torch, keys, "keys")
    grouped = group_ids is not None
    # A grouped max reduces every group at once (a few kernels per chunk, not a few per group); the other
    # grouped ops go group by group over (group, its keys in index order) for the groups that have keys.
    every_group_at_once = grouped and op == "max"
    if every_group_at_once:
        group_of = torch.as_tensor(group_ids, device=device)
        column = torch.arange(m, device=device)
    elif grouped:  # groups without keys stay -inf / -1
        order = np.argsort(group_ids, kind="stable")
        cuts = np.flatnonzero(np.diff(group_ids[order])) + 1
        columns = [(int(group_ids[run[0]]), torch.as_tensor(run, device=device))
                   for run in np.split(order, cuts) if run.size]
    else:
        columns = [(0, None)]
    g_count = num_groups if grouped else 1

    if op == "matrix":
        shape: Tuple[int, ...] = (n, m)
    else:
        shape = (n, g_count, k) if op == "topk" else (n, g_count)
    if out is not None:
        if not (isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.is_contiguous()
                and tuple(out.shape) == shape and out.device == device):
            raise ValueError(
                f"out must be a contiguous float32 tensor of shape {shape} on {device}, got {_type_name(out)}"
                + (f" {_dtype_name(out)} {tuple(out.shape)} on {out.device}" if isinstance(out, torch.Tensor) else "")
            )
        values = out
    elif op == "matrix":
        values = torch.empty(shape, dtype=torch.float32, device=device)
    else:
        values = torch.full(shape, -math.inf, dtype=torch.float32, device=device)
    indices = None
    if op in ("max", "topk"):
        indices = torch.full(shape, -1, dtype=torch.int64, device=device)

    if chunk_size is None:  # one chunk of scores: about 64 MiB on the CPU, 256 MiB on a GPU (fewer launches)
        budget, most = ((64 << 20), 65536) if device.type == "cuda" else ((16 << 20), 4096)
        chunk_size = max(1, min(most, budget // max(m, 1)))
    keys_t = keys.t()
    with torch.no_grad():
        for i in range(0, n, chunk_size):
            j = min(n, i + chunk_size)
            scores = queries[i:j] @ keys_t  # fp16/bf16 scores are widened where stored (k per row)
            if op == "matrix":
                values[i:j] = scores
                continue
            if every_group_at_once:
                scores = scores.float()
                where = group_of.expand(j - i, m)
                best = values[i:j].scatter_reduce_(1, where, scores, "amax")
                first = torch.where(scores == best.gather(1, where), column, m)  # the lowest index among ties
                idx = torch.full_like(indices[i:j], m).scatter_reduce_(1, where, first, "amin")
                indices[i:j] = torch.where(idx == m, -1, idx)
                continue
            for g, cols in columns:
                sub = scores if cols is None else scores.index_select(1, cols)
                if sub.shape[1] == 0:
                    continue  # empty group: the -inf / -1 fill stands
                if op == "max":
                    v, idx = sub.max(dim=1)  # first maximal index on ties
                    values[i:j, g] = v
                    indices[i:j, g] = idx if cols is None else cols[idx]
                elif op == "topk":
                    take = min(k, sub.shape[1])
                    v, idx = _torch_topk(torch, sub, take)
                    values[i:j, g, :take] = v
                    indices[i:j, g, :take] = idx if cols is None else cols[idx]
                else:
                    values[i:j, g] = torch.logsumexp(sub.float() / temperature, dim=1) * temperature
    if op == "matrix" or grouped:
        return Reduction(values, indices)
    return Reduction(values[:, 0], None if indices is None else indices[:, 0])
