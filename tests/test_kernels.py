"""exposure.kernels against the numpy oracle in tests/reference.py.

Every native SIMD path this CPU can run, and the torch implementation, are compared
with the reference on awkward shapes (tile tails everywhere), ties, groups (with an
empty one), converted inputs and every error path.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exposure import _core
from exposure.kernels import (Index, build_info, logsumexp, max_sim, reduce, segment_sum, similarity_matrix,
                              sparse_topk, topk)
import reference

ISAS = _core.build_info()["isa_available"]
BACKENDS = [*ISAS, "torch"]
SIZES = [0, 1, 7, 33, 130]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """A SIMD path forced for the test's duration, or "torch" (inputs become CPU tensors)."""
    before = _core.build_info()["isa"]
    if request.param != "torch":
        _core.set_isa(request.param)
    yield request.param
    _core.set_isa(before)


def unit_rows(rng, rows, d):
    x = rng.standard_normal((rows, d))
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x.astype(np.float32)


def run(backend, queries, keys, op, **kwargs):
    """reduce() on the backend, results as numpy."""
    if backend == "torch":
        queries, keys = torch.from_numpy(queries), torch.from_numpy(keys)
    values, indices = reduce(queries, keys, op, **kwargs)
    if backend == "torch":
        values = values.cpu().numpy()
        indices = None if indices is None else indices.cpu().numpy()
    return values, indices


def assert_matches(values, indices, queries, keys, op, **kwargs):
    """Values within 1e-5 of the reference; indices equal, or attaining the reference score where it ties."""
    ref_values, ref_indices = reference.reduce(queries, keys, op, **kwargs)
    assert values.dtype == np.float32
    assert values.shape == ref_values.shape
    np.testing.assert_allclose(values, ref_values, rtol=0, atol=1e-5)
    if ref_indices is None:
        assert indices is None
        return
    assert indices.dtype == np.int64
    assert indices.shape == ref_indices.shape
    differ = np.argwhere(indices != ref_indices)
    if differ.size:
        sims = reference.similarities(queries, keys)
        for pos in map(tuple, differ):
            assert indices[pos] >= 0, f"missing index at {pos}"
            assert abs(sims[pos[0], indices[pos]] - ref_values[pos]) <= 1e-6, f"index at {pos} is not a tie"
    groups = kwargs.get("groups")
    if groups is not None:  # every index belongs to the group it is reported for
        group_axis = np.arange(indices.shape[1]).reshape((1, -1) + (1,) * (indices.ndim - 2))
        valid = indices >= 0
        assert (np.asarray(groups)[indices[valid]] == np.broadcast_to(group_axis, indices.shape)[valid]).all()
    if op == "topk" and indices.size:  # no key twice in one list
        flat = indices.reshape(-1, indices.shape[-1])
        for row in flat:
            kept = row[row >= 0]
            assert len(set(kept.tolist())) == kept.size


def op_cases(m):
    yield "max", {}
    for k in sorted({0, 1, min(5, m), m}):
        if k <= m:
            yield "topk", {"k": k}
    yield "logsumexp", {"temperature": 1.0}
    yield "logsumexp", {"temperature": 0.05}
    yield "matrix", {}


# every (n, m) pair for small d; d = 1024 on a few shapes keeps the suite fast
SHAPES = [(n, m, d) for n in SIZES for m in SIZES for d in (1, 3, 384)] + [
    (33, 130, 1024), (130, 7, 1024), (1, 1, 1024), (0, 33, 1024)
]


@pytest.mark.parametrize("n, m, d", SHAPES)
def test_matches_reference(backend, n, m, d):
    rng = np.random.default_rng([n, m, d])
    queries, keys = unit_rows(rng, n, d), unit_rows(rng, m, d)
    for op, kwargs in op_cases(m):
        values, indices = run(backend, queries, keys, op, **kwargs)
        assert_matches(values, indices, queries, keys, op, **kwargs)


@pytest.mark.parametrize("m", [7, 130])
def test_grouped_with_an_empty_group(backend, m):
    rng = np.random.default_rng(m)
    queries, keys = unit_rows(rng, 33, 384), unit_rows(rng, m, 384)
    groups = rng.choice([0, 1, 3, 4], size=m)  # group 2 and group 5 stay empty
    groups[:4] = [0, 1, 3, 4]
    for op, kwargs in [("max", {}), ("topk", {"k": 1}), ("topk", {"k": 6}), ("topk", {"k": m}),
                       ("logsumexp", {"temperature": 0.1})]:
        kwargs.update(groups=groups, num_groups=6)
        values, indices = run(backend, queries, keys, op, **kwargs)
        assert_matches(values, indices, queries, keys, op, **kwargs)
        assert np.all(values[:, 2] == -np.inf) and np.all(values[:, 5] == -np.inf)
        if indices is not None:
            assert np.all(indices[:, 2] == -1)
    # num_groups defaults to groups.max() + 1
    values, _ = run(backend, queries, keys, "max", groups=groups)
    assert values.shape == (33, 5)


