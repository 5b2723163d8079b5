"""Units -> which units are duties: a cheap first stage, then a classifier over embeddings.

Encoding dominates the cost, so the units of :mod:`exposure.postings.segmentation`
go through two stages:

1. A cheap first stage (hashed word n-grams plus the header each unit sits
   under, a linear model in numpy) drops obvious boilerplate before anything
   is encoded.
2. The units that pass are embedded with :class:`~exposure.encoder.Encoder` and
   labelled by a multinomial logistic regression over the embedding, the
   embeddings of the units just before and after it (zero where that unit was
   not encoded: :func:`adjacent`) and cheap context features (header context,
   position, length, verb-first, bullet, keywords): ``DUTY``, ``REQUIREMENT``,
   ``COMPANY``, ``BENEFIT``, ``LEGAL`` or ``OTHER``.

Scoring the duties and aggregating them per posting is :mod:`exposure.postings.scorer`.
The model files live in ``models/units`` (``exposure.models.units`` when
installed); ``benchmarks/train_unit_classifier.py`` trains them on hand-labelled real
postings (``benchmarks/data/real_postings``) and the written ones in
``tests/data/postings``.

>>> context_features(["Responsibilities", "Inspect welds"]).shape == (2, len(CONTEXT_FEATURES))
True
"""

from __future__ import annotations

import array
import functools
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .._assets import shipped
from ..language import CJK_RE
from ..stats import softmax
from .segmentation import CACHE_SIZE, Unit, header_category, is_header, segment
from .segmentation import clear_caches as clear_segmentation_caches

if TYPE_CHECKING:  # the encoder pulls in torch; the cheap stage must not
    from ..encoder import Encoder

__all__ = ["LABELS", "CONTEXT_FEATURES", "context_features", "hashed_features", "adjacent", "UnitClassifier",
           "UnitPredictions", "read_postings", "find_duties", "MODEL_FILE", "MANIFEST_FILE"]

LABELS = ("DUTY", "REQUIREMENT", "COMPANY", "BENEFIT", "LEGAL", "OTHER")

# --------------------------------------------------------------------------- 1. features

_WORD_RE = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")
_YOU_WILL_RE = re.compile(r"^(?:(?:in this role|as an? [\w -]+|each day|daily|you will also|you'll also),? )?"
                          r"(?:you(?:'ll| will)|will|the \w+(?: \w+)? will)\s+(?:also\s+)?(\w+)", re.IGNORECASE)
