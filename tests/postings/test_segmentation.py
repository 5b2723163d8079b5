"""exposure.postings.segmentation and .classifier: normalising and splitting postings, the labelled postings,
the unit classifier."""

import json
import pickle
import re
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

import exposure.postings.classifier as unit_features
import exposure.postings.segmentation as segmentation
from exposure.language import is_english_posting
from exposure.postings import (CONTEXT_FEATURES, LABELS, Unit, UnitClassifier, context_features, find_duties,
                               hashed_features, header_category, normalize, read_postings, segment, split_units)

from helpers import POSTINGS, ROOT, generated_postings

DATA = POSTINGS


def _jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _postings():
    return _jsonl(DATA / "postings.jsonl")


def _labels():
    return {d["id"]: d["labels"] for d in _jsonl(DATA / "labels.jsonl")}


@pytest.fixture(scope="module")
def classifier(encoder):
    return UnitClassifier.load(encoder=encoder)


# --------------------------------------------------------------------------- normalise and split

def test_html_list_paragraphs_and_entities():
    html = ("<div><h3>About&nbsp;us</h3><p>We build bridges &amp; roads.<br>Since 1990.</p>"
            "<ul><li>Inspect welds</li><li><b>Write</b> daily reports</li></ul><script>var x = 1;</script></div>")
    assert normalize(html) == "About us\nWe build bridges & roads.\nSince 1990.\n• Inspect welds\n• Write daily reports"
    assert split_units(html) == ["About us", "We build bridges & roads.", "Since 1990.", "Inspect welds",
                                 "Write daily reports"]


@pytest.mark.parametrize("marker", ["•", "·", "▪", "-", "*", "–", "1.", "2)", "(3)", "a)", "➢", "✓"])
def test_bullet_markers(marker):
    assert segment(f"Duties\n{marker} Load trucks\n{marker} Count stock") == [
        Unit("Duties", header=True, line=0), Unit("Load trucks", bullet=True, line=1),
        Unit("Count stock", bullet=True, line=2)]


def test_prose_becomes_sentences_and_abbreviations_hold():
    text = ("Acme Corp. was founded by Dr. J. Smith in the U.S. in 1990. You will drive routes, e.g. to Reno. "
            "You'll load trucks! Questions? Call 555-0100.")
    assert split_units(text) == ["Acme Corp. was founded by Dr. J. Smith in the U.S. in 1990.",
                                 "You will drive routes, e.g. to Reno.", "You'll load trucks!", "Questions?",
                                 "Call 555-0100."]


def test_headers_are_units_and_bullets_stay_whole():
    text = ("WHAT YOU'LL DO\n- Drive a forklift without a full stop\nResponsibilities: Sort parcels by route. "
            "Scan every label.\nPay: $20/hr\n- Nice to have: Kafka experience\nWhat you'll bring")
    units = segment(text)
    assert [u.text for u in units] == ["WHAT YOU'LL DO", "Drive a forklift without a full stop", "Responsibilities:",
                                       "Sort parcels by route.", "Scan every label.", "Pay: $20/hr",
                                       "Nice to have: Kafka experience", "What you'll bring"]
    assert [u.header for u in units] == [True, False, True, False, False, False, False, True]
    assert header_category("What you'll bring") == "REQUIREMENT" and header_category("About Acme") == "COMPANY"
    assert header_category("Drive a forklift to the dock every day.") is None


def test_unicode_markdown_wrapped_lines_and_rulers():
    text = ("**Ｂｅｎｅｆｉｔｓ**\u200b\r\n\n● Dental\u00a0plan  •  Vision plan\n-----\n"
            "The ideal candidate has\nstrong communication skills.\n## Apply")
    assert split_units(text) == ["Benefits", "Dental plan", "Vision plan",
                                 "The ideal candidate has strong communication skills.", "Apply"]


def test_split_is_deterministic_and_cheap_on_empty_input():
    text = _postings()[0]["text"]
    assert split_units(text) == split_units(text)
    assert split_units("") == [] and split_units("  \n<p></p>\n---") == []
    with pytest.raises(TypeError, match="text must be str"):
        normalize(None)


# --------------------------------------------------------------------------- labelled postings