def test_ties_go_to_the_lowest_index(backend):
    rng = np.random.default_rng(7)
    base = unit_rows(rng, 3, 384)
    # copies of one key straddle tile boundaries (8, 16, 32 keys wide)
    keys = unit_rows(rng, 70, 384)
    for j in (5, 31, 32, 47, 69):
        keys[j] = base[0]
    queries = np.concatenate([base[:1], unit_rows(rng, 6, 384)])
    values, indices = run(backend, queries, keys, "max")
    assert indices[0] == 5
    values, indices = run(backend, queries, keys, "topk", k=5)
    assert indices[0].tolist() == [5, 31, 32, 47, 69]
    values, indices = run(backend, queries, keys, "topk", k=3)
    assert indices[0].tolist() == [5, 31, 32]
    values, indices = run(backend, queries, keys, "topk", k=70)
    assert_matches(values, indices, queries, keys, "topk", k=70)
    groups = np.arange(70) % 2
    values, indices = run(backend, queries, keys, "topk", k=3, groups=groups)
    assert indices[0, 0].tolist() == [32] + indices[0, 0, 1:].tolist() and indices[0, 1].tolist() == [5, 31, 47]


def test_threads_and_chunks_do_not_change_a_bit(isa):
    # native only: torch makes no such promise (its BLAS blocking depends on the thread count)
    backend = isa
    rng = np.random.default_rng(3)
    queries, keys = unit_rows(rng, 301, 384), unit_rows(rng, 260, 384)
    groups = rng.integers(0, 3, 260)
    for op, kwargs in [("max", {}), ("topk", {"k": 5}), ("logsumexp", {"temperature": 0.1}), ("matrix", {}),
                       ("max", {"groups": groups}), ("topk", {"k": 4, "groups": groups}),
                       ("logsumexp", {"groups": groups})]:
        one = run(backend, queries, keys, op, threads=1, **kwargs)
        for extra in ({"threads": 2}, {"threads": 2, "chunk_size": 8}, {"threads": 3, "chunk_size": 100}):
            other = run(backend, queries, keys, op, **extra, **kwargs)
            np.testing.assert_array_equal(one[0], other[0])
            if one[1] is not None:
                np.testing.assert_array_equal(one[1], other[1])


def test_converted_inputs_match_float32():
    rng = np.random.default_rng(11)
    queries, keys = unit_rows(rng, 40, 96), unit_rows(rng, 50, 96)
    expected = reduce(queries, keys, "topk", k=3)
    wide = np.asfortranarray(queries.astype(np.float64))
    strided = np.repeat(keys, 2, axis=0)[::2]
    assert not strided.flags.c_contiguous
    for q, kk in [(wide, keys), (queries, strided), (wide, strided)]:
        got = reduce(q, kk, "topk", k=3)
        np.testing.assert_array_equal(got.values, expected.values)
        np.testing.assert_array_equal(got.indices, expected.indices)
    half = reduce(queries.astype(np.float16), keys, "max")
    assert_matches(half.values, half.indices, queries.astype(np.float16).astype(np.float32), keys, "max")
    # torch: float64, float16 and transposed tensors
    tq, tk = torch.from_numpy(queries), torch.from_numpy(keys)
    got = reduce(tq.double(), tk.t().contiguous().t(), "topk", k=3)
    np.testing.assert_allclose(got.values.numpy(), expected.values, atol=1e-6)
    assert reduce(tq.half(), tk.half(), "max").values.dtype == torch.float32


def test_matrix_into_caller_buffer():
    rng = np.random.default_rng(5)
    queries, keys = unit_rows(rng, 33, 40), unit_rows(rng, 70, 40)
    out = np.full((33, 70), np.nan, dtype=np.float32)
    result = similarity_matrix(queries, keys, out=out)
    assert result is out or np.shares_memory(result, out)
    np.testing.assert_allclose(out, reference.similarities(queries, keys), atol=1e-5)
    tout = torch.full((33, 70), float("nan"))
    similarity_matrix(torch.from_numpy(queries), torch.from_numpy(keys), out=tout)
    np.testing.assert_allclose(tout.numpy(), out, atol=1e-5)


def test_empty_inputs_give_empty_or_neutral_results(backend):
    q, no_keys = np.ones((4, 3), np.float32) / np.sqrt(3), np.zeros((0, 3), np.float32)
    values, indices = run(backend, q, no_keys, "max")
    assert values.shape == (4,) and np.all(values == -np.inf) and np.all(indices == -1)
    values, _ = run(backend, q, no_keys, "logsumexp")
    assert np.all(values == -np.inf)
    values, indices = run(backend, q, no_keys, "topk", k=0)
    assert values.shape == indices.shape == (4, 0)
    values, indices = run(backend, q[:0], q, "topk", k=2, groups=[0, 1, 1, 0])
    assert values.shape == indices.shape == (0, 2, 2)


