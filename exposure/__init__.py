"""exposure: how exposed tasks, occupations and job postings are to AI and automation.

>>> import exposure
>>> model = exposure.ExposureModel(device="cpu")            # doctest: +SKIP
>>> model.score_tasks(["Draft replies to customer emails."]).to_pandas()  # doctest: +SKIP
"""

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Public name -> module. Imported on first use, so `import exposure` stays cheap and
# tools that only aggregate stored scores never load torch.
_EXPORTS = {
    "Encoder": "encoder",
    "resolve_device": "encoder",
    "CapabilitySet": "capabilities",
    "CapabilitySetError": "capabilities",
    "ExposureModel": "scoring",
    "TaskScores": "scoring",
    "Heads": "heads",
    "HeadMismatchError": "heads",
    "HeadFileError": "heads",
    "reproduce_eloundou": "evaluation",
    "reduce": "kernels",
    "Reduction": "kernels",
    "build_info": "kernels",
    "load_tasks": "occupations",
    "load_occupations": "occupations",
    "occupation_table": "occupations",
    "score_occupations": "occupations",
    "aggregate": "occupations",
    "to_soc2018": "occupations",
    "to_soc2010": "occupations",
    "PostingScorer": "postings",
    "PostingScores": "postings",
    "EmbeddingCache": "postings",
    "score_postings": "postings",
    "score_postings_file": "batch",
    "score_postings_ray": "distributed",
    "compare_index": "compare",
    "ComparisonResult": "compare",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:
    from .capabilities import CapabilitySet, CapabilitySetError
    from .compare import ComparisonResult, compare_index
    from .encoder import Encoder, resolve_device
    from .kernels import Reduction, build_info, reduce
    from .batch import score_postings_file
    from .distributed import score_postings_ray
    from .postings import EmbeddingCache, PostingScorer, PostingScores, score_postings
    from .occupations import (aggregate, load_occupations, load_tasks, occupation_table, score_occupations,
                              to_soc2010, to_soc2018)
    from .evaluation import reproduce_eloundou
    from .heads import HeadFileError, HeadMismatchError, Heads
    from .scoring import ExposureModel, TaskScores


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'exposure' has no attribute {name!r}")


def __dir__():
    return __all__
