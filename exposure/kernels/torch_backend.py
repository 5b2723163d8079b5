"""The torch backend of :func:`exposure.kernels.reduce`: the same semantics with chunked ``torch.mm``, for
tensors on any device (results on that device). On the CPU it runs on torch's thread count as the caller
set it (``torch.set_num_threads``): nothing here changes it. torch is never imported here: tensors can only
arrive if the caller already imported it.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Tuple

import numpy as np

from ._base import Reduction
from ._checks import dtype_name, type_name

__all__ = ["as_tensor", "reduce_torch"]


def as_tensor(x: Any, name: str, dtype: Any) -> Any:
    """``x`` detached, C-contiguous and of ``dtype``, copying at most once."""
    torch = sys.modules["torch"]
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (float32, or float64/float16/bfloat16 converted once), "
            f"got {dtype_name(x)} {tuple(x.shape)}"
        )
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, d), got {dtype_name(x)} {tuple(x.shape)}")
    # one copy at most: .to() with an explicit memory format converts dtype and layout together
    return x.detach().to(dtype=dtype, memory_format=torch.contiguous_format)


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


def reduce_torch(queries, keys, op, k, temperature, group_ids, num_groups, out, chunk_size) -> Reduction:
    """:func:`~exposure.kernels.reduce` of checked tensors (same device, the matmul's dtype, int64 group ids on
    the host or ``None``), on their device; on the CPU with torch's thread count as it is set."""
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
                f"out must be a contiguous float32 tensor of shape {shape} on {device}, got {type_name(out)}"
                + (f" {dtype_name(out)} {tuple(out.shape)} on {out.device}" if isinstance(out, torch.Tensor) else "")
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
