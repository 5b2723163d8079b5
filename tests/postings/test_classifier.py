"""exposure.postings.classifier: hashed and context features, the two-stage unit classifier, its shipped model."""

import json
import re

import numpy as np
import pytest

import exposure.postings.classifier as unit_features
from exposure.postings import (CONTEXT_FEATURES, LABELS, UnitClassifier, context_features, find_duties, hashed_features,
                               read_postings, segment)

from helpers import ROOT, labelled_rows, unit_labels


@pytest.fixture(scope="module")
def classifier(encoder):
    return UnitClassifier.load(encoder=encoder)


def test_context_features_follow_headers():
    f = context_features(["Benefits", "Dental plan", "Duties:", "Load trucks"], verbs={"load"})
    col = {name: i for i, name in enumerate(CONTEXT_FEATURES)}
    assert f.shape == (4, len(CONTEXT_FEATURES)) and f.dtype == np.float32
    assert f[1, col["under_benefit"]] == 1 and f[3, col["under_duty"]] == 1 and f[0, col["under_none"]] == 1
    assert f[3, col["verb_first"]] == 1 and f[1, col["verb_first"]] == 0
    idx, off = hashed_features(["Load trucks", ""])
    assert off[-1] == len(idx) and np.all(idx < 1 << 18)
    with pytest.raises(ValueError, match="power of two"):
        hashed_features(["x"], 1000)


