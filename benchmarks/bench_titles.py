"""The assigner's title n-gram search: the native sparse top-k against scipy's sparse product.

    python -m pytest benchmarks/bench_titles.py --benchmark-json=/tmp/titles.json
    EXPOSURE_BENCH_TITLES=200 python -m pytest benchmarks/bench_titles.py    # smoke run

The index is the O*NET 29.1 titles' character n-gram TF-IDF (``OccupationAssigner``'s, read from the disk
cache, built at first use); the queries are the cleaned titles of the first EXPOSURE_BENCH_TITLES (default
2,000) postings of ``generate_postings.py`` (realistic, seed 0). Every case returns each title's 32 nearest
indexed titles, as the assigner asks:

* ``exposure, N threads``: ``NgramIndex.topk`` (``exposure.kernels.sparse_topk``, native);
* ``scipy sparse product + argpartition``: what a user writes with the same TF-IDF rows as scipy CSR
  matrices: ``queries @ titles.T`` in blocks of 256 queries, then ``argpartition`` and a sort of the
  32 best per row (on one thread: scipy's product has no threads).

``extra_info`` holds the titles, the index size and, for scipy, the share of rows whose 32 indices match
(they differ only where scores tie at the 32nd place).
"""

import os

import numpy as np
import pyarrow.parquet as pq
import pytest

from _common import generator

N_TITLES = int(os.environ.get("EXPOSURE_BENCH_TITLES", "2000"))
K, BLOCK = 32, 256


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    from exposure import Encoder
    from exposure.occupations import OccupationAssigner
    from exposure.occupations.assign import clean_posting_title, normalize_title

    path = tmp_path_factory.mktemp("titles") / "postings.parquet"
    generator().write(N_TITLES, str(path), seed=0, style="realistic")
    titles = [normalize_title(clean_posting_title(t)) for t in pq.read_table(path)["title"].to_pylist()]
    index = OccupationAssigner(Encoder()).title_index()["ngrams"]
    return index, titles


def _scipy_topk(index, titles):
    sparse = pytest.importorskip("scipy.sparse")
    keys = sparse.csc_matrix((index._weight, index._text, index._ptr), shape=(index.size, len(index.vocab)))
    q, g, w = index._vectors(titles)
    queries = sparse.csr_matrix((w, (q, g)), shape=(len(titles), len(index.vocab)))
    out = np.zeros((len(titles), K), dtype=np.int64)
    for a in range(0, len(titles), BLOCK):
        s = (queries[a:a + BLOCK] @ keys.T).toarray()
        top = np.argpartition(-s, K - 1, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1, kind="stable")
        out[a:a + BLOCK] = np.take_along_axis(top, order, axis=1)
    return out


def _run(benchmark, fn, case, index, titles):
    benchmark.group = f"title n-gram search, {len(titles)} titles, {index.size} indexed, top {K}"
    benchmark.extra_info.update(case=case, items=len(titles), unit="titles/s", indexed=index.size,
                                baseline="scipy sparse product + argpartition")
    return benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("threads", [1, 2])
def test_exposure(benchmark, search, threads):
    index, titles = search
    case = f"exposure, {threads} thread" + ("s" if threads > 1 else "")
    _run(benchmark, lambda: index.topk(titles, K, threads=threads), case, index, titles)


def test_scipy(benchmark, search):
    index, titles = search
    found = _run(benchmark, lambda: _scipy_topk(index, titles), "scipy sparse product + argpartition", index, titles)
    ours = index.topk(titles, K, threads=1).indices
    benchmark.extra_info["same_top32_rows"] = round(float((np.sort(found, 1) == np.sort(ours, 1)).all(1).mean()), 4)
