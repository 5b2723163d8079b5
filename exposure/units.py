"""Deprecated: moved to :mod:`exposure.postings.segmentation` and :mod:`exposure.postings.classifier`.

The old path will be removed in exposure 0.3.
"""

from ._deprecated import moved

_SEGMENTATION = ("Unit", "normalize", "segment", "split_units", "header_category", "looks_english", "BULLET")
_CLASSIFIER = ("LABELS", "CONTEXT_FEATURES", "context_features", "hashed_features", "UnitClassifier",
               "UnitPredictions", "read_postings", "find_duties", "MODEL_FILE", "MANIFEST_FILE")

__getattr__ = moved(__name__, {**dict.fromkeys(_SEGMENTATION, "exposure.postings.segmentation"),
                               **dict.fromkeys(_CLASSIFIER, "exposure.postings.classifier")})
