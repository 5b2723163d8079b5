"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def generator():
    """``generate_postings.py`` as a module (its ``generate`` and ``write``), loaded by path: no subprocess."""
    spec = importlib.util.spec_from_file_location("generate_postings", HERE / "generate_postings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torch_chunks(queries, keys, reduce_chunk, chunk: int) -> list:
    """``reduce_chunk(queries[i:i + chunk] @ keys.T)`` for each block of ``chunk`` query rows: what a user writes
    with torch.mm and torch's own reductions, the full n x m matrix never held."""
    keys_t = keys.t()
    return [reduce_chunk(queries[i : i + chunk] @ keys_t) for i in range(0, queries.shape[0], chunk)]


def recall_at_k(found, reference) -> float:
    """The mean share of each row's ``reference`` indices that the same row of ``found`` holds (rows of k indices,
    or one index per row for k = 1), vectorised: one (n, k, k) comparison, no Python loop over rows."""
    want = np.asarray(reference).reshape(len(reference), -1)
    got = np.asarray(found).reshape(len(want), 1, -1)
    return float((want[:, :, None] == got).any(axis=2).mean())
