"""Slow, obvious numpy oracle for every reduction in :mod:`exposure.kernels`.

This is the definition of the semantics, not an implementation to use: it builds the
full n x m similarity matrix in float64 and reduces it with plain numpy. Every kernel
path (``_core`` on each SIMD path, torch on CPU and CUDA) is tested against it.

Rules it pins down:

* similarities are dot products ``queries @ keys.T`` (rows are assumed unit-norm);
* ties go to the lower key index (``max``) or put lower indices first (``topk``);
* with ``groups``, results are per (query, group); an empty group gives ``-inf``
  scores and ``-1`` indices; ``topk`` pads groups smaller than ``k`` the same way;
* ``logsumexp`` is ``T * log(sum_j exp(s_ij / T))``, ``-inf`` over no keys.

:func:`int8_similarities` defines what ``precision="int8"`` computes before any
re-ranking: row-wise int8 codes, exact integer dot products, then the scales, in the
kernel's float32 order (so the native result matches it bit for bit).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

OPS = ("max", "topk", "logsumexp", "matrix")


def similarities(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Full (n, m) matrix of dot products, in float64."""
    return np.asarray(queries, dtype=np.float64) @ np.asarray(keys, dtype=np.float64).T


def quantize_int8(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Row-wise symmetric int8 codes and float32 scales: ``x ~ codes * scale[:, None]``.

    ``scale = max|x| / 127`` per row (0 for an all-zero row); codes are
    ``x * (127 / max|x|)`` in float32, clipped to [-127, 127], rounded half to even.
    """
    x = np.asarray(x, dtype=np.float32)
    top = np.abs(x).max(axis=1) if x.shape[1] else np.zeros(x.shape[0], np.float32)
    safe = np.where(top > 0, top, np.float32(1))
    inv = np.where(top > 0, np.float32(127) / safe, np.float32(0)).astype(np.float32)
    codes = np.rint(np.clip(x * inv[:, None], -127, 127)).astype(np.int8)
    return codes, (top / np.float32(127)).astype(np.float32)


def int8_similarities(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(n, m) float32 scores of ``precision="int8"``: ``float(cq . ck) * scale_k * scale_q``."""
    cq, sq = quantize_int8(queries)
    ck, sk = quantize_int8(keys)
    dots = (cq.astype(np.int64) @ ck.astype(np.int64).T).astype(np.float32)
    return (dots * sk[None, :]) * sq[:, None]


def _group_columns(m: int, groups: Optional[np.ndarray], num_groups: Optional[int]) -> list:
    if groups is None:
        return [np.arange(m)]
    groups = np.asarray(groups, dtype=np.int64)
    if num_groups is None:
        num_groups = int(groups.max()) + 1 if groups.size else 0
    return [np.flatnonzero(groups == g) for g in range(num_groups)]


def _max(sub: np.ndarray, cols: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    n = sub.shape[0]
    if cols.size == 0:
        return np.full(n, -np.inf), np.full(n, -1, dtype=np.int64)
    best = np.argmax(sub, axis=1)  # first occurrence: the lowest index among ties
    return sub[np.arange(n), best], cols[best]


def _topk(sub: np.ndarray, cols: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    n = sub.shape[0]
    values = np.full((n, k), -np.inf)
    indices = np.full((n, k), -1, dtype=np.int64)
    take = min(k, cols.size)
    order = np.argsort(-sub, axis=1, kind="stable")[:, :take]  # stable: equal scores keep index order
    values[:, :take] = np.take_along_axis(sub, order, axis=1)
    indices[:, :take] = cols[order]
    return values, indices


def _logsumexp(sub: np.ndarray, temperature: float) -> np.ndarray:
    if sub.shape[1] == 0:
        return np.full(sub.shape[0], -np.inf)
    top = sub.max(axis=1, keepdims=True)
    return (top + temperature * np.log(np.exp((sub - top) / temperature).sum(axis=1, keepdims=True)))[:, 0]


def reduce(
    queries: np.ndarray,
    keys: np.ndarray,
    op: str = "max",
    *,
    k: Optional[int] = None,
    temperature: float = 1.0,
    groups: Optional[np.ndarray] = None,
    num_groups: Optional[int] = None,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Reference for :func:`exposure.kernels.reduce`: ``(values, indices or None)`` in float64 / int64."""
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    sims = similarities(queries, keys)
    if op == "matrix":
        return sims, None
    column_sets = _group_columns(sims.shape[1], groups, num_groups)
    n, g_count = sims.shape[0], len(column_sets)
    shape = (n, g_count, int(k)) if op == "topk" else (n, g_count)
    values = np.empty(shape)
    indices = None if op == "logsumexp" else np.empty(shape, dtype=np.int64)
    for g, cols in enumerate(column_sets):
        sub = sims[:, cols]
        if op == "max":
            values[:, g], indices[:, g] = _max(sub, cols)
        elif op == "topk":
            values[:, g], indices[:, g] = _topk(sub, cols, int(k))
        else:
            values[:, g] = _logsumexp(sub, temperature)
    if groups is None:  # a single implicit group: drop its axis
        values = values[:, 0]
        indices = None if indices is None else indices[:, 0]
    return values, indices
