"""Character n-gram TF-IDF over short texts (occupation titles): built in numpy, searched by a native kernel.

The spelling signal that :class:`~exposure.occupations.assign.OccupationAssigner` adds
to the embedding one: titles that share word pieces ("electrician", "electrical")
are close even where the encoder puts them apart. The weighting is scikit-learn's
``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)``
(n-grams inside space-padded words, ``1 + log(tf)`` times the smoothed idf
``ln((1 + n) / (1 + df)) + 1``, rows of unit length), written again so that the
assigner needs no scikit-learn at run time; ``benchmarks/eval_assign.py`` used
scikit-learn to choose it.

>>> index = NgramIndex(["line cook", "electrician", "electrical engineer"])
>>> sim, idx = index.topk(["electricians"], 2)
>>> idx.tolist(), bool(sim[0, 0] > sim[0, 1] > 0)
([[1, 2]], True)
"""

from __future__ import annotations

import os
from typing import BinaryIO, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..kernels import Reduction, sparse_topk

__all__ = ["NgramIndex", "char_ngrams"]


def char_ngrams(text: str, lo: int = 2, hi: int = 4) -> List[str]:
    """The n-grams of ``text``'s space-padded words, as scikit-learn's ``char_wb`` analyzer makes them.

    >>> char_ngrams("ab", 2, 3)
    [' a', 'ab', 'b ', ' ab', 'ab ']
    """
    out: List[str] = []
    for word in text.lower().split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, hi + 1):
            if size <= n:  # a word no longer than n is counted once
                out.append(w)
                break
            out.extend([w[i:i + n] for i in range(size - n + 1)])
    return out


def _gram_counts(texts: Sequence[str], column_of: Callable[[str], int]
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(text, n-gram column, count) triples of ``texts``, sorted by text then column; ``column_of`` numbers
    an n-gram (``-1``: left out). Titles share most of their words, so each distinct word is cut once."""
    of_word: Dict[str, List[int]] = {}
    cols: List[int] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        start = len(cols)
        for word in t.lower().split():
            ids = of_word.get(word)
            if ids is None:
                ids = of_word[word] = [c for c in map(column_of, char_ngrams(word)) if c >= 0]
            cols.extend(ids)
        lengths[i] = len(cols) - start
    col = np.asarray(cols, dtype=np.int64)
    width = int(col.max()) + 1 if col.size else 1
    pairs, counts = np.unique(np.repeat(np.arange(len(texts), dtype=np.int64), lengths) * width + col,
                              return_counts=True)
    return pairs // width, pairs % width, counts.astype(np.float64)


class NgramIndex:
    """TF-IDF rows of ``texts`` over their character 2- to 4-grams, searched by cosine similarity.

    ``max_df``: n-grams found in more than this share of the texts are left out (as
    scikit-learn's ``max_df``), which makes a search several times faster (the
    commonest n-grams, such as ``"er "``, are in thousands of titles) at no loss of
    accuracy on held-out titles.
    """

    def __init__(self, texts: Sequence[str], max_df: float = 1.0) -> None:
        self.size = len(texts)
        vocab: Dict[str, int] = {}
        rows, cols, counts = _gram_counts(texts, lambda g: vocab.setdefault(g, len(vocab)))
        df = np.bincount(cols, minlength=len(vocab))
        if max_df < 1.0:  # drop the commonest n-grams and number the others again
            keep = df <= max_df * self.size
            new = np.cumsum(keep) - 1
            grams = list(vocab)
            vocab = {grams[j]: int(new[j]) for j in np.flatnonzero(keep)}
            sel = keep[cols]
            rows, cols, counts, df = rows[sel], new[cols[sel]], counts[sel], df[keep]
        self.vocab = vocab
        self.idf = np.log((1.0 + self.size) / (1.0 + df)) + 1.0
        w = (1.0 + np.log(counts)) * self.idf[cols]
        norm = np.sqrt(np.bincount(rows, weights=w * w, minlength=self.size))
        w /= np.maximum(norm[rows], 1e-12)
        # Postings per n-gram: the texts that hold it and its weight in each.
        order = np.argsort(cols, kind="stable")
        self._ptr = np.concatenate([[0], np.cumsum(df)])
        self._text = rows[order].astype(np.int32)
        self._weight = w[order].astype(np.float32)

    _ARRAYS = ("idf", "_ptr", "_text", "_weight")

    def save(self, file: BinaryIO) -> None:
        """Write the index to a binary ``file`` (``.npz``), to be read by :meth:`load`."""
        grams = np.array(sorted(self.vocab, key=self.vocab.__getitem__), dtype=str)
        arrays = {k.lstrip("_"): getattr(self, k) for k in self._ARRAYS}
        np.savez(file, size=np.int64(self.size), grams=grams, **arrays)

    @classmethod
    def load(cls, path: Union[str, os.PathLike, BinaryIO]) -> "NgramIndex":
        """The index that :meth:`save` wrote to ``path``; ``ValueError`` or ``OSError`` when it cannot be read.

        >>> import io
        >>> f = io.BytesIO(); NgramIndex(["line cook", "cook"]).save(f); _ = f.seek(0)
        >>> NgramIndex.load(f).topk(["cooks"], 1).indices.tolist()
        [[1]]
        """
        with np.load(path, allow_pickle=False) as data:
            index = cls.__new__(cls)
            index.size = int(data["size"])
            index.vocab = {g: j for j, g in enumerate(data["grams"].tolist())}
            for k in cls._ARRAYS:
                setattr(index, k, data[k.lstrip("_")])
        if index._ptr.shape != (len(index.vocab) + 1,) or index._text.shape != index._weight.shape:
            raise ValueError("an n-gram index file whose arrays do not fit together")
        return index

    def _vectors(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The queries' TF-IDF rows as (query, n-gram, weight) triples; n-grams the index lacks are dropped."""
        q, g, c = _gram_counts(texts, lambda g: self.vocab.get(g, -1))
        w = (1.0 + np.log(c)) * self.idf[g] if g.size else np.zeros(0)
        norm = np.sqrt(np.bincount(q, weights=w * w, minlength=len(texts)))
        return q, g, w / np.maximum(norm[q], 1e-12) if q.size else w

    def topk(self, texts: Sequence[str], k: int, threads: Optional[int] = None) -> Reduction:
        """The ``k`` most similar indexed texts per query: :class:`~exposure.kernels.Reduction` of ``(values,
        indices)``, float32 cosine similarities and int64 indices ``(n, k)``, descending, lower index first on
        ties (a query with no n-gram in the index is 0 to every text).

        :func:`exposure.kernels.sparse_topk` (native): each query's scores are summed from the postings of
        its n-grams only, on ``threads`` threads (``None``: the OpenMP default).
        """
        n, m = len(texts), self.size
        k = min(int(k), m)
        if n == 0 or k == 0:
            return Reduction(np.zeros((n, k), dtype=np.float32), np.zeros((n, k), dtype=np.int64))
        q, g, w = self._vectors(texts)
        q_ptr = np.searchsorted(q, np.arange(n + 1))
        return sparse_topk(q_ptr, g, w, self._ptr, self._text, self._weight, m, k, threads=threads)
