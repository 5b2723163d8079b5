"""Training and evaluation of the calibrated heads, apart from inference.

What this subpackage holds: fitting the calibrated heads on labelled tasks,
their grouped cross-validation, and the reproduction of Eloundou et al. (2023).
It is imported only by the CLI's ``reproduce`` command and by the benchmarks
(``benchmarks/train_heads.py``), never by runtime code: training imports the
runtime (:mod:`exposure.heads`, :mod:`exposure.scoring`, :mod:`exposure.stats`),
never the reverse.

Modules:

- :mod:`exposure.training.heads`: ``fit_softmax``, ``select_strength``, ``train_heads``, ``STRENGTHS``.
- :mod:`exposure.training.eloundou`: ``cross_validate_heads``, ``reproduce_eloundou``, ``format_table``,
  ``load_labelled_tasks``, ``embed_tasks``.

The names below are re-exported lazily: ``import exposure.training`` imports
neither submodule, and torch is imported only inside the functions that train.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("STRENGTHS", "fit_softmax", "select_strength", "train_heads"), "heads"),
    **dict.fromkeys(("cross_validate_heads", "reproduce_eloundou", "format_table", "load_labelled_tasks",
                     "embed_tasks"), "eloundou"),
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from .eloundou import cross_validate_heads, embed_tasks, format_table, load_labelled_tasks, reproduce_eloundou
    from .heads import STRENGTHS, fit_softmax, select_strength, train_heads
