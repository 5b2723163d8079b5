"""exposure.occupations.score: the catalogue scored by a model, at each level, from embeddings, errors."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from exposure.occupations import load_tasks, score_occupations


class _FakeScores:
    def __init__(self, texts):
        self.texts = list(texts)

    def to_arrow(self):
        x = np.array([len(t) % 7 / 7 for t in self.texts])
        return pa.table({"text": self.texts, "exposure": x, "exposure_llm": 1 - x})


class _FakeModel:
    """Stands in for ExposureModel: a score from the text length, no encoder."""

    labelled_occupations = frozenset({"11-1011.00", "11-1011.03"})

    def score_tasks(self, texts, show_progress=False, occupations=None):
        assert len(occupations) == len(texts)
        return _FakeScores(texts)

    def score_embeddings(self, embeddings, texts=None, occupations=None):
        assert len(occupations) == len(texts)
        return _FakeScores(texts)


@pytest.mark.parametrize("level, n_rows", [("onet", 923), ("soc2018", 798), ("soc2010", 778)])
def test_score_occupations_plumbing(level, n_rows):
    t = score_occupations(_FakeModel(), "27", level=level)
    assert t.num_rows == n_rows and t["exposure"].null_count == 0
    if level == "onet":
        tasks = load_tasks("27")
        first = t.to_pylist()[0]
        sel = tasks.filter(pc.equal(tasks["soc_code"], first["soc_code"]))
        x = np.array([len(s) % 7 / 7 for s in sel["task"].to_pylist()])
        w = sel["weight"].to_numpy().astype(float)
        assert first["exposure"] == pytest.approx(np.dot(w, x) / w.sum())
        assert first["n_tasks"] == sel.num_rows
    assert t["labelled"].to_pylist().count(True) == (2 if level == "onet" else 1)


def test_score_occupations_with_embeddings_and_errors():
    n = load_tasks("29.1").num_rows
    t = score_occupations(_FakeModel(), "29.1", embeddings=np.zeros((n, 4), np.float32))
    assert t.num_rows == 1016 and t["exposure"].null_count == 93
    with pytest.raises(ValueError, match="embeddings have 3 rows; O\\*NET 29.1 has 18796 tasks"):
        score_occupations(_FakeModel(), "29.1", embeddings=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="unknown level 'naics'; use one of: onet, soc2018, soc2010"):
        score_occupations(_FakeModel(), level="naics")


@pytest.mark.slow
def test_score_occupations_with_the_real_model(model):
    """The real TaskScores columns flow through (random embeddings keep it fast)."""
    tasks = load_tasks("27")
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((tasks.num_rows, 384)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    t = score_occupations(model, embeddings=emb)
    techs = [f"exposure_{x}" for x in model.technologies]
    measures = ["alpha", "beta", "gamma"] if model.calibrated else []
    combined = ["automation_exposure"] if model.technology_labels is not None else []
    automation = (["gpt4_automation", "automation", "augmentation", "automation_share", "potential"]
                  if model.calibrated else [])
    in_sample = ["exposure_in_sample"] if model.calibrated else []
    expected = ["soc_code", "title", "n_tasks", "labelled", "exposure", *in_sample, "exposure_low", "exposure_high",
                *measures, *techs, *combined, *automation, "rank"]
    assert t.column_names[:len(expected)] == expected
    # The head's training occupations are flagged in-sample; none without a head.
    assert t["labelled"].to_pylist().count(True) == (715 if model.calibrated else 0)
    if model.calibrated:  # the headline is the paper's beta, out of fold for the labelled occupations
        assert t["exposure"].to_pylist() == t["beta"].to_pylist()
        d = t.select(["labelled", "exposure", "exposure_in_sample"]).to_pandas()
        unlabelled, labelled = d[~d.labelled], d[d.labelled]
        np.testing.assert_allclose(unlabelled.exposure, unlabelled.exposure_in_sample, rtol=1e-6)
        assert (np.abs(labelled.exposure - labelled.exposure_in_sample) > 1e-4).mean() > 0.5
    assert t["rank"].null_count == 0 and sorted(t["rank"].to_pylist()) == list(range(1, 924))