def test_wrappers_are_thin():
    rng = np.random.default_rng(2)
    queries, keys = unit_rows(rng, 9, 16), unit_rows(rng, 12, 16)
    np.testing.assert_array_equal(max_sim(queries, keys).indices, reduce(queries, keys).indices)
    np.testing.assert_array_equal(topk(queries, keys, 3).indices, reduce(queries, keys, "topk", k=3).indices)
    np.testing.assert_array_equal(logsumexp(queries, keys, 0.5), reduce(queries, keys, "logsumexp", temperature=0.5).values)


def test_build_info_and_isa_override():
    info = build_info()
    assert info["isa"] in ("avx512", "avx2", "scalar")
    assert {"isa_detected", "openmp", "threads", "compiler", "tile"} <= set(info)
    assert info["threads"] >= 1
    code = "from exposure import kernels; print(kernels.build_info()['isa'])"
    env = dict(os.environ, EXPOSURE_ISA="scalar")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "scalar"
    with pytest.raises(ValueError, match="expected one of 'scalar', 'avx2', 'avx512'"):
        _core.set_isa("sse9")


Q = unit_rows(np.random.default_rng(0), 20, 8)
K = unit_rows(np.random.default_rng(1), 5, 8)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: reduce(Q, K[:, :6]), ValueError, r"keys must have 8 columns like the queries \(20, 8\), got float32 \(5, 6\)"),
        (lambda: reduce(Q[0], K), ValueError, r"queries must be 2-D \(rows, d\), got float32 \(8,\)"),
        (lambda: reduce(Q.astype(np.int32), K), TypeError, r"queries must be a floating-point array .* got int32"),
        (lambda: reduce(Q, K > 0), TypeError, r"keys must be a floating-point array .* got bool"),
        (lambda: reduce(Q, K.astype(object)), TypeError, r"got object"),
        (lambda: reduce(Q.astype(np.complex64), K), TypeError, r"got complex64"),
        (lambda: reduce(np.where(np.arange(20)[:, None] == 17, np.nan, Q), K), ValueError,
         r"queries row 17 contains NaN or inf"),
        (lambda: reduce(Q, np.where(np.arange(5)[:, None] == 3, np.inf, K)), ValueError,
         r"keys row 3 contains NaN or inf"),
        (lambda: reduce(Q, K, "topk", k=6), ValueError, r"k=6 is larger than the number of keys m=5"),
        (lambda: reduce(Q, K, "topk", k=-1), ValueError, r"k must be >= 0, got -1"),
        (lambda: reduce(Q, K, "topk"), ValueError, r"op='topk' needs k"),
        (lambda: reduce(Q, K, "topk", k=1.5), TypeError, r"k must be an int"),
        (lambda: reduce(Q, K, "max", k=2), ValueError, r"k is only used with op='topk'"),
        (lambda: reduce(Q, K, "mean"), ValueError, r"op must be one of 'max', 'topk', 'logsumexp', 'matrix', got 'mean'"),
        (lambda: reduce(Q, K, "logsumexp", temperature=0), ValueError, r"temperature must be a positive finite number, got 0"),
        (lambda: reduce(Q, K, "logsumexp", temperature=float("nan")), ValueError, r"temperature must be a positive"),
        (lambda: reduce(Q, K, groups=[0, 1]), ValueError, r"groups must have one entry per key, shape \(5,\), got \(2,\)"),
        (lambda: reduce(Q, K, groups=[0, 1, 2, 3, -1]), ValueError, r"groups\[4\] = -1 is outside \[0, num_groups=4\)"),
        (lambda: reduce(Q, K, groups=[0, 1, 2, 3, 3], num_groups=3), ValueError,
         r"groups\[3\] = 3 is outside \[0, num_groups=3\)"),
        (lambda: reduce(Q, K, groups=[0.0, 1, 0, 1, 0]), TypeError, r"groups must be an integer array .* got float64"),
        (lambda: reduce(Q, K, num_groups=2), ValueError, r"num_groups needs groups"),
        (lambda: reduce(Q, K, "matrix", groups=[0] * 5), ValueError, r"groups are not supported with op='matrix'"),
        (lambda: reduce(Q, K, "matrix", out=np.empty((20, 4), np.float32)), ValueError,
         r"out must be a writeable C-contiguous float32 array of shape \(20, 5\), got float32 \(20, 4\)"),
        (lambda: reduce(Q, K, "matrix", out=np.empty((20, 5))), ValueError, r"got float64 \(20, 5\)"),
        (lambda: reduce(Q, K, "max", out=np.empty((20, 5), np.float32)), ValueError, r"out is only supported with op='matrix'"),
        (lambda: reduce(Q, K, "matrix", out=torch.empty(20, 5)), TypeError, r"out must be a numpy array for numpy inputs"),
        (lambda: reduce(Q, K, threads=0), ValueError, r"threads must be a positive int or None, got 0"),
        (lambda: reduce(torch.from_numpy(Q), torch.from_numpy(K), threads=2), ValueError,
         r"threads is for numpy input .* torch.set_num_threads\(n\) before the call, not threads=2"),
        (lambda: reduce(Q, K, chunk_size=-3), ValueError, r"chunk_size must be a positive int or None, got -3"),
        (lambda: reduce(Q, torch.from_numpy(K)), TypeError,
         r"queries and keys must both be numpy arrays or both torch tensors, got numpy.ndarray and torch.Tensor"),
        (lambda: reduce(torch.from_numpy(Q).int(), torch.from_numpy(K)), TypeError,
         r"queries must be a floating-point tensor .* got int32 \(20, 8\)"),
        (lambda: reduce(torch.from_numpy(Q), torch.from_numpy(K[:, :3])), ValueError, r"keys must have 8 columns"),
        (lambda: reduce(torch.from_numpy(np.where(np.arange(20)[:, None] == 17, np.nan, Q)), torch.from_numpy(K)),
         ValueError, r"queries row 17 contains NaN or inf"),
        (lambda: reduce(torch.from_numpy(Q), torch.from_numpy(K), "topk", k=9), ValueError,
         r"k=9 is larger than the number of keys m=5"),
        (lambda: reduce(torch.from_numpy(Q), torch.from_numpy(K), "matrix", out=torch.empty(3, 3)), ValueError,
         r"out must be a contiguous float32 tensor of shape \(20, 5\)"),
        # the native boundary re-checks what the Python layer normally guarantees
        (lambda: _core.reduce(Q.astype(np.float64), K), ValueError,
         r"queries must be a C-contiguous float32 array of shape \(rows, d\), got float64 \(20, 8\)"),
        (lambda: _core.reduce(Q, np.asfortranarray(K)), ValueError, r"keys must be a C-contiguous float32"),
        (lambda: _core.reduce(Q, K[:, :4].copy()), ValueError, r"keys must have 8 columns like the queries"),
        (lambda: _core.reduce(Q, K, "topk", k=6), ValueError, r"k=6 is larger than the number of keys m=5"),
        (lambda: _core.reduce(Q, K, groups=np.array([0, 0, 0, 0, 9]), num_groups=2), ValueError,
         r"groups\[4\] = 9 is outside \[0, num_groups=2\)"),
        (lambda: _core.reduce(Q, K, groups=np.zeros(5, np.int32), num_groups=1), ValueError,
         r"groups must be a contiguous int64 array with one entry per key \(5,\), got int32"),
        (lambda: _core.reduce(Q, K, "logsumexp", temperature=-1.0), ValueError, r"temperature must be a positive"),
    ],
)
def test_errors_say_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("use_torch", [False, True])
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"op": "max", "groups": [0, 1, 2, 3, 4], "num_groups": 10**9},
         r"reduce\(op='max', num_groups=1000000000\) of 20 queries and 5 keys would need 223\.5 GiB for its int64 "
         r"indices and float32 values of shape \(20, 1000000000\).*more than the 8\.0 GiB of memory this machine "
         r"has\. Nothing was allocated\. To fix it: num_groups=1000000000 is more than the 5 keys.*"
         r"pass num_groups=G, or leave num_groups out"),
        ({"op": "logsumexp", "groups": [0, 0, 1, 1, 2], "num_groups": 10**9}, r"float32 values of shape \(20, 1000000000\)"),
        ({"op": "topk", "k": 5, "groups": [0, 0, 1, 1, 2], "num_groups": 10**8},
         r"shape \(20, 100000000, 5\).*keep fewer keys \(a smaller k\)"),
        ({"op": "matrix"}, None),
    ],
)
def test_unaffordable_results_are_refused_before_allocating(monkeypatch, use_torch, kwargs, message):
    from exposure.kernels import planning

    q, k = (torch.from_numpy(Q), torch.from_numpy(K)) if use_torch else (Q, K)
    if kwargs["op"] == "matrix":  # 20 x 5 float32 is 400 bytes: refuse it on a machine of 300 (results alone)
        monkeypatch.setattr(planning, "memory_limit", lambda device=None: 300)
        monkeypatch.setattr(planning.native, "workspace_bytes", lambda *args, **kwargs: 0)
        message = (r"reduce\(op='matrix'\) of 20 queries and 5 keys would need 0\.0 GiB for its float32 values of shape "
                   r"\(20, 5\).*op='max', 'topk' or 'logsumexp' reduce the scores without materialising the n x m "
                   r"matrix; or reduce the queries in slices of at most 7 rows")
    else:
        monkeypatch.setattr(planning, "memory_limit", lambda device=None: 8 << 30)
    with pytest.raises(ValueError, match=message):
        reduce(q, k, **kwargs)


