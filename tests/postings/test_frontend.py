"""exposure.postings.frontend.prepare: the statuses it gives, the language check above all (no encoder needed);
the front end's memo caches never change a result."""

import logging

import numpy as np
import pytest

import exposure.postings.classifier as unit_features
import exposure.postings.frontend as frontend
import exposure.postings.segmentation as segmentation
from exposure.language import is_english_posting
from exposure.postings import Unit, UnitClassifier, context_features, hashed_features, normalize, prepare, segment

from helpers import GERMAN, generated_postings

# Real postings of scraped corpora are often lower-cased keyword fragments without function words.
KEYWORD_ENGLISH = [
    "warehouse associate forklift certified pallet jack inventory counts shipping receiving osha safety",
    "registered nurse icu acute care patient assessment medication administration epic charting bls acls required",
    "software engineer python django rest apis postgresql aws docker kubernetes ci cd agile scrum",
    "line cook prep station grill fryer food safety servsafe high volume kitchen weekends nights\n"
    "- prep vegetables proteins sauces\n- operate grill fryer flat top\n- clean sanitize station close",
]
OTHER_LANGUAGES = [
    GERMAN,
    "Nous recherchons un préparateur de commandes pour notre entrepôt de Lyon. Vous serez chargé de la réception "
    "des marchandises et du chargement des camions.",
    "Buscamos un auxiliar de almacén para nuestro centro logístico en Madrid. Sus funciones serán la recepción de "
    "mercancía y la preparación de pedidos.",
    "Wij zoeken een magazijnmedewerker voor ons distributiecentrum in Tilburg. Je bent verantwoordelijk voor het "
    "ontvangen van goederen en het verzamelen van orders.",
    "Poszukujemy pracownika magazynu do naszego centrum dystrybucyjnego w Poznaniu. Do obowiązków należy "
    "przyjmowanie towaru i kompletacja zamówień.",
    "负责仓库货物的收发、盘点和日常管理工作，按照要求完成出入库操作。持有叉车证者优先。",
    "lagermitarbeiter vollzeit warenannahme kommissionierung versand staplerschein schichtarbeit",
    "auxiliar almacén recepción mercancía preparación pedidos inventario carretilla elevadora",
]


@pytest.fixture(scope="module")
def classifier():
    return UnitClassifier.load()


@pytest.fixture(scope="module")
def english():
    return generated_postings(1, seed=7, style="realistic")[0]["description"]


def test_keyword_style_english_postings_are_prepared(classifier):
    got = prepare(KEYWORD_ENGLISH, classifier)
    assert got.status == ["ok"] * len(KEYWORD_ENGLISH)
    assert got.n_units.tolist()[-1] == 4


def test_postings_in_other_languages_are_non_english(classifier):
    got = prepare(OTHER_LANGUAGES, classifier)
    assert got.status == ["non_english"] * len(OTHER_LANGUAGES)
    assert got.n_units.tolist() == [0] * len(OTHER_LANGUAGES) and got.kept == [[]] * len(OTHER_LANGUAGES)


def test_a_mixed_posting_goes_by_its_majority(classifier, english):
    german = " ".join([GERMAN] * 10)
    mostly_english = english[:2000] + "\n\n" + german[:800]
    mostly_german = english[:800] + "\n\n" + german[:2000]
    assert prepare([mostly_english, mostly_german], classifier).status == ["ok", "non_english"]


def test_the_language_is_judged_on_the_text_as_cut(classifier, english):
    german = " ".join([GERMAN] * 100)
    assert len(english) < 6000 < len(german)
    got = prepare([english + "\n\n" + german, german + "\n\n" + english], classifier, max_chars=len(english))
    assert got.status == ["truncated", "non_english"]  # non_english wins over truncated


def test_a_failing_language_check_is_an_error_for_that_posting_only(classifier, monkeypatch, caplog):
    def check(text):
        if "boom" in text:
            raise RuntimeError("model broke")
        return "en"

    monkeypatch.setattr(frontend, "posting_language", check)
    with caplog.at_level(logging.WARNING, logger="exposure.postings.frontend"):
        got = prepare(["Duties:\n- Load trucks", "boom boom", "Duties:\n- Count stock"], classifier)
    assert got.status == ["ok", "error", "ok"]
    assert "posting 1 of the batch could not be read or cut into units (RuntimeError: model broke): status 'error'" \
        in caplog.text


# --------------------------------------------------------------------------- memo caches
# is_english_posting, normalize/segment, hashed_features and context_features run per posting before anything is
# encoded, so they memoise per-line and per-unit work; the caches may not change a result (is_english_posting's
# shortcut past the model: tests/test_language.py).

def _front_end(text, verbs):
    units = segment(text)
    return (is_english_posting(text), normalize(text), units, *hashed_features(units),
            context_features(units, verbs))


def _assert_same(a, b):
    assert a[:3] == b[:3]
    for x, y in zip(a[3:], b[3:]):
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.mark.slow
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
