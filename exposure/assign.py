"""Deprecated: moved to :mod:`exposure.occupations.assign`. The old path will be removed in exposure 0.3."""

from ._deprecated import moved

__getattr__ = moved(__name__, {
    **dict.fromkeys(("OccupationAssigner", "Assignments", "normalize_title", "clean_posting_title",
                     "resolve_cache_dir", "TEMPERATURES"), "exposure.occupations.assign"),
    "LEVELS": "exposure.occupations.assign:ASSIGNMENT_LEVELS",
    **dict.fromkeys(("load_titles", "TITLE_SOURCES"), "exposure.occupations.catalogue"),
})