def test_memory_bound_is_the_machines():
    from exposure.kernels import planning

    limit = planning.memory_limit()
    assert limit is None or limit > 2**20
    if limit is not None:  # no machine has 10**13 groups x 20 queries x 12 bytes
        with pytest.raises(ValueError, match=r"num_groups=10000000000000 is more than the 5 keys"):
            reduce(Q, K, groups=[0, 1, 2, 3, 4], num_groups=10**13)


def test_scratch_the_kernel_reports_is_counted(monkeypatch):
    """Results that fit with scratch that does not: the scratch is what the native kernel says it allocates."""
    from exposure.kernels import planning, workspace_bytes

    groups = np.arange(5)
    scratch = workspace_bytes(20, 5, 8, "logsumexp", num_groups=5, threads=2)
    assert 20 * 5 * 4 < scratch  # the packed keys and a float64 sum per group and block row on each thread
    monkeypatch.setattr(planning, "memory_limit", lambda device=None: 20 * 5 * 4 + scratch - 1)
    with pytest.raises(ValueError, match=r"would need 0\.0 GiB for its float32 values of shape \(20, 5\) and 0\.0 GiB "
                                         r"of scratch"):
        reduce(Q, K, "logsumexp", groups=groups, threads=2)
    monkeypatch.setattr(planning, "memory_limit", lambda device=None: 20 * 5 * 4 + scratch)
    reduce(Q, K, "logsumexp", groups=groups, threads=2)  # exactly enough


