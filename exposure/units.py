"""Job postings -> units (bullet lines and sentences) -> which units are duties.

A posting is a title plus a few thousand characters of text, of which only
about a quarter describes the work: the rest is requirements, the employer's
blurb, benefits, legal text, headers and application instructions. This module
finds the duties, in three steps:

1. :func:`normalize` turns HTML or plain text into clean lines (tags, entities,
   unicode, bullets, whitespace) and :func:`segment` / :func:`split_units` cut
   the lines into units: one per bullet line or sentence, headers on their own.
2. A cheap first stage (hashed word n-grams plus the header each unit sits
   under, a linear model in numpy) drops obvious boilerplate before anything
   is encoded: encoding dominates the cost.
3. The units that pass are embedded with :class:`~exposure.encoder.Encoder` and
   labelled by a multinomial logistic regression over the embedding and cheap
   context features (header context, position, length, verb-first, bullet,
   keywords): ``DUTY``, ``REQUIREMENT``, ``COMPANY``, ``BENEFIT``, ``LEGAL``
   or ``OTHER``.

:func:`looks_english` is the cheap language check made before a posting is cut.
Scoring the duties and aggregating them per posting is :mod:`exposure.postings`.

The model files live in ``models/units`` (``exposure.models.units`` when
installed); ``benchmarks/train_unit_classifier.py`` trains them on the
synthetic labelled postings in ``tests/data/postings``.

>>> split_units("<p>About us: we build bridges.</p><h3>Responsibilities</h3>"
...             "<ul><li>Inspect welds</li><li>Write daily reports.</li></ul>")
['About us: we build bridges.', 'Responsibilities', 'Inspect welds', 'Write daily reports.']
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Union

import numpy as np

from ._assets import shipped

if TYPE_CHECKING:  # the encoder pulls in torch; segmentation and the cheap stage must not
    from .encoder import Encoder

__all__ = ["LABELS", "Unit", "normalize", "segment", "split_units", "header_category", "UnitClassifier",
           "UnitPredictions", "Posting", "read_postings", "find_duties", "looks_english"]

LABELS = ("DUTY", "REQUIREMENT", "COMPANY", "BENEFIT", "LEGAL", "OTHER")

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
                        r"|\(?\d{1,2}[.)](?!\d)|\(?[a-zA-Z]\)|\([ivxIVX]{1,4}\))\s*")
# Bullets run together on one line ("Lift boxes • Drive forklifts • Count stock").
_INLINE_BULLET_RE = re.compile(r"\s+[\u2022\u25aa\u25cf\u25e6\u25a0\u27a2\u25ba\uf0b7]\s+")
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


def _strip_html(text: str) -> str:
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
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    if _TAG_RE.search(text):
        text = _strip_html(text)
    elif "&" in text:
        import html

        text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = _ZERO_WIDTH_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\u0085", "\n")
    lines = []
    for raw in text.split("\n"):
        for piece in _INLINE_BULLET_RE.split(raw) if "\u2022" in raw or "\u25aa" in raw or "\u25cf" in raw else (raw,):
            line = _SPACE_RE.sub(" ", piece).strip()
            line = re.sub(r"^#{1,6}\s+", "", line)
            line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
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
    return "\n".join(lines)


# --------------------------------------------------------------------------- 2. split

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset("""
e.g i.e etc vs inc co corp ltd llc dr mr mrs ms jr sr st ave blvd rd no nos approx dept est min max
a.m p.m u.s u.s.a jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
ph.d m.d r.n b.s b.a m.s m.b.a hr fig pp ext tel incl assoc univ mt ft lbs oz yrs
""".split())
_SENTENCE_END_RE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9$])")
_HAS_WORD_RE = re.compile(r"[^\W_]")
_FIGURE_RE = re.compile(r"[\d$%\u20ac\u00a3]")

# Section headers and the label their units usually carry. Order matters: first match wins.
_HEADER_PATTERNS = (
    ("LEGAL", r"equal (employment )?opportunit|\beeo\b|e-?verify|disclaimer|legal|accommodation|"
              r"privacy|notice to|affirmative action|pay transparency|fraud"),
    ("BENEFIT", r"benefit|perks|what we offer|we offer|compensation|\bpay\b|salary|wages?\b|total rewards|"
                r"why you.ll love|why (join|work)|^why\b|what.s in it for you|rewards|schedule|shifts?\b|hours"),
    ("REQUIREMENT", r"requirement|qualification|what you(.ll| will)? (bring|need)|what we need|you might be a fit|skills|who you are|^about you|"
                    r"experience|education|preferred|nice to have|bonus points|must have|you have|"
                    r"looking for|ideal candidate|physical (demands|requirements)|licens|certification|"
                    r"competenc|knowledge|abilities|you might be|to be successful|what it takes|you.re a fit|"
                    r"your background|minimum|basic qualifications|working conditions|work environment"),
    ("DUTY", r"responsibilit|duties|what you.ll (do|be doing)|what you will (do|be doing)|essential functions|"
             r"the role|the job|the position|about the (role|job|position|opportunity)|day[- ]to[- ]day|"
             r"your impact|job functions|key tasks|position summary|job summary|role summary|summary|"
             r"in this role|a typical day|your day|what.s the job|job description|overview|the work|"
             r"how you.ll contribute|your role|role description|what you.ll own|key accountabilities|"
             r"accountabilities|scope|the opportunity|purpose|nature of (the )?work|^definition"),
    ("COMPANY", r"^about|who we are|our (story|mission|company|team|values|culture)|company|"
                r"^why us|^the team|^our"),
    ("OTHER", r"selection process|hiring process|how to apply|to apply|apply|application|next steps|interview|details|location|job type|"
              r"contact|additional information|other information|position information|^notes?$|"
              r"requisition|posting|status|department|reports to"),
)
_HEADER_RES = tuple((cat, re.compile(p, re.IGNORECASE)) for cat, p in _HEADER_PATTERNS)
_HEADER_MAX_CHARS = 60
_HEADER_MAX_WORDS = 8
# "Responsibilities: Drive routes to customers..." -> a header unit plus the rest.
# Field names whose value is the unit ("Schedule: Monday to Friday, 8 a.m. to 5 p.m.").
_METADATA_HEADER_RE = re.compile(r"^(work |job |pay )?(schedule|shifts?|hours|pay|salary|wages?|rate|location|"
                                 r"type|status|department|reports to|compensation|start date)\b", re.IGNORECASE)
_INLINE_HEADER_RE = re.compile(r"^([A-Z][A-Za-z'\u2019/&() -]{2,40}):\s+(?=\S)")


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


def _is_header(text: str, bullet: bool) -> bool:
    t = text.strip()
    if len(t) > _HEADER_MAX_CHARS or len(t.split()) > _HEADER_MAX_WORDS or not _HAS_WORD_RE.search(t):
        return False
    if t.endswith(":"):
        return True
    if t[-1] in ".!;," or bullet:
        return False
    letters = [c for c in t if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return True  # "RESPONSIBILITIES", "ABOUT US"
    # A known header phrase on a short line of its own; figures mean content ("Pay $20/hr").
    return (len(t.split()) <= 6 and not _FIGURE_RE.search(t) and ":" not in t
            and header_category(t) is not None)


def _split_sentences(text: str) -> List[str]:
    out, start = [], 0
    for m in _SENTENCE_END_RE.finditer(text):
        if m.group(0).startswith("."):
            # The word before the stop: an abbreviation or an initial ("J. Smith") does not end a sentence.
            word = text[start:m.start()].rsplit(None, 1)[-1] if text[start:m.start()].strip() else ""
            word = word.lstrip("(\"'\u201c").lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        piece = text[start:m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _logical_lines(norm: str) -> List[str]:
    """Re-join lines that a hard wrap cut mid-sentence (next line starts lower case, previous has no stop)."""
    lines: List[str] = []
    for line in norm.split("\n"):
        if (lines and not line.startswith(BULLET) and line[:1].islower()
                and lines[-1][-1:] not in ".!?:;"):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return lines


def segment(text: str) -> List[Unit]:
    """Cut a posting into units: each bullet line, each sentence of a paragraph, each header.

    Deterministic, regex-only. A bullet line stays one unit unless it holds
    several full sentences; outside lists, a known header followed by a colon
    and a sentence ("Duties: Drive delivery routes each day.") becomes a header
    unit and the sentence; units with no letter or digit are dropped.

    >>> [(u.text, u.bullet, u.header) for u in segment("What you'll do\\n- Drive routes\\nWe pay well. Apply now!")]
    [("What you'll do", False, True), ('Drive routes', True, False), ('We pay well.', False, False), ('Apply now!', False, False)]
    """
    units: List[Unit] = []
    for i, line in enumerate(_logical_lines(normalize(text))):
        bullet = line.startswith(BULLET)
        body = line[len(BULLET):] if bullet else line
        m = _INLINE_HEADER_RE.match(body)
        # Only when a sentence follows, outside lists: "Pay: $25/hr", "About us: we build." and
        # "- Nice to have: Kafka" stay whole.
        rest = body[m.end():] if m else ""
        if (m and not bullet and header_category(m.group(1)) is not None and len(m.group(1).split()) <= 5
                and not _METADATA_HEADER_RE.match(m.group(1))
                and rest[:1].isupper() and len(rest.split()) >= 4):
            units.append(Unit(f"{m.group(1)}:", bullet=False, header=True, line=i))
            body = body[m.end():]
        for sentence in _split_sentences(body):
            if _HAS_WORD_RE.search(sentence):
                units.append(Unit(sentence, bullet=bullet, header=_is_header(sentence, bullet), line=i))
    return units


def split_units(text: str) -> List[str]:
    """The unit texts of :func:`segment`: bullet lines and sentences, headers as units of their own.

    >>> split_units("Responsibilities:\\n• Greet guests\\n• Keep the lobby clean\\nWe are an equal opportunity "
    ...             "employer. Apply at jobs.example.com.")
    ['Responsibilities:', 'Greet guests', 'Keep the lobby clean', 'We are an equal opportunity employer.', 'Apply at jobs.example.com.']
    """
    return [u.text for u in segment(text)]


# --------------------------------------------------------------------------- 3. features

_WORD_RE = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")
_YOU_WILL_RE = re.compile(r"^(?:(?:in this role|as an? [\w -]+|each day|daily|you will also|you'll also),? )?"
                          r"(?:you(?:'ll| will)|will|the \w+(?: \w+)? will)\s+(?:also\s+)?(\w+)", re.IGNORECASE)
# Cheap, hand-written cues; the model learns how much each is worth.
_CUES = (
    ("you_will", r"\byou(?:'ll|\u2019ll| will)\b(?! (?:report|be home|receive|get|enjoy|earn|join))"),
    ("responsible", r"\bresponsib|\bduties\b|\bperform(?:s|ing)?\b"),
    ("money", r"\$\s?\d|\bper (?:hour|year|mile)\b|/h(?:ou)?r\b|\bsalary\b|\bwage|\bpay\b|\bbonus"),
    ("benefit_words", r"\b(?:401\(?k|403\(?b|dental|vision|insurance|pto|paid time off|holidays?|vacation|"
                      r"discount|stipend|tuition|pension|parental leave|retirement|perks?)\b"),
    ("legal_words", r"\b(?:equal (?:employment )?opportunity|eeo|e-?verify|sponsor|background (?:check|investigation)|"
                    r"drug|discriminat|race|religion|disabilit|veteran|accommodation|protected|affirmative action|"
                    r"authorized to work|fair chance|privacy|fraud|itar|citizen)"),
    ("req_words", r"\b(?:years?(?: of)? experience|experience (?:in|with)|degree|diploma|ged|licen[cs]e|certifi|"
                  r"required|preferred|a plus|ability to|able to|must|knowledge of|proficien|skills?\b|familiar)"),
    ("company_words", r"^(?:we|our|founded|since|for (?:more than|over))\b|\b(?:founded|headquartered|our mission|"
                      r"employees|locations|family-owned|nonprofit|non-profit|customers across|serves?|serving)\b"),
    ("apply_words", r"\b(?:apply|applicants?|applications?|resume|cv|cover letter|click|email|e-mail|call|text|"
                    r"interview|careers? (?:page|site))\b"),
    ("metadata", r"^(?:location|job type|schedule|shift|status|department|reports to|req\b|full[- ]time|part[- ]time)"
                 r"|\|| \u00b7 "),
    ("we_our", r"^(?:we|our|us)\b"),
    ("third_person", r"^(?:the \w+(?: \w+)?|officers|servers|teachers|they)\s+(?:will\s+)?\w+s?\b"),
)
_CUE_RES = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in _CUES)
_CONTEXTS = ("NONE",) + LABELS
CONTEXT_FEATURES = (tuple(f"under_{c.lower()}" for c in _CONTEXTS)
                    + ("is_header", "bullet", "position", "first", "last_tenth", "log_chars", "words",
                       "since_header", "verb_first", "verb_after_will", "ends_colon", "ends_stop", "has_digit")
                    + tuple(f"cue_{n}" for n, _ in _CUES))


def _as_units(units: Sequence[Union[str, Unit]]) -> List[Unit]:
    out = []
    for i, u in enumerate(units):
        if isinstance(u, Unit):
            out.append(u)
        elif isinstance(u, str):
            out.append(Unit(u, bullet=False, header=_is_header(u, False), line=i))
        else:
            raise TypeError(f"units[{i}] is {type(u).__name__}, expected str or Unit")
    return out


def _contexts(units: Sequence[Unit]) -> List[str]:
    """For each unit, the category of the nearest header above it (``"NONE"`` before the first one)."""
    out, current = [], "NONE"
    for u in units:
        out.append(current)
        if u.header:
            current = header_category(u.text) or "OTHER"
    return out


def _is_verb(word: str, verbs: frozenset) -> bool:
    if word in verbs:
        return True
    # Third person ("Performs", "Supervises") and gerunds ("Assisting") of a task verb.
    return ((word.endswith("s") and word[:-1] in verbs) or (word.endswith("es") and word[:-2] in verbs)
            or (word.endswith("ing") and (word[:-3] in verbs or word[:-3] + "e" in verbs)))


def _row_index(rows, n: int) -> np.ndarray:
    """``rows`` (a boolean mask over the ``n`` units, or unit indices) as checked int64 unit indices."""
    arr = np.asarray(rows)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"rows as a mask must have one entry per unit ({n}), got shape {arr.shape}")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise TypeError(f"rows must be a boolean mask or a 1-d list of unit indices, got {arr.dtype} {arr.shape}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"rows must index the {n} units (0 to {n - 1}), got {int(arr.min())} to {int(arr.max())}")
    return arr.astype(np.int64)


def context_features(units: Sequence[Union[str, Unit]], verbs: Iterable[str] = (),
                     rows: Union[Sequence[int], np.ndarray, None] = None) -> np.ndarray:
    """Cheap per-unit features of one posting's units, in order: float32 ``(n, len(CONTEXT_FEATURES))``.

    The header each unit sits under, header/bullet flags, position, length,
    whether it opens with a task verb (``verbs``: lower-case base forms), and
    keyword cues. Needs the whole posting, in order: context is positional.
    ``rows`` (a boolean mask or unit indices) gives only those units' rows,
    equal to ``context_features(units, verbs)[rows]``: the text features of
    the other units are not computed.

    >>> f = context_features(["Duties:", "Drive routes"], verbs={"drive"})
    >>> row = dict(zip(CONTEXT_FEATURES, f[1].tolist()))
    >>> row["under_duty"], row["verb_first"]
    (1.0, 1.0)
    >>> bool((context_features(["Duties:", "Drive routes"], {"drive"}, rows=[1]) == f[1:]).all())
    True
    """
    units = _as_units(units)
    verbs = verbs if isinstance(verbs, frozenset) else frozenset(verbs)
    n = len(units)
    pick = range(n) if rows is None else _row_index(rows, n).tolist()
    out = np.zeros((len(pick), len(CONTEXT_FEATURES)), dtype=np.float32)
    ctx_index = {c: i for i, c in enumerate(_CONTEXTS)}
    base = len(_CONTEXTS)
    # 1. positional: the header above and the units since it need every unit before the picked ones.
    contexts = _contexts(units)
    since, count = [], 0
    for u in units:
        count = 0 if u.header else count + 1
        since.append(count)
    # 2. text features (word split, verb checks, keyword regexes) only for the picked units.
    for r, i in enumerate(pick):
        u = units[i]
        text = u.text.strip()
        words = _WORD_RE.findall(text.lower())
        will = _YOU_WILL_RE.match(text)
        row = out[r]
        row[ctx_index[contexts[i]]] = 1.0
        row[base:base + 13] = (
            u.header, u.bullet, i / max(n - 1, 1), i == 0, i >= 0.9 * n, np.log1p(len(text)) / 5.0,
            min(len(words), 60) / 30.0, min(since[i], 20) / 10.0,
            bool(words) and _is_verb(words[0], verbs), bool(will) and _is_verb(will.group(1).lower(), verbs),
            text.endswith(":"), text[-1:] in ".!?", any(c.isdigit() for c in text),
        )
        row[base + 13:] = [bool(rx.search(text)) for _, rx in _CUE_RES]
    return out


def _hash_tokens(unit: Unit, context: str, position: float) -> List[int]:
    """Stable 32-bit hashes of a unit's word unigrams, bigrams and context tokens (crc32, not ``hash()``)."""
    words = _WORD_RE.findall(unit.text.lower())
    tokens = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    tokens += [f"__ctx_{context}", f"__pos_{min(int(position * 5), 4)}", f"__first_{words[0]}" if words else "__empty"]
    if unit.header:
        tokens.append("__header")
    if unit.bullet:
        tokens.append("__bullet")
    return [zlib.crc32(t.encode("utf-8")) for t in dict.fromkeys(tokens)]


