"""Reduced precision: precision="int8" (native) and "fp16"/"bf16" (torch) against the numpy oracle.

int8 scores before re-ranking are pinned bit for bit by ``reference.int8_similarities``
on every SIMD path; max/top-k must return exact float32 scores of the keys they pick
and find the true best keys (all of them when every key is a candidate).
"""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exposure import _core
from exposure.kernels import build_info, reduce
import reference

from test_kernels import K, Q, assert_matches, unit_rows

# the forced lower paths run the portable int8 kernel, which warns that it is slow
pytestmark = pytest.mark.filterwarnings("ignore:precision='int8' has no fast kernel:RuntimeWarning")


def recall(found, expected):
    """Mean share of the reference's keys that were found, per row (over valid entries)."""
    width = expected.shape[-1] if expected.ndim > 1 else 1  # max: one key per row
    rows = found.reshape(-1, width), expected.reshape(-1, width)
    shares = [len(set(a[a >= 0]) & set(b[b >= 0])) / (b >= 0).sum() for a, b in zip(*rows) if (b >= 0).any()]
    return float(np.mean(shares)) if shares else 1.0


def assert_exact_scores_of_chosen_keys(values, indices, queries, keys, op):
    """Every returned value is the float32 dot product of its query and key; top-k lists are sorted."""
    sims = reference.similarities(queries, keys)
    rows = np.broadcast_to(np.arange(len(queries)).reshape((-1,) + (1,) * (indices.ndim - 1)), indices.shape)
    valid = indices >= 0
    np.testing.assert_allclose(values[valid], sims[rows[valid], indices[valid]], rtol=0, atol=1e-5)
    assert np.all(values[~valid] == -np.inf)
    if op == "topk":
        assert np.all(values[..., 1:] <= values[..., :-1])


INT8_SHAPES = [(0, 5, 8), (4, 0, 8), (1, 1, 1), (7, 33, 3), (33, 7, 17), (130, 70, 384), (9, 65, 1024)]


@pytest.mark.parametrize("n, m, d", INT8_SHAPES)
def test_int8_scores_match_the_reference_bit_for_bit(isa, n, m, d):
    rng = np.random.default_rng([n, m, d])
    queries, keys = unit_rows(rng, n, d), unit_rows(rng, m, d)
    got = reduce(queries, keys, "matrix", precision="int8").values
    np.testing.assert_array_equal(got, reference.int8_similarities(queries, keys))
    if n and m:  # about 0.003 from float32 at d = 384
        assert np.abs(got - reference.similarities(queries, keys)).max() < 0.01


def test_int8_accepts_converted_and_zero_inputs(isa):
    rng = np.random.default_rng(4)
    queries, keys = unit_rows(rng, 20, 30), unit_rows(rng, 40, 30)
    queries[3] = 0.0  # scale 0: every score 0
    expected = reduce(queries, keys, "topk", k=3, precision="int8")
    wide = np.asfortranarray(queries.astype(np.float64))
    strided = np.repeat(keys, 2, axis=0)[::2]
    got = reduce(wide, strided, "topk", k=3, precision="int8")
    np.testing.assert_array_equal(got.values, expected.values)
    np.testing.assert_array_equal(got.indices, expected.indices)
    assert np.all(reduce(queries, keys, "matrix", precision="int8").values[3] == 0)


@pytest.mark.parametrize("grouped", [False, True])
def test_int8_max_and_topk_find_the_best_keys_with_exact_scores(isa, grouped):
    rng = np.random.default_rng(21)
    queries, keys = unit_rows(rng, 300, 384), unit_rows(rng, 260, 384)
    kwargs = {"groups": rng.integers(0, 4, 260), "num_groups": 5} if grouped else {}  # group 4 empty
    for op, extra in [("max", {}), ("topk", {"k": 1}), ("topk", {"k": 5}), ("topk", {"k": 20})]:
        ref_values, ref_indices = reference.reduce(queries, keys, op, **extra, **kwargs)
        values, indices = reduce(queries, keys, op, precision="int8", **extra, **kwargs)
        assert values.shape == ref_values.shape and values.dtype == np.float32 and indices.dtype == np.int64
        assert_exact_scores_of_chosen_keys(values, indices, queries, keys, op)
        assert recall(indices, ref_indices) >= 0.99
        # every key a candidate: exactly the float32 answer
        values, indices = reduce(queries, keys, op, precision="int8", candidates=260, **extra, **kwargs)
        assert_matches(values, indices, queries, keys, op, **extra, **kwargs)
        if grouped:
            assert np.all(indices[:, 4] == -1)


def test_int8_ties_go_to_the_lowest_index(isa):
    rng = np.random.default_rng(7)
    keys = unit_rows(rng, 70, 384)
    for j in (5, 31, 32, 47, 69):
        keys[j] = keys[0]
    values, indices = reduce(keys[:1], keys, "topk", k=6, precision="int8")
    assert indices[0].tolist() == [0, 5, 31, 32, 47, 69]
    assert reduce(keys[:1], keys, "max", precision="int8").indices[0] == 0


def test_int8_logsumexp_is_close(isa):
    rng = np.random.default_rng(8)
    queries, keys = unit_rows(rng, 100, 384), unit_rows(rng, 300, 384)
    groups = rng.integers(0, 3, 300)
    for kwargs in ({"temperature": 1.0}, {"temperature": 0.05}, {"temperature": 0.1, "groups": groups}):
        got = reduce(queries, keys, "logsumexp", precision="int8", **kwargs).values
        ref, _ = reference.reduce(queries, keys, "logsumexp", **kwargs)
        assert np.abs(got - ref).max() < 0.01