@pytest.mark.parametrize("extra, grows", [({"threads": 2}, True), ({"num_groups": 50}, True),
                                          ({"chunk_size": 1024}, True), ({"k": 3}, False)])
def test_workspace_follows_what_the_kernel_sizes(extra, grows):
    """Per-thread scratch: more threads, groups or rows per block cost more; a top-k keeps its results only."""
    from exposure.kernels import workspace_bytes

    op = "topk" if "k" in extra else "logsumexp"
    base = workspace_bytes(1000, 300, 64, op, **({"k": 1} if op == "topk" else {}), threads=1)
    more = workspace_bytes(1000, 300, 64, op, **{"threads": 1, **extra})
    assert (more > base) if grows else (more == base)
    assert workspace_bytes(10, 300, 64, "topk", k=0) == 0  # k=0 computes nothing
    int8 = workspace_bytes(1000, 300, 64, "topk", k=3, precision="int8", candidates=20, threads=1)
    assert int8 > workspace_bytes(1000, 300, 64, "topk", k=3, precision="int8", candidates=7, threads=1)


@pytest.mark.parametrize("use_torch", [False, True])
def test_many_empty_groups_are_fine_when_affordable(use_torch):
    """num_groups above the number of keys is allowed (empty groups give -inf / -1) and costs O(m) beyond the results."""
    groups = np.array([0, 3, 3, 999_999, 5])
    q, k = (torch.from_numpy(Q[:2]), torch.from_numpy(K)) if use_torch else (Q[:2], K)
    values, indices = reduce(q, k, "max", groups=groups, num_groups=10**6)
    values, indices = np.asarray(values), np.asarray(indices)
    assert values.shape == indices.shape == (2, 10**6)
    used, compact = np.unique(groups, return_inverse=True)  # the 4 groups that hold keys, numbered 0..3
    ref_values, ref_indices = reference.reduce(Q[:2], K, "max", groups=compact)
    np.testing.assert_allclose(values[:, used], ref_values, atol=1e-6)
    np.testing.assert_array_equal(indices[:, used], ref_indices)
    empty = np.ones(10**6, bool)
    empty[used] = False
    assert (values[:, empty] == -np.inf).all() and (indices[:, empty] == -1).all()


