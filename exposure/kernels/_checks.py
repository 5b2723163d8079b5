"""Checks at the boundary of :mod:`exposure.kernels`: each says what is wrong and what is accepted."""

from __future__ import annotations

import math
import operator
import sys
from typing import Any, Optional, Tuple

import numpy as np

from ._base import NUMPY_PRECISIONS, TORCH_PRECISIONS

__all__ = ["as_float32_array", "as_int", "check_groups", "check_k", "check_precision", "check_temperature",
           "dtype_name", "optional_positive_int", "type_name"]


def type_name(x: Any) -> str:
    t = type(x)
    return f"{t.__module__}.{t.__qualname__}"


def dtype_name(x: Any) -> str:
    return str(x.dtype).replace("torch.", "")


def as_float32_array(x: Any, name: str) -> np.ndarray:
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


def as_int(value: Any, expected: str) -> int:
    """``value`` as a Python int (numpy integers too; bools refused), else a TypeError naming ``expected``."""
    if isinstance(value, bool):
        raise TypeError(f"{expected}, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{expected}, got {value!r}") from None


def optional_positive_int(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    value = as_int(value, f"{name} must be a positive int or None")
    if value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value}")
    return value


def check_precision(precision: Any, candidates: Any, op: str, torch_input: bool) -> None:
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


def check_k(op: str, k: Any, m: int) -> int:
    if op != "topk":
        if k is not None:
            raise ValueError(f"k is only used with op='topk', got op={op!r}")
        return 0
    if k is None:
        raise ValueError("op='topk' needs k, the number of keys to keep per query")
    k = as_int(k, "k must be an int")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if k > m:
        raise ValueError(f"k={k} is larger than the number of keys m={m}")
    return k


def check_temperature(temperature: Any) -> float:
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise TypeError(f"temperature must be a positive number, got {temperature!r}") from None
    if not (t > 0 and math.isfinite(t)):
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    return t


def check_groups(op: str, groups: Any, num_groups: Any, m: int) -> Tuple[Optional[np.ndarray], int]:
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
        num_groups = optional_positive_int(num_groups, "num_groups")
    bad = np.flatnonzero((ids < 0) | (ids >= num_groups))
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"groups[{j}] = {int(ids[j])} is outside [0, num_groups={num_groups})")
    return ids, num_groups
