"""exposure.language: is a task statement or a job posting English? py3langid, with a threshold and windows."""

import re

import pytest

import exposure.language as language
from exposure.language import MIN_ENGLISH, SAMPLE_CHARS, WINDOW_CHARS, is_english, is_english_posting

from helpers import GERMAN, generated_postings

# English postings as scraped corpora hold them: lower-cased keyword fragments, the function words stripped.
KEYWORD_ENGLISH = [
    "warehouse associate forklift certified pallet jack inventory counts shipping receiving osha safety",
    "registered nurse icu acute care patient assessment medication administration epic charting bls acls required",
    "cdl class a driver otr regional routes hazmat endorsement clean mvr dot physical home weekly",
    "line cook prep station grill fryer food safety servsafe high volume kitchen weekends nights",
    "software engineer python django rest apis postgresql aws docker kubernetes ci cd agile scrum",
    "customer service representative inbound calls billing inquiries crm data entry call center bilingual plus",
    "electrician journeyman commercial conduit bending panel installation troubleshooting nec code license",
    "accounts payable specialist invoice processing vendor reconciliation quickbooks month end close excel",
    "hvac technician residential service calls install maintenance epa certification refrigerant diagnostics",
    "maintenance mechanic plc troubleshooting hydraulics pneumatics preventive maintenance welding manufacturing plant",
    "janitor custodian cleaning restrooms floors trash removal buffing waxing night shift",
    "welder mig tig fabrication blueprint reading structural steel aws certification grinding",
    "machinist cnc mill lathe setup gd&t micrometers calipers first article inspection",
    "caregiver home health aide personal care bathing meal preparation companionship transportation",
    "production worker assembly line packaging quality checks lifting 50 lbs rotating shifts",
    "housekeeper hotel rooms linen changes vacuuming restocking amenities",
    "network engineer cisco routing switching firewalls vpn troubleshooting ccna",
    "order picker warehouse voice picking pallets building loads productivity rates",
]

# Short postings, two to four sentences, in other languages.
NON_ENGLISH = {
    "de": GERMAN,
    "de2": "Wir suchen ab sofort einen Lagermitarbeiter (m/w/d) in Vollzeit. Zu Ihren Aufgaben gehören die "
           "Warenannahme, die Kommissionierung und der Versand. Ein Staplerschein ist von Vorteil.",
    "fr": "Nous recherchons un préparateur de commandes pour notre entrepôt de Lyon. Vous serez chargé de la "
          "réception des marchandises, de la préparation des commandes et du chargement des camions. Le CACES 1 "
          "est un atout.",
    "es": "Buscamos un auxiliar de almacén para nuestro centro logístico en Madrid. Sus funciones serán la recepción "
          "de mercancía, la preparación de pedidos y el control de inventario. Se valorará experiencia con "
          "carretilla elevadora.",
    "nl": "Je ontwikkelt nieuwe functionaliteiten voor ons platform en schrijft onderhoudbare code. Je werkt in een "
          "klein team en denkt mee over de architectuur. Ervaring met TypeScript is gewenst.",
    "pl": "Jako pielęgniarka będziesz odpowiedzialna za opiekę nad pacjentami, podawanie leków oraz prowadzenie "
          "dokumentacji medycznej. Oferujemy umowę o pracę i pakiet medyczny.",
    "it": "Il candidato svilupperà nuove funzionalità per le nostre applicazioni web e parteciperà alla revisione "
          "del codice. È richiesta esperienza con JavaScript e database relazionali.",
    "pt": "Como técnico de manutenção, será responsável pela manutenção preventiva e corretiva dos equipamentos da "
          "fábrica. Oferecemos contrato efetivo e seguro de saúde.",
    "sv": "Vi söker en lagerarbetare till vårt lager i Göteborg. Du kommer att arbeta med godsmottagning, plock och "
          "packning av order. Truckkort är meriterande.",
    "zh": "负责设备的日常维护和保养工作，编写维修报告并协助生产部门解决技术问题。",
    "ru": "Требуется кладовщик на склад. Обязанности: приемка и отгрузка товара, учет остатков, работа с "
          "документами. Опыт работы от одного года.",
}