def test_package_ships_py_typed():
    """PEP 561 marker: type checkers use the package's inline hints (declared as package data in setup.py)."""
    import importlib.resources

    assert importlib.resources.files("exposure").joinpath("py.typed").is_file()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 40),
    m=st.integers(0, 80),
    d=st.integers(1, 48),
    op=st.sampled_from(["max", "topk", "logsumexp"]),
    k_fraction=st.floats(0, 1),
    temperature=st.floats(0.02, 5.0),
    num_groups=st.one_of(st.none(), st.integers(1, 4)),
    seed=st.integers(0, 2**16),
    use_torch=st.booleans(),
)
def test_property_matches_reference(n, m, d, op, k_fraction, temperature, num_groups, seed, use_torch):
    rng = np.random.default_rng(seed)
    queries, keys = unit_rows(rng, n, d), unit_rows(rng, m, d)
    kwargs = {}
    if op == "topk":
        kwargs["k"] = int(round(k_fraction * m))
    if op == "logsumexp":
        kwargs["temperature"] = temperature
    if num_groups is not None:
        kwargs.update(groups=rng.integers(0, num_groups, m), num_groups=num_groups)
    values, indices = run("torch" if use_torch else "native", queries, keys, op, **kwargs)
    assert_matches(values, indices, queries, keys, op, **kwargs)


@pytest.mark.gpu
def test_cuda_matches_reference():
    rng = np.random.default_rng(9)
    queries, keys = unit_rows(rng, 130, 384), unit_rows(rng, 70, 384)
    groups = rng.choice([0, 2], size=70)
    tq, tk = torch.from_numpy(queries).cuda(), torch.from_numpy(keys).cuda()
    for op, kwargs in [("max", {}), ("topk", {"k": 5}), ("logsumexp", {"temperature": 0.1}), ("matrix", {}),
                       ("max", {"groups": groups, "num_groups": 3}), ("topk", {"k": 40, "groups": groups})]:
        values, indices = reduce(tq, tk, op, **kwargs)
        assert values.device.type == "cuda"
        assert_matches(values.cpu().numpy(), None if indices is None else indices.cpu().numpy(),
                       queries, keys, op, **kwargs)


# --------------------------------------------------------------------------- Index: keys held once, searched on a device

INDEX_CASES = [("max", {}), ("topk", {"k": 4}), ("logsumexp", {"temperature": 0.05}),
               ("max", {"groups": "g", "num_groups": 9}), ("topk", {"k": 2, "groups": "g", "num_groups": 9}),
               ("logsumexp", {"temperature": 0.1, "groups": "g", "num_groups": 9})]


def index_case(kwargs, seed=5):
    """(queries, keys, the index's groups and num_groups, the other arguments): groups 7 and 8 left empty."""
    rng = np.random.default_rng(seed)
    q, keys = unit_rows(rng, 37, 24), unit_rows(rng, 61, 24)
    grouping = {"groups": rng.integers(0, 7, 61), "num_groups": kwargs["num_groups"]} if "groups" in kwargs else {}
    rest = {k: v for k, v in kwargs.items() if k not in ("groups", "num_groups")}
    return q, keys, grouping, rest


@pytest.mark.parametrize("op, kwargs", INDEX_CASES)
def test_index_searches_on_the_native_kernel_as_reduce_does(op, kwargs):
    q, keys, grouping, rest = index_case(kwargs)
    index = Index(keys, **grouping)
    assert index.device is None and len(index) == 61 and index.shape == (61, 24)
    got, want = index.search(q, op, **rest), reduce(q, keys, op, **grouping, **rest)
    np.testing.assert_array_equal(got.values, want.values)
    if want.indices is not None:
        np.testing.assert_array_equal(got.indices, want.indices)
    if not grouping:  # an index without groups takes them per search
        per_search = Index(keys).search(q, op, groups=np.arange(61) % 3, **rest)
        np.testing.assert_array_equal(per_search.values, reduce(q, keys, op, groups=np.arange(61) % 3, **rest).values)


@pytest.mark.parametrize("op, kwargs", INDEX_CASES)
def test_index_on_torch_cpu_matches_the_reference(op, kwargs):
    q, keys, grouping, rest = index_case(kwargs)
    on_torch = Index(keys, **grouping).to("cpu")
    assert on_torch.device == torch.device("cpu")
    got = on_torch.search(q, op, **rest)
    assert isinstance(got.values, np.ndarray) and (got.indices is None or isinstance(got.indices, np.ndarray))
    assert_matches(got.values, got.indices, q, keys, op, **grouping, **rest)


def test_index_keeps_one_copy_per_device():
    import pickle

    rng = np.random.default_rng(6)
    keys = unit_rows(rng, 40, 8)
    index = Index(keys)
    on_cpu = index.to("cpu")
    assert index.to(torch.device("cpu")) is on_cpu and on_cpu.to("cpu") is on_cpu  # copied once, used again
    assert on_cpu._tensor.data_ptr() != keys.__array_interface__["data"][0]  # a copy the index holds, not a view
    assert index.for_device("cpu") is index.for_device(None) is on_cpu.for_device("cpu") is index  # native on a CPU
    restored = pickle.loads(pickle.dumps(on_cpu))  # keys travel, device copies do not
    assert restored.device is None and not restored._on
    np.testing.assert_array_equal(restored.keys, keys)


