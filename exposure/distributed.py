"""Deprecated: moved to exposure.jobs.ray; the old path will be removed in exposure 0.3."""

from ._deprecated import moved

__getattr__ = moved(__name__, {
    "score_postings_ray": "exposure.jobs.ray",
    "require_ray": "exposure.jobs.ray",
    "PathLike": "exposure.jobs.local",
})
