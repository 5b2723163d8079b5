"""Occupations: the O*NET catalogue, occupation tables, scores, assignment of postings, comparisons.

- :mod:`~exposure.occupations.catalogue`: O*NET 27 and 29.1 tasks, occupations and titles, the
  SOC 2010 -> 2018 crosswalk, code normalisation (numpy and pyarrow only).
- :mod:`~exposure.occupations.tables`: task scores -> occupation tables (Eloundou et al.'s alpha,
  beta, gamma; Core tasks weigh 2), roll-ups to SOC 2018 / SOC 2010 (numpy and pyarrow only).
- :mod:`~exposure.occupations.score`: the catalogue scored by an :class:`~exposure.ExposureModel`.
- :mod:`~exposure.occupations.assign`: job postings -> likeliest O*NET-SOC occupations, from title
  and duties.
- :mod:`~exposure.occupations.compare`: our occupation scores against a published index.
- :mod:`~exposure.occupations.isco_codes`: ISCO-08 groups for postings, from their O*NET-SOC probabilities.
- :mod:`~exposure.occupations.bls_codes`: scores in BLS codes (broad, hybrid and "All other" codes take the
  mean of the SOC 2018 codes they cover), for employment tables and published indices.

>>> from exposure.occupations import load_tasks
>>> load_tasks("29.1").num_rows
18796
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("RELEASES", "CODE_SYSTEMS", "SOC_MAJOR_GROUPS", "TITLE_SOURCES", "load_tasks",
                     "load_occupations", "load_crosswalk", "load_titles", "normalize_codes", "major_group",
                     "major_groups"), "catalogue"),
    **dict.fromkeys(("LEVELS", "aggregate", "one_hot", "exposure_measures", "exposure_intervals", "occupation_table",
                     "to_soc2018", "to_soc2010", "to_level"), "tables"),
    **dict.fromkeys(("score_occupations", "cached_occupation_scores", "flag_labelled"), "score"),
    **dict.fromkeys(("OccupationAssigner", "Assignments", "normalize_title", "clean_posting_title",
                     "ASSIGNMENT_LEVELS"), "assign"),
    **dict.fromkeys(("compare_index", "ComparisonResult", "read_index"), "compare"),
    **dict.fromkeys(("isco_groups", "IscoGroups"), "isco_codes"),
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from .assign import ASSIGNMENT_LEVELS, Assignments, OccupationAssigner, clean_posting_title, normalize_title
    from .catalogue import (CODE_SYSTEMS, RELEASES, SOC_MAJOR_GROUPS, TITLE_SOURCES, load_crosswalk,
                            load_occupations, load_tasks, load_titles, major_group, major_groups, normalize_codes)
    from .compare import ComparisonResult, compare_index, read_index
    from .isco_codes import IscoGroups, isco_groups
    from .score import cached_occupation_scores, flag_labelled, score_occupations
    from .tables import (LEVELS, aggregate, exposure_intervals, exposure_measures, occupation_table, one_hot, to_level,
                         to_soc2010, to_soc2018)
