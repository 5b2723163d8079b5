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

4. :class:`PostingScorer` scores the duties from the embeddings the classifier
   already made (nothing is encoded twice; each distinct unit is encoded once
   per scorer through an :class:`EmbeddingCache`) and aggregates them per
   posting: the mean duty exposure, per technology too, the share of duties
   exposed, the most exposed duties as evidence, the assigned occupations and a
   status; a posting without duties takes its occupation's score.

The model files live in ``models/units`` (``exposure.models.units`` when
installed); ``benchmarks/train_unit_classifier.py`` trains them on the
synthetic labelled postings in ``tests/data/postings``.

>>> split_units("<p>About us: we build bridges.</p><h3>Responsibilities</h3>"
...             "<ul><li>Inspect welds</li><li>Write daily reports.</li></ul>")
['About us: we build bridges.', 'Responsibilities', 'Inspect welds', 'Write daily reports.']
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import unicodedata
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Union

import numpy as np

if TYPE_CHECKING:  # the encoder pulls in torch; segmentation and the cheap stage must not
    from .encoder import Encoder

__all__ = ["LABELS", "Unit", "normalize", "segment", "split_units", "header_category", "UnitClassifier",
           "UnitPredictions", "Posting", "read_postings", "find_duties", "PostingScorer", "PostingScores",
           "EmbeddingCache", "CachedEncoder", "looks_english", "occupation_scores", "posting_schema", "STATUSES"]

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


def context_features(units: Sequence[Union[str, Unit]], verbs: Iterable[str] = ()) -> np.ndarray:
    """Cheap per-unit features of one posting's units, in order: float32 ``(n, len(CONTEXT_FEATURES))``.

    The header each unit sits under, header/bullet flags, position, length,
    whether it opens with a task verb (``verbs``: lower-case base forms), and
    keyword cues. Needs the whole posting, in order: context is positional.

    >>> f = context_features(["Duties:", "Drive routes"], verbs={"drive"})
    >>> row = dict(zip(CONTEXT_FEATURES, f[1].tolist()))
    >>> row["under_duty"], row["verb_first"]
    (1.0, 1.0)
    """
    units = _as_units(units)
    verbs = verbs if isinstance(verbs, frozenset) else frozenset(verbs)
    n = len(units)
    out = np.zeros((n, len(CONTEXT_FEATURES)), dtype=np.float32)
    ctx_index = {c: i for i, c in enumerate(_CONTEXTS)}
    base = len(_CONTEXTS)
    since = 0
    for i, (u, ctx) in enumerate(zip(units, _contexts(units))):
        text = u.text.strip()
        words = _WORD_RE.findall(text.lower())
        since = 0 if u.header else since + 1
        will = _YOU_WILL_RE.match(text)
        row = out[i]
        row[ctx_index[ctx]] = 1.0
        row[base:base + 13] = (
            u.header, u.bullet, i / max(n - 1, 1), i == 0, i >= 0.9 * n, np.log1p(len(text)) / 5.0,
            min(len(words), 60) / 30.0, min(since, 20) / 10.0,
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


def _shipped_root() -> Path:
    """The shipped ``units`` folder: ``exposure.models`` when installed, ``models/`` in a checkout."""
    try:
        from importlib.resources import files

        root = Path(str(files("exposure.models") / "units"))
    except ModuleNotFoundError:
        root = None
    if root is None or not (root / MANIFEST_FILE).is_file():
        # Running from a source checkout without installing: models/ sits beside exposure/.
        root = Path(__file__).resolve().parent.parent / "models" / "units"
    return root


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
                             "exposure.postings; retrain with benchmarks/train_unit_classifier.py")
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
        root = _shipped_root() if path is None else Path(path)
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
                ctx = (context_features(units, self.verbs)[m] - self.mean) / self.scale
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


# --------------------------------------------------------------------------- 5. posting scores

#: Posting statuses. Scored: ``ok``, ``truncated`` (scored on the first ``max_chars``
#: characters), ``no_duties_occupation_fallback`` (no duty found: the assigned occupation's
#: score). Not scored (null scores): ``no_duties`` (no duty and no occupation to fall back
#: on), ``empty`` (null, empty or blank text), ``not_text`` (not a string), ``non_english``,
#: ``error`` (the posting could not be processed; the batch goes on).
STATUSES = ("ok", "truncated", "no_duties_occupation_fallback", "no_duties", "empty", "not_text",
            "non_english", "error")
