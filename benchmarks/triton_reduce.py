"""Fused similarity reductions for CUDA tensors in Triton: each program multiplies a block of queries by the
keys, tile by tile, and reduces every tile in registers, so the ``n x m`` scores are never written.

Not part of the package and not yet used by :func:`exposure.kernels.reduce`: ``benchmarks/bench_gpu.py`` times it against
``torch.mm`` alone and ``torch.mm`` + ``torch.topk`` on a card first. The semantics are ``reduce``'s, without
groups: ``"max"`` and ``"topk"`` (descending, the lower key index first among equal scores, exactly: a running
top-k is merged with each tile by ``k`` passes of max-then-lowest-index) and ``"logsumexp"`` (a running max
and sum, rescaled per tile). Scores accumulate in float32 whatever the input dtype; float32 inputs multiply in
IEEE float32 (no TF32), so their results match the float32 reference. Rows are not checked for NaN or inf
(``reduce`` does that).

The tests run the kernels in Triton's interpreter on the CPU (``TRITON_INTERPRET=1`` before ``triton`` is
imported) when no GPU is present.

>>> values, indices = fused_reduce(queries, keys, "topk", k=5)     # doctest: +SKIP
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
import triton
import triton.language as tl

__all__ = ["fused_reduce", "OPS", "MAX_K"]

OPS = ("max", "topk", "logsumexp")
#: The largest k: the running top-k lives in registers, one slot per k (rounded up to a power of two).
MAX_K = 32
_NO_INDEX = 2**31 - 1  # above every key index: loses every tie


@triton.jit
def _scores(q_ptr, k_ptr, rows, cols, n, m, D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
            BLOCK_D: tl.constexpr, IEEE: tl.constexpr):
    """The (BLOCK_M, BLOCK_N) float32 tile of queries[rows] @ keys[cols].T."""
    s = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    row_at = rows.to(tl.int64)[:, None] * D  # int64 offsets: n * d passes 2**31 past 5.6 million rows of 384
    col_at = cols.to(tl.int64)[:, None] * D
    for d0 in range(0, D, BLOCK_D):
        dd = d0 + tl.arange(0, BLOCK_D)
        a = tl.load(q_ptr + row_at + dd[None, :], mask=(rows < n)[:, None] & (dd < D)[None, :], other=0.0)
        b = tl.load(k_ptr + col_at + dd[None, :], mask=(cols < m)[:, None] & (dd < D)[None, :], other=0.0)
        if IEEE:
            s += tl.dot(a, tl.trans(b), input_precision="ieee")
        else:
            s += tl.dot(a, tl.trans(b))
    return s


@triton.jit
def _topk_kernel(q_ptr, k_ptr, val_ptr, idx_ptr, n, m, D: tl.constexpr, K: tl.constexpr, KP: tl.constexpr,
                 BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr, IEEE: tl.constexpr,
                 NO_INDEX: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    slots = tl.arange(0, KP)
    best = tl.full((BLOCK_M, KP), float("-inf"), dtype=tl.float32)
    best_idx = tl.full((BLOCK_M, KP), NO_INDEX, dtype=tl.int32)
    for n0 in range(0, m, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        # 1. dot tile; keys past m score -inf and carry no index
        s = _scores(q_ptr, k_ptr, rows, cols, n, m, D, BLOCK_M, BLOCK_N, BLOCK_D, IEEE)
        col_idx = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.int32) + tl.where(cols < m, cols, NO_INDEX)[None, :]
        s = tl.where(col_idx < NO_INDEX, s, float("-inf"))
        # 2. merge: K passes over the tile and the running top-k, each taking the best score, lowest index first
        new = tl.full((BLOCK_M, KP), float("-inf"), dtype=tl.float32)
        new_idx = tl.full((BLOCK_M, KP), NO_INDEX, dtype=tl.int32)
        for j in tl.static_range(K):
            top = tl.maximum(tl.max(s, axis=1), tl.max(best, axis=1))
            pick = tl.minimum(tl.min(tl.where(s == top[:, None], col_idx, NO_INDEX), axis=1),
                              tl.min(tl.where(best == top[:, None], best_idx, NO_INDEX), axis=1))
            new = tl.where(slots[None, :] == j, top[:, None], new)
            new_idx = tl.where(slots[None, :] == j, pick[:, None], new_idx)
            s = tl.where(col_idx == pick[:, None], float("-inf"), s)
            best = tl.where(best_idx == pick[:, None], float("-inf"), best)
        best, best_idx = new, new_idx
    out = rows.to(tl.int64)[:, None] * K + slots[None, :]
    keep = (rows < n)[:, None] & (slots < K)[None, :]
    tl.store(val_ptr + out, best, mask=keep)
    tl.store(idx_ptr + out, best_idx.to(tl.int64), mask=keep)


@triton.jit
def _logsumexp_kernel(q_ptr, k_ptr, val_ptr, n, m, inv_t, t, D: tl.constexpr, BLOCK_M: tl.constexpr,
                      BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr, IEEE: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    top = tl.full((BLOCK_M,), float("-inf"), dtype=tl.float32)
    total = tl.zeros((BLOCK_M,), dtype=tl.float32)
    for n0 in range(0, m, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        s = _scores(q_ptr, k_ptr, rows, cols, n, m, D, BLOCK_M, BLOCK_N, BLOCK_D, IEEE) * inv_t
        s = tl.where((cols < m)[None, :], s, float("-inf"))
        # the running sum is kept relative to the running max: rescaled when the max grows
        new_top = tl.maximum(top, tl.max(s, axis=1))
        total = total * tl.exp(top - new_top) + tl.sum(tl.exp(s - new_top[:, None]), axis=1)
        top = new_top
    tl.store(val_ptr + rows, (tl.log(total) + top) * t, mask=rows < n)


def _blocks(m: int, k: int) -> Tuple[int, int, int, int]:
    """(BLOCK_M, BLOCK_N, BLOCK_D, num_warps): 64 queries by 64 keys or more (at least k), d in slices of 64.
    A first guess, to be replaced by what ``bench_gpu.py``'s sweep finds fastest on a card."""
    return 64, max(64, triton.next_power_of_2(k)), 64, 4


