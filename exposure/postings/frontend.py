"""The text work of posting scoring, apart from the model: posting texts -> the units to encode.

Per posting: a status for texts that cannot be scored (missing, not text, blank,
not English by :func:`exposure.language.is_english_posting`; ``truncated`` when cut
to ``max_chars``), the units
(:func:`~exposure.postings.segmentation.segment`), the unit classifier's cheap
first stage (which units go on to the encoder) and the context features of those
units. Everything here is numpy, py3langid and the standard library: no torch, no encoder, so
worker processes can run it while the model works on other postings
(:class:`~exposure.postings.scorer.PostingScorer` runs it in-process, a batch job in
a pool of workers). :meth:`PostingScorer.score_prepared
<exposure.postings.scorer.PostingScorer.score_prepared>` does the rest.

>>> from exposure.postings import UnitClassifier
>>> prepared = prepare(["Duties:\\n- Load trucks\\n- Count stock\\nWe offer dental."], UnitClassifier.load())
>>> prepared.status, prepared.n_units.tolist(), prepared.kept[0]
(['ok'], [4], ['Load trucks', 'Count stock'])
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Collection, List, Optional, Sequence

import numpy as np

from ..language import not_text_status, posting_language

from .classifier import CONTEXT_FEATURES, UnitClassifier, adjacent
from .segmentation import segment

logger = logging.getLogger(__name__)

__all__ = ["PreparedPostings", "prepare", "MAX_CHARS"]

#: Longer texts are cut to this many characters before splitting (status ``truncated``).
MAX_CHARS = 100_000


@dataclass
class PreparedPostings:
    """The text work on ``n`` postings: what the model stage needs, and nothing of the model.

    Attributes:
        status: per posting ``ok``, ``truncated``, ``empty``, ``not_text``, ``non_english`` or
            ``error`` (see :data:`~exposure.postings.scorer.STATUSES`).
        n_chars: length of each text as given (0 when not a string).
        n_units: units found per posting (0 when not scored).
        kept: per posting, the texts of the units that passed the first stage, in posting order.
        context: per posting, float32 ``(len(kept[i]), len(CONTEXT_FEATURES))``: those units'
            context features, standardised as the second stage reads them.
        adjacent: per posting, bool ``(len(kept[i]), 2)``: whether the unit just before and the unit just
            after each kept unit were kept too (:func:`~exposure.postings.classifier.adjacent`).
        language: per posting, the language it is read in (ISO 639-1: ``"en"``, or another of the
            ``languages`` :func:`prepare` was given); for ``non_english`` postings the language found;
            ``None`` for postings without text.
        units, keep, first_stage: only when asked for (``prepare(..., units=True)``, for the per-unit
            output), else ``None``: per posting the texts of all its units, which of them passed the
            first stage (bool), and the first stage's class probabilities ``(n_units, labels)``.

    Plain lists and numpy arrays: it pickles cheaply to and from worker processes.
    """

    status: List[str]
    n_chars: np.ndarray
    n_units: np.ndarray
    kept: List[List[str]]
    context: List[np.ndarray]
    adjacent: List[np.ndarray]
    units: Optional[List[List[str]]] = None
    keep: Optional[List[np.ndarray]] = None
    first_stage: Optional[List[np.ndarray]] = None
    language: Optional[List[Optional[str]]] = None

    def __len__(self) -> int:
        return len(self.status)

    @staticmethod
    def concat(pieces: Sequence["PreparedPostings"]) -> "PreparedPostings":
        """The postings of ``pieces``, one after the other."""
        detail = bool(pieces) and all(p.units is not None for p in pieces)
        return PreparedPostings(status=[s for p in pieces for s in p.status],
                                n_chars=np.concatenate([p.n_chars for p in pieces]) if pieces else
                                np.zeros(0, np.int64),
                                n_units=np.concatenate([p.n_units for p in pieces]) if pieces else
                                np.zeros(0, np.int32),
                                kept=[k for p in pieces for k in p.kept],
                                context=[c for p in pieces for c in p.context],
                                adjacent=[a for p in pieces for a in p.adjacent],
                                units=[u for p in pieces for u in p.units] if detail else None,
                                keep=[k for p in pieces for k in p.keep] if detail else None,
                                first_stage=[f for p in pieces for f in p.first_stage] if detail else None,
                                language=[x for p in pieces for x in (p.language or [None] * len(p))])


def prepare(texts: Sequence, classifier: UnitClassifier, max_chars: int = MAX_CHARS,
            units: bool = False, languages: Collection[str] = ("en",)) -> PreparedPostings:
    """Statuses, units and first-stage survivors of the posting ``texts`` (a list; ``None`` where missing).

    Any value is accepted: ``None``, non-strings, blank, non-English or overlong texts get a status
    instead of an error, and a text that cannot be cut into units gets ``error`` (logged) without
    stopping the others. The language is judged on the text as cut to ``max_chars``, by the majority
    of its text (:func:`~exposure.language.is_english_posting`: keyword lists without function words
    are English too); ``non_english`` wins over ``truncated``. ``units``: also keep every unit's text and
    first-stage result (:class:`PreparedPostings` ``units``, ``keep``, ``first_stage``).
    ``languages``: the languages read besides English (ISO 639-1, e.g.
    :data:`~exposure.multilingual.SUPPORTED_LANGUAGES`); a posting that is not English is read when
    :func:`~exposure.language.posting_language` finds one of them, cut by that language's rules, and
    every unit of it goes on to the encoder (the first stage reads English); other postings get
    ``non_english``.
    """
    n = len(texts)
    status = ["ok"] * n
    n_chars = np.array([len(t) if isinstance(t, str) else 0 for t in texts], dtype=np.int64)
    n_units = np.zeros(n, dtype=np.int32)
    kept: List[List[str]] = [[] for _ in range(n)]
    empty = np.zeros((0, len(CONTEXT_FEATURES)), dtype=np.float32)
    context: List[np.ndarray] = [empty] * n
    neighbours: List[np.ndarray] = [np.zeros((0, 2), dtype=bool)] * n
    detail = ([[] for _ in range(n)], [np.zeros(0, bool)] * n,
              [np.zeros((0, len(classifier.labels)), np.float32)] * n) if units else None
    language: List[Optional[str]] = [None] * n
    others = set(languages) - {"en"}
    for i, t in enumerate(texts):
        missing = not_text_status(t)
        if missing:
            status[i] = missing
            continue
        if len(t) > max_chars:
            t, status[i] = t[:max_chars], "truncated"
        try:
            language[i] = posting_language(t)  # "en" exactly when is_english_posting(t)
            if language[i] != "en" and language[i] not in others:
                status[i] = "non_english"
                continue
            found = segment(t, language[i])
        except Exception as exc:  # a pathological text must not stop the others
            logger.warning("posting %d of the batch could not be read or cut into units (%s: %s): status 'error'",
                           i, type(exc).__name__, exc)
            status[i] = "error"
            continue
        n_units[i] = len(found)
        if not found:
            continue
        cheap = classifier.prefilter_probabilities(found)
        keep = classifier.keep_probable(cheap) if language[i] == "en" else np.ones(len(found), dtype=bool)
        if detail is not None:
            detail[0][i], detail[1][i], detail[2][i] = [u.text for u in found], keep, cheap
        if keep.any():
            kept[i] = [u.text for u, k in zip(found, keep) if k]
            context[i] = classifier.context(found, keep)
            neighbours[i] = adjacent(keep)
    return PreparedPostings(status, n_chars, n_units, kept, context, neighbours, *(detail or (None, None, None)),
                            language=language)