def test_labelled_postings_cover_every_unit():
    postings, labels = _postings(), _labels()
    assert len(postings) >= 40 and len({p["soc_code"][:2] for p in postings}) >= 12
    assert len({p["id"] for p in postings}) == len(postings) and set(labels) == {p["id"] for p in postings}
    for p in postings:
        units = split_units(p["text"])
        missing = [u for u in units if u not in labels[p["id"]]]
        assert not missing, f"{p['id']}: units without a label (rerun tests/data/postings/build.py): {missing}"
        assert set(labels[p["id"]].values()) <= set(LABELS)
        assert len(p["soc_code"]) == 7 and p["soc_code"][2] == "-"


# --------------------------------------------------------------------------- features and classifier

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
    for p in _postings():
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
    assert manifest["prefilter"]["cv_duty_recall"] >= 0.98


def test_classifier_labels_clear_units(classifier):
    units = segment("About Us\nAcme Freight is a family-owned trucking company founded in 1962.\n"
                    "Responsibilities\n- Load and unload trailers at the dock\n- Inspect brakes and tires before "
                    "each trip\nQualifications\n- Valid Class A CDL and 2 years of experience\nBenefits\n"
                    "- Medical, dental and vision insurance\n- 401(k) with company match\n"
                    "Acme Freight is an equal opportunity employer and participates in E-Verify.\n"
                    "To apply, send your resume to jobs@acme.example.")
    pred = classifier.predict(units)
    assert pred.labels == ["OTHER", "COMPANY", "OTHER", "DUTY", "DUTY", "OTHER", "REQUIREMENT", "OTHER",
                           "BENEFIT", "BENEFIT", "LEGAL", "OTHER"]
    assert pred.duties == ["Load and unload trailers at the dock", "Inspect brakes and tires before each trip"]
    assert pred.probabilities.shape == (12, 6) and np.allclose(pred.probabilities.sum(1), 1, atol=1e-5)
    # Only what the first stage keeps is encoded, and the duties' embeddings come along for scoring.
    assert pred.encoded.sum() == pred.embeddings.shape[0] < len(units)
    assert pred.duty_embeddings.shape == (2, 384)


def test_prefilter_never_drops_a_labelled_duty(classifier):
    labels = _labels()
    kept_duties = dropped = total = 0
    for p in _postings():
        units = segment(p["text"])
        keep = classifier.keep(units)
        truth = np.array([labels[p["id"]][u.text] == "DUTY" for u in units])
        assert keep[truth].all(), f"{p['id']}: first stage drops {[u.text for u, k in zip(units, keep) if not k]}"
        kept_duties += truth.sum()
        dropped += (~keep).sum()
        total += len(units)
    assert dropped / total > 0.5  # and it saves most of the encoding


def test_predict_with_given_embeddings_and_batches_agree(classifier, encoder):
    texts = [p["text"] for p in _postings()[:3]]
    batch = read_postings(texts, classifier)
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


# --------------------------------------------------------------------------- generator

def test_generator_is_deterministic_with_the_right_schema(tmp_path):
    script = ROOT / "benchmarks" / "generate_postings.py"
    paths = []
    for name in ("a.parquet", "b.parquet"):
        subprocess.run([sys.executable, str(script), "50", "-o", str(tmp_path / name), "--seed", "3"], check=True,
                       capture_output=True)
        paths.append(tmp_path / name)
    a, b = (pq.read_table(p) for p in paths)
    assert a.equals(b) and a.column_names == ["id", "title", "description"] and a.num_rows == 50
    assert len(set(a["id"].to_pylist())) == 50
    lengths = [len(t) for t in a["description"].to_pylist()]
    assert 1500 < np.median(lengths) < 5500
    units = [len(split_units(t)) for t in a["description"].to_pylist()[:10]]
    assert 35 <= min(units) and max(units) <= 85
    subprocess.run([sys.executable, str(script), "5", "-o", str(tmp_path / "c.jsonl"), "--seed", "3"], check=True,
                   capture_output=True)
    rows = _jsonl(tmp_path / "c.jsonl")
    assert [r["id"] for r in rows] == a["id"].to_pylist()[:5]


