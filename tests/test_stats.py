import json

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
    tpr_at_fpr,
)

from helpers import SHARED_DATA

DATA = SHARED_DATA


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


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "task_labels_train.tsv").exists(), reason="needs ../shared/data")
def test_reproduce_eloundou_on_a_subset(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import pandas as pd

    from exposure.cli import main

    labels = pd.read_csv(DATA / "task_labels_train.tsv", sep="\t")
    ratings = pd.read_csv(DATA / "occupation_ratings_train.csv")
    socs = sorted(labels.soc_code.unique())[::24][:30]
    labels[labels.soc_code.isin(socs)].to_csv(tmp_path / "labels.tsv", sep="\t", index=False)
    ratings[ratings.soc_code.isin(socs)].to_csv(tmp_path / "ratings.csv", index=False)
    out = tmp_path / "out"
    rc = main(["reproduce", "eloundou", "--labels", str(tmp_path / "labels.tsv"), "--ratings",
               str(tmp_path / "ratings.csv"), "--tasks", str(DATA / "onet_tasks.tsv"), "-o", str(out),
               "--device", "cpu", "--folds", "3", "--bootstrap", "50"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "calibrated head" in printed and "GPT-4 labels" in printed
    report = json.loads((out / "metrics.json").read_text())
    assert report["n_occupations"] == 30 and report["folds"] == 3
    # The catalogue's other occupations have no labels: reported apart, not silently mixed in.
    assert report["n_unlabelled_occupations"] == 923 - 30
    for row in ("calibrated", "zero-shot", "gpt-4"):
        m = report["metrics"][row]
        assert 0.5 < m["auc"]["value"] <= 1 and m["auc"]["ci95"][0] <= m["auc"]["value"] <= m["auc"]["ci95"][1]
    # GPT-4's Spearman is computed from its labels: it matches the ratings file's gpt4_rating_beta ranking.
    assert report["metrics"]["gpt-4"]["spearman"]["value"] > 0.5
    for name in ("occupations_beta.png", "reliability.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "metrics.md").read_text()
    assert "exposure reproduce eloundou --labels" in md and "bootstrap" in md
    assert "Unlabelled occupations: 893 occupations of the task catalogue have no labels" in md


def test_reproduce_reports_bad_input(tmp_path, capsys):
    from exposure.cli import main

    bad = tmp_path / "labels.tsv"
    bad.write_text("soc_code\ttask_id\n11-1011.00\t1\n")
    (tmp_path / "r.csv").write_text("soc_code,human_rating_beta\n11-1011.00,0.5\n")
    rc = main(["reproduce", "eloundou", "--labels", str(bad), "--ratings", str(tmp_path / "r.csv"),
               "-o", str(tmp_path / "o")])
    assert rc == 2
    assert "missing columns" in capsys.readouterr().err


def test_removed_training_names():
    import exposure.heads
    import exposure.training

    for module in (exposure.heads, exposure.training):
        with pytest.raises(AttributeError, match="has no attribute '_log_loss'"):
            module._log_loss
    assert not {"fit_softmax", "select_strength", "train_heads", "STRENGTHS"} & set(exposure.heads.__all__)
    assert not hasattr(exposure.heads.Heads, "features")
