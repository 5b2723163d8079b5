"""Is a text English, and if not, which language? Language identification for task statements and job
postings, with py3langid.

The encoder and the capability statements are English, so a task statement or a
posting in another language gets no score (status ``non_english``) rather than a
meaningless one. py3langid (a maintained fork of langid.py; its model ships
inside the package, nothing is downloaded) ranks a text over 33 common
languages; a text is non-English when the probability of English is below
:data:`MIN_ENGLISH`. On the 19,265 O*NET 27 and 18,796 O*NET 29.1 task
statements (all English) that threshold flags none (the lowest, "Plan bar
menus.", scores 0.018); Spanish, French, German and Chinese task statements of
four or five words score 0.004 or less. Texts with fewer than :data:`MIN_LETTERS`
letters are too short to tell and count as English.

:func:`is_english` judges short texts (task statements) whole.
:func:`is_english_posting` judges a posting by the majority of up to three
windows of 300 characters spread over it, each by the same threshold; a window of
plain English prose (10% of its words or more among 30 English function words:
the median window of a generated posting has 27%, other languages' 2.5% or less)
skips the model. Measured on a single core: 0.05-0.07 ms a prose posting, 0.4 ms
a keyword-style posting (the model reads every window). With that threshold all
38,061 task statements, 4,000 generated postings and 3,896 English postings
written as keyword lists without function words (from the O*NET tasks of each
occupation, from generated postings, 50 by hand: ``"warehouse associate forklift
certified pallet jack ..."``) read as English; 33 postings of two to four
sentences in German, French, Spanish, Dutch, Polish, Italian, Portuguese,
Swedish, Chinese, Russian and Japanese do not, nor 18 of 19 keyword postings in
German, Spanish, French, Dutch, Polish and Italian (the miss, "softwareentwickler
java spring microservices homeoffice unbefristeter arbeitsvertrag", is half
English words).

>>> is_english(["Inspect finished parts for defects.", "Soldar vigas de acero en obras de construcción."])
[True, False]
>>> is_english_posting("cdl class a driver otr regional routes hazmat endorsement clean mvr home weekly")
True
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import List, Optional, Sequence, Tuple

__all__ = ["is_english", "is_english_posting", "posting_language", "has_cjk", "CJK_RE", "text_status", "not_text_status", "TEXT_STATUSES", "MIN_ENGLISH", "MIN_LETTERS", "LANGUAGES", "SAMPLE_CHARS",
           "WINDOW_CHARS", "FUNCTION_WORD_SHARE", "FUNCTION_WORD_MIN_WORDS"]

#: Below this probability of English (among :data:`LANGUAGES`) a text is non-English.
MIN_ENGLISH = 0.01
#: Texts with fewer letters are too short to tell and count as English.
MIN_LETTERS = 12
#: The languages compared with English. Rare languages are left out: they only add noise on short texts.
LANGUAGES = ("en es fr de it pt nl sv da no fi pl cs sk hu ro ru uk bg el tr ar he fa hi bn ur zh ja ko vi th "
             "id").split()
#: A posting is judged on at most this many characters, in windows spread evenly over its text.
SAMPLE_CHARS = 900
#: The length of one window; each window is English or not on its own, and the majority decides.
WINDOW_CHARS = 300
#: A window of at least :data:`FUNCTION_WORD_MIN_WORDS` words, this share of them English function words, is
#: English without asking the model (English prose runs at 15-35%, other languages at 2.5% or less).
FUNCTION_WORD_SHARE = 0.1
FUNCTION_WORD_MIN_WORDS = 20
_FUNCTION_WORDS = frozenset("the and to of for with you your our we will is are be as or this that on at by from an "
                            "have has all their who can it not".split())
_MARKUP_RE = re.compile(r"<[^<>]{0,1000}>|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{1,32});")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")
#: A character of Chinese, Japanese (kana) or Korean (hangul) script.
CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


@functools.lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=list(LANGUAGES))


def is_english(texts: Sequence[str]) -> List[bool]:
    """For each text, whether it reads as English (see the module's notes on the threshold)."""
    ident = None
    out = []
    for text in texts:
        if sum(c.isalpha() for c in text[:200]) < MIN_LETTERS:
            out.append(True)
            continue
        ident = ident or _identifier()
        out.append(dict(ident.rank(text[:2000])).get("en", 0.0) >= MIN_ENGLISH)
    return out


#: Why a text is or is not scored: ``ok``; ``empty`` (missing, or only white space); ``not_text`` (a number, say);
#: ``non_english`` (the model reads English only).
TEXT_STATUSES = ("ok", "empty", "not_text", "non_english")


def not_text_status(value) -> Optional[str]:
    """``"empty"`` for a missing value or blank text, ``"not_text"`` for a value that is not a string, ``None``
    for text: the first part of :func:`text_status`, shared by the posting front end.

    >>> [not_text_status(v) for v in (None, " ", 5, "Sort mail.")]
    ['empty', 'empty', 'not_text', None]
    """
    if value is None:
        return "empty"
    if not isinstance(value, str):
        return "not_text"
    return None if value.strip() else "empty"


def text_status(values: Sequence) -> List[str]:
    """Per value, one of :data:`TEXT_STATUSES`: the rule every scored text follows (tasks, and postings through
    :func:`~exposure.postings.frontend.prepare`, which judges a posting by :func:`is_english_posting`).

    >>> text_status(["Sort mail.", None, "  ", 12345, "Clasificar el correo entrante por departamento y urgencia."])
    ['ok', 'empty', 'empty', 'not_text', 'non_english']
    """
    status = [not_text_status(v) or "ok" for v in values]
    texts = [i for i, s in enumerate(status) if s == "ok"]
    for i, english in zip(texts, is_english([values[i] for i in texts])):
        if not english:
            status[i] = "non_english"
    return status


def is_english_posting(text: str, sample: int = SAMPLE_CHARS) -> bool:
    """Whether a posting reads as English, decided by the majority of its text, from at most ``sample`` characters.

    HTML tags and character references are blanked, then windows of :data:`WINDOW_CHARS`
    characters (``sample // WINDOW_CHARS`` of them, spread evenly from the first
    character to the last; a text of at most ``sample`` characters is read whole) are judged one by one: a
    window is English when py3langid's probability of English is at least
    :data:`MIN_ENGLISH`, or, without the model, when :data:`FUNCTION_WORD_SHARE` of
    its words (:data:`FUNCTION_WORD_MIN_WORDS` or more) are frequent English function
    words. The posting is English when its English windows hold at least half the
    letters of the windows judged; a window of fewer than :data:`MIN_LETTERS` letters
    (a third of that in Chinese, Japanese or Korean script) is not judged, and a posting with no window judged is too short to tell and counts
    as English. A mixed posting goes by its majority: of postings of 3,000 characters
    mixing English with German, French or Spanish, all with 35% English or less were
    non-English and all with 65% or more English; near half, it depends on where the
    windows fall. Keyword lists with the function words stripped (``"forklift
    certified pallet jack inventory counts"``) are judged by the model and read as
    English.

    >>> is_english_posting("warehouse associate forklift certified pallet jack inventory counts shipping "
    ...                    "receiving osha safety")
    True
    >>> is_english_posting("Wir suchen einen Lagermitarbeiter (m/w/d). Zu Ihren Aufgaben gehören die "
    ...                    "Warenannahme, die Kommissionierung und der Versand.")
    False
    """
    if not isinstance(text, str):
        raise TypeError(f"is_english_posting takes a str, got {type(text).__name__}")
    if isinstance(sample, bool) or not isinstance(sample, int):
        raise TypeError(f"sample must be an int (a number of characters), got {type(sample).__name__}")
    if sample < 1:
        raise ValueError(f"sample must be at least 1 character, got {sample}")
    return _english_share(text, sample) >= 0.5


def _windows(text: str, sample: int) -> List[str]:
    """The windows of ``text`` that :func:`is_english_posting` judges: a text of at most ``sample``
    characters whole, cut into windows at spaces; a longer one in windows spread evenly from its first
    character to its last, without the words cut at their ends."""
    size = min(WINDOW_CHARS, sample)
    k = max(1, sample // size)
    n = len(text)
    out = []
    if n <= k * size:
        start = 0
        while start < n:
            end = start + size
            if end < n and not text[end].isspace() and not text[end - 1].isspace():
                space = max(text.rfind(" ", start + 1, end), text.rfind("\n", start + 1, end))
                end = space if space > 0 else end
            out.append(text[start:end])
            start = end
        return out
    step = (n - size) / (k - 1) if k > 1 else 0
    for start in (round(i * step) for i in range(k)):
        end = start + size
        window = text[start:end]
        if start > 0 and not text[start - 1].isspace() and not text[start].isspace():
            parts = window.split(None, 1)
            window = parts[1] if len(parts) == 2 else window
        if end < n and not text[end].isspace() and not text[end - 1].isspace():
            parts = window.rsplit(None, 1)
            window = parts[0] if len(parts) == 2 else window
        out.append(window)
    return out


def _judge_windows(text: str, sample: int = SAMPLE_CHARS) -> Tuple[int, int, Counter]:
    """The windows of ``text`` (see :func:`is_english_posting`) judged in one pass: the letters in English windows,
    the letters in the others, and per language the letters of the other windows it tops. A window in Chinese,
    Japanese or Korean script is judged from a third of :data:`MIN_LETTERS` letters (a character says more)."""
    if "<" in text or "&" in text:
        text = _MARKUP_RE.sub(" ", text)
    english = other = 0
    votes: Counter = Counter()
    ident = None
    for window in _windows(text, sample):
        words = _LETTER_RUN_RE.findall(window.lower())
        letters = sum(map(len, words))
        if letters < MIN_LETTERS and (letters < MIN_LETTERS // 3 or not CJK_RE.search(window)):
            continue
        if len(words) >= FUNCTION_WORD_MIN_WORDS and \
                sum(map(_FUNCTION_WORDS.__contains__, words)) >= FUNCTION_WORD_SHARE * len(words):
            english += letters
            continue
        ident = ident or _identifier()
        ranked = ident.rank(window)
        if dict(ranked).get("en", 0.0) >= MIN_ENGLISH:
            english += letters
        else:
            other += letters
            votes[ranked[0][0]] += letters
    return english, other, votes


def _english_share(text: str, sample: int = SAMPLE_CHARS) -> float:
    """The share of the letters of the judged windows (see :func:`is_english_posting`) that lie in English
    windows; 1.0 when no window is judged."""
    english, other, _ = _judge_windows(text, sample)
    return english / (english + other) if english + other else 1.0


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese, Japanese or Korean characters.

    >>> has_cjk("負責倉務工作"), has_cjk("Warehouse assistant")
    (True, False)
    """
    return CJK_RE.search(text) is not None


def posting_language(text: str) -> str:
    """The language a posting is read in (ISO 639-1, among :data:`LANGUAGES`): ``"en"`` exactly when
    :func:`is_english_posting` says so, else the language that tops the most letters of its non-English windows
    (py3langid), from the same single pass over its windows. Which of these languages the engine reads: see
    :mod:`exposure.multilingual`.

    >>> posting_language("Wir suchen einen Lagermitarbeiter. Sie kommissionieren Waren und beladen Lkw.")
    'de'
    """
    english, other, votes = _judge_windows(text)
    return "en" if english >= other else votes.most_common(1)[0][0]
