"""The fused Triton reductions against the numpy reference: on a GPU when there is one, else in Triton's
interpreter on the CPU. Skipped where triton is not installed (it is not a dependency)."""

import importlib.util
import os
import sys

import numpy as np
import pytest
import torch

if not torch.cuda.is_available():  # read when the kernels are defined: before benchmarks/triton_reduce.py imports
    os.environ.setdefault("TRITON_INTERPRET", "1")
pytest.importorskip("triton")

import reference  # noqa: E402
from helpers import ROOT  # noqa: E402


def _load_triton_reduce():
    """benchmarks/triton_reduce.py (not part of the package), registered so triton can read its source."""
    spec = importlib.util.spec_from_file_location("triton_reduce", ROOT / "benchmarks" / "triton_reduce.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["triton_reduce"] = module
    spec.loader.exec_module(module)
    return module


_triton = _load_triton_reduce()
MAX_K, fused_reduce = _triton.MAX_K, _triton.fused_reduce

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def unit_rows(rng, rows, d):
    x = rng.standard_normal((rows, d)).astype(np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norm > 0, norm, 1)).astype(np.float32)


def run(q, keys, op, dtype=torch.float32, **kw):
    tq = torch.from_numpy(q).to(DEVICE, dtype)
    tk = torch.from_numpy(keys).to(DEVICE, dtype)
    values, indices = fused_reduce(tq, tk, op, **kw)
    return values.cpu().numpy(), None if indices is None else indices.cpu().numpy()


@pytest.mark.parametrize("n, m, d, k", [(1, 1, 8, 1), (70, 130, 24, 5), (65, 64, 384, 3), (3, 200, 40, 32),
                                        (130, 7, 16, 7)])
def test_topk_and_max_match_the_reference_in_float32(n, m, d, k):
    rng = np.random.default_rng(n * 1000 + m)
    q, keys = unit_rows(rng, n, d), unit_rows(rng, m, d)
    want_v, want_i = reference.reduce(q, keys, "topk", k=k)
    got_v, got_i = run(q, keys, "topk", k=k)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_v, want_v, atol=1e-5)
    want_v, want_i = reference.reduce(q, keys, "max")
    got_v, got_i = run(q, keys, "max")
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_v, want_v, atol=1e-5)


def test_equal_scores_keep_the_lower_index_across_tiles():
    # Every key the same: all scores tie, across tiles of 64 keys; the k lowest indices win, in order.
    keys = np.tile(unit_rows(np.random.default_rng(0), 1, 16), (200, 1))
    q = unit_rows(np.random.default_rng(1), 5, 16)
    _, idx = run(q, keys, "topk", k=6)
    assert idx.tolist() == [list(range(6))] * 5
    # Entries in {-1, 0, 1}: integer scores, exact in any summation order, many ties at the k-th place.
    rng = np.random.default_rng(2)
    q, keys = (rng.integers(-1, 2, (rows, 8)).astype(np.float32) for rows in (40, 150))
    want_v, want_i = reference.reduce(q, keys, "topk", k=9)
    got_v, got_i = run(q, keys, "topk", k=9)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_array_equal(got_v, want_v)


def test_logsumexp_matches_the_reference():
    rng = np.random.default_rng(3)
    q, keys = unit_rows(rng, 67, 32), unit_rows(rng, 150, 32)
    for t in (1.0, 0.05):
        want, _ = reference.reduce(q, keys, "logsumexp", temperature=t)
        got, idx = run(q, keys, "logsumexp", temperature=t)
        assert idx is None
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_find_the_float32_neighbours(dtype):
    if DEVICE == "cpu" and dtype == torch.bfloat16:
        pytest.skip("Triton's interpreter reads bfloat16 tensors as raw bits; checked on a GPU")
    rng = np.random.default_rng(4)
    q, keys = unit_rows(rng, 64, 64), unit_rows(rng, 128, 64)
    want_v, want_i = reference.reduce(q, keys, "topk", k=5)
    got_v, got_i = run(q, keys, "topk", dtype, k=5)
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(got_i, want_i)])
    assert recall >= 0.95
    np.testing.assert_allclose(got_v, want_v, atol=2e-2)


def test_bad_arguments_are_refused_with_the_reason():
    q = torch.zeros((2, 4), device=DEVICE)
    with pytest.raises(ValueError, match="op must be one of"):
        fused_reduce(q, q, "matrix")
    with pytest.raises(ValueError, match="must share d"):
        fused_reduce(q, torch.zeros((2, 3), device=DEVICE))
    with pytest.raises(ValueError, match="both be float32, float16 or bfloat16"):
        fused_reduce(q, q.half())
    with pytest.raises(ValueError, match=r"k must be in \[1, min\(m, 32\)\] = \[1, 2\], got 3"):
        fused_reduce(q, q, "topk", k=3)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        fused_reduce(q, q, "logsumexp", temperature=0)
    assert MAX_K == 32
