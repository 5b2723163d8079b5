import hashlib
import json
import os

import numpy as np
import pytest

from exposure import CapabilitySet
from exposure.heads import (
    AUTOMATION_CLASSES,
    EXPOSURE_CLASSES,
    HeadFileError,
    HeadMismatchError,
    Heads,
    available_heads,
    capability_features,
    encoder_fingerprint,
    head_features,
    statement_similarities,
)
from exposure.training.heads import fit_softmax, train_heads
from helpers import SHARED_DATA


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    x[:, :2] *= 4  # the informative directions carry most of the variance, as in real embeddings
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _synthetic(seed=0, n=600, d=48, groups=30):
    """Exposure = sign of the first coordinate; automation = a coarse bin of the second."""
    rng = np.random.default_rng(seed)
    emb = _unit(rng, n, d)
    exposure = np.where(emb[:, 0] > 0.2, 1, np.where(emb[:, 0] < -0.2, 0, 2))
    automation = np.digitize(emb[:, 1], [-0.4, -0.15, 0.15, 0.4])
    caps = _unit(np.random.default_rng(99), 6, d)  # one capability set for every sample
    capf = capability_features(statement_similarities(emb, caps, caps[:2]), np.array([0, 0, 1, 1, 2, 2], np.int32),
                               np.array([True, False, False]))
    socs = np.array([f"{i % groups:02d}-0000.00" for i in range(n)])
    return emb, capf, exposure, automation, socs, caps


class FakeEncoder:
    """Stands in for an Encoder: a name, a width and a fixed embedding of any text."""

    def __init__(self, name, vec):
        self.name, self._vec = name, np.asarray(vec, dtype=np.float32)
        self.dim = self._vec.shape[0]

    def encode(self, texts):
        return np.tile(self._vec, (len(texts), 1))


@pytest.fixture(scope="module")
def synthetic_heads():
    emb, capf, exposure, automation, socs, _ = _synthetic()
    heads = train_heads(emb, capf, exposure, automation, socs, strengths=(0.01, 0.1))
    fp = [round(float(v), 4) for v in np.linspace(-0.1, 0.1, 8)]
    caps = CapabilitySet.load()
    heads.manifest.update({"encoder": {"name": "fake", "dim": 48, "fingerprint": fp},
                           "capabilities": {"name": caps.name, "version": caps.version, "checksum": caps.checksum}})
    return heads, fp