SCORED_STATUSES = frozenset(("ok", "truncated", "no_duties_occupation_fallback"))
#: A duty counts as exposed when its exposure is at least this (``share_exposed``).
EXPOSED_THRESHOLD = 0.5
#: Longer texts are cut to this many characters before splitting (status ``truncated``).
MAX_CHARS = 100_000
TOP_DUTIES = 3
# Rows scored per ExposureModel.score_embeddings call: bounds the calibrated head's scratch memory.
_SCORE_BLOCK = 1024

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


class EmbeddingCache:
    """A least-recently-used map from text to a float32 row, of at most ``max_entries`` rows.

    Rows live in one preallocated-as-needed ``(capacity, width)`` float32 block (grown by
    doubling up to ``max_entries``), so the memory is bounded:
    ``max_entries * width * 4`` bytes plus about 150 bytes per key (100,000 rows of
    384 dims take about 170 MB). ``max_entries=0`` disables it. ``hits`` and
    ``misses`` count lookups since creation (or :meth:`reset_stats`).

    >>> c = EmbeddingCache(2, width=3)
    >>> c.put(["a", "b"], np.ones((2, 3), np.float32)); c.get(["a", "z"])[1].tolist()
    [True, False]
    """

    def __init__(self, max_entries: int = 100_000, width: Optional[int] = None) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries must be >= 0, got {max_entries}")
        self.max_entries = int(max_entries)
        self.width = width
        self._slots: "OrderedDict[str, int]" = OrderedDict()
        self._rows: Optional[np.ndarray] = None
        self._free: List[int] = []
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: str) -> bool:
        return key in self._slots

    @property
    def hit_rate(self) -> float:
        """Share of lookups served from the cache (NaN before any lookup)."""
        n = self.hits + self.misses
        return self.hits / n if n else float("nan")

    def reset_stats(self) -> None:
        self.hits = self.misses = 0

    def get(self, keys: Sequence[str], count: bool = True) -> tuple:
        """``(rows, found)``: float32 ``(len(keys), width)`` (zeros where not found) and a boolean mask."""
        width = self.width or 0
        out = np.zeros((len(keys), width), dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        for i, k in enumerate(keys):
            slot = self._slots.get(k)
            if slot is not None:
                self._slots.move_to_end(k)
                out[i] = self._rows[slot]
                found[i] = True
        if count:
            self.hits += int(found.sum())
            self.misses += int((~found).sum())
        return out, found

    def put(self, keys: Sequence[str], rows: np.ndarray) -> None:
        """Store rows (the least recently used entries make room)."""
        if self.max_entries == 0 or not len(keys):
            return
        rows = np.asarray(rows, dtype=np.float32)
        if self.width is None:
            self.width = rows.shape[1]
        if rows.shape != (len(keys), self.width):
            raise ValueError(f"rows must be ({len(keys)}, {self.width}), got {rows.shape}")
        for k, r in zip(keys, rows):
            slot = self._slots.get(k)
            if slot is None:
                slot = self._take_slot()
            self._slots[k] = slot
            self._slots.move_to_end(k)
            self._rows[slot] = r

    def _take_slot(self) -> int:
        if self._free:
            return self._free.pop()
        size = len(self._slots)
        cap = 0 if self._rows is None else self._rows.shape[0]
        if size < cap:
            return size
        if cap < self.max_entries:
            grown = np.empty((min(max(2 * cap, 1024), self.max_entries), self.width), dtype=np.float32)
            if cap:
                grown[:cap] = self._rows
            self._rows = grown
            return size
        _, slot = self._slots.popitem(last=False)  # evict the least recently used
        return slot


class CachedEncoder:
    """An :class:`~exposure.encoder.Encoder` that encodes each distinct text once, through an
    :class:`EmbeddingCache` keyed by the text (units are already normalised by :func:`segment`).

    Texts repeated within a call, or seen in an earlier call and still cached,
    are not encoded again; both count as cache hits. Everything else (``name``,
    ``dim``, ``device``...) is the wrapped encoder's.
    """

    def __init__(self, encoder: "Encoder", cache: Optional[EmbeddingCache] = None) -> None:
        self.encoder = encoder
        self.cache = cache if cache is not None else EmbeddingCache(width=encoder.dim)
        if self.cache.width is None:
            self.cache.width = encoder.dim

    def __getattr__(self, name):
        return getattr(self.__dict__["encoder"], name)

    def __repr__(self) -> str:
        return f"CachedEncoder({self.encoder!r}, {len(self.cache)}/{self.cache.max_entries} cached)"

    def encode(self, texts, batch_size: Optional[int] = None, show_progress: bool = False) -> np.ndarray:
        items = [texts] if isinstance(texts, str) else list(texts)
        keep = [i for i, t in enumerate(items) if isinstance(t, str) and t.strip()]
        bad = [i for i, t in enumerate(items) if t is not None and not isinstance(t, str)]
        if bad:
            raise TypeError(f"texts[{bad[0]}] is {type(items[bad[0]]).__name__}, expected str or None")
        out = np.zeros((len(items), self.encoder.dim), dtype=np.float32)
        keys = [items[i] for i in keep]
        rows, found = self.cache.get(keys, count=False)
        # Distinct texts not cached: encoded once each; repeats within the call are hits too.
        missing = list(dict.fromkeys(k for k, f in zip(keys, found) if not f))
        self.cache.misses += len(missing)
        self.cache.hits += len(keys) - len(missing)
        if missing:
            emb = self.encoder.encode(missing, batch_size=batch_size, show_progress=show_progress)
            self.cache.put(missing, emb)
            where = {k: j for j, k in enumerate(missing)}
            for j, k in enumerate(keys):
                if not found[j]:
                    rows[j] = emb[where[k]]
        out[keep] = rows
        return out


@dataclass
class PostingScores:
    """Scores of ``n`` postings, aggregated over their duties.

    Attributes:
        status: per posting, one of :data:`STATUSES`.
        exposure: ``(n,)`` mean headline exposure of the posting's duties (NaN when not scored);
            for ``no_duties_occupation_fallback`` the assigned occupation's exposure.
        technology_scores: ``(n, g)`` mean per-technology scores, columns in ``technologies`` order.
        share_exposed: ``(n,)`` share of the duties with exposure >= :data:`EXPOSED_THRESHOLD`
            (NaN without duties).
        n_duties, n_units: duty units and all units found; n_chars: length of the text as given.
        top_duties: per posting up to 3 ``{"text", "exposure", "capability"}`` dicts, most
            exposed first (``capability``: the duty's best-matching capability statement).
        occupations: per posting up to 3 ``(soc_code, title, confidence)``, likeliest first
            (``None`` when no assigner was given); basis: what the assignment rests on.
        kept_units: units that passed the classifier's cheap first stage (were encoded).
    """

    status: List[str]
    exposure: np.ndarray
    technology_scores: np.ndarray
    technologies: tuple
    share_exposed: np.ndarray
    n_duties: np.ndarray
    n_units: np.ndarray
    n_chars: np.ndarray
    top_duties: List[List[dict]]
    occupations: Optional[List[List[tuple]]] = None
    basis: Optional[List[Optional[str]]] = None
    kept_units: int = 0

    def __len__(self) -> int:
        return len(self.status)

    def to_arrow(self):
        """A ``pyarrow.Table``, one row per posting; the columns of :func:`posting_schema`."""
        import pyarrow as pa

        n = len(self)
        f32 = lambda x: pa.array(np.asarray(x, dtype=np.float32), pa.float32(),  # noqa: E731
                                 mask=np.isnan(np.asarray(x, dtype=np.float32)))
        cols = {"status": pa.array(self.status, pa.string()), "exposure": f32(self.exposure)}
        for g, tech in enumerate(self.technologies):
            cols[f"exposure_{tech}"] = f32(self.technology_scores[:, g])
        cols["share_exposed"] = f32(self.share_exposed)
        cols["n_duties"] = pa.array(self.n_duties, pa.int32())
        cols["n_units"] = pa.array(self.n_units, pa.int32())
        cols["n_chars"] = pa.array(self.n_chars, pa.int64())
        for r in range(TOP_DUTIES):
            ev = [d[r] if len(d) > r else None for d in self.top_duties]
            cols[f"top_duty_{r + 1}"] = pa.array([e and e["text"] for e in ev], pa.string())
            cols[f"top_duty_{r + 1}_exposure"] = pa.array([e and e["exposure"] for e in ev], pa.float32())
            cols[f"top_duty_{r + 1}_capability"] = pa.array([e and e["capability"] for e in ev], pa.string())
        occ = self.occupations if self.occupations is not None else [[] for _ in range(n)]
        for r in range(TOP_DUTIES):
            o = [x[r] if len(x) > r else None for x in occ]
            cols[f"soc_code_{r + 1}"] = pa.array([x and x[0] for x in o], pa.string())
            cols[f"occupation_{r + 1}"] = pa.array([x and x[1] for x in o], pa.string())
            cols[f"soc_confidence_{r + 1}"] = pa.array([x and x[2] for x in o], pa.float32())
        cols["assignment_basis"] = pa.array(self.basis if self.basis is not None else [None] * n, pa.string())
        return pa.table(cols, schema=posting_schema(self.technologies))

    def to_pandas(self):
        return self.to_arrow().to_pandas()


def posting_schema(technologies: Sequence[str]):
    """The columns of :meth:`PostingScores.to_arrow`, in order, for these technologies."""
    import pyarrow as pa

    fields = [("status", pa.string()), ("exposure", pa.float32())]
    fields += [(f"exposure_{t}", pa.float32()) for t in technologies]
    fields += [("share_exposed", pa.float32()), ("n_duties", pa.int32()), ("n_units", pa.int32()),
               ("n_chars", pa.int64())]
    for r in range(1, TOP_DUTIES + 1):
        fields += [(f"top_duty_{r}", pa.string()), (f"top_duty_{r}_exposure", pa.float32()),
                   (f"top_duty_{r}_capability", pa.string())]
    for r in range(1, TOP_DUTIES + 1):
        fields += [(f"soc_code_{r}", pa.string()), (f"occupation_{r}", pa.string()),
                   (f"soc_confidence_{r}", pa.float32())]
    fields.append(("assignment_basis", pa.string()))
    return pa.schema(fields)


def _model_key(model) -> str:
    """A checksum of what an occupation score depends on: encoder, dtype, capability set, head, rule."""
    enc = model.encoder
    caps = model.capabilities
    parts = [getattr(enc, "name", "?"), str(getattr(enc, "dim", "?")), str(getattr(enc, "dtype", "")),
             caps.name, str(caps.version), *caps.statements, *caps.counter_statements, model.head_note,
             ",".join(model.headline), f"{model.temperature}", f"{model.scale}"]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:20]


