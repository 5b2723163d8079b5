import hashlib
import json
import shutil

import numpy as np
import pyarrow as pa
import pytest

from exposure import CapabilitySet, ExposureModel
from exposure.occupations import occupation_table
from exposure.technologies import TechnologyLabels, TechnologyLabelsError, technology_scores
from helpers import ROOT

LABELS = ROOT / "models" / "technologies"


@pytest.fixture(scope="module")
def labelled(encoder):
    """The default model's technology scores (calibrated=False: the head plays no part in them)."""
    return ExposureModel(encoder, calibrated=False)


def test_shipped_labels_follow_their_rubric():
    labels = TechnologyLabels.load()
    assert len(labels) == 2087 and labels.technologies == ("llm", "software", "vision", "robotics", "vehicles")
    assert set(np.unique(labels.ratings)) <= {0, 1, 2} and labels.values.max() == 1.0
    rating = dict(zip(labels.texts, labels.ratings.tolist()))
    # The rubric's worked examples that are DWAs, as rated there.
    assert rating["Weld metal components."] == [0, 0, 1, 2, 0]
    assert rating["Operate forklifts or other loaders."] == [0, 0, 0, 0, 2]
    assert rating["Prepare business correspondence."][0] == 2
    # The second pass and the held-out task labels are the files the manifest names.
    for check in labels.manifest["checks"].values():
        if isinstance(check, dict):
            assert hashlib.sha256((LABELS / check["file"]).read_bytes()).hexdigest() == check["sha256"]
    assert labels.checksum == TechnologyLabels.load(LABELS / "default.json").checksum


@pytest.mark.slow
def test_scores_are_the_documented_nearest_activity_rule(labelled):
    """Recompute the technology scores with plain numpy from the embeddings."""
    texts = ["Weld steel frames on an assembly line.", "Answer customer emails about billing.", "Sort parcels."]
    s = labelled.score_tasks(texts)
    labels = labelled.technology_labels
    emb = labelled.encoder.encode(texts).astype(np.float64)
    act = labelled.encoder.encode(list(labels.texts)).astype(np.float64)
    sims = emb @ act.T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :labels.k]
    w = np.exp(np.take_along_axis(sims, top, 1) / labels.temperature)
    w /= w.sum(axis=1, keepdims=True)
    expected = np.einsum("nk,nkt->nt", w, labels.ratings[top] / 2)
    np.testing.assert_allclose(s.technology_scores, expected, atol=1e-4)
    subst = [g for g, t in enumerate(labelled.technologies) if t in ("software", "vision", "robotics", "vehicles")]
    np.testing.assert_allclose(s.automation_exposure, 1 - np.prod(1 - expected[:, subst], axis=1), atol=1e-4)
    np.testing.assert_array_equal(s.activity_index, top[:, :3])
    table = s.to_arrow()
    assert table["activity_1"].to_pylist() == [labels.texts[i] for i in top[:, 0]]
    assert table["activity_1_id"].to_pylist() == [labels.ids[i] for i in top[:, 0]]
    assert table.column_names.index("automation_exposure") == table.column_names.index("exposure_vehicles") + 1


def test_each_technology_leads_on_its_own_work(labelled):
    s = labelled.score_tasks([
        "Weld metal components.", "Examine finished products for flaws.", "Operate a forklift to move pallets.",
        "Write and debug computer programs.", "Process customer bills and payments.",
        "Provide bedside care to patients and give them baths.",
    ])
    lead = [s.technologies[i] for i in s.technology_scores.argmax(axis=1)]
    assert lead[:5] == ["robotics", "vision", "vehicles", "llm", "software"]
    assert s.automation_exposure[5] < 0.2 < min(s.automation_exposure[:5])


def test_blank_texts_get_no_technology_scores(labelled):
    s = labelled.score_tasks(["", "Sort mail.", None])
    assert np.isnan(s.technology_scores[[0, 2]]).all() and np.isnan(s.automation_exposure[[0, 2]]).all()
    assert (s.activity_index[[0, 2]] == -1).all() and np.isnan(s.activity_similarity[[0, 2]]).all()
    assert s.to_arrow()["activity_1"].to_pylist()[0] is None
    assert np.isfinite(s.technology_scores[1]).all()