# Keyword postings in other languages.
KEYWORD_OTHER = [
    "lagermitarbeiter vollzeit warenannahme kommissionierung versand staplerschein schichtarbeit",
    "pflegefachkraft grundpflege behandlungspflege dokumentation dienstplan unbefristet tarifliche vergütung",
    "zerspanungsmechaniker cnc fräsen drehen qualitätskontrolle rüsten schichtbetrieb",
    "berufskraftfahrer führerschein klasse ce nahverkehr tagestouren ladungssicherung",
    "auxiliar almacén recepción mercancía preparación pedidos inventario carretilla elevadora",
    "enfermero atención pacientes administración medicamentos historia clínica contrato indefinido",
    "cocinero cocina mediterránea elaboración platos control existencias limpieza higiene",
    "dependienta tienda caja atención cliente reposición jornada completa",
    "préparateur commandes entrepôt réception marchandises chargement camions caces cdi",
    "verpleegkundige interne geneeskunde zorgplannen medicatie rapportage cao ziekenhuizen",
]

_STOP_WORDS = frozenset("""a about after all also an and any are as at be been being both but by can could do does each
for from has have he her his how i if in into is it its may more most no not of on or other our over s she should so
some such than that the their them then there these they this those through to under up using was we were what when
where which while who will with would you your""".split())


def keywords(text):
    """``text`` as a keyword list: lower-cased words, function words and numbers out."""
    return " ".join(w for w in re.findall(r"[a-z0-9&+#/-]+", text.lower()) if w not in _STOP_WORDS
                    and not w.isdigit())


@pytest.fixture(scope="module")
def generated():
    return [p["description"] for style in ("realistic", "templated")
            for p in generated_postings(150, seed=4, style=style)]


def test_keyword_postings_are_english():
    assert all(map(is_english_posting, KEYWORD_ENGLISH))
    assert is_english_posting(" ".join(KEYWORD_ENGLISH))  # a long one: three windows, each keywords


@pytest.mark.slow
def test_keyword_postings_from_every_occupations_tasks_are_english():
    from exposure.occupations import load_tasks

    tasks = load_tasks("29.1")
    by_occupation = {}
    for title, task in zip(tasks["occupation_title"].to_pylist(), tasks["task"].to_pylist()):
        by_occupation.setdefault(title, [title]).append(task)
    texts = [keywords(" ".join(t)) for t in by_occupation.values()]
    assert len(texts) > 900 and all(len(t) > 200 for t in texts)
    assert all(map(is_english_posting, texts))
    assert all(is_english_posting(keywords(t[0] + " " + t[1])) for t in by_occupation.values())  # short ones


def test_generated_postings_are_english_as_written_and_as_keywords(generated):
    assert all(map(is_english_posting, generated))
    assert all(is_english_posting(keywords(t)) for t in generated)


@pytest.mark.slow
def test_every_task_statement_reads_as_english_by_the_posting_check_too():
    from exposure.occupations import load_tasks

    for release in ("27", "29.1"):
        assert all(map(is_english_posting, load_tasks(release)["task"].to_pylist())), release


@pytest.mark.parametrize("lang", sorted(NON_ENGLISH))
def test_postings_in_other_languages_are_not(lang):
    text = NON_ENGLISH[lang]
    assert not is_english_posting(text)
    assert not is_english_posting(" ".join([text] * 8))  # long: every window
    # Markup is blanked first: English tag and attribute names do not count.
    html = ('<div class="job-description"><h3 style="font-weight:bold">&nbsp;</h3><ul>'
            + "".join(f"<li><strong>{s}</strong></li>" for s in text.split(". ")) + "</ul></div>")
    assert not is_english_posting(html)


def test_keyword_postings_in_other_languages_are_not():
    assert not any(map(is_english_posting, KEYWORD_OTHER))


