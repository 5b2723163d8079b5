"""Deprecated: moved to :mod:`exposure.occupations.compare`. The old path will be removed in exposure 0.3."""

from ._deprecated import moved

__getattr__ = moved(__name__, dict.fromkeys(("ComparisonResult", "compare_index", "read_index", "CODE_SYSTEMS"),
                                            "exposure.occupations.compare"))