def fused_reduce(queries: torch.Tensor, keys: torch.Tensor, op: str = "topk", *, k: int = 1,
                 temperature: float = 1.0, blocks: Optional[Tuple[int, int, int, int]] = None
                 ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """``queries @ keys.T`` reduced per query without storing it: ``(values, indices)`` as
    :func:`exposure.kernels.reduce` returns them for tensors (``(n,)`` for max/logsumexp, ``(n, k)`` for topk;
    ``None`` indices for logsumexp). ``queries`` ``(n, d)`` and ``keys`` ``(m, d)``: contiguous float32,
    float16 or bfloat16 tensors of one dtype on one device. ``blocks``: ``(BLOCK_M, BLOCK_N, BLOCK_D,
    num_warps)`` to override the default tiling (benchmarks sweep it).
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(map(repr, OPS))}, got {op!r}")
    if queries.dim() != 2 or keys.dim() != 2 or queries.shape[1] != keys.shape[1]:
        raise ValueError(f"queries (n, d) and keys (m, d) must share d, got {tuple(queries.shape)} and "
                         f"{tuple(keys.shape)}")
    if queries.dtype != keys.dtype or queries.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"queries and keys must both be float32, float16 or bfloat16, got {queries.dtype} and "
                         f"{keys.dtype}")
    if queries.device != keys.device:
        raise ValueError(f"queries and keys must be on one device, got {queries.device} and {keys.device}")
    n, d = queries.shape
    m = keys.shape[0]
    if m >= _NO_INDEX:
        raise ValueError(f"at most {_NO_INDEX - 1} keys, got {m}")
    k = 1 if op == "max" else int(k)
    if op == "topk" and not 1 <= k <= min(m, MAX_K):
        raise ValueError(f"k must be in [1, min(m, {MAX_K})] = [1, {min(m, MAX_K)}], got {k}")
    if op == "logsumexp" and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if m == 0 and op != "logsumexp":
        raise ValueError("max needs at least one key")
    queries, keys = queries.contiguous(), keys.contiguous()
    block_m, block_n, block_d, warps = blocks or _blocks(m, k)
    if block_n < k:
        raise ValueError(f"BLOCK_N must be at least k = {k}, got {block_n}")
    grid = (triton.cdiv(n, block_m),)
    ieee = queries.dtype == torch.float32
    if op == "logsumexp":
        values = torch.empty(n, dtype=torch.float32, device=queries.device)
        if n:
            _logsumexp_kernel[grid](queries, keys, values, n, m, 1.0 / temperature, float(temperature), D=d,
                                    BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_D=block_d, IEEE=ieee, num_warps=warps)
        return values, None
    values = torch.empty((n, k), dtype=torch.float32, device=queries.device)
    indices = torch.empty((n, k), dtype=torch.int64, device=queries.device)
    if n:
        _topk_kernel[grid](queries, keys, values, indices, n, m, D=d, K=k, KP=triton.next_power_of_2(k),
                           BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_D=block_d, IEEE=ieee, NO_INDEX=_NO_INDEX,
                           num_warps=warps)
    if op == "max":
        return values[:, 0], indices[:, 0]
    return values, indices
