"""Is a short text English? Language identification for task statements, with py3langid.

The encoder and the capability statements are English, so a task statement in
another language gets no score (status ``non_english``) rather than a
meaningless one. py3langid (a maintained fork of langid.py; its model ships
inside the package, nothing is downloaded) ranks the text over 33 common
languages; a text is non-English when the probability of English is below
:data:`MIN_ENGLISH`. On the 19,265 O*NET 27 and 18,796 O*NET 29.1 task
statements (all English) that threshold flags none (the lowest, "Plan bar
menus.", scores 0.018); Spanish, French, German and Chinese task statements of
four or five words score 0.004 or less. Texts with fewer than :data:`MIN_LETTERS`
letters are too short to tell and count as English.

>>> is_english(["Inspect finished parts for defects.", "Soldar vigas de acero en obras de construcción."])
[True, False]
"""

from __future__ import annotations

import functools
from typing import List, Sequence

__all__ = ["is_english", "MIN_ENGLISH", "MIN_LETTERS", "LANGUAGES"]

#: Below this probability of English (among :data:`LANGUAGES`) a text is non-English.
MIN_ENGLISH = 0.01
#: Texts with fewer letters are too short to tell and count as English.
MIN_LETTERS = 12
#: The languages compared with English. Rare languages are left out: they only add noise on short texts.
LANGUAGES = ("en es fr de it pt nl sv da no fi pl cs sk hu ro ru uk bg el tr ar he fa hi bn ur zh ja ko vi th "
             "id").split()


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