def occupation_scores(model, release: str = "29.1", embeddings: Optional[np.ndarray] = None,
                      cache_dir: Union[str, Path, None, bool] = None):
    """Occupation-level scores of the shipped O*NET catalogue by ``model``, cached on disk.

    The table of :func:`exposure.occupations.score_occupations` (``soc_code``,
    ``exposure``, ``exposure_<technology>``...), computed once per model and
    cached as Parquet in ``cache_dir`` (default: :func:`exposure.assign.resolve_cache_dir`,
    ``False``: no disk cache) under a key of the encoder, its dtype, the capability set,
    the head and the rule's parameters. ``embeddings``: the catalogue's task embeddings,
    row-aligned with ``load_tasks(release)``, to skip the encoder (about two minutes).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .occupations import load_tasks, occupation_table

    path = None
    if cache_dir is not False:
        from .assign import resolve_cache_dir

        folder = resolve_cache_dir(None if cache_dir in (None, True) else cache_dir)
        path = folder / f"occupation-scores-{release}-{_model_key(model)}.parquet"
        if path.is_file():
            try:
                return pq.read_table(path)
            except (OSError, ValueError):
                pass  # damaged: rebuilt below
    tasks = load_tasks(release)
    if embeddings is None:
        embeddings = model.encoder.encode(tasks["task"].to_pylist())
    if len(embeddings) != tasks.num_rows:
        raise ValueError(f"embeddings have {len(embeddings)} rows; O*NET {release} has {tasks.num_rows} tasks")
    # In blocks: the calibrated head's scratch memory grows with the rows scored at once.
    scored = pa.concat_tables([model.score_embeddings(embeddings[a:a + _SCORE_BLOCK]).to_arrow()
                               for a in range(0, len(embeddings), _SCORE_BLOCK)])
    for name in ("soc_code", "task_id", "weight", "task"):
        scored = scored.append_column(name, tasks[name])
    table = occupation_table(scored, release, top_tasks=0)
    if path is not None:
        import os
        import tempfile

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            os.close(fd)
            try:
                pq.write_table(table, tmp)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            pass  # an unwritable cache only costs the recomputation next time
    return table


class PostingScorer:
    """Score job postings: find the duties, score them, aggregate, assign occupations.

    For each posting: the units are found and labelled by ``classifier``
    (:class:`UnitClassifier`, default the shipped one), the units that pass its
    cheap first stage are encoded once (through an :class:`EmbeddingCache`, so
    text repeated across postings, such as an employer's boilerplate, is encoded
    once), and the duty units' embeddings go straight to
    :meth:`~exposure.scoring.ExposureModel.score_embeddings`: nothing is encoded
    twice. The posting's ``exposure`` and each ``exposure_<technology>`` are the
    **mean over its duties** (each duty counts once however long it is);
    ``share_exposed`` is the share of duties with exposure >= 0.5; the three most
    exposed duties are the evidence.

    Args:
        model: the :class:`~exposure.scoring.ExposureModel`.
        classifier: a :class:`UnitClassifier` for ``model.encoder``; ``None`` loads the shipped one.
        assigner: ``None`` (no occupations), ``"default"`` (an
            :class:`~exposure.assign.OccupationAssigner` on the model's encoder) or any object
            with ``assign(titles, duty_embeddings=..., k=3)`` returning ``codes``, ``titles``,
            ``confidence`` ``(n, k)`` arrays (and optionally ``basis``), as
            :class:`~exposure.assign.OccupationAssigner` does.
        occupation_scores: a table with ``soc_code``, ``exposure`` and ``exposure_<technology>``
            for the fallback; ``None``: the shipped O*NET 29.1 catalogue scored by ``model``
            (:func:`occupation_scores`, computed at the first posting without duties, cached on disk).
        cache: an :class:`EmbeddingCache`, or its size in units (0: no cache).
        max_chars: longer texts are cut to this length (status ``truncated``).
        cache_dir: where :func:`occupation_scores` caches (``False``: nowhere).

    A posting without duties gets the score of its likeliest assigned occupation
    that has one (status ``no_duties_occupation_fallback``), or null scores and
    status ``no_duties`` when there is no assigner.

    Example:
        >>> scorer = PostingScorer(ExposureModel(device="cpu"))                 # doctest: +SKIP
        >>> scorer.score(["Cashier"], ["Duties:\\n- Count cash\\n- Greet guests"]).exposure  # doctest: +SKIP
    """

    def __init__(self, model, classifier: Optional[UnitClassifier] = None, assigner=None, *,
                 occupation_scores=None, cache: Union[EmbeddingCache, int, None] = 100_000,
                 max_chars: int = MAX_CHARS, cache_dir: Union[str, Path, None, bool] = None) -> None:
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}")
        self.model = model
        encoder = model.encoder
        if not isinstance(cache, EmbeddingCache):
            cache = EmbeddingCache(100_000 if cache is None else int(cache), width=encoder.dim)
        self.cache = cache
        self.encoder = CachedEncoder(encoder, cache)
        base = classifier if classifier is not None else UnitClassifier.load(encoder=encoder)
        base._check_encoder(encoder)
        # A copy that encodes through the cache; the caller's classifier is left as it was.
        self.classifier = copy.copy(base)
        self.classifier.encoder = self.encoder
        if isinstance(assigner, str):
            if assigner != "default":
                raise ValueError(f"assigner must be None, 'default' or an OccupationAssigner, got {assigner!r}")
            from .assign import OccupationAssigner

            assigner = OccupationAssigner(encoder)
        self.assigner = assigner
        self._occupation_table = occupation_scores
        self._occupation_lookup: Optional[dict] = None
        self.cache_dir = cache_dir
        self.max_chars = int(max_chars)
        # Scores of duties seen before: exposure, the technology scores, the best capability's index.
        self._duty_scores = EmbeddingCache(cache.max_entries, width=2 + len(model.technologies))

    def __repr__(self) -> str:
        return (f"PostingScorer(model={self.model!r}, assigner={type(self.assigner).__name__ if self.assigner else None}, "
                f"cache={self.cache.max_entries})")

    # ----------------------------------------------------------------- occupations
    def occupation_lookup(self) -> dict:
        """``soc_code -> (exposure, technology scores)`` for the fallback; built at first use."""
        if self._occupation_lookup is None:
            table = self._occupation_table
            if table is None:
                table = occupation_scores(self.model, "29.1", embeddings=self._assigner_task_embeddings(),
                                          cache_dir=self.cache_dir)
            if hasattr(table, "to_dict") and not hasattr(table, "column_names"):
                import pyarrow as pa

                table = pa.Table.from_pandas(table, preserve_index=False)
            names = ["exposure"] + [f"exposure_{t}" for t in self.model.technologies]
            missing = [c for c in ["soc_code"] + names if c not in table.column_names]
            if missing:
                raise ValueError(f"occupation_scores has no column {', '.join(map(repr, missing))}; "
                                 f"its columns are: {', '.join(table.column_names)}")
            values = np.stack([np.asarray(table[c].to_numpy(zero_copy_only=False), dtype=np.float64)
                               for c in names], axis=1)
            self._occupation_lookup = {c: v for c, v in zip(table["soc_code"].to_pylist(), values)
                                       if c is not None and np.isfinite(v[0])}
        return self._occupation_lookup

    def _assigner_task_embeddings(self) -> Optional[np.ndarray]:
        """The O*NET 29.1 task embeddings an OccupationAssigner already built, in catalogue order."""
        get = getattr(self.assigner, "task_index", None)
        if get is None or getattr(getattr(self.assigner, "encoder", None), "name", None) != self.model.encoder.name:
            return None
        try:
            from .occupations import load_tasks

            catalogue = load_tasks("29.1")
            tasks = getattr(self.assigner, "_tasks_table", None)
            if tasks is None or tasks.num_rows != catalogue.num_rows or \
                    tasks["task"].to_pylist() != catalogue["task"].to_pylist():
                return None
            idx = get()
            emb = np.empty_like(idx["emb"])
            emb[idx["rows"]] = idx["emb"]
            return emb
        except Exception:  # an assigner of another shape: score the catalogue instead
            return None

    # ----------------------------------------------------------------- score
    def score(self, titles: Optional[Sequence[Optional[str]]], texts: Sequence) -> PostingScores:
        """Score postings given their titles (``None`` or a list with ``None`` where unknown) and texts.

        Any text is accepted: ``None``, non-strings, empty, overlong or
        non-English texts get a status (:data:`STATUSES`) instead of an error.
        """
        texts = [texts] if isinstance(texts, str) else list(texts)
        n = len(texts)
        titles = [None] * n if titles is None else ([titles] if isinstance(titles, str) else list(titles))
        if len(titles) != n:
            raise ValueError(f"got {len(titles)} titles for {n} texts")
        titles = [t if isinstance(t, str) else None for t in titles]
        techs = self.model.technologies
        g = len(techs)
        status = ["ok"] * n
        n_chars = np.array([len(t) if isinstance(t, str) else 0 for t in texts], dtype=np.int64)
        units: List[List[Unit]] = [[] for _ in range(n)]
        for i, t in enumerate(texts):
            if t is None:
                status[i] = "empty"
            elif not isinstance(t, str):
                status[i] = "not_text"
            elif not t.strip():
                status[i] = "empty"
            elif not looks_english(t):
                status[i] = "non_english"
            else:
                if len(t) > self.max_chars:
                    t, status[i] = t[: self.max_chars], "truncated"
                try:
                    units[i] = segment(t)
                except Exception:  # a pathological text must not stop the others
                    status[i] = "error"
        # 1. label the units; the first stage's survivors are encoded once, through the cache
        live = [i for i in range(n) if status[i] in ("ok", "truncated")]
        preds = self.classifier.predict_many([units[i] for i in live])
        duties: List[List[str]] = [[] for _ in range(n)]
        duty_emb: List[np.ndarray] = [np.zeros((0, self.model.encoder.dim), np.float32) for _ in range(n)]
        kept = 0
        for i, p in zip(live, preds):
            duties[i], duty_emb[i] = p.duties, p.duty_embeddings
            kept += int(p.encoded.sum())
        # 2. score each distinct duty once: cached scores, the rest from their embeddings
        flat = [d for ds in duties for d in ds]
        rows = self._score_duties(flat, np.vstack(duty_emb) if flat else None)
        # 3. aggregate per posting
        exposure = np.full(n, np.nan, dtype=np.float32)
        tech = np.full((n, g), np.nan, dtype=np.float32)
        share = np.full(n, np.nan, dtype=np.float32)
        n_duties = np.array([len(d) for d in duties], dtype=np.int32)
        top: List[List[dict]] = [[] for _ in range(n)]
        caps = self.model.capabilities.capabilities
        start = 0
        for i in range(n):
            k = n_duties[i]
            if not k:
                continue
            r = rows[start:start + k]
            start += k
            exposure[i] = r[:, 0].mean()
            tech[i] = r[:, 1:1 + g].mean(axis=0)
            share[i] = (r[:, 0] >= EXPOSED_THRESHOLD).mean()
            order = np.argsort(-r[:, 0], kind="stable")[:TOP_DUTIES]
            top[i] = [{"text": duties[i][j], "exposure": float(r[j, 0]),
                       "capability": caps[int(r[j, -1])].statement if r[j, -1] >= 0 else None} for j in order]
        # 4. occupations, and the fallback for postings without duties
        occupations = basis = None
        if self.assigner is not None:
            occupations, basis = self._assign(titles, duty_emb)
        for i in range(n):
            if status[i] in ("ok", "truncated") and not n_duties[i]:
                status[i] = "no_duties"
                if occupations is not None and occupations[i]:
                    lookup = self.occupation_lookup()
                    for code, _, _ in occupations[i]:
                        if code in lookup:
                            exposure[i], tech[i] = lookup[code][0], lookup[code][1:]
                            status[i] = "no_duties_occupation_fallback"
                            break
        return PostingScores(status=status, exposure=exposure, technology_scores=tech, technologies=techs,
                             share_exposed=share, n_duties=n_duties,
                             n_units=np.array([len(u) for u in units], dtype=np.int32), n_chars=n_chars,
                             top_duties=top, occupations=occupations, basis=basis, kept_units=kept)

    def _score_duties(self, texts: List[str], emb: Optional[np.ndarray]) -> np.ndarray:
        """Per duty: exposure, technology scores, best capability index; each distinct text scored once."""
        width = self._duty_scores.width
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        rows, found = self._duty_scores.get(texts, count=False)
        todo = {}
        for j, (t, f) in enumerate(zip(texts, found)):
            if not f:
                todo.setdefault(t, j)
        if todo:
            first = np.fromiter(todo.values(), dtype=np.int64, count=len(todo))
            blocks = []
            for a in range(0, len(first), _SCORE_BLOCK):
                s = self.model.score_embeddings(emb[first[a:a + _SCORE_BLOCK]])
                ev = s.evidence_index[:, 0] if s.evidence_index.shape[1] else -np.ones(len(s))
                blocks.append(np.column_stack([s.exposure, s.technology_scores, ev]).astype(np.float32))
            new = np.vstack(blocks)
            self._duty_scores.put(list(todo), new)
            where = {t: k for k, t in enumerate(todo)}
            for j, (t, f) in enumerate(zip(texts, found)):
                if not f:
                    rows[j] = new[where[t]]
        return rows

    def _assign(self, titles, duty_emb):
        res = self.assigner.assign(titles, duty_embeddings=duty_emb, k=TOP_DUTIES)
        codes, names, conf = np.asarray(res.codes), np.asarray(res.titles), np.asarray(res.confidence)
        occ = [[(str(c), str(t), float(p)) for c, t, p in zip(codes[i], names[i], conf[i]) if c]
               for i in range(len(titles))]
        basis = list(getattr(res, "basis", [None] * len(titles)))
        return occ, basis
