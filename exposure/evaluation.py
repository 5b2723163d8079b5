"""Deprecated: moved to exposure.training.eloundou; the old path will be removed in exposure 0.3.

``cross_validate_heads``, ``reproduce_eloundou`` and ``format_table`` are in
:mod:`exposure.training.eloundou`; the metric functions this module re-exported
(``grouped_folds``, ``rankdata``, ``roc_auc``, ...) are in :mod:`exposure.stats`.
Reading a name here warns (``DeprecationWarning``) and returns the object of its new module.
"""

from ._deprecated import moved

_MOVED = {
    "grouped_folds": "exposure.stats",
    "rankdata": "exposure.stats",
    "roc_auc": "exposure.stats",
    "roc_curve": "exposure.stats",
    "tpr_at_fpr": "exposure.stats",
    "spearman": "exposure.stats",
    "bootstrap_ci": "exposure.stats",
    "reliability": "exposure.stats",
    "cross_validate_heads": "exposure.training.eloundou",
    "reproduce_eloundou": "exposure.training.eloundou",
    "format_table": "exposure.training.eloundou",
}

# The old __all__ (without format_table, as before): ``from exposure.evaluation import *`` still works, and warns.
__all__ = [name for name in _MOVED if name != "format_table"]

__getattr__ = moved(__name__, _MOVED)
