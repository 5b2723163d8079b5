"""exposure.training.eloundou: the reproduction of Eloundou et al. on a subset, its input errors; the training names
that left exposure.heads."""

import json

import pytest

from helpers import SHARED_DATA

DATA = SHARED_DATA


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
