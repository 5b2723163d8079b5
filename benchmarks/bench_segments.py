"""Per-posting sums of the assigner's duty search: ``exposure.kernels.segment_sum`` against numpy and torch.

    python -m pytest benchmarks/bench_segments.py --benchmark-json=/tmp/segments.json

What posting scoring sums: for each chunk of 1,000 postings, the duty search gives one row per duty (the best
task similarity per occupation, 1,016 float32 columns) and the assigner averages each posting's rows. The
duties per posting are drawn like those of ``generate_postings.py``'s realistic postings (13.7 on average;
13,656 and 13,693 rows in its first two chunks of 1,000), the values are random, and each case sums
EXPOSURE_BENCH_CHUNKS (default 20) chunks, every sum in float64:

* ``exposure, N threads``: ``segment_sum`` (native; the sums of each posting's rows added in row order);
* ``numpy reduceat``: ``np.add.reduceat(rows, starts, axis=0, dtype=np.float64)``, what the assigner did
  before, the same sums to the bit;
* ``torch index_add_``: the rows copied to float64, then ``index_add_`` per posting (the same order too);
* ``numpy reduceat float32``: ``np.add.reduceat`` without ``dtype``, for reference: other (float32) sums.

``extra_info["same_sums"]`` says whether a case's sums equal the native kernel's, to the bit.
"""

import os

import numpy as np
import pytest
import torch

from exposure.kernels import segment_sum

CHUNKS = int(os.environ.get("EXPOSURE_BENCH_CHUNKS", "20"))
POSTINGS, OCCUPATIONS, MEAN_DUTIES = 1000, 1016, 13.7


@pytest.fixture(scope="module")
def chunks():
    rng = np.random.default_rng(0)
    out = []
    for _ in range(CHUNKS):
        duties = 1 + rng.poisson(MEAN_DUTIES - 1, POSTINGS)
        offsets = np.concatenate([[0], np.cumsum(duties)])
        out.append((rng.random((offsets[-1], OCCUPATIONS), dtype=np.float32), offsets))
    return out


def _numpy(chunks, dtype=np.float64):
    return [np.add.reduceat(rows, offsets[:-1], axis=0, dtype=dtype) for rows, offsets in chunks]


def _torch(chunks):
    out = []
    for rows, offsets in chunks:
        owner = torch.from_numpy(np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)))
        sums = torch.zeros((len(offsets) - 1, rows.shape[1]), dtype=torch.float64)
        out.append(sums.index_add_(0, owner, torch.from_numpy(rows).double()).numpy())
    return out


def _run(benchmark, fn, case, chunks):
    rows = sum(r.shape[0] for r, _ in chunks)
    benchmark.group = f"per-posting sums of the duty search, {len(chunks)} chunks of {POSTINGS} postings, " \
                      f"{rows} rows of {OCCUPATIONS}"
    benchmark.extra_info.update(case=case, items=len(chunks) * POSTINGS, unit="postings/s", rows=rows,
                                baseline="numpy reduceat")
    got = benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)
    ours = [segment_sum(r, o, threads=1) for r, o in chunks]
    benchmark.extra_info["same_sums"] = all(np.array_equal(a.view(np.int64), b.view(np.int64))
                                            for a, b in zip(got, ours))


@pytest.mark.parametrize("threads", [1, 2])
def test_exposure(benchmark, chunks, threads):
    case = f"exposure, {threads} thread" + ("s" if threads > 1 else "")
    _run(benchmark, lambda: [segment_sum(r, o, threads=threads) for r, o in chunks], case, chunks)


def test_numpy_reduceat(benchmark, chunks):
    _run(benchmark, lambda: _numpy(chunks), "numpy reduceat", chunks)


def test_numpy_reduceat_float32(benchmark, chunks):
    _run(benchmark, lambda: _numpy(chunks, np.float32), "numpy reduceat float32", chunks)


def test_torch_index_add(benchmark, chunks):
    torch.set_num_threads(2)
    _run(benchmark, lambda: _torch(chunks), "torch index_add_", chunks)
