"""exposure.stats: ROC, ranks and correlations against scikit-learn and scipy, grouped folds, bootstrap, calibration."""

import numpy as np
import pytest

from exposure.stats import (
    bootstrap_ci,
    grouped_folds,
    rankdata,
    reliability,
    roc_auc,
    roc_curve,
    spearman,
    top_per_group,
    tpr_at_fpr,
)


def test_auc_known_answers():
    y = np.array([0, 0, 1, 1], dtype=bool)
    assert roc_auc(y, [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc(y, [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert roc_auc(y, [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc(y, [0.1, 0.3, 0.2, 0.4]) == 0.75
    assert np.isnan(roc_auc([True, True], [0.1, 0.2]))


def test_auc_and_roc_match_scikit_learn():
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.4
    s = np.round(y + rng.standard_normal(500), 1)  # rounded: many ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    fpr, tpr = roc_curve(y, s)
    skf, skt, _ = sk_roc(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, skf)
    np.testing.assert_allclose(tpr, skt)


def test_tpr_at_fpr():
    # Negatives at 0..3, positives at 2.5 and 10: at 25% FPR (1 of 4 negatives) both positives are caught.
    y = np.array([0, 0, 0, 0, 1, 1], dtype=bool)
    s = np.array([0, 1, 2, 3, 2.5, 10.0])
    assert tpr_at_fpr(y, s, 0.25) == 1.0
    assert tpr_at_fpr(y, s, 0.0) == 0.5
    # Three levels as for GPT-4's labels: interpolate between operating points.
    y = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    s = np.array([1, 1, 1, 0, 0, 0])  # operating point FPR 1/3, TPR 2/3
    assert tpr_at_fpr(y, s, 1 / 6) == pytest.approx(1 / 3)
    assert tpr_at_fpr(y, s, 1.0) == 1.0
    rng = np.random.default_rng(1)
    y = rng.random(2000) < 0.5
    s = y + rng.standard_normal(2000)
    from sklearn.metrics import roc_curve as sk_roc

    f, t, _ = sk_roc(y, s)
    assert tpr_at_fpr(y, s) == pytest.approx(np.interp(0.25, f, t), abs=1e-3)


def test_grouped_folds_never_share_a_group():
    rng = np.random.default_rng(2)
    groups = rng.choice([f"g{i}" for i in range(37)], size=900)
    folds = grouped_folds(groups, 5)
    seen = np.zeros(len(groups), dtype=int)
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == len(groups)
        seen[test] += 1
    assert (seen == 1).all()
    sizes = [len(t) for _, t in folds]
    assert max(sizes) - min(sizes) < 60
    again = grouped_folds(list(groups), 5)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))
    with pytest.raises(ValueError, match="n_folds must be between 2 and the number of groups"):
        grouped_folds(["a", "b"], 3)


def test_rankdata_and_spearman_match_scipy():
    from scipy.stats import rankdata as sp_rank
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    a = rng.integers(0, 20, 300).astype(float)
    b = a + rng.standard_normal(300) * 5
    np.testing.assert_allclose(rankdata(a), sp_rank(a))
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_bootstrap_interval_contains_the_estimate():
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(60), 10)
    x = rng.standard_normal(600) + 2.0
    lo, hi = bootstrap_ci(lambda rows: float(x[rows].mean()), groups, n_boot=300, seed=0)
    assert lo < x.mean() < hi and hi - lo < 0.5
    assert (lo, hi) == bootstrap_ci(lambda rows: float(x[rows].mean()), groups, n_boot=300, seed=0)


def test_reliability_of_a_calibrated_predictor():
    rng = np.random.default_rng(5)
    p = rng.random(20000)
    y = rng.random(20000) < p
    r = reliability(p, y, bins=10)
    assert r["ece"] < 0.02
    np.testing.assert_allclose(r["observed"], r["predicted"], atol=0.04)
    assert reliability(np.full(100, 0.9), np.zeros(100))["ece"] == pytest.approx(0.9)


def test_top_per_group_matches_a_plain_sort():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 6, size=200)  # group 5 may be empty; group 6 is
    score = rng.choice([0.1, 0.2, 0.5, np.nan], size=200)  # ties and NaN
    top = top_per_group(groups, 7, score, 4)
    for g in range(7):
        rows = sorted((r for r in range(200) if groups[r] == g and not np.isnan(score[r])), key=lambda r: -score[r])
        assert top[g].tolist() == (rows + [-1] * 4)[:4]
