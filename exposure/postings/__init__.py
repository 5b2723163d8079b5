"""Job postings: text -> units -> duties -> scores per posting.

- :mod:`~exposure.postings.segmentation`: HTML or plain text -> clean lines -> units (bullet lines,
  sentences, headers; text whose line breaks were lost cut where they were), pure Python. Whether a posting is English is
  :func:`exposure.language.is_english_posting`.
- :mod:`~exposure.postings.classifier`: which units are duties: a cheap hashed first stage, then a
  classifier over the units' embeddings (numpy; the encoder only for the second stage).
- :mod:`~exposure.postings.frontend`: :func:`prepare`: the text work on postings (statuses, the language
  check, units, the first stage, context features), no encoder: it can run in worker processes.
- :mod:`~exposure.postings.scorer`: :class:`PostingScorer` and :func:`score_postings`: duties scored
  and aggregated per posting, occupations assigned, a status per posting.

>>> from exposure.postings import split_units
>>> split_units("Duties:\\n- Load trucks\\n- Count stock")
['Duties:', 'Load trucks', 'Count stock']
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("Unit", "normalize", "segment", "split_units", "header_category", "is_header", "BULLET"),
                    "segmentation"),
    **dict.fromkeys(("LABELS", "CONTEXT_FEATURES", "context_features", "hashed_features", "adjacent",
                     "UnitClassifier", "UnitPredictions", "read_postings", "find_duties", "MODEL_FILE",
                     "MANIFEST_FILE"), "classifier"),
    **dict.fromkeys(("prepare", "PreparedPostings", "MAX_CHARS"), "frontend"),
    **dict.fromkeys(("PostingScorer", "PostingScores", "score_postings", "posting_schema", "unit_schema",
                     "STATUSES", "EXPOSED_THRESHOLD", "EVIDENCE_MIN_SIMILARITY"), "scorer"),
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from .classifier import (CONTEXT_FEATURES, LABELS, MANIFEST_FILE, MODEL_FILE, UnitClassifier, UnitPredictions,
                             adjacent, context_features, find_duties, hashed_features, read_postings)
    from .frontend import MAX_CHARS, PreparedPostings, prepare
    from .scorer import (EVIDENCE_MIN_SIMILARITY, EXPOSED_THRESHOLD, STATUSES, PostingScorer, PostingScores,
                         posting_schema, score_postings, unit_schema)
    from .segmentation import BULLET, Unit, header_category, is_header, normalize, segment, split_units
