"""The entry point :func:`reduce` and its shorthands: checks the arguments, plans the memory, and runs the
native kernel (numpy arrays) or the torch backend (tensors)."""

from __future__ import annotations

import sys
from typing import Any, Optional

import numpy as np

from .. import _processes
from ._base import OPS, Array, Op, Precision, Reduction
from ._checks import (as_float32_array, check_groups, check_k, check_precision, check_temperature, dtype_name,
                      optional_positive_int, type_name)
from .native import reduce_native
from .planning import check_affordable
from .torch_backend import as_tensor, reduce_torch

__all__ = ["logsumexp", "max_sim", "reduce", "similarity_matrix", "topk"]

_TORCH_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


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
        threads: native kernel threads for this call only (``None``: the OpenMP default).
            Results are bit-identical whatever the thread count. Torch tensors run on
            torch's thread count as the caller set it (``torch.set_num_threads``, process-wide;
            nothing here changes it), so ``threads`` must be ``None`` for them. In a process
            forked after OpenMP threads ran in its parent (``os.fork``, multiprocessing's
            ``'fork'`` start method) the native call runs on one thread, and torch is set to one
            thread for the rest of that process, with a warning once, because more would hang:
            start workers with :func:`exposure._processes.worker_context` (``'spawn'``) instead.
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
            f"{type_name(queries)} and {type_name(keys)}"
        )
    threads = optional_positive_int(threads, "threads")
    chunk_size = optional_positive_int(chunk_size, "chunk_size")
    check_precision(precision, candidates, op, q_is_torch)
    candidates = optional_positive_int(candidates, "candidates")
    if out is not None and op != "matrix":
        raise ValueError(f"out is only supported with op='matrix', got op={op!r}")

    if q_is_torch and threads is not None:
        raise ValueError("threads is for numpy input (the native kernel); torch tensors run on torch's own thread "
                         "count, which is process-wide and the caller's to set: torch.set_num_threads(n) before the "
                         f"call, not threads={threads}")
    # forked after OpenMP threads ran: one thread, or the child hangs (see exposure._processes)
    if not q_is_torch:
        threads = _processes.fork_safe_threads(threads)
    elif queries.device.type == "cpu":
        _processes.fork_safe_torch(torch)
    return _reduce(queries, keys, op, k, temperature, groups, num_groups, out, threads, chunk_size, precision,
                   candidates, q_is_torch)


def _reduce(queries, keys, op, k, temperature, groups, num_groups, out, threads, chunk_size, precision, candidates,
            q_is_torch) -> Reduction:
    """reduce() once the arguments are checked and the thread count settled."""
    torch = sys.modules.get("torch")
    if q_is_torch:
        # the matmul's dtype: float32, or fp16/bf16 straight from the input (one conversion at most)
        dtype = getattr(torch, _TORCH_DTYPES[precision])
        queries = as_tensor(queries, "queries", dtype)
        keys = as_tensor(keys, "keys", dtype)
        if queries.device != keys.device:
            raise ValueError(
                f"queries and keys must be on the same device, got {queries.device} and {keys.device}"
            )
    else:
        queries = as_float32_array(queries, "queries")
        keys = as_float32_array(keys, "keys")
        if out is not None and not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array for numpy inputs, got {type_name(out)}")
    n, d = queries.shape
    m = keys.shape[0]
    if keys.shape[1] != d:
        raise ValueError(
            f"keys must have {d} columns like the queries {tuple(queries.shape)}, "
            f"got {dtype_name(keys)} {tuple(keys.shape)}"
        )
    k = check_k(op, k, m)
    if op == "logsumexp":
        temperature = check_temperature(temperature)
    group_ids, num_groups = check_groups(op, groups, num_groups, m)
    check_affordable(op, n, m, d, k, group_ids is not None, num_groups, out is not None, precision, candidates,
                     threads, chunk_size, queries.device if q_is_torch else None)

    if q_is_torch:
        return reduce_torch(queries, keys, op, k, temperature, group_ids, num_groups, out, chunk_size)
    return reduce_native(queries, keys, op, k, temperature, group_ids, num_groups, out, threads, chunk_size,
                         precision, candidates)


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