def hashed_features(units: Sequence[Union[str, Unit]], n_features: int = 1 << 18) -> tuple:
    """Hashed bag of word uni/bigrams plus header-context tokens for one posting, in CSR form.

    Returns ``(indices, offsets)``: unit ``i`` has the feature columns
    ``indices[offsets[i]:offsets[i + 1]]``, each present once (binary features).
    ``n_features`` must be a power of two.

    >>> idx, off = hashed_features(["Duties:", "Drive routes"])
    >>> off.tolist()[:1], bool((idx < 1 << 18).all())
    ([0], True)
    """
    if n_features <= 0 or n_features & (n_features - 1):
        raise ValueError(f"n_features must be a power of two, got {n_features}")
    units = _as_units(units)
    n = len(units)
    rows = [_hash_tokens(u, c, i / max(n - 1, 1)) for i, (u, c) in enumerate(zip(units, _contexts(units)))]
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((h & (n_features - 1) for r in rows for h in r), dtype=np.int64, count=int(offsets[-1]))
    return indices, offsets


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- 4. the classifier

MODEL_FILE = "unit_classifier.npz"
MANIFEST_FILE = "manifest.json"


@dataclass
class UnitPredictions:
    """Labels of one posting's units.

    ``labels[i]`` is one of :data:`LABELS`; ``probabilities[i]`` the class
    probabilities in that order (from the cheap stage for units it dropped);
    ``encoded[i]`` says whether unit ``i`` passed the first stage and was
    embedded; ``embeddings`` holds those units' embeddings, in unit order
    (``embeddings[k]`` belongs to ``np.flatnonzero(encoded)[k]``).
    """

    units: List[Unit]
    labels: List[str]
    probabilities: np.ndarray
    encoded: np.ndarray
    embeddings: np.ndarray

    @property
    def duties(self) -> List[str]:
        """The texts of the units labelled ``DUTY``, in posting order."""
        return [u.text for u, lab in zip(self.units, self.labels) if lab == "DUTY"]

    @property
    def duty_embeddings(self) -> np.ndarray:
        """Embeddings of the duties, row-aligned with :attr:`duties` (duties are always encoded)."""
        rows = np.cumsum(self.encoded) - 1
        pick = [rows[i] for i, lab in enumerate(self.labels) if lab == "DUTY"]
        return self.embeddings[pick] if pick else self.embeddings[:0]