def test_index_with_groups_refuses_groups_per_search():
    keys = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="this index has groups of its own"):
        Index(keys, groups=[0, 1, 1]).search(keys, "max", groups=[0, 0, 0])
    with pytest.raises(ValueError, match=r"groups\[2\] = 5 is outside \[0, num_groups=2\)"):
        Index(keys, groups=[0, 1, 5], num_groups=2)
    with pytest.raises(ValueError, match="num_groups needs groups"):
        Index(keys, num_groups=2)
    with pytest.raises(TypeError, match="keys must be a floating-point array"):
        Index(np.eye(3, dtype=np.int64))


def test_grouped_max_on_torch_breaks_ties_towards_the_lowest_index():
    keys = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
    got = Index(keys, groups=[1, 0, 1, 0, 1], num_groups=3).to("cpu").search(keys[:1], "max")
    np.testing.assert_array_equal(got.indices, [[1, 0, -1]])
    np.testing.assert_array_equal(got.values, [[0, 1, -np.inf]])


@pytest.mark.gpu
@pytest.mark.parametrize("op, kwargs", INDEX_CASES)
def test_index_on_cuda_matches_the_native_kernel(op, kwargs):
    q, keys, grouping, rest = index_case(kwargs)
    index = Index(keys, **grouping)
    on_gpu = index.for_device("cuda")
    assert on_gpu.device.type == "cuda" and on_gpu._tensor.is_cuda and index.for_device("cuda") is on_gpu
    got, native = on_gpu.search(q, op, **rest), index.search(q, op, **rest)
    assert isinstance(got.values, np.ndarray)
    np.testing.assert_allclose(got.values, native.values, atol=1e-5)
    if native.indices is not None:
        np.testing.assert_array_equal(got.indices, native.indices)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 6), columns=st.integers(1, 8), m=st.integers(1, 12),
       k=st.integers(0, 12), threads=st.sampled_from([1, 2]))
def test_sparse_topk_matches_dense_scores(seed, n, columns, m, k, threads):
    """Against the dense scores: small integer-valued weights make exact ties common."""
    k = min(k, m)
    rng = np.random.default_rng(seed)
    index = rng.random((columns, m)) < 0.4
    ptr = np.concatenate([[0], np.cumsum(index.sum(axis=1))])
    keys = np.nonzero(index)[1].astype(np.int32)
    weights = rng.integers(1, 4, keys.size).astype(np.float32)
    queries = rng.random((n, columns)) < 0.5
    q_ptr = np.concatenate([[0], np.cumsum(queries.sum(axis=1))])
    q_cols = np.nonzero(queries)[1]
    q_weights = rng.integers(1, 3, q_cols.size).astype(np.float64)
    dense_keys = np.zeros((columns, m))
    dense_keys[np.repeat(np.arange(columns), np.diff(ptr)), keys] = weights
    dense_queries = np.zeros((n, columns))
    dense_queries[np.repeat(np.arange(n), np.diff(q_ptr)), q_cols] = q_weights
    scores = dense_queries @ dense_keys
    want = np.array([np.lexsort((np.arange(m), -row))[:k] for row in scores], dtype=np.int64).reshape(n, k)
    got = sparse_topk(q_ptr, q_cols, q_weights, ptr, keys, weights, m, k, threads=threads)
    np.testing.assert_array_equal(got.indices, want)
    np.testing.assert_array_equal(got.values, np.take_along_axis(scores, want, axis=1).astype(np.float32))


def test_native_functions_return_values_then_indices():
    """One order everywhere: (values, indices), from _core.reduce and _core.sparse_topk alike."""
    i64 = lambda *x: np.array(x, dtype=np.int64)  # noqa: E731
    sparse = _core.sparse_topk(i64(0, 2), i64(0, 1), np.array([1.0, 0.5]), i64(0, 1, 3), np.array([2, 0, 2], np.int32),
                               np.ones(3, np.float32), 3, 2)
    dense = _core.reduce(Q, K, "topk", k=2)
    for values, indices in (sparse, dense):
        assert values.dtype == np.float32 and indices.dtype == np.int64
    np.testing.assert_array_equal(sparse[0], [[1.5, 0.5]])
    np.testing.assert_array_equal(sparse[1], [[2, 0]])


