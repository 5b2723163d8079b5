"""What every part of :mod:`exposure.kernels` shares: the operations, the precisions and the result type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple, Optional, Tuple, Union

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["NUMPY_PRECISIONS", "OPS", "TORCH_PRECISIONS", "Array", "Op", "Precision", "Reduction"]

Op = Literal["max", "topk", "logsumexp", "matrix"]
OPS: Tuple[str, ...] = ("max", "topk", "logsumexp", "matrix")
Precision = Literal["fp32", "int8", "fp16", "bf16"]
#: precisions per input kind: numpy arrays go to the native kernel, tensors to torch
NUMPY_PRECISIONS: Tuple[str, ...] = ("fp32", "int8")
TORCH_PRECISIONS: Tuple[str, ...] = ("fp32", "fp16", "bf16")

# torch is never imported by exposure.kernels: tensors can only arrive if the caller already imported it
Array = Union[np.ndarray, "torch.Tensor"]


class Reduction(NamedTuple):
    """Result of :func:`~exposure.kernels.reduce` (and of :func:`~exposure.kernels.sparse_topk`).

    ``values``: float32 scores, shape ``(n,)`` for max/logsumexp, ``(n, k)`` for topk,
    ``(n, G)`` / ``(n, G, k)`` with groups, ``(n, m)`` for the matrix.
    ``indices``: int64 key indices with the same shape as ``values`` for max/topk
    (``-1`` where a group has no key to offer), ``None`` for logsumexp and matrix.
    """

    values: Array
    indices: Optional[Array]