# Cheap, hand-written cues; the model learns how much each is worth.
_CUES = (
    ("you_will", r"\byou(?:'ll|\u2019ll| will)\b(?! (?:report|be home|receive|get|enjoy|earn|join))"),
    ("responsible", r"\bresponsib|\bduties\b|\bperform(?:s|ing)?\b"),
    ("money", r"\$\s?\d|/h(?:ou)?r\b|\b(?:per (?:hour|year|mile)\b|salary\b|wage|pay\b|bonus)"),
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
# The same cues for ASCII text made lower case, matched case-sensitively: the same answers (no cue has an upper-case
# letter of its own; tests/postings/test_classifier.py checks), twice as fast as IGNORECASE.
_CUE_RES_LOWER = tuple(re.compile(p) for _, p in _CUES)
# The cues that are one word list, r"\b(?:...)" and maybe a closing r"\b" (no "|" outside the group; the tests
# check): they rarely fire on the units that get context features, so on ASCII text one regex, their union,
# looks for all of them at once first, and where it finds nothing none of them fires.
_WORD_LIST_CUES = ("benefit_words", "legal_words", "req_words", "apply_words")
_WORD_LIST_CUES_RE = re.compile(r"\b(?:" + "|".join(dict(_CUES)[name][len(r"\b"):] for name in _WORD_LIST_CUES)
                                + ")")
_IN_WORD_LIST_UNION = tuple(name in _WORD_LIST_CUES for name, _ in _CUES)
_CONTEXTS = ("NONE",) + LABELS
CONTEXT_FEATURES = (tuple(f"under_{c.lower()}" for c in _CONTEXTS)
                    + ("is_header", "bullet", "position", "first", "last_tenth", "log_chars", "words",
                       "since_header", "verb_first", "verb_after_will", "ends_colon", "ends_stop", "has_digit")
                    + tuple(f"cue_{n}" for n, _ in _CUES))


_UNIT_TYPE = frozenset((Unit,))


def _as_units(units: Sequence[Union[str, Unit]]) -> List[Unit]:
    """``units`` as a new list of :class:`Unit` (a text becomes a unit of its own, ``line`` its index)."""
    units = list(units)
    if set(map(type, units)) <= _UNIT_TYPE:  # the usual case, segment()'s units: nothing to convert
        return units
    out = []
    for i, u in enumerate(units):
        if isinstance(u, Unit):
            out.append(u)
        elif isinstance(u, str):
            out.append(Unit(u, bullet=False, header=is_header(u, False), line=i))
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


# Speed: what depends on a unit's text alone (its words, the regex cues, the crc32 hashes of its n-grams) is
# memoised in bounded LRU caches (CACHE_SIZE entries each), as boilerplate and duty units recur across postings;
# the positional parts are computed per posting. A cached value is the one computed without the cache, so the
# results do not change; clear_caches() empties the caches.

# The context one-hot block of a row, per context.
_ONE_HOT = {c: tuple(float(c == d) for d in _CONTEXTS) for c in _CONTEXTS}
_ASCII_DIGIT_RE = re.compile("[0-9]")


@functools.lru_cache(maxsize=CACHE_SIZE)
def _text_features(text: str) -> tuple:
    """The parts of a unit's :func:`context_features` row that depend on its text alone.

    ``(first word or None, word after "you will" or None, log_chars, words, (ends_colon, ends_stop, has_digit,
    cue_...))``: the verb checks are left to the caller, which has the verbs. A text in Chinese script is read
    by :func:`_cjk_text_features`.
    """
    text = text.strip()
    if CJK_RE.search(text):
        return _cjk_text_features(text)
    lower = text.lower()
    words = _WORD_RE.findall(lower)
    will = _YOU_WILL_RE.match(text)
    return (words[0] if words else None, will.group(1).lower() if will else None, _log_chars(len(text)),
            min(len(words), 60) / 30.0, _ascii_text_flags(text, lower) if text.isascii() else _text_flags(text))


# The classifier was fitted on English units. A unit in Chinese gets the features an English unit saying the
# same would have: a Chinese word is about 1.7 characters and an English one, with its space, about 6; it
# opens with a task verb when it opens (after its list number) with one of these; it ends at a full stop
# written 。！？; and each cue fires on its Chinese words too.
_CJK_CHARS_PER_WORD = 1.7
_CJK_VERB_RE = re.compile(
    r"^(?:\(?\d{1,2}[.)\u3001]\s*)?(?:负责|負責|处理|處理|协助|協助|跟进|跟進|操作|安排|管理|维修|維修|维护|維護|编写|編寫|"
    r"完成|参与|參與|执行|執行|准备|準備|整理|接听|接聽|回复|回覆|制定|制訂|进行|進行|确保|確保|监督|監督|检查|檢查|"
    r"统计|統計|核对|核對|审核|審核|编制|編製|建立|开发|開發|设计|設計|测试|測試|销售|銷售|推广|推廣|拓展|提供|解答|"
    r"接待|清洁|清潔|驾驶|駕駛|运送|運送|送货|送貨|搬运|搬運|装卸|裝卸|盘点|盤點|收发|收發|录入|錄入|撰写|撰寫|翻译|"
    r"翻譯|教授|辅导|輔導|照顾|照顧|护理|護理|烹调|烹調|制作|製作|收银|收銀|巡逻|巡邏|监控|監控|安装|安裝|调试|調試|"
    r"分析|采购|採購|报关|報關|协调|協調|组织|組織|策划|策劃|配合|做好|记录|記錄|计算|計算|申报|申報|培训|培訓|带领|"
    r"帶領|指导|指導|跟单|跟單|對|对|為|为)")
_CJK_CUES = {
    "responsible": "负责|負責|职责|職責",
    "money": "薪|元|月薪|底薪|佣金|花紅|花红|提成",
    "benefit_words": "福利|五险|五險|保险|保險|年假|双休|雙休|包食宿|包吃住|勤工|医疗|醫療|假期|带薪|帶薪|年终奖|年終獎",
    "legal_words": "个人资料|個人資料|平等机会|平等機會|招聘用途|私隱|隐私|歧视|歧視",
    "req_words": "学历|學歷|经验|經驗|优先|優先|熟悉|具备|具備|能力|证书|證書|中五|大专|大專|本科|以上学历|懂|良好",
    "company_words": "公司|集团|集團|成立|我们|我們|本店|品牌|企业|企業",
    "apply_words": "申请|申請|简历|簡歷|履歷|履历|电邮|電郵|投递|投遞|面试|面試|致电|致電|联系|聯絡|应聘|應徵",
    "we_our": "^(?:我们|我們|本公司)",
}
_CJK_CUE_RES = tuple((re.compile(_CJK_CUES[name]) if name in _CJK_CUES else None) for name, _ in _CUES)


def _cjk_text_features(text: str) -> tuple:
    """:func:`_text_features` of a stripped unit text in Chinese script (see the notes above)."""
    latin = _WORD_RE.findall(text.lower())
    words = len(latin) + len(CJK_RE.findall(text)) / _CJK_CHARS_PER_WORD
    first = "manage" if _CJK_VERB_RE.match(text) else (latin[0] if latin and text[:1].isascii() else None)
    flags = (text.endswith(":"), text[-1:] in ".!?\u3002\uff01\uff1f", any(c.isdigit() for c in text),
             *[rx.search(text) is not None or (cjk is not None and cjk.search(text) is not None)
               for (_, rx), cjk in zip(_CUE_RES, _CJK_CUE_RES)])
    return first, None, _log_chars(int(round(words * 6))), min(words, 60) / 30.0, flags


def _text_flags(text: str) -> tuple:
    """``(ends_colon, ends_stop, has_digit, cue_...)`` of a stripped unit text."""
    return (text.endswith(":"), text[-1:] in ".!?", any(c.isdigit() for c in text),
            *[rx.search(text) is not None for _, rx in _CUE_RES])


def _ascii_text_flags(text: str, lower: str) -> tuple:
    """:func:`_text_flags` of an ASCII text (``lower``: it lower-cased), faster: its digits are 0-9, the cues
    match ``lower`` case-sensitively, and one search rules out all the word-list cues at once."""
    listed = _WORD_LIST_CUES_RE.search(lower) is not None
    return (text.endswith(":"), text[-1:] in ".!?", _ASCII_DIGIT_RE.search(text) is not None,
            *[(listed or not in_union) and rx.search(lower) is not None
              for rx, in_union in zip(_CUE_RES_LOWER, _IN_WORD_LIST_UNION)])


@functools.lru_cache(maxsize=4096)
def _log_chars(n: int) -> float:
    """The ``log_chars`` feature of a unit of ``n`` characters (numpy's log1p, as trained)."""
    return float(np.log1p(n) / 5.0)


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
    # 1. positional: the header above and the units since it need every unit before the picked ones.
    contexts = _contexts(units)
    since, count = [], 0
    for u in units:
        count = 0 if u.header else count + 1
        since.append(count)
    # 2. a row per picked unit, in CONTEXT_FEATURES order; its text features from the cache. Every value is a
    # Python bool or float (float64) until the one conversion to float32 at the end.
    last, span = 0.9 * n, max(n - 1, 1)
    out = []
    for i in pick:
        u = units[i]
        first, will, log_chars, n_words, text_flags = _text_features(u.text)
        out.append(_ONE_HOT[contexts[i]]
                   + (u.header, u.bullet, i / span, i == 0, i >= last, log_chars, n_words, min(since[i], 20) / 10.0,
                      first is not None and _is_verb(first, verbs), will is not None and _is_verb(will, verbs))
                   + text_flags)
    return np.array(out, dtype=np.float32).reshape(len(out), len(CONTEXT_FEATURES))


def _hash_tokens(unit: Unit, context: str, position: float) -> List[int]:
    """Stable 32-bit hashes of a unit's word unigrams, bigrams and context tokens (crc32, not ``hash()``).

    The definition of a row of :func:`hashed_features`, which builds the same hashes from memoised parts.
    """
    words = _WORD_RE.findall(unit.text.lower())
    tokens = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    tokens += [f"__ctx_{context}", f"__pos_{min(int(position * 5), 4)}", f"__first_{words[0]}" if words else "__empty"]
    if unit.header:
        tokens.append("__header")
    if unit.bullet:
        tokens.append("__bullet")
    return [zlib.crc32(t.encode("utf-8")) for t in dict.fromkeys(tokens)]


def _crc32s(tokens: Iterable[str]) -> array.array:
    """crc32 of each token's UTF-8 bytes, as native int64s (``array('q')``: the bytes of an ``np.int64`` array)."""
    return array.array("q", [zlib.crc32(t.encode("utf-8")) for t in tokens])


_WORD_BYTES_RE = re.compile(rb"[a-z0-9]+(?:'[a-z]+)?")  # _WORD_RE on ASCII text, which holds no \u2019
_CRC_EMPTY, _CRC_HEADER, _CRC_BULLET = _crc32s(["__empty", "__header", "__bullet"])
# The context and position tokens of _hash_tokens, as native int64 bytes, by context and position bucket (0-4).
_PLACE_HASHES = {(c, b): _crc32s([f"__ctx_{c}", f"__pos_{b}"]).tobytes() for c in _CONTEXTS for b in range(5)}


@functools.lru_cache(maxsize=CACHE_SIZE)
def _unit_hashes(text: str, header: bool, bullet: bool) -> Tuple[bytes, bytes, int]:
    """The hashes of :func:`_hash_tokens` that do not depend on the unit's place, as native int64 bytes.

    ``(n-grams, first word / header / bullet tokens, count of the whole row)``; the row is the n-grams, then
    the context and position tokens (:data:`_PLACE_HASHES`), then the rest. Words have no ``_`` or space and
    bigrams one space, so no n-gram equals another kind of token: deduplicating the n-grams alone, in order,
    gives :func:`_hash_tokens`' row.
    """
    lower = text.lower()
    if lower.isascii():  # the fast path: the same tokens as bytes, no encoding of each one
        words = _WORD_BYTES_RE.findall(lower.encode("ascii"))
        grams = array.array("q", map(zlib.crc32,
                                     dict.fromkeys(words + [a + b" " + b for a, b in zip(words, words[1:])])))
        rest = [zlib.crc32(b"__first_" + words[0]) if words else _CRC_EMPTY]
    else:
        words = _WORD_RE.findall(lower)
        grams = _crc32s(dict.fromkeys(words + [f"{a} {b}" for a, b in zip(words, words[1:])]))
        rest = [_CRC_EMPTY if not words else zlib.crc32(f"__first_{words[0]}".encode("utf-8"))]
    if header:
        rest.append(_CRC_HEADER)
    if bullet:
        rest.append(_CRC_BULLET)
    return grams.tobytes(), array.array("q", rest).tobytes(), len(grams) + 2 + len(rest)


@functools.lru_cache(maxsize=1024)
def _buckets(n: int) -> Tuple[int, ...]:
    """The position bucket of _hash_tokens of each of ``n`` units: ``min(int(i / max(n - 1, 1) * 5), 4)``."""
    return tuple(min(int(i / max(n - 1, 1) * 5), 4) for i in range(n))


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
    # Row i is _hash_tokens(units[i], context, i / max(n - 1, 1)), masked to n_features: made of bytes from the
    # caches, joined once.
    parts, counts = [], []
    for u, c, b in zip(units, _contexts(units), _buckets(n)):
        grams, rest, count = _unit_hashes(u.text, u.header, u.bullet)
        parts += (grams, _PLACE_HASHES[c, b], rest)
        counts.append(count)
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(counts)
    indices = np.frombuffer(b"".join(parts), dtype=np.int64) & (n_features - 1)
    return indices, offsets


def clear_caches() -> None:
    """Empty the feature caches of this module and of :mod:`~exposure.postings.segmentation`; results do not
    change."""
    for cached in (_text_features, _log_chars, _unit_hashes, _buckets):
        cached.cache_clear()
    clear_segmentation_caches()


# --------------------------------------------------------------------------- 2. the classifier

def adjacent(keep: np.ndarray) -> np.ndarray:
    """For each unit of a posting that ``keep`` says is encoded, whether the unit just before it and the unit
    just after it are encoded too: ``(keep.sum(), 2)`` bool. The second stage reads those neighbours'
    embeddings (the rows just before and after in the encoded units' order) and zeros for the others.

    >>> adjacent(np.array([True, True, False, True])).tolist()
    [[False, True], [True, False], [False, False]]
    """
    keep = np.asarray(keep, dtype=bool)
    before = np.concatenate([[False], keep[:-1]])
    after = np.concatenate([keep[1:], [False]])
    return np.column_stack([before, after])[keep]


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


class UnitClassifier:
    """Label the units of a posting as DUTY, REQUIREMENT, COMPANY, BENEFIT, LEGAL or OTHER.

    Two stages, both plain numpy at run time: a linear model over hashed word
    n-grams and header context drops units that are clearly not duties (their
    P(DUTY) below ``threshold``) before anything is encoded; the rest are
    embedded with ``encoder`` and labelled by a multinomial logistic regression
    over the embedding and :func:`context_features`.

    Load the shipped model with :meth:`load`; it belongs to one encoder (the
    default all-MiniLM-L6-v2) and refuses another (:meth:`check_encoder`). The
    classifier holds no encoder: it labels embeddings (:meth:`duty_mask`,
    :meth:`predict` with ``embeddings``), or encodes with the ``encoder`` a call is given.

    Example:
        >>> from exposure import Encoder
        >>> encoder = Encoder(device="cpu")                                      # doctest: +SKIP
        >>> clf = UnitClassifier.load(encoder=encoder)                           # doctest: +SKIP
        >>> clf.predict(split_units("Duties:\\n- Load trucks\\nWe offer dental."), encoder=encoder).labels  # doctest: +SKIP
        ['OTHER', 'DUTY', 'BENEFIT']
    """

    def __init__(self, weights: dict, manifest: dict) -> None:
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
        if np.any(self.pre_index[1:] <= self.pre_index[:-1]) or np.any(self.pre_index >= self.n_features):
            raise ValueError("unit classifier weights: prefilter_index must be increasing column numbers below "
                             f"n_features ({self.n_features}); retrain with benchmarks/train_unit_classifier.py")
        # A dense column -> row table (n_features int32, 1 MB for 2^18): one gather per hashed feature.
        self._pre_rows = np.full(self.n_features, -1, dtype=np.int32)
        self._pre_rows[self.pre_index] = np.arange(len(self.pre_index), dtype=np.int32)
        #: Whether the second stage reads the neighbouring units' embeddings (models of version 2 on).
        self.neighbours = bool(manifest.get("neighbours", False))
        expected = self.dim * (3 if self.neighbours else 1) + len(CONTEXT_FEATURES)
        if self.coef.shape != (len(self.labels), expected):
            raise ValueError(f"unit classifier weights have shape {self.coef.shape}, expected "
                             f"({len(self.labels)}, {expected}): the model files do not match this version of "
                             "exposure.postings.classifier; retrain with benchmarks/train_unit_classifier.py")

    @classmethod
    def load(cls, path: Union[str, Path, None] = None, encoder: Optional["Encoder"] = None) -> "UnitClassifier":
        """Load a unit classifier folder (``None``: the shipped ``models/units``).

        ``encoder``, when given, is checked to be the encoder the model was trained on (same
        name and width), else ``ValueError`` names the right one (:meth:`check_encoder`).
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
        classifier = cls(weights, manifest)
        if encoder is not None:
            classifier.check_encoder(encoder)
        return classifier

    def same_text_work(self, other: "UnitClassifier") -> bool:
        """Whether ``other`` keeps the same units and gives them the same context features (a copy, or the same
        files loaded again): text workers started with one may go on for the other.

        >>> UnitClassifier.load().same_text_work(UnitClassifier.load())
        True
        """
        fields = ("threshold", "n_features", "verbs", "pre_index", "pre_coef", "pre_intercept", "mean", "scale")
        return all(np.array_equal(getattr(self, f), getattr(other, f)) if isinstance(getattr(self, f), np.ndarray)
                   else getattr(self, f) == getattr(other, f) for f in fields)

    def check_encoder(self, encoder: "Encoder") -> None:
        """Raise ``ValueError`` unless ``encoder`` gives the embeddings this classifier was trained on."""
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
        # Sparse weights: each hashed column's row of pre_coef, -1 for columns the model does not know.
        pos = self._pre_rows[idx]
        found = pos >= 0
        rows = np.repeat(np.arange(len(units)), np.diff(off))[found]
        contrib = self.pre_coef[pos[found]]
        logits = np.stack([np.bincount(rows, weights=contrib[:, j], minlength=len(units))
                           for j in range(contrib.shape[1])], axis=1)
        return softmax(logits + self.pre_intercept).astype(np.float32)

    def keep(self, units: Sequence[Union[str, Unit]]) -> np.ndarray:
        """Boolean mask of the units that go on to the encoder (P(DUTY) at least ``threshold``)."""
        return self.keep_probable(self.prefilter_probabilities(units))

    def keep_probable(self, cheap: np.ndarray) -> np.ndarray:
        """:meth:`keep` from the first stage's probabilities (:meth:`prefilter_probabilities`)."""
        return cheap[:, self.labels.index("DUTY")] >= self.threshold

    def dropped_labels(self, cheap: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The label (its index in :attr:`labels`) the first stage gives each unit it drops, and its probability:
        the likeliest label other than ``DUTY`` (the first stage said the unit is none)."""
        masked = np.array(cheap, dtype=np.float32, copy=True)
        masked[:, self.labels.index("DUTY")] = -1.0
        best = masked.argmax(axis=1)
        return best, np.take_along_axis(np.asarray(cheap), best[:, None], axis=1)[:, 0]

    def context(self, units: Sequence[Union[str, Unit]], rows: np.ndarray) -> np.ndarray:
        """The standardised context features of the units at ``rows`` (a mask), as the second stage reads them."""
        return (context_features(units, self.verbs, rows=rows) - self.mean) / self.scale

    # ----------------------------------------------------------------- stage 2
    def second_stage(self, embeddings: np.ndarray, context: np.ndarray,
                     neighbours: Optional[np.ndarray] = None) -> np.ndarray:
        """Class probabilities ``(n, 6)`` of the second stage from encoded units' embeddings ``(n, dim)``, in
        posting order (postings one after another), their standardised context features
        ``(n, len(CONTEXT_FEATURES))`` (``(context_features - mean) / scale``) and, for a model that reads
        them (:attr:`neighbours`), whether each one's previous and next units are encoded (:func:`adjacent`,
        ``(n, 2)``): their rows are the ones just before and after."""
        embeddings = np.asarray(embeddings, dtype=np.float32)
        d = self.dim
        # The weights apply block by block (the unit, its neighbours, the context): the same logits as one
        # product with the features side by side, without building that (n, 3 * dim + context) array.
        logits = embeddings @ self.coef[:, :d].T + np.asarray(context, dtype=np.float32) @ self.coef[:, -len(
            CONTEXT_FEATURES):].T + self.intercept
        if self.neighbours:
            if neighbours is None or np.shape(neighbours) != (len(embeddings), 2):
                raise ValueError(f"this unit classifier reads the neighbouring units: pass neighbours, "
                                 f"({len(embeddings)}, 2) booleans from adjacent(keep) per posting")
            neighbours = np.asarray(neighbours, dtype=bool)
            before = embeddings[:-1] @ self.coef[:, d:2 * d].T  # row i: unit i as the one before unit i + 1
            after = embeddings[1:] @ self.coef[:, 2 * d:3 * d].T
            logits[1:] += np.where(neighbours[1:, :1], before, 0.0)
            logits[:-1] += np.where(neighbours[:-1, 1:], after, 0.0)
        return softmax(logits)

    def duty_mask(self, embeddings: np.ndarray, context: np.ndarray,
                  neighbours: Optional[np.ndarray] = None) -> np.ndarray:
        """Which units the second stage labels ``DUTY`` (the likeliest label), as a boolean mask."""
        if not len(embeddings):
            return np.zeros(0, dtype=bool)
        return self.second_stage(embeddings, context, neighbours).argmax(axis=1) == self.labels.index("DUTY")

    def predict(self, units: Sequence[Union[str, Unit]], embeddings: Optional[np.ndarray] = None,
                prefilter: Optional[bool] = None, *, encoder: Optional["Encoder"] = None) -> UnitPredictions:
        """Label the units of one posting, given in posting order (context features are positional).

        ``embeddings``: the units' rows from the model's encoder, ``(n, dim)``;
        without them the units the first stage keeps are encoded with ``encoder``.
        ``prefilter`` (default: only when no embeddings are given) skips the second
        stage for units the first stage drops.
        """
        return self.predict_many([units], None if embeddings is None else [embeddings], prefilter,
                                 encoder=encoder)[0]

    def predict_many(self, postings: Sequence[Sequence[Union[str, Unit]]],
                     embeddings: Optional[Sequence[np.ndarray]] = None,
                     prefilter: Optional[bool] = None, *, encoder: Optional["Encoder"] = None
                     ) -> List[UnitPredictions]:
        """:meth:`predict` for many postings, with one encoder call for all the units that need it."""
        unit_lists = [_as_units(p) for p in postings]
        if prefilter is None:
            prefilter = embeddings is None
        cheap = [self.prefilter_probabilities(u) for u in unit_lists]
        masks = [self.keep_probable(c) if prefilter else np.ones(len(u), dtype=bool)
                 for c, u in zip(cheap, unit_lists)]
        if embeddings is None:
            if encoder is None:
                raise ValueError("no embeddings given and no encoder: pass encoder=Encoder() (the encoder this "
                                 "classifier was trained on) or the units' embeddings")
            self.check_encoder(encoder)
            texts = [u.text for units, m in zip(unit_lists, masks) for u, k in zip(units, m) if k]
            flat = encoder.encode(texts) if texts else np.zeros((0, self.dim), dtype=np.float32)
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
                probs[m] = self.second_stage(e, self.context(units, m), adjacent(m))
            best = probs.argmax(axis=1)
            best[~m] = self.dropped_labels(c[~m])[0]
            out.append(UnitPredictions(units, [self.labels[j] for j in best], probs, m, e))
        return out


def read_postings(texts: Sequence[str], classifier: UnitClassifier, encoder: "Encoder") -> List[UnitPredictions]:
    """Segment and label many postings, encoding only the units that pass the first stage, in one call.

    >>> encoder = Encoder(device="cpu")                                      # doctest: +SKIP
    >>> [p.duties for p in read_postings(["Duties:\\n- Load trucks\\nEOE."], UnitClassifier.load(), encoder)]  # doctest: +SKIP
    [['Load trucks']]
    """
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
    return classifier.predict_many([segment(t) for t in texts], encoder=encoder)


def find_duties(text: str, encoder: "Encoder", classifier: Optional[UnitClassifier] = None) -> List[str]:
    """The duty units of one posting, in order.

    ``classifier`` defaults to the shipped one (loaded for ``encoder``); load it
    once and pass it when calling this in a loop, or use :func:`read_postings`.

    >>> find_duties("What you'll do:\\n- Load trucks\\n- Count stock\\nWe are an EOE.", Encoder(device="cpu"))  # doctest: +SKIP
    ['Load trucks', 'Count stock']
    """
    clf = classifier if classifier is not None else UnitClassifier.load(encoder=encoder)
    return read_postings([text], clf, encoder)[0].duties