Posting = UnitPredictions


class UnitClassifier:
    """Label the units of a posting as DUTY, REQUIREMENT, COMPANY, BENEFIT, LEGAL or OTHER.

    Two stages, both plain numpy at run time: a linear model over hashed word
    n-grams and header context drops units that are clearly not duties (their
    P(DUTY) below ``threshold``) before anything is encoded; the rest are
    embedded with ``encoder`` and labelled by a multinomial logistic regression
    over the embedding and :func:`context_features`.

    Load the shipped model with :meth:`load`; it belongs to one encoder (the
    default all-MiniLM-L6-v2) and refuses another.

    Example:
        >>> from exposure import Encoder
        >>> clf = UnitClassifier.load(encoder=Encoder(device="cpu"))          # doctest: +SKIP
        >>> clf.predict(split_units("Duties:\\n- Load trucks\\nWe offer dental.")).labels  # doctest: +SKIP
        ['OTHER', 'DUTY', 'BENEFIT']
    """

    def __init__(self, weights: dict, manifest: dict, encoder: Optional["Encoder"] = None) -> None:
        self.manifest = manifest
        self.labels = tuple(manifest["labels"])
        self.encoder_name = manifest["encoder"]["name"]
        self.dim = int(manifest["encoder"]["dim"])
        self.threshold = float(manifest["prefilter"]["threshold"])
        self.n_features = int(manifest["prefilter"]["n_features"])
        self.verbs = frozenset(str(v) for v in weights["verbs"].tolist())
        self.coef = np.asarray(weights["coef"], dtype=np.float32)
        self.intercept = np.asarray(weights["intercept"], dtype=np.float32)
        self.mean = np.asarray(weights["context_mean"], dtype=np.float32)
        self.scale = np.asarray(weights["context_scale"], dtype=np.float32)
        self.pre_index = np.asarray(weights["prefilter_index"], dtype=np.int64)
        self.pre_coef = np.asarray(weights["prefilter_coef"], dtype=np.float32)
        self.pre_intercept = np.asarray(weights["prefilter_intercept"], dtype=np.float32)
        expected = self.dim + len(CONTEXT_FEATURES)
        if self.coef.shape != (len(self.labels), expected):
            raise ValueError(f"unit classifier weights have shape {self.coef.shape}, expected "
                             f"({len(self.labels)}, {expected}): the model files do not match this version of "
                             "exposure.units; retrain with benchmarks/train_unit_classifier.py")
        self.encoder = None
        if encoder is not None:
            self._check_encoder(encoder)
            self.encoder = encoder

    @classmethod
    def load(cls, path: Union[str, Path, None] = None, encoder: Optional["Encoder"] = None) -> "UnitClassifier":
        """Load a unit classifier folder (``None``: the shipped ``models/units``).

        ``encoder`` must be the encoder the model was trained on (same name
        and width), else ``ValueError`` names the right one.
        """
        root = shipped("units") if path is None else Path(path)
        manifest_path, weights_path = root / MANIFEST_FILE, root / MODEL_FILE
        if not manifest_path.is_file() or not weights_path.is_file():
            raise ValueError(f"no unit classifier in {str(root)!r}: expected {MANIFEST_FILE} and {MODEL_FILE}; "
                             "train one with benchmarks/train_unit_classifier.py")
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
        with np.load(weights_path, allow_pickle=False) as npz:
            weights = {k: npz[k] for k in npz.files}
        return cls(weights, manifest, encoder)

    def _check_encoder(self, encoder: "Encoder") -> None:
        name, dim = getattr(encoder, "name", None), getattr(encoder, "dim", None)
        if name != self.encoder_name or dim != self.dim:
            raise ValueError(f"this unit classifier was trained on embeddings from {self.encoder_name!r} "
                             f"({self.dim} dims), but the encoder is {name!r} ({dim} dims); load it with "
                             f"Encoder({'default' if self.encoder_name == 'all-MiniLM-L6-v2' else self.encoder_name!r})"
                             " or retrain it with benchmarks/train_unit_classifier.py --encoder MODEL")

    def __repr__(self) -> str:
        return (f"UnitClassifier(version={self.manifest.get('version')!r}, encoder={self.encoder_name!r}, "
                f"threshold={self.threshold})")

    # ----------------------------------------------------------------- stage 1
    def prefilter_probabilities(self, units: Sequence[Union[str, Unit]]) -> np.ndarray:
        """Class probabilities of the cheap stage (hashed n-grams + header context), ``(n, 6)`` float32."""
        units = _as_units(units)
        if not units:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        idx, off = hashed_features(units, self.n_features)
        # Sparse weights: look each hashed column up in the sorted list of columns the model knows.
        pos = np.minimum(np.searchsorted(self.pre_index, idx), len(self.pre_index) - 1)
        found = self.pre_index[pos] == idx
        rows = np.repeat(np.arange(len(units)), np.diff(off))[found]
        contrib = self.pre_coef[pos[found]]
        logits = np.stack([np.bincount(rows, weights=contrib[:, j], minlength=len(units))
                           for j in range(contrib.shape[1])], axis=1)
        return _softmax(logits + self.pre_intercept).astype(np.float32)

    def keep(self, units: Sequence[Union[str, Unit]]) -> np.ndarray:
        """Boolean mask of the units that go on to the encoder (P(DUTY) at least ``threshold``)."""
        return self.prefilter_probabilities(units)[:, self.labels.index("DUTY")] >= self.threshold

    # ----------------------------------------------------------------- stage 2
    def predict(self, units: Sequence[Union[str, Unit]], embeddings: Optional[np.ndarray] = None,
                prefilter: Optional[bool] = None) -> UnitPredictions:
        """Label the units of one posting, given in posting order (context features are positional).

        ``embeddings``: the units' rows from the model's encoder, ``(n, dim)``;
        without them the units the first stage keeps are encoded with the
        classifier's encoder. ``prefilter`` (default: only when no embeddings
        are given) skips the second stage for units the first stage drops.
        """
        return self.predict_many([units], None if embeddings is None else [embeddings], prefilter)[0]

    def predict_many(self, postings: Sequence[Sequence[Union[str, Unit]]],
                     embeddings: Optional[Sequence[np.ndarray]] = None,
                     prefilter: Optional[bool] = None) -> List[UnitPredictions]:
        """:meth:`predict` for many postings, with one encoder call for all the units that need it."""
        unit_lists = [_as_units(p) for p in postings]
        if prefilter is None:
            prefilter = embeddings is None
        duty = self.labels.index("DUTY")
        cheap = [self.prefilter_probabilities(u) for u in unit_lists]
        masks = [(c[:, duty] >= self.threshold) if prefilter else np.ones(len(u), dtype=bool)
                 for c, u in zip(cheap, unit_lists)]
        if embeddings is None:
            if self.encoder is None:
                raise ValueError("no embeddings given and no encoder: load the classifier with "
                                 "UnitClassifier.load(encoder=Encoder()) or pass embeddings")
            texts = [u.text for units, m in zip(unit_lists, masks) for u, k in zip(units, m) if k]
            flat = self.encoder.encode(texts) if texts else np.zeros((0, self.dim), dtype=np.float32)
            bounds = np.cumsum([0] + [int(m.sum()) for m in masks])
            embs = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        else:
            if len(embeddings) != len(unit_lists):
                raise ValueError(f"got embeddings for {len(embeddings)} postings, but {len(unit_lists)} postings")
            embs = []
            for i, (e, units, m) in enumerate(zip(embeddings, unit_lists, masks)):
                e = np.asarray(e, dtype=np.float32)
                if e.ndim != 2 or e.shape != (len(units), self.dim):
                    raise ValueError(f"embeddings of posting {i} must be ({len(units)}, {self.dim}) "
                                     f"(one {self.encoder_name} row per unit), got {e.shape}")
                embs.append(e[m])
        out = []
        for units, c, m, e in zip(unit_lists, cheap, masks, embs):
            probs = c.copy()
            if m.any():
                ctx = (context_features(units, self.verbs, rows=m) - self.mean) / self.scale
                x = np.hstack([e, ctx]).astype(np.float32)
                probs[m] = _softmax(x @ self.coef.T + self.intercept)
            # A dropped unit takes its likeliest label other than DUTY: the first stage said it is none.
            masked = probs.copy()
            masked[~m, duty] = -1.0
            labels = [self.labels[j] for j in masked.argmax(axis=1)]
            out.append(UnitPredictions(units, labels, probs, m, e))
        return out


