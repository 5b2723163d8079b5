"""Search indexes: keys held once, resident on the device their searches run on (as faiss and usearch do).

An :class:`Index` owns its keys (float32 unit rows) and, optionally, a group id per key. Built from numpy,
it searches on the native kernel; :meth:`Index.to` gives the same keys as a torch tensor on a device (a
GPU), copied once and kept by the index, so a model on CUDA runs its searches there with numpy in and
numpy out. :meth:`Index.for_device` picks where a model on a given device searches.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, Optional, Tuple

import numpy as np

from ._base import Op, Reduction
from ._checks import as_float32_array, check_groups
from .reduction import reduce

__all__ = ["Index"]


class Index:
    """Keys to search, with optional groups, on the native kernel or resident on a torch device.

    Args:
        keys: ``(m, d)`` float array of unit rows (converted to C-contiguous float32 once; an array that is
            already that is kept as it is, so do not change it in place afterwards).
        groups: optional integer group id per key (length ``m``): every search then reduces per
            (query, group), as :func:`~exposure.kernels.reduce` does with ``groups``.
        num_groups: the number of groups; defaults to ``groups.max() + 1``.

    ``Index(keys)`` searches on the native kernel (numpy queries, numpy results). ``index.to(device)`` is
    the same index with its keys on a torch ``device``: the copy is made at the first ``to`` of that device
    and kept by the index (every later ``to`` of it returns the same object), so searches reuse it. A
    pickled index carries its keys and groups, not its device copies.

    Example:
        >>> import numpy as np
        >>> keys = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]], dtype=np.float32)
        >>> index = Index(keys, groups=[0, 1, 1])
        >>> index.search(np.array([[0.6, 0.8]], np.float32), "max").indices.tolist()
        [[0, 2]]
        >>> len(index), index.shape, index.device is None
        (3, (3, 2), True)
    """

    def __init__(self, keys: Any, groups: Any = None, num_groups: Optional[int] = None) -> None:
        self._keys = as_float32_array(keys, "keys")
        if groups is None and num_groups is not None:
            raise ValueError("num_groups needs groups, the group id of each key")
        self._groups: Optional[np.ndarray] = None
        self._num_groups = 1
        if groups is not None:
            self._groups, self._num_groups = check_groups("max", groups, num_groups, self._keys.shape[0])
        self._device: Any = None       # None: the native kernel
        self._tensor: Any = None       # the keys on self._device
        self._native = self            # the index on the native kernel, which holds the device copies
        self._on: Dict[Any, "Index"] = {}

    # ----------------------------------------------------------------- what it holds
    @property
    def keys(self) -> np.ndarray:
        """The keys, float32 ``(m, d)`` on the host (numpy), whatever the device."""
        return self._keys

    @property
    def groups(self) -> Optional[np.ndarray]:
        """int64 group id per key, or ``None``."""
        return self._groups

    @property
    def num_groups(self) -> int:
        """The number of groups (1 without groups)."""
        return self._num_groups

    @property
    def device(self) -> Any:
        """The torch device the searches run on; ``None``: the native kernel."""
        return self._device

    @property
    def shape(self) -> Tuple[int, int]:
        """``(m, d)``: the number of keys and their width."""
        return tuple(self._keys.shape)  # type: ignore[return-value]

    def __len__(self) -> int:
        return self._keys.shape[0]

    def __repr__(self) -> str:
        groups = "" if self._groups is None else f", num_groups={self._num_groups}"
        where = "native" if self._device is None else str(self._device)
        return f"Index({self._keys.shape[0]} keys of width {self._keys.shape[1]}{groups}, {where})"

    def __reduce__(self) -> Tuple[Any, ...]:
        # the keys and groups travel, device copies do not: a process makes its own with to()
        return _restore, (self._keys, self._groups, self._num_groups)

    # ----------------------------------------------------------------- where it searches
    def to(self, device: Any) -> "Index":
        """This index with its keys on the torch ``device`` (``"cuda"``, ``"cuda:1"``, ``"cpu"``, a
        ``torch.device``), copied there once: every ``to`` of the same device returns the same index.

        On ``"cpu"`` the searches run on torch's CPU backend (the native kernel is :meth:`for_device`'s
        choice for a CPU). Raises ``ImportError`` without torch.
        """
        import torch  # asked for a torch device

        device = torch.device(device)
        native = self._native
        on = native._on.get(device)
        if on is None:
            on = object.__new__(Index)
            on._keys, on._groups, on._num_groups = native._keys, native._groups, native._num_groups
            on._device, on._tensor = device, torch.tensor(native._keys, device=device)
            on._native, on._on = native, {}
            native._on[device] = on
        return on

    def for_device(self, device: Any) -> "Index":
        """Where a model on ``device`` searches: on that device when it is a CUDA device (:meth:`to`), else on
        the native kernel (faster than torch on a CPU). ``device``: a torch device, its name, or ``None``.

        >>> import numpy as np
        >>> index = Index(np.eye(3, dtype=np.float32))
        >>> index.for_device("cpu") is index.for_device(None) is index
        True
        """
        torch = sys.modules.get("torch")
        if device is None or torch is None or torch.device(device).type != "cuda":
            return self._native
        return self.to(device)

    # ----------------------------------------------------------------- searching
    def search(self, queries: Any, op: Op = "max", **kwargs: Any) -> Reduction:
        """:func:`~exposure.kernels.reduce` of ``queries`` (numpy ``(n, d)``) against this index's keys, on
        its device; numpy results. ``kwargs`` are ``reduce``'s (``k``, ``temperature``, ``threads``, ...);
        ``groups`` / ``num_groups`` only for an index built without groups (its own groups apply otherwise).

        >>> import numpy as np
        >>> keys = np.eye(3, dtype=np.float32)
        >>> Index(keys).search(keys[[2, 0]], "topk", k=2).indices.tolist()
        [[2, 0], [0, 1]]
        """
        if self._groups is not None:
            if "groups" in kwargs or "num_groups" in kwargs:
                raise ValueError("this index has groups of its own: search it without groups/num_groups, or "
                                 "build an Index without groups to pass them per search")
            kwargs = dict(kwargs, groups=self._groups, num_groups=self._num_groups)
        if self._device is None:
            return reduce(queries, self._keys, op, **kwargs)
        torch = sys.modules["torch"]
        result = reduce(torch.tensor(as_float32_array(queries, "queries"), device=self._device), self._tensor, op,
                        **kwargs)
        return Reduction(result.values.cpu().numpy(), None if result.indices is None else result.indices.cpu().numpy())


def _restore(keys: np.ndarray, groups: Optional[np.ndarray], num_groups: int) -> Index:
    return Index(keys, groups, num_groups if groups is not None else None)
