"""exposure.postings.frontend.prepare: the statuses it gives, the language check above all (no encoder needed)."""

import logging

import pytest

import exposure.postings.frontend as frontend
from exposure.postings import UnitClassifier, prepare

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
        return True

    monkeypatch.setattr(frontend, "is_english_posting", check)
    with caplog.at_level(logging.WARNING, logger="exposure.postings.frontend"):
        got = prepare(["Duties:\n- Load trucks", "boom boom", "Duties:\n- Count stock"], classifier)
    assert got.status == ["ok", "error", "ok"]
    assert "posting 1 of the batch could not be read or cut into units (RuntimeError: model broke): status 'error'" \
        in caplog.text

