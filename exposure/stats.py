"""Statistics for honest evaluation, numpy only: grouped folds, ranks, correlations, ROC, log loss, softmax,
bootstrap, calibration.

Everything a report needs to compare scores with labels, with no model and no
I/O, so that training code, evaluation reports and benchmarks share one copy.

>>> spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0]))
0.5
"""

from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

__all__ = ["grouped_folds", "rankdata", "pearson", "roc_auc", "roc_curve", "tpr_at_fpr", "spearman", "log_loss",
           "softmax", "top_per_group", "bootstrap_ci", "bootstrap_many", "reliability", "FPR"]

FPR = 0.25


def grouped_folds(groups: Sequence, n_folds: int = 5) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Deterministic k-fold split that never puts one group in two folds.

    Groups are taken largest first (ties by name) and each goes to the fold with
    the fewest rows so far (ties: the lowest fold), the rule of scikit-learn's
    ``GroupKFold``. Returns ``(train_rows, test_rows)`` per fold, sorted.

    >>> [t.tolist() for _, t in grouped_folds(["a", "a", "b", "c"], 2)]
    [[0, 1], [2, 3]]
    """
    groups = np.asarray(groups).astype(str)
    uniq, inv, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    if n_folds < 2 or n_folds > len(uniq):
        raise ValueError(f"n_folds must be between 2 and the number of groups ({len(uniq)}), got {n_folds}")
    fold_of = np.empty(len(uniq), dtype=np.int64)
    load = np.zeros(n_folds, dtype=np.int64)
    for g in sorted(range(len(uniq)), key=lambda g: (-sizes[g], uniq[g])):
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += sizes[g]
    row_fold = fold_of[inv.reshape(-1)]
    rows = np.arange(len(groups))
    return [(rows[row_fold != f], rows[row_fold == f]) for f in range(n_folds)]


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties get their average rank (as ``scipy.stats.rankdata``), float64.

    A 2-D array is ranked row by row (along the last axis), in one pass: bootstraps rank
    all their resamples at once.

    >>> rankdata(np.array([3.0, 1.0, 3.0])).tolist()
    [2.5, 1.0, 2.5]
    """
    x = np.asarray(x)
    flat = x.ndim == 1
    x = np.atleast_2d(x)
    rows, n = x.shape
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    new = np.ones_like(xs, dtype=bool)
    new[:, 1:] = xs[:, 1:] != xs[:, :-1]
    # Tie groups numbered across the whole matrix, so one bincount handles every row.
    group = np.cumsum(new.ravel()) - 1
    pos = np.tile(np.arange(1, n + 1, dtype=np.float64), rows)
    mean = np.bincount(group, weights=pos) / np.bincount(group)
    ranks = np.empty_like(xs, dtype=np.float64)
    np.put_along_axis(ranks, order, mean[group].reshape(rows, n), axis=1)
    return ranks[0] if flat else ranks


def pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of two vectors (a float), or row by row of two ``(rows, n)`` arrays;
    NaN where a side is constant.

    >>> float(pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])).round(4))
    0.9934
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    flat = a.ndim == 1
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=1) / den
    r = np.where(den > 0, r, np.nan)
    return r[0] if flat else r


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of ``score`` for the boolean ``y`` (ties count one half)."""
    y = np.asarray(y, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def roc_curve(y: np.ndarray, score: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    y = np.asarray(y, dtype=bool)
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="mergesort")
    s, yy = np.asarray(score, dtype=np.float64)[order], y[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]
    tp = np.cumsum(yy)[last]
    fp = (last + 1) - tp
    return np.r_[0.0, fp / max(fp[-1], 1)], np.r_[0.0, tp / max(tp[-1], 1)]


def tpr_at_fpr(y: np.ndarray, score: np.ndarray, fpr: float = FPR) -> float:
    """True positive rate at false positive rate ``fpr``, on the ROC curve with straight segments."""
    f, t = roc_curve(y, score)
    i = int(np.searchsorted(f, fpr, side="right")) - 1
    if i >= len(f) - 1:
        return float(t[-1])
    return float(t[i] + (fpr - f[i]) * (t[i + 1] - t[i]) / (f[i + 1] - f[i]))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (Pearson correlation of average ranks); NaN when a side is constant."""
    return float(pearson(rankdata(a), rankdata(b)))


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log probability of the true classes ``y`` under ``p`` ``(n, classes)``, clipped at 1e-12.

    >>> round(log_loss(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([0, 0])), 4)
    0.3993
    """
    p, y = np.asarray(p), np.asarray(y)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(n, classes)`` logits, in their dtype (``z`` itself is left as it is).

    >>> softmax(np.array([[0.0, 0.0], [0.0, np.log(3.0)]])).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    """
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def top_per_group(groups: np.ndarray, n_groups: int, score: np.ndarray, k: int) -> np.ndarray:
    """``(n_groups, k)`` row indices of the ``k`` highest scores in each group, best first; -1 pads.

    ``groups[i]`` is row ``i``'s group in ``0 .. n_groups - 1``. Rows with a NaN score are left
    out; equal scores keep row order. The top tasks of an occupation, the top duties of a posting.

    >>> top_per_group(np.array([0, 0, 1, 0]), 3, np.array([0.2, 0.9, 0.5, 0.2]), 2).tolist()
    [[1, 0], [2, -1], [-1, -1]]
    """
    idx = np.flatnonzero(~np.isnan(score))
    order = idx[np.lexsort((-score[idx], groups[idx]))]  # by group, then score descending; stable on ties
    g = groups[order]
    pos = np.arange(order.shape[0]) - np.searchsorted(g, np.arange(n_groups))[g]
    keep = pos < k
    out = np.full((n_groups, k), -1, dtype=np.int64)
    out[g[keep], pos[keep]] = order[keep]
    return out


def bootstrap_ci(stat: Callable[[np.ndarray], float], groups: Sequence, n_boot: int = 1000,
                 seed: int = 0, level: float = 0.95) -> Tuple[float, float]:
    """Percentile interval of ``stat(rows)`` over resamples of whole groups with replacement.

    ``stat`` gets the row indices of a resample (a group drawn twice appears twice).
    """
    return bootstrap_many({"x": stat}, groups, n_boot, seed, level)["x"]


def bootstrap_many(stats: Dict[str, Callable[[np.ndarray], float]], groups: Sequence, n_boot: int,
               seed: int, level: float = 0.95) -> Dict[str, Tuple[float, float]]:
    """Several statistics on the same resamples (paired intervals)."""
    groups = np.asarray(groups).astype(str)
    order = np.argsort(groups, kind="mergesort")
    uniq, starts, counts = np.unique(groups[order], return_index=True, return_counts=True)
    rng = np.random.default_rng(seed)
    values = {k: np.empty(n_boot) for k in stats}
    for b in range(n_boot):
        pick = rng.integers(0, len(uniq), len(uniq))
        # The rows of the picked groups, in pick order: each group's run starts[g] .. starts[g] + counts[g].
        c = counts[pick]
        rows = order[np.repeat(starts[pick] - np.cumsum(c) + c, c) + np.arange(c.sum())]
        for k, fn in stats.items():
            values[k][b] = fn(rows)
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    return {k: (float(np.nanpercentile(v, lo)), float(np.nanpercentile(v, hi))) for k, v in values.items()}


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> Dict[str, np.ndarray]:
    """Reliability table of predicted probabilities ``p`` for the boolean outcome ``y``.

    Equal-width bins; returns the mean prediction, observed frequency and count per
    non-empty bin, and ``ece``, the count-weighted mean absolute gap.
    """
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    b = np.clip((p * bins).astype(np.int64), 0, bins - 1)
    n = np.bincount(b, minlength=bins)
    keep = n > 0
    mean_p = np.bincount(b, weights=p, minlength=bins)[keep] / n[keep]
    freq = np.bincount(b, weights=y, minlength=bins)[keep] / n[keep]
    return {"predicted": mean_p, "observed": freq, "count": n[keep],
            "ece": float(np.sum(n[keep] * np.abs(mean_p - freq)) / max(n.sum(), 1))}


# --------------------------------------------------------------------------- cross-validation