def test_sparse_topk_checks_its_inputs():
    ptr, keys, weights = np.array([0, 2], np.int64), np.array([0, 1], np.int32), np.ones(2, np.float32)
    q_ptr, q_cols, q_weights = np.array([0, 1], np.int64), np.array([0], np.int64), np.ones(1)
    assert sparse_topk(q_ptr, q_cols, q_weights, ptr, keys, weights, 2, 2).indices.tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="num_keys and k must be at least 0"):
        sparse_topk(q_ptr, q_cols, q_weights, ptr, keys, weights, 2, -1)
    with pytest.raises(ValueError, match=r"keys must lie in \[0, 2\), got 5"):
        sparse_topk(q_ptr, q_cols, q_weights, ptr, np.array([0, 5], np.int32), weights, 2, 2)
    with pytest.raises(ValueError, match=r"q_cols must lie in \[0, 1\)"):
        sparse_topk(q_ptr, np.array([3], np.int64), q_weights, ptr, keys, weights, 2, 2)
    with pytest.raises(ValueError, match="ptr must start at 0 and end at 2"):
        sparse_topk(q_ptr, q_cols, q_weights, np.array([0, 1], np.int64), keys, weights, 2, 2)
    with pytest.raises(ValueError, match="k must be at most the number of keys"):
        sparse_topk(q_ptr, q_cols, q_weights, ptr, keys, weights, 2, 3)
    with pytest.raises(ValueError, match=r"q_weights must be a C-contiguous float64 array of shape \(1,\)"):
        sparse_topk(q_ptr, q_cols, np.ones(2), ptr, keys, weights, 2, 2)


def _reduceat_sums(values, offsets):
    """np.add.reduceat in float64, with 0 for empty segments (where reduceat repeats the next row)."""
    sums = np.zeros((len(offsets) - 1, values.shape[1]))
    full = np.diff(offsets) > 0
    if full.any():
        sums[full] = np.add.reduceat(values, offsets[:-1][full], axis=0, dtype=np.float64)
    return sums


def _sequential_sums(values, offsets):
    """The definition: each segment's first row, then the next rows added one by one, in float64."""
    sums = np.zeros((len(offsets) - 1, values.shape[1]))
    for s, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])):
        if b > a:
            acc = values[a].astype(np.float64)
            for r in range(a + 1, b):
                acc = acc + values[r].astype(np.float64)
            sums[s] = acc
    return sums


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 40), cols=st.integers(1, 9), segments=st.integers(0, 12),
       threads=st.sampled_from([1, 2]))
def test_segment_sum_adds_in_row_order_in_float64(seed, rows, cols, segments, threads):
    """Random segments (empty ones too) of values whose float64 sums depend on the order they are added in."""
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal((rows, cols)) * 10.0 ** rng.integers(-8, 9, (rows, cols))).astype(np.float32)
    values[rng.random((rows, cols)) < 0.1] = -0.0
    cuts = np.sort(rng.integers(0, rows + 1, max(segments - 1, 0)))
    offsets = np.concatenate([[0], cuts, [rows]]) if segments else np.array([0, rows])
    got = segment_sum(values, offsets, threads=threads)
    want = _sequential_sums(values, offsets)
    assert got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))  # the sign of a zero too


def test_segment_sum_on_a_large_matrix_with_two_threads_is_the_one_thread_sum():
    rng = np.random.default_rng(1)
    values = rng.standard_normal((3000, 301)).astype(np.float32)
    offsets = np.concatenate([[0], np.sort(rng.integers(0, 3000, 499)), [3000]])
    one, two = segment_sum(values, offsets, threads=1), segment_sum(values, offsets, threads=2)
    np.testing.assert_array_equal(one, two)
    # numpy adds a wide matrix's rows in order too (a single column it adds pairwise)
    np.testing.assert_array_equal(one.view(np.int64), _reduceat_sums(values, offsets).view(np.int64))
    # float64 and strided input is read as float32, once
    np.testing.assert_array_equal(segment_sum(values.astype(np.float64)[:, :], offsets), one)
    np.testing.assert_array_equal(segment_sum(np.asfortranarray(values), offsets), one)


def test_segment_sum_checks_its_inputs():
    values = np.ones((3, 2), np.float32)
    assert segment_sum(values, [0, 3]).tolist() == [[3.0, 3.0]]
    assert segment_sum(values[:0], [0]).shape == (0, 2)
    with pytest.raises(ValueError, match="offsets must start at 0 and end at 3"):
        segment_sum(values, [0, 2])
    with pytest.raises(ValueError, match="offsets must start at 0 and end at 3"):
        segment_sum(values, [1, 3])
    with pytest.raises(ValueError, match="offsets must not decrease"):
        segment_sum(values, [0, 2, 1, 3])
    with pytest.raises(ValueError, match="offsets must have one entry per segment, plus one"):
        segment_sum(values, np.zeros(0, np.int64))
    with pytest.raises(TypeError, match="offsets must be integers"):
        segment_sum(values, [0.0, 3.0])
    with pytest.raises(ValueError, match=r"values must be 2-D"):
        segment_sum(np.ones(3, np.float32), [0, 3])
    with pytest.raises(TypeError, match="values must be a floating-point array"):
        segment_sum(np.ones((3, 2), np.int64), [0, 3])