def read_postings(texts: Sequence[str], classifier: UnitClassifier) -> List[UnitPredictions]:
    """Segment and label many postings, encoding only the units that pass the first stage, in one call.

    >>> clf = UnitClassifier.load(encoder=Encoder(device="cpu"))            # doctest: +SKIP
    >>> [p.duties for p in read_postings(["Duties:\\n- Load trucks\\nEOE."], clf)]  # doctest: +SKIP
    [['Load trucks']]
    """
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
    return classifier.predict_many([segment(t) for t in texts])


def find_duties(text: str, encoder: "Encoder", classifier: Optional[UnitClassifier] = None) -> List[str]:
    """The duty units of one posting, in order.

    ``classifier`` defaults to the shipped one (loaded for ``encoder``); load it
    once and pass it when calling this in a loop, or use :func:`read_postings`.

    >>> find_duties("What you'll do:\\n- Load trucks\\n- Count stock\\nWe are an EOE.", Encoder(device="cpu"))  # doctest: +SKIP
    ['Load trucks', 'Count stock']
    """
    clf = classifier if classifier is not None else UnitClassifier.load(encoder=encoder)
    if clf.encoder is None:
        clf._check_encoder(encoder)
        clf.encoder = encoder
    return read_postings([text], clf)[0].duties