def test_softmax_recovers_a_separable_rule():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    head = fit_softmax(x, y, 2, strength=1e-4)
    p = head.predict_proba(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    assert (p.argmax(axis=1) == y).mean() == 1.0
    w = head.weight[:, 1] - head.weight[:, 0]
    assert w[0] > 0 and w[1] > 0 and abs(w[2]) < 0.2 * w[0]


@pytest.mark.slow
def test_heads_learn_a_synthetic_rule(synthetic_heads):
    heads, _ = synthetic_heads
    emb, capf, exposure, automation, _, _ = _synthetic(seed=7, n=300)
    probs, auto = heads.predict(emb, capf)
    assert probs.shape == (300, 3) and auto.shape == (300,)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    assert (probs.argmax(axis=1) == exposure).mean() > 0.9
    assert np.all((auto >= 0) & (auto <= 1))
    assert np.corrcoef(auto, automation)[0, 1] > 0.8
    assert set(heads.manifest["selection"]) == {"exposure", "automation"}


def test_one_neighbour_search_serves_both_label_sets(synthetic_heads):
    heads, _ = synthetic_heads
    emb, capf, _, _, socs, _ = _synthetic(seed=3, n=250)
    index, key_socs = heads.index, _synthetic()[4]  # the keys are the training rows
    for groups in ((None, None), (socs, key_socs)):  # inference, and leave-own-occupation-out training
        both = index.features(emb, ("exposure", "automation"), *groups)
        assert len(both) == 2
        for name, block in zip(("exposure", "automation"), both):
            np.testing.assert_array_equal(block, index.features(emb, name, *groups))
    p_exp, p_auto = heads.predict_proba(emb, capf)
    for name, p, head in (("exposure", p_exp, heads.exposure), ("automation", p_auto, heads.automation)):
        np.testing.assert_array_equal(p, head.predict_proba(head_features(emb, capf, index, name)))
    probs, auto = heads.predict(emb, capf)
    np.testing.assert_array_equal(probs, p_exp)
    np.testing.assert_allclose(auto, p_auto @ (np.arange(5) / 4), atol=1e-15)


@pytest.mark.slow
def test_training_is_deterministic(tmp_path):
    emb, capf, exposure, automation, socs, _ = _synthetic(n=200, groups=10)
    digests = []
    for run in range(2):
        heads = train_heads(emb, capf, exposure, automation, socs, strengths=(0.03, 0.3))
        heads.save(tmp_path / str(run))
        digests.append([hashlib.sha256((tmp_path / str(run) / f).read_bytes()).hexdigest()
                        for f in ("default.npz", "default.json")])
    assert digests[0] == digests[1]


def test_save_load_round_trip_and_checks(tmp_path, synthetic_heads):
    heads, fp = synthetic_heads
    path = heads.save(tmp_path, "syn")
    loaded = Heads.load(path)
    emb, capf, *_ = _synthetic(seed=3, n=50)
    for a, b in zip(heads.predict(emb, capf), loaded.predict(emb, capf)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    manifest = json.loads(path.read_text())
    assert manifest["weights"]["sha256"] == hashlib.sha256((tmp_path / "syn.npz").read_bytes()).hexdigest()
    assert manifest["heads"]["exposure"]["classes"] == list(EXPOSURE_CLASSES)
    assert manifest["heads"]["automation"]["classes"] == list(AUTOMATION_CLASSES)
    caps = CapabilitySet.load()
    loaded.check(FakeEncoder("fake", list(fp) + [0.0] * 40), caps)  # matches: no error
    with pytest.raises(HeadMismatchError, match=r"belongs to the encoder 'fake' \(dim 48\).*'other' \(dim 48\)"):
        loaded.check(FakeEncoder("other", [0.3] * 48), caps)
    with pytest.raises(HeadMismatchError, match=r"encoder 'fake' \(dim 48\), but the model uses 'wide' \(dim 64\)"):
        loaded.check(FakeEncoder("wide", [0.0] * 64), caps)
    tiny = CapabilitySet.from_dict({"name": "tiny", "version": "0.1.0", "description": "x",
                                    "technologies": {"llm": "x"},
                                    "capabilities": [{"id": "a", "technology": "llm", "statement": "Write."}]})
    with pytest.raises(HeadMismatchError, match=r"capability set 'default' v1\.1\.0 .* model uses 'tiny' v0\.1\.0"):
        loaded.check(FakeEncoder("fake", list(fp) + [0.0] * 40), tiny)


def test_damaged_or_missing_files(tmp_path, synthetic_heads):
    heads, _ = synthetic_heads
    path = heads.save(tmp_path, "syn")
    weights = tmp_path / "syn.npz"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(HeadFileError, match="checksum mismatch for syn.npz"):
        Heads.load(path)
    weights.unlink()
    with pytest.raises(HeadFileError, match="cannot read its weights"):
        Heads.load(path)
    with pytest.raises(HeadFileError, match="does not exist"):
        Heads.load(tmp_path / "nothing.json")
    with pytest.raises(HeadFileError, match="no shipped head named 'nope'"):
        Heads.load("nope")


def test_shipped_head_belongs_to_the_default_encoder_and_set(encoder):
    assert "default" in available_heads()
    heads = Heads.load()
    heads.check(encoder, CapabilitySet.load())
    manifest = heads.manifest
    assert manifest["encoder"]["fingerprint"] == pytest.approx(encoder_fingerprint(encoder), abs=1e-3)
    assert manifest["training"]["command"].startswith("python benchmarks/train_heads.py")
    assert set(manifest["training"]["data"]) == {"onet_tasks.tsv", "task_labels_train.tsv",
                                                 "occupation_ratings_train.csv"}
    assert "GPT-4" in manifest["heads"]["automation"]["trained_on"]
    for f in ("default.npz", "default.json"):
        assert os.path.getsize(_shipped(f)) < 2_000_000


def _shipped(name):
    from exposure._assets import shipped

    return str(shipped("heads") / name)


def test_predict_goes_through_in_blocks(synthetic_heads, monkeypatch):
    import exposure.heads as heads_module

    heads, _ = synthetic_heads
    emb, capf, _, _, _, _ = _synthetic(seed=5, n=50)
    whole = heads.predict(emb, capf)
    monkeypatch.setattr(heads_module, "PREDICT_BLOCK", 7)
    blocks = heads.predict(emb, capf)
    for a, b in zip(whole, blocks):  # float32 products may round differently for other row counts
        np.testing.assert_allclose(a, b, atol=1e-5)
    probs, auto = heads.predict(emb[:0], capf[:0])
    assert probs.shape == (0, 3) and auto.shape == (0,)


def test_exposure_classes_are_the_rubrics():
    from exposure import rubric

    assert EXPOSURE_CLASSES is rubric.EXPOSURE_CLASSES == ("E0", "E1", "E2")


def test_the_shipped_head_lists_the_occupations_it_was_trained_on():
    """The `labelled` flag of occupation tables comes from this list: it must be the label file's occupations."""
    heads = Heads.load()
    codes = heads.labelled_occupations
    assert len(codes) == heads.manifest["training"]["occupations"] == 715
    assert all(len(c) == 10 and c[2] == "-" and c[7] == "." for c in codes)
    labels = SHARED_DATA / "task_labels_train.tsv"
    if labels.is_file():
        import csv

        with open(labels, encoding="utf-8") as f:
            assert codes == {row["soc_code"] for row in csv.DictReader(f, delimiter="\t")}


# --------------------------------------------------------------------------- out of fold

def _fold_heads(emb, capf, exposure, automation, socs, n_folds=3):
    from exposure.heads import NeighbourIndex
    from exposure.training.heads import train_fold_heads

    index = NeighbourIndex.fit(emb, {"exposure": exposure, "automation": automation},
                               {"exposure": len(EXPOSURE_CLASSES), "automation": len(AUTOMATION_CLASSES)}, dim=8)
    return index, train_fold_heads(emb, capf, exposure, automation, socs, index, n_folds, strengths=(0.1,))


@pytest.mark.slow
def test_an_occupation_scored_out_of_fold_does_not_read_its_own_labels():
    from exposure.heads import LinearHead
    from exposure.stats import grouped_folds

    emb, capf, exposure, automation, socs, _ = _synthetic(n=240, groups=12)
    index, folds = _fold_heads(emb, capf, exposure, automation, socs)
    assert folds.n_folds == 3 and len(folds.occupation_fold) == 12
    for f, (_, te) in enumerate(grouped_folds(socs, 3)):  # the folds are grouped_folds', by occupation
        assert set(np.flatnonzero(folds.key_fold == f)) == set(te)
        assert {folds.occupation_fold[s] for s in socs[te]} == {f}
    heads = Heads(LinearHead(*[np.zeros(1)] * 4), LinearHead(*[np.zeros(1)] * 4), index, folds=folds)
    probs, auto, held_out = heads.predict_out_of_fold(emb, capf, socs)
    assert held_out.all() and probs.shape == (240, 3) and np.all((auto >= 0) & (auto <= 1))
    assert (probs.argmax(axis=1) == exposure).mean() > 0.8  # still a good prediction without its own labels

    # Turn every label of one occupation upside down and refit: its out-of-fold scores do not move, the
    # other folds' do (they read those labels as neighbours and trained on them).
    target = socs[0]
    mine = socs == target
    flipped_exp, flipped_auto = exposure.copy(), automation.copy()
    flipped_exp[mine], flipped_auto[mine] = 2 - exposure[mine], 4 - automation[mine]
    index2, folds2 = _fold_heads(emb, capf, flipped_exp, flipped_auto, socs)
    heads2 = Heads(heads.exposure, heads.automation, index2, folds=folds2)
    probs2, auto2, _ = heads2.predict_out_of_fold(emb, capf, socs)
    np.testing.assert_array_equal(probs2[mine], probs[mine])
    np.testing.assert_array_equal(auto2[mine], auto[mine])
    other = folds.key_fold != folds.occupation_fold[target]
    assert not np.allclose(probs2[other], probs[other])


def test_out_of_fold_rows_of_unlabelled_occupations_get_the_shipped_heads(synthetic_heads, tmp_path):
    heads, _ = synthetic_heads
    emb, capf, exposure, automation, socs, _ = _synthetic()
    _, folds = _fold_heads(emb, capf, exposure, automation, socs)
    from exposure.heads import FoldHeads

    # train_heads' index holds the same rows in the same order as _fold_heads' (same PCA: same data)
    with_folds = Heads(heads.exposure, heads.automation, heads.index, dict(heads.manifest), folds=folds)
    q_emb, q_capf, *_ = _synthetic(seed=4, n=40)
    codes = [socs[0]] * 10 + ["99-9999.00"] * 10 + [None] * 20
    probs, auto, held_out = with_folds.predict_out_of_fold(q_emb, q_capf, codes)
    assert held_out.tolist() == [True] * 10 + [False] * 30
    p_in, a_in = heads.predict(q_emb[10:], q_capf[10:])
    np.testing.assert_array_equal(probs[10:], p_in)
    np.testing.assert_array_equal(auto[10:], a_in)
    assert not np.allclose(probs[:10], heads.predict(q_emb[:10], q_capf[:10])[0])
    with pytest.raises(ValueError, match="got 40 rows of embeddings but 3 occupations"):
        with_folds.predict_out_of_fold(q_emb, q_capf, codes[:3])
    with pytest.raises(ValueError, match="no fold heads"):
        heads.predict_out_of_fold(q_emb, q_capf, codes)

    # saved and loaded: a second file, checked like the weights
    path = with_folds.save(tmp_path, "syn")
    manifest = json.loads(path.read_text())
    assert manifest["out_of_fold"]["file"] == "syn.folds.npz" and manifest["out_of_fold"]["folds"] == 3
    loaded = Heads.load(path)
    assert isinstance(loaded.folds, FoldHeads) and loaded.folds_checksum == with_folds.folds_checksum
    assert loaded.checksum == heads.checksum  # the fold heads leave the heads' own weights alone
    for a, b in zip(loaded.predict_out_of_fold(q_emb, q_capf, codes), (probs, auto, held_out)):
        np.testing.assert_allclose(a, b, atol=1e-5)  # float32 neighbour searches may round differently
    data = bytearray((tmp_path / "syn.folds.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "syn.folds.npz").write_bytes(bytes(data))
    with pytest.raises(HeadFileError, match="checksum mismatch for syn.folds.npz"):
        Heads.load(path)
    assert heads.folds_checksum is None


def test_fold_heads_need_their_own_index_rows():
    from exposure.heads import NeighbourIndex
    from exposure.training.heads import train_fold_heads

    emb, capf, exposure, automation, socs, _ = _synthetic(n=60, groups=6)
    index = NeighbourIndex.fit(emb[:50], {"exposure": exposure[:50], "automation": automation[:50]},
                               {"exposure": 3, "automation": 5}, dim=8)
    with pytest.raises(ValueError, match="the neighbour index's labelled tasks"):
        train_fold_heads(emb, capf, exposure, automation, socs, index, 3)
    with pytest.raises(ValueError, match="boolean mask over the 50 keys"):
        index.subset(np.ones(3, dtype=bool))


def test_the_shipped_head_has_fold_heads_for_every_labelled_occupation():
    heads = Heads.load()
    assert heads.folds is not None and heads.folds.n_folds == heads.manifest["out_of_fold"]["folds"] == 5
    assert set(heads.folds.occupation_fold) == heads.labelled_occupations
    assert heads.folds.key_fold.shape == (heads.index.keys.shape[0],)
    assert os.path.getsize(_shipped("default.folds.npz")) < 1_000_000
