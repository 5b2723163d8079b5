"""Job posting text -> units: clean lines, bullet lines and sentences, headers on their own.

A posting is a title plus a few thousand characters of text, of which only
about a quarter describes the work: the rest is requirements, the employer's
blurb, benefits, legal text, headers and application instructions. The first
step towards its duties is cutting it up: :func:`normalize` turns HTML or plain
text into clean lines (tags, entities, unicode, bullets, whitespace) and
:func:`segment` / :func:`split_units` cut the lines into units, one per bullet
line or sentence, headers on their own. Which units are duties is
:mod:`exposure.postings.classifier`; whether a posting is English,
:func:`exposure.language.is_english_posting`.

Text whose line breaks were lost, as in scraped postings ("QualificationsDoctor of
Veterinary Medicine degreeActive California License", "property.Investigates
complaints"), is cut where a line must have ended (:func:`_unglue`); sentences are
split by sentencex. Pure Python: no model, no numpy. The work on one line of text is
memoised in bounded caches (boilerplate recurs across postings); :func:`clear_caches`
empties them, and they never change a result.

>>> split_units("<p>About us: we build bridges.</p><h3>Responsibilities</h3>"
...             "<ul><li>Inspect welds</li><li>Write daily reports.</li></ul>")
['About us: we build bridges.', 'Responsibilities', 'Inspect welds', 'Write daily reports.']
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import List, Optional, Tuple

import sentencex

from ..language import CJK_RE

__all__ = ["Unit", "normalize", "segment", "split_units", "header_category", "is_header", "BULLET",
           "clear_caches"]

# Speed: the work that depends on one line of text only (cleaning a raw line, cutting a clean line into units,
# header categories) is memoised in bounded LRU caches of pure functions: boilerplate lines (the employer's blurb,
# benefits, legal text, headers) and duty lines recur across the postings of a batch. A cache never changes a
# result; clear_caches() empties them. CACHE_SIZE entries a cache (exposure.postings.classifier's too): about
# 15-35 MiB each when full, 100 MiB for the four large ones of the two modules together (realistic postings).
CACHE_SIZE = 50_000

# --------------------------------------------------------------------------- 1. normalise

# Tags after which text continues on a new line; <li> also opens a bullet.
_BLOCK_TAGS = frozenset("p div br li ul ol h1 h2 h3 h4 h5 h6 tr td th table section article header footer "
                        "blockquote dt dd hr pre title main aside nav form fieldset".split())
_SKIP_TAGS = frozenset(("script", "style", "head", "noscript", "template"))
_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
BULLET = "\u2022 "
# Leading list markers: symbols, "1." / "1)" / "(1)", "a)" / "(a)". A bare "a." is left alone
# because it also starts ordinary lines ("A. Smith"); "a." lists are rare in postings.
_BULLET_RE = re.compile(r"^(?:[\u2022\u00b7\u25aa\u25ab\u25cf\u25cb\u25e6\u25a0\u25a1\u2023\u2043\u2219\u27a2"
                        r"\u25ba\u25b8\u2192\u2713\u2714\u2611\u2605\u2606\uf0b7\uf0a7*+\-\u2013\u2014>]+"
                        r"|\(?\d{1,2}[.)\u3001](?!\d)|\(?[a-zA-Z]\)|\([ivxIVX]{1,4}\))\s*")
# Bullets run together on one line ("Lift boxes • Drive forklifts • Count stock").
_INLINE_BULLET_RE = re.compile(r"\s+[\u2022\u25aa\u25cf\u25e6\u25a0\u27a2\u25ba\uf0b7\u00b7]\s+"
                               # a middle dot or bullet glued to the end of the text before it ("duties· Drive")
                               r"|(?<=\S)[\u00b7\u2022\u25cf]\s+")
_INLINE_BULLET_CHARS = frozenset("\u2022\u25aa\u25cf\u00b7")
# Text whose line breaks were lost (as in scraped postings): a sentence glued to the next ("property.Investigates",
# "Inc.Acme"), a word glued to the capitalised next one ("collegeActive", "QualificationsDoctor"), or to a closing
# bracket or number ("(CBT)Emotionally"), a heading glued to an article ("Job descriptionA leading firm").
_GLUE_RE = re.compile(r"[A-Z](?:(?<=[a-z]{2}[.!?][A-Z])(?=[^\W\d_])"  # the capital first: a quick test
                      r"|(?<=[a-z]{3}[A-Z])(?=[a-z]{2})"
                      r"|(?<=[0-9)][A-Z])(?=[a-z]{2})"
                      r"|(?<=[a-z]{4}A)(?= [a-z]))")
# The words with a capital inside that are written that way (no glue to cut): products, names, brands.
_CAMEL_WORDS = frozenset("""
javascript typescript coffeescript powerpoint sharepoint powershell powerapps quickbooks linkedin youtube wordpress
github gitlab bitbucket solidworks hubspot devops devsecops mlops finops salesforce netsuite peoplesoft servicenow
bamboohr docusign smartsheet onedrive onenote facetime whatsapp tiktok doordash fedex autodesk autocad revit
mysql postgresql nosql mongodb dynamodb cloudformation cloudwatch bigquery databricks snowflake tableau
macbook iphone ipad ios macos emoney icontact systmone openai chatgpt deepmind mastercard paypal playstation
freshdesk zendesk workday successfactors concur netflix airbnb instacart doordash grubhub lyft uber
adobe photoshop indesign aftereffects premierepro illustrator xcode visualstudio vscode jquery nodejs
reactjs angularjs vuejs nextjs graphql restful springboot microstrategy looker powerbi qlikview qliksense
mcdonald mcdonalds mckinsey mcgraw mckesson macdonald walmart costco homedepot starbucks statefarm
""".split())
_LETTERS_END_RE = re.compile(r"[A-Za-z]+[.!?]?$")
_LETTERS_RE = re.compile(r"[A-Za-z]+")
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACE_RE = re.compile(r"[ \t\f\v]+")


class _TextExtractor(HTMLParser):
    """HTML -> text with a line break at every block tag and a bullet at every <li>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: List[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "li":
            self.parts.append("\n" + BULLET)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            # Inside HTML, source line breaks are layout, not structure.
            self.parts.append(data.replace("\n", " "))


# The markup the fast path of _strip_html takes: an end tag ("</p>") or a start tag with plain attributes
# ("<li>", "<br/>", '<p class="x">'), ASCII whitespace only. On such tags html.parser's tokenizer stops where this
# pattern stops, with the same tag name, so the fast path hands the extractor the same calls.
_TAG_WS = r"[ \t\n\r\f]"  # not \s, which also takes \v and unicode spaces
_TAG_NAME = r"[a-zA-Z][a-zA-Z0-9]*"
_TAG_ATTR = (rf"{_TAG_WS}+[a-zA-Z_:][-a-zA-Z0-9_:.]*"
             rf"""(?:{_TAG_WS}*={_TAG_WS}*(?:"[^"<>]*"|'[^'<>]*'|[-a-zA-Z0-9_:.]+(?={_TAG_WS}|>)))?""")
_SIMPLE_TAG_RE = re.compile(rf"<(?:/({_TAG_NAME}){_TAG_WS}*|({_TAG_NAME})(?:{_TAG_ATTR})*{_TAG_WS}*(/?))>")
# Tags whose content html.parser reads as raw text (script, style; newer Pythons also title, textarea...) or that
# the extractor skips: a text with any of them takes html.parser itself.
_RAW_TEXT_TAGS = frozenset(("script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
                            "noscript", "plaintext"))


def _strip_html(text: str) -> str:
    """HTML -> text, as :class:`_TextExtractor` gives it.

    Fast path: when every ``<`` in ``text`` opens a simple tag (:data:`_SIMPLE_TAG_RE`; no comment, doctype,
    stray ``<`` or raw-text element), one regex split finds the tags and the extractor's handlers get the calls
    that ``html.parser`` would make (data unescaped between tags); else ``html.parser`` parses it.
    """
    pieces = _SIMPLE_TAG_RE.split(text)  # data, (end tag, start tag, "/"), data, ...
    if len(pieces) // 4 != text.count("<"):
        return _parse_html(text)
    extractor = _TextExtractor()
    for k in range(1, len(pieces), 4):
        end, start = pieces[k], pieces[k + 1]
        if (start or end).lower() in _RAW_TEXT_TAGS:
            return _parse_html(text)
    for k in range(0, len(pieces), 4):
        data = pieces[k]
        if data:
            extractor.handle_data(html.unescape(data))
        if k + 1 < len(pieces):
            end, start, slash = pieces[k + 1], pieces[k + 2], pieces[k + 3]
            if end:
                extractor.handle_endtag(end.lower())
            elif slash:
                extractor.handle_startendtag(start.lower(), [])
            else:
                extractor.handle_starttag(start.lower(), [])
    return "".join(extractor.parts)


def _parse_html(text: str) -> str:
    """HTML -> text with ``html.parser``: any HTML, however malformed."""
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def normalize(text: str) -> str:
    """Clean posting text: one logical line per paragraph, bullet or header.

    HTML tags are removed (``<br>``, ``<p>``, ``<li>``, headings and other block
    tags become line breaks, ``<li>`` a bullet; scripts and styles are dropped),
    entities are decoded, the text is NFKC-normalised, zero-width characters
    go, every list marker (``•``, ``·``, ``▪``, ``-``, ``*``, ``1.``, ``a)``...)
    becomes ``"• "``, markdown emphasis and ``#`` headings are unwrapped, runs of
    spaces become one and blank lines are dropped.

    >>> normalize("<ul><li>Stock&nbsp;shelves</li><li>Greet  guests</li></ul>")
    '• Stock shelves\\n• Greet guests'
    >>> normalize("**Duties**\\n1) Drive routes\\n- Load trucks")
    'Duties\\n• Drive routes\\n• Load trucks'
    """
    return "\n".join(_clean_lines(text))


def _clean_lines(text: str) -> List[str]:
    """The lines of :func:`normalize`, as a list (none empty)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    if "<" in text and _TAG_RE.search(text):
        text = _strip_html(text)
    elif "&" in text:
        text = html.unescape(text)
    if text.isascii():
        # ASCII text is its own NFKC form and holds no zero-width character or unicode line break.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    else:
        text = unicodedata.normalize("NFKC", text)
        text = _ZERO_WIDTH_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\u0085", "\n")
    lines: List[str] = []
    for raw in text.split("\n"):
        lines.extend(_clean_line(raw))
    return lines


_HEADING_RE = re.compile(r"^#{1,6}\s+")
_EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")


@functools.lru_cache(maxsize=CACHE_SIZE)
def _clean_line(raw: str) -> Tuple[str, ...]:
    """One raw line (after HTML, entities, NFKC) -> its clean lines: inline bullets split, spaces, markdown and
    list markers done; none for a blank line, a bare marker or a ruler. A line in Chinese, Japanese or Korean is
    cut before each numbered item run into it ("1、负责... 2、审核...") and before a section header after a
    space ("... 岗位要求 1、...")."""
    lines = []
    pieces = _INLINE_BULLET_RE.split(raw) if not _INLINE_BULLET_CHARS.isdisjoint(raw) else [raw]
    if CJK_RE.search(raw):
        pieces = [part for piece in pieces for part in _CJK_ITEM_RE.split(piece) if part.strip()]
    if _GLUE_RE.search(raw):
        pieces = [part for piece in pieces for part in _unglue(piece)]
    for piece in pieces:
        # Each substitution only where it can change something (a run of spaces, tabs; "#"; "**", "__").
        line = (_SPACE_RE.sub(" ", piece) if "  " in piece or "\t" in piece or "\f" in piece or "\v" in piece
                else piece).strip()
        if line.startswith("#"):
            line = _HEADING_RE.sub("", line)
        if "**" in line or "__" in line:
            line = _EMPHASIS_RE.sub(r"\2", line)
        if not line:
            continue
        m = _BULLET_RE.match(line)
        # A marker alone ("-", "•") or glued to a word ("-Lift") still counts; "+1 555" and
        # "--" rulers do not.
        if m and m.end() < len(line) and not line[: m.end()].strip().startswith("--"):
            marker = line[: m.end()].strip()
            rest = line[m.end():].strip()
            if marker in ("+", ">") and not line[m.end() - 1].isspace():
                lines.append(line)
                continue
            line = BULLET + rest if rest else ""
        elif m and m.end() >= len(line):
            continue  # a bare marker or a ruler ("----", "***")
        if line:
            lines.append(line)
    return tuple(lines)


def _unglue(text: str) -> List[str]:
    """``text`` cut where its line breaks were lost (:data:`_GLUE_RE`), except inside the words written with a
    capital inside (:data:`_CAMEL_WORDS`) and in addresses (e-mail, web)."""
    cuts = []
    for m in _GLUE_RE.finditer(text):
        at = m.start()
        start = text.rfind(" ", 0, at) + 1
        end = text.find(" ", at)
        word = text[start:len(text) if end < 0 else end]
        if "@" in word or "://" in word or "www." in word.lower():
            continue
        left = _LETTERS_END_RE.search(text, start, at)
        right = _LETTERS_RE.match(text, at)
        whole = ((left.group() if left else "") + (right.group() if right else "")).lower()
        if whole in _CAMEL_WORDS or whole[:-1] in _CAMEL_WORDS:
            continue
        cuts.append(at)
    if not cuts:
        return [text]
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


# --------------------------------------------------------------------------- 2. split

_HAS_WORD_RE = re.compile(r"[^\W_]")
_FIGURE_RE = re.compile(r"[\d$%\u20ac\u00a3]")

# Section headers and the label their units usually carry. Order matters: first match wins.
_HEADER_PATTERNS = (
    ("LEGAL", r"equal (employment )?opportunit|\beeo\b|e-?verify|disclaimer|legal|accommodation|"
              r"privacy|notice to|affirmative action|pay transparency|fraud|"
              r"個人資料|个人资料|私隱|隐私|datenschutz|protection des données|protección de datos|rodo\b"),
    ("BENEFIT", r"benefit|perks|what we offer|we offer|compensation|\bpay\b|salary|wages?\b|total rewards|"
                r"why you.ll love|why (join|work)|^why\b|what.s in it for you|rewards|schedule|shifts?\b|hours|"
                r"福利|待遇|薪酬|薪金|我們提供|我们提供|wir bieten|das bieten wir|nous offrons|ofrecemos|oferujemy|"
                r"wij bieden|offriamo|oferecemos"),
    ("REQUIREMENT", r"requirement|qualification|what you(.ll| will)? (bring|need)|what we need|you might be a fit|skills|who you are|^about you|"
                    r"experience|education|preferred|nice to have|bonus points|must have|you have|"
                    r"looking for|ideal candidate|physical (demands|requirements)|licens|certification|"
                    r"competenc|knowledge|abilities|you might be|to be successful|what it takes|you.re a fit|"
                    r"your background|minimum|basic qualifications|working conditions|work environment|"
                    r"要求|資格|资格|條件|条件|资历|資歷|anforderungen|dein profil|ihr profil|votre profil|"
                    r"requisitos|wymagania|oczekujemy|requisiti|requisitos"),
    ("DUTY", r"responsibilit|duties|what you.ll (do|be doing)|what you will (do|be doing)|essential functions|"
             r"the role|the job|the position|about the (role|job|position|opportunity)|day[- ]to[- ]day|"
             r"your impact|job functions|key tasks|position summary|job summary|role summary|summary|"
             r"in this role|a typical day|your day|what.s the job|job description|overview|the work|"
             r"how you.ll contribute|your role|role description|what you.ll own|key accountabilities|"
             r"accountabilities|scope|the opportunity|purpose|nature of (the )?work|^definition|"
             r"工作內容|工作内容|職責|职责|職務|职务|工作範圍|工作范围|職位描述|职位描述|主要工作|"
             r"aufgaben|vos missions|missions principales|funciones|responsabilidades|zakres obowiązków|"
             r"obowiązki|mansioni|responsabilità|funções"),
    ("COMPANY", r"^about|who we are|our (story|mission|company|team|values|culture)|company|"
                r"^why us|^the team|^our|公司簡介|公司简介|關於我們|关于我们|über uns|qui sommes-nous|quiénes somos|o nas\b"),
    ("OTHER", r"selection process|hiring process|how to apply|to apply|apply|application|next steps|interview|details|location|job type|"
              r"contact|additional information|other information|position information|^notes?$|"
              r"requisition|posting|status|department|reports to|申請|申请|應徵|应聘|聯絡|联系|工作地點|工作地点|"
              r"bewerbung|postuler|candidatura|aplikuj"),
)
_HEADER_RES = tuple((cat, re.compile(p, re.IGNORECASE)) for cat, p in _HEADER_PATTERNS)
_HEADER_MAX_CHARS = 60
_HEADER_MAX_WORDS = 8
_CJK_HEADER_MAX_CHARS = 10
# "Responsibilities: Drive routes to customers..." -> a header unit plus the rest.
# Field names whose value is the unit ("Schedule: Monday to Friday, 8 a.m. to 5 p.m.").
_METADATA_HEADER_RE = re.compile(r"^(work |job |pay )?(schedule|shifts?|hours|pay|salary|wages?|rate|location|"
                                 r"type|status|department|reports to|compensation|start date)\b", re.IGNORECASE)
_INLINE_HEADER_RE = re.compile(r"^([A-Z][A-Za-z'\u2019/&() -]{2,40}):\s+(?=\S)")
# Where a line in Chinese runs numbered items or a section header into one another: before "2、", "3." or "(4)"
# after a space, a stop or a Chinese character, and before a known header word after a space.
_CJK_ITEM_RE = re.compile(r"(?:(?<=[\s;,:\u3002\u3400-\u9fff])|^)(?=\(?\d{1,2}[.)\u3001](?!\d))"
                          r"|(?<=\s)(?=(?:岗位|崗位|职位|職位|任职|任職|工作|福利|薪资|薪資|待遇|公司|申请|申請)"
                          r"[\u3400-\u9fff]{0,4}(?:\s|:))")
# "岗位职责:负责..." -> a header unit plus the rest (Chinese, Japanese, Korean: no space after the colon).
_CJK_INLINE_HEADER_RE = re.compile("^([\u3400-\u9fff\uac00-\ud7af]{2,8}):\\s*(?=\\S)")
# sentencex's languages besides English that a posting may be read in (others are cut by the English rules).
_SENTENCE_LANGUAGES = frozenset("ar de es fr it ja ko nl pl pt ru th tr zh".split())


@dataclass(frozen=True)
class Unit:
    """One unit of a posting: a bullet line, a sentence or a header.

    ``bullet``: the unit was a list item. ``header``: it looks like a section
    header ("Responsibilities:", "What you'll do", "ABOUT US"). ``line``: the
    index of the normalised line it came from.
    """

    text: str
    bullet: bool = False
    header: bool = False
    line: int = 0


@functools.lru_cache(maxsize=CACHE_SIZE)
def header_category(text: str) -> Optional[str]:
    """The label that units under this header usually carry, or ``None`` if ``text`` is no known header.

    >>> header_category("What you'll do"), header_category("About Acme"), header_category("Drive a van.")
    ('DUTY', 'COMPANY', None)
    """
    t = text.strip().rstrip(":").strip()
    if not t or len(t) > _HEADER_MAX_CHARS:
        return None
    for cat, rx in _HEADER_RES:
        if rx.search(t):
            return cat
    return None


def is_header(text: str, bullet: bool = False) -> bool:
    """Whether a unit is a section header ("Responsibilities:", "ABOUT US", "Benefits"), not content."""
    t = text.strip()
    if len(t) > _HEADER_MAX_CHARS or len(t.split()) > _HEADER_MAX_WORDS or not _HAS_WORD_RE.search(t):
        return False
    if t.endswith(":"):
        return True
    if t[-1] in ".!;," or bullet:
        return False
    if CJK_RE.search(t):  # one "word" to str.split: a short known header phrase, without a stop
        return len(t) <= _CJK_HEADER_MAX_CHARS and t[-1] not in "。?" and header_category(t) is not None
    letters = [c for c in t if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return True  # "RESPONSIBILITIES", "ABOUT US"
    # A known header phrase on a short line of its own; figures mean content ("Pay $20/hr").
    return (len(t.split()) <= 6 and not _FIGURE_RE.search(t) and ":" not in t
            and header_category(t) is not None)


def _split_sentences(text: str, language: str = "en") -> List[str]:
    """The sentences of a paragraph, by sentencex (Wikimedia's rule-based splitter, MIT, many languages): inside
    this segmentation on hand-labelled real postings its units match the annotators' as well as those of pysbd,
    blingfire, syntok and this module's former rules, and it is among the fastest
    (``benchmarks/results/segmentation.md``). A sentence never ends inside a word: sentencex cuts "VB.Net" and
    "www.Example" at the stop, and those pieces are joined again (text glued at a real sentence end was cut
    before, by :func:`_unglue`)."""
    out: List[str] = []
    glued = False  # the last piece ended inside a word ("VB.|Net", "www.|Example"): no sentence ends there
    cjk = CJK_RE.search(text) is not None
    if language not in _SENTENCE_LANGUAGES:
        language = "zh" if cjk and language != "en" else "en"
    pieces = sentencex.segment(language, text)
    if cjk:  # Chinese lists run on with semicolons: "负责...;协助...;"
        pieces = [p for piece in pieces for p in re.split(r"(?<=;)", piece)]
    for piece in pieces:
        if glued and out:
            out[-1] += piece
        else:
            out.append(piece)
        glued = bool(piece) and not piece[-1].isspace() and not cjk  # Chinese has no spaces between sentences
    return [s for s in (piece.strip() for piece in out) if s]


def _logical_lines(lines: List[str]) -> List[str]:
    """Re-join lines that a hard wrap cut mid-sentence (next line starts lower case, previous has no stop)."""
    out: List[str] = []
    for line in lines:
        if (out and line[:1].islower() and not line.startswith(BULLET)
                and out[-1][-1:] not in ".!?:;"):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


@functools.lru_cache(maxsize=CACHE_SIZE)
def _line_units(line: str, language: str = "en") -> Tuple[Tuple[str, bool, bool], ...]:
    """The units of one logical line as ``(text, bullet, header)``: a pure function of the line and the posting's
    language, memoised."""
    bullet = line.startswith(BULLET)
    body = line[len(BULLET):] if bullet else line
    units = []
    m = _INLINE_HEADER_RE.match(body)
    # Only when a sentence follows, outside lists: "Pay: $25/hr", "About us: we build." and
    # "- Nice to have: Kafka" stay whole.
    rest = body[m.end():] if m else ""
    if (m and not bullet and header_category(m.group(1)) is not None and len(m.group(1).split()) <= 5
            and not _METADATA_HEADER_RE.match(m.group(1))
            and rest[:1].isupper() and len(rest.split()) >= 4):
        units.append((f"{m.group(1)}:", False, True))
        body = rest
    for sentence in _split_sentences(body, language):
        if language != "en":
            m = _CJK_INLINE_HEADER_RE.match(sentence)
            if m and header_category(m.group(1)) is not None and len(sentence) > m.end():
                units.append((f"{m.group(1)}:", False, True))
                sentence = sentence[m.end():]
        if _HAS_WORD_RE.search(sentence):
            units.append((sentence, bullet, is_header(sentence, bullet)))
    return tuple(units)


def segment(text: str, language: str = "en") -> List[Unit]:
    """Cut a posting into units: each bullet line, each sentence of a paragraph, each header.

    Deterministic, rule-based (regular expressions and sentencex). Text whose line
    breaks were lost is cut where they were ("collegeActive License",
    "records.Investigates"); a bullet line stays one unit unless it holds several
    full sentences; outside lists, a known header followed by a colon and a sentence
    ("Duties: Drive delivery routes each day.") becomes a header unit and the
    sentence; units with no letter or digit are dropped. ``language`` (ISO 639-1): the posting's language;
    sentences are cut by that language's rules, Chinese lists at semicolons too, and Chinese section headers
    run on with their first sentence ("岗位职责:负责...") are cut off; English is cut as it always was.

    >>> [(u.text, u.bullet, u.header) for u in segment("What you'll do\\n- Drive routes\\nWe pay well. Apply now!")]
    [("What you'll do", False, True), ('Drive routes', True, False), ('We pay well.', False, False), ('Apply now!', False, False)]
    """
    return [_unit(t, b, h, i) for i, line in enumerate(_logical_lines(_clean_lines(text)))
            for t, b, h in _line_units(line, language)]


def _unit(text: str, bullet: bool, header: bool, line: int) -> Unit:
    """``Unit(text, bullet, header, line)``, made without the frozen dataclass's ``__init__`` (which sets each
    field through ``object.__setattr__``): the same object, equal and with the same hash, at half the cost."""
    unit = object.__new__(Unit)
    fields = unit.__dict__
    fields["text"], fields["bullet"], fields["header"], fields["line"] = text, bullet, header, line
    return unit


def split_units(text: str) -> List[str]:
    """The unit texts of :func:`segment`: bullet lines and sentences, headers as units of their own.

    >>> split_units("Responsibilities:\\n• Greet guests\\n• Keep the lobby clean\\nWe are an equal opportunity "
    ...             "employer. Apply at jobs.example.com.")
    ['Responsibilities:', 'Greet guests', 'Keep the lobby clean', 'We are an equal opportunity employer.', 'Apply at jobs.example.com.']
    """
    return [u.text for u in segment(text)]


def clear_caches() -> None:
    """Empty this module's memo caches (cleaned lines, units of a line, header categories); results do not
    change."""
    for cached in (_clean_line, _line_units, header_category):
        cached.cache_clear()