# --------------------------------------------------------------------------- 5. language

# Frequent English function words that are rare as words in other languages written in Latin script.
_ENGLISH_STOP_WORDS = frozenset("the and to of for with you your our we will is are be as or this that on at by "
                                "from an have has all their who can it not".split())
_LATIN_WORD_RE = re.compile(r"[^\W\d_]+")


def looks_english(text: str, sample: int = 5000) -> bool:
    """A cheap guess whether ``text`` is English, from its first ``sample`` characters (tags removed).

    Non-English when fewer than 80% of the letters are ASCII (Cyrillic, Greek, CJK,
    Arabic...), or when a text of at least 25 words has under 4% of them among
    30 frequent English function words (``the``, ``and``, ``to``, ``of``, ``you``,
    ``will``...): English postings run at 15-30%, bullet-heavy ones about 8%;
    Spanish, French or German text is under 2%. Texts with fewer than 20 letters
    pass: too short to tell.

    >>> looks_english("You will load trucks and keep the dock clean."), looks_english("Sie planen und steuern "
    ...     "die Produktion, pflegen die Stammdaten im ERP-System und arbeiten eng mit dem Einkauf und der Logistik "
    ...     "zusammen. Sie optimieren Abläufe, erstellen Auswertungen und unterstützen die Teams vor Ort bei der "
    ...     "Einführung neuer Prozesse.")
    (True, False)
    """
    head = _TAG_RE.sub(" ", text[:sample])
    letters = [c for c in head if c.isalpha()]
    if len(letters) < 20:
        return True
    if sum(c < "\x80" for c in letters) < 0.8 * len(letters):
        return False
    words = _LATIN_WORD_RE.findall(head.lower())
    return len(words) < 25 or sum(w in _ENGLISH_STOP_WORDS for w in words) >= 0.04 * len(words)