def test_int8_threads_and_chunks_do_not_change_a_bit(isa):
    rng = np.random.default_rng(3)
    queries, keys = unit_rows(rng, 301, 100), unit_rows(rng, 260, 100)
    groups = rng.integers(0, 3, 260)
    for op, kwargs in [("max", {}), ("topk", {"k": 5, "groups": groups}), ("logsumexp", {"temperature": 0.1})]:
        one = reduce(queries, keys, op, precision="int8", threads=1, **kwargs)
        other = reduce(queries, keys, op, precision="int8", threads=2, chunk_size=8, **kwargs)
        np.testing.assert_array_equal(one.values, other.values)
        if one.indices is not None:
            np.testing.assert_array_equal(one.indices, other.indices)


@pytest.mark.filterwarnings("error")
def test_int8_warns_only_without_the_fast_kernel(isa):
    q = np.eye(2, 8, dtype=np.float32)
    if build_info()["int8"] == "avx512_vnni":
        reduce(q, q, "max", precision="int8")  # no warning
    else:
        with pytest.warns(RuntimeWarning, match="needs AVX-512 VNNI"):
            reduce(q, q, "max", precision="int8")


def test_int8_edge_cases():
    q = np.ones((4, 3), np.float32) / np.sqrt(3)
    values, indices = reduce(q, q[:0], "max", precision="int8")
    assert np.all(values == -np.inf) and np.all(indices == -1)
    values, indices = reduce(q, q, "topk", k=0, precision="int8")
    assert values.shape == indices.shape == (4, 0)
    values, indices = reduce(q[:0], q, "topk", k=2, precision="int8", groups=[0, 1, 1, 0])
    assert values.shape == (0, 2, 2)
    assert build_info()["int8"] in ("avx512_vnni", "scalar")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("precision, atol", [("fp16", 2e-3), ("bf16", 1.6e-2)])
def test_torch_half_precision_scores_are_close(device, precision, atol):
    rng = np.random.default_rng(6)
    queries, keys = unit_rows(rng, 64, 384), unit_rows(rng, 90, 384)
    tq, tk = torch.from_numpy(queries).to(device), torch.from_numpy(keys).to(device)
    got = reduce(tq, tk, "matrix", precision=precision).values
    assert got.dtype == torch.float32 and got.device.type == device
    np.testing.assert_allclose(got.cpu().numpy(), reference.similarities(queries, keys), rtol=0, atol=atol)
    best = reduce(tq, tk, "topk", k=5, precision=precision)
    ref_values, ref_indices = reference.reduce(queries, keys, "topk", k=5)
    assert best.values.dtype == torch.float32
    np.testing.assert_allclose(best.values.cpu().numpy(), ref_values, rtol=0, atol=atol)
    assert recall(best.indices.cpu().numpy(), ref_indices) >= 0.9
    lse = reduce(tq, tk, "logsumexp", temperature=0.1, precision=precision).values
    np.testing.assert_allclose(lse.cpu().numpy(), reference.reduce(queries, keys, "logsumexp", temperature=0.1)[0],
                               rtol=0, atol=atol)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: reduce(Q, K, precision="fp8"), r"precision for numpy arrays must be one of 'fp32', 'int8', got 'fp8'"),
        (lambda: reduce(Q, K, precision="bf16"), r"'bf16' runs in torch: pass torch tensors"),
        (lambda: reduce(torch.from_numpy(Q), torch.from_numpy(K), precision="int8"),
         r"'int8' runs in the native kernel: pass numpy arrays"),
        (lambda: reduce(Q, K, candidates=8), r"candidates is only used with precision='int8' and op 'max' or 'topk'"),
        (lambda: reduce(Q, K, "logsumexp", precision="int8", candidates=8), r"candidates is only used"),
        (lambda: reduce(Q, K, precision="int8", candidates=0), r"candidates must be a positive int or None, got 0"),
        (lambda: _core.reduce(Q, K, precision="int4"), r"precision must be 'fp32' or 'int8', got 'int4'"),
    ],
)
def test_precision_errors_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 30),
    m=st.integers(1, 70),
    d=st.integers(1, 40),
    op=st.sampled_from(["max", "topk"]),
    k_fraction=st.floats(0, 1),
    num_groups=st.one_of(st.none(), st.integers(1, 4)),
    seed=st.integers(0, 2**16),
)
def test_property_int8_with_every_key_a_candidate_is_exact(n, m, d, op, k_fraction, num_groups, seed):
    rng = np.random.default_rng(seed)
    queries, keys = unit_rows(rng, n, d), unit_rows(rng, m, d)
    kwargs = {"k": int(round(k_fraction * m))} if op == "topk" else {}
    if num_groups is not None:
        kwargs.update(groups=rng.integers(0, num_groups, m), num_groups=num_groups)
    values, indices = reduce(queries, keys, op, precision="int8", candidates=m, **kwargs)
    assert_matches(values, indices, queries, keys, op, **kwargs)
    np.testing.assert_array_equal(reduce(queries, keys, "matrix", precision="int8").values,
                                  reference.int8_similarities(queries, keys))