def test_context_features_of_some_rows_equal_those_rows_of_all():
    # predict_many computes only the rows the first stage keeps; positional features still see every unit.
    clf = UnitClassifier.load()
    rng = np.random.default_rng(0)
    for p in labelled_rows():
        units = segment(p["text"])
        full = context_features(units, clf.verbs)
        keep = clf.keep(units)
        assert np.array_equal(context_features(units, clf.verbs, rows=keep), full[keep])
        idx = rng.permutation(len(units))[: len(units) // 3]
        assert np.array_equal(context_features(units, clf.verbs, rows=idx), full[idx])
        assert np.array_equal(context_features(units, clf.verbs, rows=idx.tolist()), full[idx])
    units = ["Duties:", "Load trucks", "Count stock"]
    assert context_features(units, rows=[]).shape == (0, len(CONTEXT_FEATURES))
    assert context_features(units, rows=np.zeros(3, bool)).shape == (0, len(CONTEXT_FEATURES))
    with pytest.raises(ValueError, match="one entry per unit"):
        context_features(units, rows=[True, False])
    with pytest.raises(ValueError, match="must index the 3 units"):
        context_features(units, rows=[0, 3])
    with pytest.raises(TypeError, match="boolean mask or a 1-d list"):
        context_features(units, rows=[0.5])


def test_manifest_records_training():
    manifest = json.loads((ROOT / "models" / "units" / "manifest.json").read_text())
    assert manifest["encoder"] == {"name": "all-MiniLM-L6-v2", "dim": 384}
    assert manifest["labels"] == list(LABELS) and manifest["training_command"].startswith("python benchmarks/")
    assert manifest["cv"]["pipeline"]["DUTY"]["f1"] >= 0.85
    assert manifest["prefilter"]["cv_duty_recall"] >= 0.95  # the floor the threshold is chosen above


def test_classifier_labels_clear_units(classifier, encoder):
    units = segment("About Us\nAcme Freight is a family-owned trucking company founded in 1962.\n"
                    "Responsibilities\n- Load and unload trailers at the dock\n- Inspect brakes and tires before "
                    "each trip\nQualifications\n- Valid Class A CDL and 2 years of experience\nBenefits\n"
                    "- Medical, dental and vision insurance\n- 401(k) with company match\n"
                    "Acme Freight is an equal opportunity employer and participates in E-Verify.\n"
                    "To apply, send your resume to jobs@acme.example.")
    pred = classifier.predict(units, encoder=encoder)
    assert pred.labels == ["OTHER", "COMPANY", "OTHER", "DUTY", "DUTY", "OTHER", "REQUIREMENT", "OTHER",
                           "BENEFIT", "BENEFIT", "LEGAL", "OTHER"]
    assert pred.duties == ["Load and unload trailers at the dock", "Inspect brakes and tires before each trip"]
    assert pred.probabilities.shape == (12, 6) and np.allclose(pred.probabilities.sum(1), 1, atol=1e-5)
    # Only what the first stage keeps is encoded, and the duties' embeddings come along for scoring.
    assert pred.encoded.sum() == pred.embeddings.shape[0] < len(units)
    assert pred.duty_embeddings.shape == (2, 384)


def test_prefilter_never_drops_a_labelled_duty(classifier):
    labels = unit_labels()
    kept_duties = dropped = total = 0
    for p in labelled_rows():
        units = segment(p["text"])
        keep = classifier.keep(units)
        truth = np.array([labels[p["id"]][u.text] == "DUTY" for u in units])
        assert keep[truth].all(), f"{p['id']}: first stage drops {[u.text for u, k in zip(units, keep) if not k]}"
        kept_duties += truth.sum()
        dropped += (~keep).sum()
        total += len(units)
    assert dropped / total > 0.5  # and it saves most of the encoding


@pytest.mark.slow
def test_predict_with_given_embeddings_and_batches_agree(classifier, encoder):
    texts = [p["text"] for p in labelled_rows()[:3]]
    batch = read_postings(texts, classifier, encoder)
    for text, posting in zip(texts, batch):
        assert posting.duties == find_duties(text, encoder, classifier)
        units = segment(text)
        full = classifier.predict(units, embeddings=encoder.encode([u.text for u in units]))
        assert full.encoded.all()
        kept = posting.encoded
        assert [a for a, k in zip(full.labels, kept) if k] == [a for a, k in zip(posting.labels, kept) if k]
    with pytest.raises(ValueError, match=r"must be \(2, 384\)"):
        classifier.predict(["a", "b"], embeddings=np.zeros((2, 10), np.float32))


def test_wrong_encoder_is_refused():
    class Other:
        name, dim = "sentence-transformers/all-mpnet-base-v2", 768

    with pytest.raises(ValueError, match=r"trained on embeddings from 'all-MiniLM-L6-v2' \(384 dims\).*"
                                         r"all-mpnet-base-v2' \(768 dims\)"):
        UnitClassifier.load(encoder=Other())
    with pytest.raises(ValueError, match="no unit classifier in"):
        UnitClassifier.load(ROOT / "tests")
    with pytest.raises(ValueError, match="no encoder"):
        UnitClassifier.load().predict(["Load trucks"])


def test_hashed_features_are_the_hash_tokens_of_each_unit(front_end_texts):
    # hashed_features builds its rows from memoised bytes; _hash_tokens is the definition.
    unicode_units = ["Führen Sie Gespräche mit Kunden", "You’ll drive • naïve café routes", "İSTANBUL ofisi:",
                     "Ｄｕｔｉｅｓ", "\u212aelvin scale", "", "42"]
    mask = (1 << 12) - 1
    for units in [segment(t) for t in front_end_texts[::2]] + [unicode_units]:
        units = unit_features._as_units(units)
        idx, off = hashed_features(units, mask + 1)
        contexts, n = unit_features._contexts(units), len(units)
        assert idx.dtype == off.dtype == np.int64 and off[-1] == len(idx)
        for i, u in enumerate(units):
            want = [h & mask for h in unit_features._hash_tokens(u, contexts[i], i / max(n - 1, 1))]
            assert idx[off[i]:off[i + 1]].tolist() == want


def test_cues_on_lower_cased_ascii_text_agree(front_end_texts):
    # The fast path matches each cue case-sensitively on the lower-cased text: no cue may have an upper-case
    # letter of its own (escapes such as \b, \w, \u2019 aside).
    for name, pattern in unit_features._CUES:
        assert not re.search("[A-Z]", re.sub(r"\\.", "", pattern)), name
    # The union of the word-list cues is exact only if each is r"\b(" ... ")" with every "|" inside the group.
    for name in unit_features._WORD_LIST_CUES:
        pattern = dict(unit_features._CUES)[name]
        assert pattern.startswith(r"\b(?:"), name
        depth, outside = 0, re.sub(r"\\.", "", pattern[len(r"\b"):])
        for c in outside:
            depth += {"(": 1, ")": -1}.get(c, 0)
            assert not (c == "|" and depth == 0), name
    texts = sorted({u.text.strip() for t in front_end_texts for u in segment(t) if u.text.isascii()})
    texts += [f(t) for t in texts[::5] for f in (str.upper, str.title, str.swapcase)]
    texts += ["YOU WILL PERFORM DUTIES", "Pay: $25/HR", "401(K) and DENTAL", "We Serve", "E-VERIFY", "req 123"]
    for text in texts:
        assert unit_features._ascii_text_flags(text, text.lower()) == unit_features._text_flags(text), text


def test_adjacent_marks_encoded_neighbours():
    keep = np.array([True, True, False, True, True, False])
    np.testing.assert_array_equal(unit_features.adjacent(keep),
                                  [[False, True], [True, False], [False, True], [True, False]])
    assert unit_features.adjacent(np.zeros(3, bool)).shape == (0, 2)


def test_the_second_stage_reads_the_neighbours_it_is_given(classifier, encoder):
    assert classifier.neighbours  # the shipped model reads them
    units = segment("Duties:\n- Load trucks\n- Count stock\nWe offer dental.")
    keep = np.ones(len(units), bool)
    emb = encoder.encode([u.text for u in units])
    ctx = classifier.context(units, keep)
    with pytest.raises(ValueError, match="neighbouring units"):
        classifier.second_stage(emb, ctx)
    alone = classifier.second_stage(emb, ctx, np.zeros((len(units), 2), bool))
    together = classifier.second_stage(emb, ctx, unit_features.adjacent(keep))
    assert not np.allclose(alone, together)
    # the reference: one product with the features side by side, absent neighbours as zero rows
    zero = np.zeros((1, emb.shape[1]), np.float32)
    x = np.hstack([emb, np.vstack([zero, emb[:-1]]), np.vstack([emb[1:], zero]), ctx])
    z = x @ classifier.coef.T + classifier.intercept
    np.testing.assert_allclose(together, np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(
        1, keepdims=True), atol=1e-5)
    # each row depends on its own neighbours only: the same rows computed posting by posting
    rows = [classifier.second_stage(emb[a:b], ctx[a:b], unit_features.adjacent(keep[a:b])) for a, b in ((0, 2), (2, 4))]
    both = classifier.second_stage(emb, ctx, np.vstack([unit_features.adjacent(keep[0:2]),
                                                        unit_features.adjacent(keep[2:4])]))
    np.testing.assert_allclose(both, np.vstack(rows), atol=1e-6)