@pytest.mark.slow
def test_which_technology_rule_a_model_uses(encoder, labelled):
    assert labelled.technology_labels is not None
    zero = ExposureModel(encoder, calibrated=False, technology_labels=None)
    assert zero.technology_labels is None and zero.score_tasks(["Sort mail."]).automation_exposure is None
    assert "automation_exposure" not in zero.score_tasks(["Sort mail."]).to_arrow().column_names
    # A capability set of other technologies keeps its own zero-shot rule under "auto" ...
    caps = CapabilitySet.from_dict({"name": "arms", "version": "1.0.0", "description": "Robot arms only.",
                                    "technologies": {"arms": "Robot arms."},
                                    "capabilities": [{"id": "weld", "technology": "arms",
                                                      "statement": "Weld parts."}]})
    assert ExposureModel(encoder, caps, calibrated=False).technology_labels is None
    # ... and labels that rate other technologies than the set's are an error when asked for.
    with pytest.raises(ValueError, match="rate llm, software, vision, robotics, vehicles, but the capability set "
                                         "has arms; pass technology_labels=None"):
        ExposureModel(encoder, caps, calibrated=False, technology_labels="default")
    # The labels are part of what the scores depend on.
    assert zero.fingerprint() != labelled.fingerprint()
    prov = labelled.provenance()["technology_labels"]
    assert prov["source"] == "default" and prov["checksum"] == labelled.technology_labels.checksum
    assert zero.provenance()["technology_labels"] is None


def _copy_labels(tmp_path):
    for name in ("default.json", "dwa_labels.tsv"):
        shutil.copy(LABELS / name, tmp_path / name)
    return tmp_path / "default.json"


def _rewrite(path, edit):
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def test_damaged_or_malformed_labels_are_errors(tmp_path):
    path = _copy_labels(tmp_path)
    assert TechnologyLabels.load(path).checksum == TechnologyLabels.load().checksum
    with pytest.raises(TechnologyLabelsError, match="does not exist"):
        TechnologyLabels.load(tmp_path / "missing.json")
    tsv = tmp_path / "dwa_labels.tsv"
    tsv.write_text(tsv.read_text().replace("\t2\n", "\t1\n", 1))
    with pytest.raises(TechnologyLabelsError, match="checksum mismatch for dwa_labels.tsv"):
        TechnologyLabels.load(path)
    tsv.write_text("dwa_id\tdwa_title\tllm\n4.A\tSort mail.\t1\n")
    _rewrite(path, lambda m: m["labels"].update(sha256=hashlib.sha256(tsv.read_bytes()).hexdigest()))
    with pytest.raises(TechnologyLabelsError, match="no column 'software', 'vision'"):
        TechnologyLabels.load(path)
    _rewrite(path, lambda m: m.update(technologies=["llm"]))
    tsv.write_text("dwa_id\tdwa_title\tllm\n4.A\tSort mail.\t3\n")
    _rewrite(path, lambda m: m["labels"].update(sha256=hashlib.sha256(tsv.read_bytes()).hexdigest()))
    with pytest.raises(TechnologyLabelsError, match="ratings must be 0, 1 or 2"):
        TechnologyLabels.load(path)
    tsv.write_text("dwa_id\tdwa_title\tllm\n4.A\tSort mail.\t1\n")
    _rewrite(path, lambda m: m["labels"].update(sha256=hashlib.sha256(tsv.read_bytes()).hexdigest()))
    with pytest.raises(TechnologyLabelsError, match=r"k must be in \[1, 1\]"):
        TechnologyLabels.load(path)
    _rewrite(path, lambda m: m.update(k=1))
    assert TechnologyLabels.load(path).values.tolist() == [[0.5]]
    _rewrite(path, lambda m: m.pop("temperature"))
    with pytest.raises(TechnologyLabelsError, match="unreadable manifest"):
        TechnologyLabels.load(path)


def test_softmax_weights_of_the_nearest_activities():
    values = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    idx = np.array([[0, 1], [2, 0]])
    sim = np.array([[0.8, 0.8], [0.9, 0.9 - 0.05 * np.log(3)]])
    np.testing.assert_allclose(technology_scores(idx, sim, values, 0.05),
                               [[0.5, 0.5], [0.75 * 0.5 + 0.25, 0.75 * 0.5]], atol=1e-6)


def test_occupation_tables_average_the_combined_score():
    t = pa.table({"soc_code": ["11-1011.00"] * 2, "task_id": [1, 2], "weight": [2, 1], "task": ["a", "b"],
                  "exposure": [0.9, 0.3], "exposure_robotics": [0.0, 0.6], "automation_exposure": [0.3, 0.6],
                  "gpt4_automation": [0.5, 0.2]})
    row = occupation_table(t).to_pylist()[0]
    assert row["automation_exposure"] == pytest.approx(0.4) and row["gpt4_automation"] == pytest.approx(0.4)
    assert row["exposure_robotics"] == pytest.approx(0.2)
