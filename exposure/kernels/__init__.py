"""Similarity reductions between query and key embeddings, without the n x m matrix.

One entry point, :func:`reduce`, computes dot products ``queries @ keys.T`` tile by
tile and reduces them on the fly per query (and per key group): ``"max"``, ``"topk"``,
``"logsumexp"``, or the full ``"matrix"`` when asked for. Rows are expected to be
L2-normalised by the caller; nothing here normalises.

* numpy arrays go to the native kernel ``exposure._core`` (SIMD picked at run time,
  OpenMP over query blocks, the GIL released; see :func:`build_info`);
* torch tensors (CPU or CUDA) go to a chunked ``torch.mm`` implementation with the same
  semantics, results on the input's device;
* an :class:`Index` holds keys (and their groups) once and searches them with numpy queries and
  results, on the native kernel or, after ``.to(device)``, resident on a torch device (a GPU): how
  a model on CUDA runs its searches.

``precision`` trades exactness for speed on large jobs: ``"int8"`` (numpy input) runs
the native kernel on int8 codes with one scale per row (AVX-512 VNNI where the CPU has
it), and re-ranks the best candidates of ``max`` / ``topk`` with exact float32 dot
products; ``"fp16"`` / ``"bf16"`` (torch input) multiply in half precision. The
accuracy each costs is measured in ``benchmarks/results/kernels.md``.

``tests/reference.py`` is the numpy definition both are tested against. The parts: the native
wrapper (:mod:`.native`), the torch backend (:mod:`.torch_backend`), memory planning
(:mod:`.planning`, with what the native kernel says a call allocates), the entry point
(:mod:`.reduction`) and the index (:mod:`.index`); this module only re-exports them.

>>> import numpy as np
>>> from exposure.kernels import reduce
>>> q = np.eye(2, 3, dtype=np.float32)               # 2 queries, d = 3
>>> keys = np.eye(3, dtype=np.float32)                 # 3 keys
>>> reduce(q, keys, "topk", k=2).indices.tolist()
[[0, 1], [1, 0]]
"""

from ._base import NUMPY_PRECISIONS, OPS, TORCH_PRECISIONS, Reduction
from .index import Index
from .native import build_info, segment_sum, sparse_topk, workspace_bytes
from .reduction import logsumexp, max_sim, reduce, similarity_matrix, topk

__all__ = ["NUMPY_PRECISIONS", "OPS", "TORCH_PRECISIONS", "Index", "Reduction", "build_info", "logsumexp", "max_sim",
           "reduce", "segment_sum", "similarity_matrix", "sparse_topk", "topk", "workspace_bytes"]
