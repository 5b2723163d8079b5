"""Memory planning: refuse, before allocating, a reduction whose results and scratch would not fit.

The results' size follows from the shapes; what the native kernel allocates besides them (packed keys,
per-thread scratch) comes from the kernel itself (:func:`exposure.kernels.native.workspace_bytes`). The
torch backend's chunked products stay within a fixed budget and are not counted.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any, Optional, Tuple

from . import native

__all__ = ["check_affordable", "memory_limit"]


def memory_limit(device: Any = None) -> Optional[int]:
    """Bytes a call may allocate at most: the GPU's memory for a CUDA device, else physical memory (None: unknown).

    >>> limit = memory_limit()
    >>> limit is None or limit > 0
    True
    """
    if device is not None and device.type == "cuda":
        return int(sys.modules["torch"].cuda.get_device_properties(device).total_memory)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:,.1f} GiB"


def check_affordable(op: str, n: int, m: int, d: int, k: int, grouped: bool, num_groups: int, has_out: bool,
                     precision: str, candidates: Optional[int], threads: Optional[int], chunk_size: Optional[int],
                     device: Any) -> None:
    """Raise ``ValueError`` saying what a reduction would cost and how to make it fit, when its results and
    scratch would not fit in memory (the GPU's for a CUDA ``device``; ``device=None``: the native kernel).

    Results: float32 values (+ int64 indices for max/topk) of shape (n, m), (n, G) or (n, G, k). Native
    scratch: what the kernel says it would allocate (:func:`~exposure.kernels.native.workspace_bytes`).

    >>> check_affordable("max", 10, 5, 8, 0, False, 1, False, "fp32", None, None, None, None)  # fits: no error
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
        scratch = native.workspace_bytes(n, m, d, op, k=k, num_groups=G, threads=threads, chunk_size=chunk_size,
                                         precision=precision, candidates=candidates)
    limit = memory_limit(device)
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
