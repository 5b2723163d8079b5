"""Labour markets: occupation exposure joined with employment, wages, projections and mobility.

- :mod:`~exposure.labour.employment`: BLS tables shipped with exposure (OEWS May 2021 national
  employment and wages; Employment Projections 2022-32 Tables 1.7, 1.12 and 5.4), and the mapping of
  OEWS/BLS hybrid and broad codes to the SOC 2018 detailed codes they cover (numpy and pyarrow only).
- :mod:`~exposure.labour.workforce`: who is exposed: employment-weighted exposure by major group,
  wage quintile and entry education, shares of workers by share of exposed tasks, exposure against
  projected employment change and wages (tables, a summary and optional matplotlib plots).
- :mod:`~exposure.labour.transitions`: occupation-to-occupation mobility views.
- :mod:`~exposure.labour.isco`: ISCO-08: the 436 unit groups scored from their ILO task lists, O*NET
  scores rolled up through SOC 2010, higher ISCO levels, and employment tables keyed by ISCO-08.
- :mod:`~exposure.labour.ilostat`: any country's employment by ISCO-08 sub-major group (ILOSTAT, shipped).

This layer sits above :mod:`exposure.occupations` and :mod:`exposure.scoring`; nothing below imports it.

>>> from exposure.labour import load_oews
>>> int(load_oews().num_rows) > 800
True
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("load_oews", "load_projections", "load_education", "load_utilization_factors",
                     "hybrid_members", "to_bls_codes", "read_employment"), "employment"),
    **dict.fromkeys(("workforce", "WorkforceResult", "isco_workforce", "IscoWorkforceResult", "task_exposed_shares"),
                    "workforce"),
    **dict.fromkeys(("transitions", "TransitionIndex", "resolve_occupation", "load_task_dwas", "load_job_zones"),
                    "transitions"),
    **dict.fromkeys(("ISCO_DIGITS", "ISCO_SOURCES", "load_isco_groups", "load_isco_crosswalk", "parse_task_list",
                     "isco_tasks", "isco_task_embeddings", "isco_table", "score_isco", "to_isco08", "to_isco_level",
                     "read_isco_employment", "isco_employment_join", "normalize_isco_codes"), "isco"),
    **dict.fromkeys(("ilostat_employment", "ilostat_countries", "ilostat_table"), "ilostat"),
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

# The function shares its name with its module: importing the module (as any `import
# exposure.labour.workforce` would) binds the module to the package attribute, so the function is bound
# here, after it, once. It costs numpy and pyarrow, which every module of this package needs anyway.
from .workforce import workforce  # noqa: E402
from .transitions import transitions  # noqa: E402  (the same, for transitions)

if TYPE_CHECKING:
    from .employment import (hybrid_members, load_education, load_oews, load_projections,
                             load_utilization_factors, read_employment, to_bls_codes)
    from .workforce import IscoWorkforceResult, WorkforceResult, isco_workforce, task_exposed_shares, workforce
    from .transitions import TransitionIndex, load_job_zones, load_task_dwas, resolve_occupation, transitions
    from .isco import (ISCO_DIGITS, ISCO_SOURCES, isco_employment_join, isco_table, isco_task_embeddings,
                       isco_tasks, load_isco_crosswalk, load_isco_groups, normalize_isco_codes, parse_task_list,
                       read_isco_employment, score_isco, to_isco08, to_isco_level)
    from .ilostat import ilostat_countries, ilostat_employment, ilostat_table
