"""exposure: how exposed tasks, occupations and job postings are to AI and automation.

The public API; each name is imported from its module on first use, so ``import exposure``
stays cheap and tools that only aggregate stored scores never load torch. The layers,
each importing only those before it: text -> units (:mod:`exposure.postings`) ->
embeddings (:mod:`exposure.encoder`) -> similarities (:mod:`exposure.kernels`) -> scores
(:mod:`exposure.scoring`) -> occupations / postings (:mod:`exposure.occupations`,
:mod:`exposure.postings`) -> batch jobs (:mod:`exposure.jobs`) -> the command line
(:mod:`exposure.cli`). Training and reproduction reports are :mod:`exposure.training`.

>>> import exposure
>>> model = exposure.ExposureModel(device="cpu")            # doctest: +SKIP
>>> model.score_tasks(["Draft replies to customer emails."]).to_pandas()  # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from ._exports import lazy_exports

__version__ = "0.6.0"

# Public name -> module.
_EXPORTS = {
    "Encoder": "encoder",
    "resolve_device": "encoder",
    "CapabilitySet": "capabilities",
    "CapabilitySetError": "capabilities",
    "HeadMismatchError": "heads",
    "HeadFileError": "heads",
    "ExposureModel": "scoring",
    "TaskScores": "scoring",
    "load_tasks": "occupations",
    "load_occupations": "occupations",
    "occupation_table": "occupations",
    "score_occupations": "occupations",
    "aggregate": "occupations",
    "to_soc2018": "occupations",
    "to_soc2010": "occupations",
    "OccupationAssigner": "occupations",
    "compare_index": "occupations",
    "ComparisonResult": "occupations",
    "UnitClassifier": "postings",
    "PostingScorer": "postings",
    "PostingScores": "postings",
    "score_postings": "postings",
    "score_postings_file": "jobs",
    "RunOptions": "jobs",
    "score_postings_ray": "jobs",
}

__all__ = sorted(_EXPORTS) + ["__version__"]
__getattr__, _ = lazy_exports(__name__, _EXPORTS)


def __dir__():
    return __all__


if TYPE_CHECKING:
    from .capabilities import CapabilitySet, CapabilitySetError
    from .encoder import Encoder, resolve_device
    from .heads import HeadFileError, HeadMismatchError
    from .jobs import RunOptions, score_postings_file, score_postings_ray
    from .occupations import (ComparisonResult, OccupationAssigner, aggregate, compare_index, load_occupations,
                              load_tasks, occupation_table, score_occupations, to_soc2010, to_soc2018)
    from .postings import PostingScorer, PostingScores, UnitClassifier, score_postings
    from .scoring import ExposureModel, TaskScores