def test_the_majority_decides_a_mixed_posting(generated):
    english, german = generated[0][:2000], " ".join([NON_ENGLISH["de2"], GERMAN] * 6)
    assert is_english_posting(english[:1400] + "\n\n" + german[:600])
    assert is_english_posting(german[:600] + "\n\n" + english[:1400])
    assert not is_english_posting(english[:600] + "\n\n" + german[:1400])
    assert not is_english_posting(german[:1400] + "\n\n" + english[:600])
    # Windows at 0, 850 and 1701 of 2001 characters: two English, one German, each about a third of the letters.
    assert language._english_share(english[:1300] + " " + german[:700]) == pytest.approx(2 / 3, abs=0.05)


def test_too_short_to_tell_counts_as_english():
    assert is_english_posting("Ops mgr") and is_english_posting("") and is_english_posting("<p>&nbsp;</p> 42")
    assert language._english_share("12345 67890") == 1.0


def test_windows_are_bounded_and_spread_over_the_text(generated):
    text = max(generated, key=len)
    assert len(text) > 3 * SAMPLE_CHARS
    windows = language._windows(text, SAMPLE_CHARS)
    assert len(windows) == SAMPLE_CHARS // WINDOW_CHARS and sum(map(len, windows)) <= SAMPLE_CHARS
    assert text.startswith(windows[0]) and text.rstrip().endswith(windows[-1].rstrip())
    assert windows[1] in text[len(text) // 3: 2 * len(text) // 3 + WINDOW_CHARS]
    for w in windows:  # no window starts or ends inside a word
        i = text.index(w)
        assert i == 0 or text[i - 1].isspace() or w[0].isspace()
        assert i + len(w) == len(text) or text[i + len(w)].isspace() or w[-1].isspace()
    assert language._windows("short text", SAMPLE_CHARS) == ["short text"]
    assert [len(w) for w in language._windows("x" * 1000, 200)] == [200]  # sample under a window: one of it
    # A text under the sample is read whole, window after window.
    assert "".join(language._windows("ab " * 250, SAMPLE_CHARS)) == "ab " * 250


def test_the_function_word_shortcut_agrees_with_the_model(generated):
    # Windows the shortcut calls English (no model) are English by the model too; other languages never take it.
    ident = language._identifier()
    taken = 0
    texts = generated + [" ".join([t] * 6) for t in NON_ENGLISH.values()]
    for text in texts:
        for window in language._windows(language._MARKUP_RE.sub(" ", text), SAMPLE_CHARS):
            words = language._LETTER_RUN_RE.findall(window.lower())
            shortcut = len(words) >= language.FUNCTION_WORD_MIN_WORDS and \
                sum(w in language._FUNCTION_WORDS for w in words) >= language.FUNCTION_WORD_SHARE * len(words)
            english = dict(ident.rank(window)).get("en", 0.0) >= MIN_ENGLISH
            assert not shortcut or english, window
            taken += shortcut
    assert taken > len(generated)  # the shortcut is the common path for prose postings


def test_the_task_statement_check_is_unchanged():
    assert is_english(["Inspect finished parts for defects.", "Soldar vigas de acero en obras de construcción.",
                       "Ops mgr"]) == [True, False, True]


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(TypeError, match="is_english_posting takes a str, got NoneType"):
        is_english_posting(None)
    with pytest.raises(TypeError, match="is_english_posting takes a str, got bytes"):
        is_english_posting(b"Load trucks")
    for sample in (1.5, True, "900", None):
        with pytest.raises(TypeError, match=rf"sample must be an int \(a number of characters\), got "
                                            rf"{type(sample).__name__}"):
            is_english_posting("Load trucks", sample=sample)
    for sample in (0, -5):
        with pytest.raises(ValueError, match=f"sample must be at least 1 character, got {sample}"):
            is_english_posting("Load trucks", sample=sample)
    assert is_english_posting("Load trucks", sample=1)
