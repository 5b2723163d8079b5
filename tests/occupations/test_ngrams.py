"""The title n-gram search: the native sparse top-k against a dense numpy definition."""

import numpy as np
import pytest

from exposure.occupations._ngrams import NgramIndex


def dense_topk(index: NgramIndex, texts, k):
    """Every score summed in numpy (float64, the query's n-grams in order), ranked by (-score, index)."""
    q, g, w = index._vectors(texts)
    k = min(k, index.size)
    idx = np.zeros((len(texts), k), dtype=np.int64)
    val = np.zeros((len(texts), k), dtype=np.float32)
    for i in range(len(texts)):
        s = np.zeros(index.size)
        for gram, weight in zip(g[q == i], w[q == i]):
            lo, hi = index._ptr[gram], index._ptr[gram + 1]
            np.add.at(s, index._text[lo:hi], weight * index._weight[lo:hi].astype(np.float64))
        order = np.lexsort((np.arange(index.size), -s))[:k]
        idx[i], val[i] = order, s[order]
    return idx, val


def random_titles(rng, n, alphabet="abcde", words=(1, 3)):
    """Short words over a small alphabet: many shared n-grams, many equal scores."""
    return [" ".join("".join(rng.choice(list(alphabet), size=rng.integers(1, 5)))
                     for _ in range(rng.integers(*words, endpoint=True))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(6))
def test_sparse_topk_matches_the_dense_definition(seed):
    rng = np.random.default_rng(seed)
    index = NgramIndex(random_titles(rng, 300), max_df=[1.0, 0.2][seed % 2])
    queries = random_titles(rng, 40) + ["", "zzz", "a"]
    for k in (1, 5, 32, index.size):
        want_idx, want_val = dense_topk(index, queries, k)
        for threads in (1, 2):
            val, idx = index.topk(queries, k, threads=threads)
            np.testing.assert_array_equal(idx, want_idx)
            np.testing.assert_array_equal(val, want_val)  # the same sums in the same order: bit for bit


def test_queries_without_a_shared_ngram_rank_every_text_at_zero_in_index_order():
    index = NgramIndex(["line cook", "cook", "nurse"])
    val, idx = index.topk(["zzz", "cook"], 3)
    assert idx[0].tolist() == [0, 1, 2] and not val[0].any()
    assert idx[1].tolist()[:2] == [1, 0] and val[1, 2] == 0 and idx[1, 2] == 2
