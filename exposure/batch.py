"""Deprecated: moved to exposure.jobs (exposure.jobs.local, exposure.jobs.output, exposure.jobs.rows); the old
path will be removed in exposure 0.3."""

from ._deprecated import moved

__getattr__ = moved(__name__, {
    "BatchJob": "exposure.jobs.local",
    "score_postings_file": "exposure.jobs.local",
    "PathLike": "exposure.jobs.local",
    "output_schema": "exposure.jobs.output",
    "OutputInUseError": "exposure.jobs.output",
    "REJECTED_STATUSES": "exposure.jobs.rows",
})
