"""exposure.postings.segmentation: normalising and splitting postings into units, the labelled postings' units,
the fast paths."""

import pickle

import pytest

import exposure.postings.segmentation as segmentation
from exposure.postings import LABELS, Unit, header_category, normalize, segment, split_units

from helpers import labelled_rows, unit_labels


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
    text = labelled_rows()[0]["text"]
    assert split_units(text) == split_units(text)
    assert split_units("") == [] and split_units("  \n<p></p>\n---") == []
    with pytest.raises(TypeError, match="text must be str"):
        normalize(None)


# --------------------------------------------------------------------------- labelled postings

def test_labelled_postings_cover_every_unit():
    postings, labels = labelled_rows(), unit_labels()
    assert len(postings) >= 40 and len({p["soc_code"][:2] for p in postings}) >= 12
    assert len({p["id"] for p in postings}) == len(postings) and set(labels) == {p["id"] for p in postings}
    for p in postings:
        units = split_units(p["text"])
        missing = [u for u in units if u not in labels[p["id"]]]
        assert not missing, f"{p['id']}: units without a label (rerun tests/data/postings/build.py): {missing}"
        assert set(labels[p["id"]].values()) <= set(LABELS)
        assert len(p["soc_code"]) == 7 and p["soc_code"][2] == "-"


# --------------------------------------------------------------------------- fast paths
# normalize/segment run per posting before anything is encoded, so they have fast paths (ASCII text, simple HTML)
# and memoise per-line work. Neither may change a result: these tests hold them to the straightforward
# computations (the memo caches of the whole front end: test_frontend.py).

def test_units_made_fast_equal_units_made_plainly():
    fast, plain = segmentation._unit("Drive routes", True, False, 3), Unit("Drive routes", bullet=True, line=3)
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert pickle.loads(pickle.dumps(fast)) == plain and vars(fast) == vars(plain)
    with pytest.raises(AttributeError):
        fast.text = "Load trucks"  # still frozen


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


# --------------------------------------------------------------------------- text whose line breaks were lost

def test_run_together_text_is_cut_where_its_line_breaks_were():
    text = ("QualificationsDoctor of Veterinary Medicine degree from an accredited collegeActive California "
            "LicenseExperience with small animal care. Reviews property records.Investigates complaints about "
            "values.Job descriptionA leading clinic seeks help. RESPONSIBILITIES· Greet clients · Answer phones")
    assert split_units(text) == [
        "Qualifications", "Doctor of Veterinary Medicine degree from an accredited college",
        "Active California License", "Experience with small animal care.", "Reviews property records.",
        "Investigates complaints about values.", "Job description", "A leading clinic seeks help.",
        "RESPONSIBILITIES", "Greet clients", "Answer phones"]


@pytest.mark.parametrize("text", [
    "Build slides in PowerPoint and SharePoint for the JavaScript team.",
    "Post jobs on LinkedIn and YouTube; track them in QuickBooks.",
    "Meet with Dr. Smith at St. Louis headquarters in the U.S. each week.",
    "Use VB.Net, ASP.NET and Node.js daily.",
])
def test_words_with_a_capital_inside_and_addresses_stay_whole(text):
    assert split_units(text) == [text]


def test_addresses_are_not_cut():
    text = "Write to Jane.Doe@ExampleCorp.com or see https://ExampleCorp.com/JobsBoard today."
    assert segmentation._unglue(text) == [text]
    assert split_units("Apply at www.ExampleCorp.com today. Or call us.") == ["Apply at www.ExampleCorp.com today.",
                                                                             "Or call us."]