# --------------------------------------------------------------------------- front end: fast paths and memo caches
# is_english_posting, normalize/segment, hashed_features and context_features run per posting before anything is
# encoded, so they have fast paths (ASCII text, simple HTML) and memoise per-line and per-unit work. Neither may
# change a result: these tests hold them to the straightforward computations (is_english_posting's shortcut past
# the model: tests/test_language.py).

@pytest.fixture(scope="module")
def front_end_texts():
    """The labelled postings and 300 generated postings of each style (HTML, markdown, bullets, prose, unicode)."""
    texts = [p["text"] for p in _postings()]
    for style in ("realistic", "templated"):
        texts += [p["description"] for p in generated_postings(300, seed=0, style=style)]
    return texts


def _front_end(text, verbs):
    units = segment(text)
    return (is_english_posting(text), normalize(text), units, *hashed_features(units),
            context_features(units, verbs))


def _assert_same(a, b):
    assert a[:3] == b[:3]
    for x, y in zip(a[3:], b[3:]):
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


def test_memo_caches_do_not_change_results(front_end_texts):
    clf = UnitClassifier.load()
    fresh = []
    for text in front_end_texts:  # every posting computed from empty caches
        unit_features.clear_caches()
        fresh.append(_front_end(text, clf.verbs))
    unit_features.clear_caches()
    for _ in range(2):  # then through caches that fill as they go, and from full ones
        for text, want in zip(front_end_texts, fresh):
            _assert_same(_front_end(text, clf.verbs), want)
    rng = np.random.default_rng(1)
    for text, want in zip(front_end_texts, fresh):
        units, full = want[2], want[-1]
        keep = clf.keep(units)
        assert np.array_equal(context_features(units, clf.verbs, rows=keep), full[keep])
        idx = rng.permutation(len(units))[: len(units) // 3]
        assert np.array_equal(context_features(units, clf.verbs, rows=idx), full[idx])
        if keep.any():
            texts = [u.text for u in units]  # plain texts take the other path of _as_units
            assert np.array_equal(context_features(texts, clf.verbs, rows=keep),
                                  context_features([Unit(t, header=segmentation.is_header(t), line=i)
                                                    for i, t in enumerate(texts)], clf.verbs)[keep])


def test_units_made_fast_equal_units_made_plainly():
    fast, plain = segmentation._unit("Drive routes", True, False, 3), Unit("Drive routes", bullet=True, line=3)
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert pickle.loads(pickle.dumps(fast)) == plain and vars(fast) == vars(plain)
    with pytest.raises(AttributeError):
        fast.text = "Load trucks"  # still frozen


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


HTML_EDGE_CASES = [
    '<P CLASS="a">Upper&nbsp;case</P><BR/><br /><LI>one<li>two</ul >',
    "<p>a &am<b>p; b</b> &amp c &#8226; d &notanentity; e</p>",
    "<a href=x/>glued</a><a href=x />spaced</a><input disabled/><p b =  'y' >q</p>",
    "<p\u00a0class=x>nbsp in a tag</p><p\tclass=x\n>tab</p>",
    "<div>a < b and c > d</div>", "<p>x</p><!-- comment --><p>y</p>", "<!DOCTYPE html><html><body>z</body></html>",
    "<script>var s = '<li>x</li>';</script><p>after</p>", "<style>p {}</style><head><title>T</title></head>text",
    "<template><li>hidden</li></template><noscript>ns</noscript><p>shown</p>", "<head><li>skipped</li></head>kept",
    "<p>Unclosed <b>bold <i>ital</p><p>end &", "<br/ >stray<br/><p/>", "<x-y>custom</x-y><p>ok</p>",
    "<p>line\nbreak\r\nin data</p>", "<li>one</li>\n<li>two &amp; three</li>",
]


def test_html_fast_path_matches_html_parser(front_end_texts):
    pages = [t for t in front_end_texts if segmentation._TAG_RE.search(t)] + HTML_EDGE_CASES
    fast = 0
    for page in pages:
        assert segmentation._strip_html(page) == segmentation._parse_html(page), page[:200]
        fast += len(segmentation._SIMPLE_TAG_RE.split(page)) // 4 == page.count("<")
    assert fast > len(pages) // 2  # the generated HTML takes the fast path
