"""ISCO-08 groups for postings: the assigner's O*NET-SOC probabilities carried over to ISCO-08.

A posting's likeliest O*NET-SOC occupations (:class:`~exposure.occupations.OccupationAssigner`, with
their calibrated probabilities) reach ISCO-08 through SOC 2018 -> SOC 2010 (BLS) -> ISCO-08 (IBS
concordance): each occupation's probability is split evenly over the unit groups it maps to, and a
group at 1, 2 or 3 digits gets the sum of its unit groups, each level chosen on its own (so the likeliest
sub-major group need not hold the likeliest unit group). On the 160 development ads in seven European
languages (``benchmarks/results/multilingual.md``) the likeliest sub-major group by summed probability is
the coded one for 0.63 of them, the sub-major group of the likeliest unit group for 0.62, the likeliest
unit group for 0.49.

>>> out = isco_groups([["43-6014.00", "43-9061.00"]], [[0.6, 0.3]])
>>> out.unit_codes[0][0], round(float(out.unit_confidence[0][0]), 2), out.codes[1][0], round(float(out.confidence[1][0]), 2)
('4120', 0.6, '4', 0.9)
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .catalogue import load_crosswalk, load_isco_crosswalk, read_shipped

__all__ = ["IscoGroups", "isco_groups", "soc_to_isco08", "isco_titles", "ISCO_CANDIDATES", "ISCO_LEVELS"]

#: How many of a posting's likeliest O*NET-SOC occupations pass their probability on to ISCO-08: on the 160
#: development ads, 10 and 30 gave the coded sub-major group for 0.63 of them, 3 for 0.60 (unit groups: 0.49,
#: 0.50, 0.48).
ISCO_CANDIDATES = 10
#: The ISCO-08 levels reported besides unit groups: major (1 digit), sub-major (2) and minor groups (3).
ISCO_LEVELS = {1: "major", 2: "sub_major", 3: "minor"}


@functools.lru_cache(maxsize=1)
def soc_to_isco08() -> Dict[str, Tuple[Tuple[str, float], ...]]:
    """SOC 2018 code (``"43-6014"``) -> its ISCO-08 unit groups, each with an equal share of 1 (through SOC 2010)."""
    cw = load_crosswalk()
    to2010: Dict[str, set] = defaultdict(set)
    for old, new in zip(cw["soc_2010_code"].to_pylist(), cw["soc_2018_code"].to_pylist()):
        to2010[new].add(old)
    ic = load_isco_crosswalk()
    isco: Dict[str, set] = defaultdict(set)
    for soc, group in zip(ic["soc_2010_code"].to_pylist(), ic["isco08"].to_pylist()):
        isco[soc].add(group)
    out = {}
    for soc, olds in to2010.items():
        groups = sorted({g for old in olds for g in isco[old]})
        if groups:
            out[soc] = tuple((g, 1.0 / len(groups)) for g in groups)
    return out


@functools.lru_cache(maxsize=1)
def isco_titles() -> Dict[str, str]:
    """ISCO-08 code (any level, ``"2512"``, ``"25"``) -> its title."""
    groups = read_shipped("isco08_groups.parquet")
    return dict(zip(groups["isco08"].to_pylist(), groups["title"].to_pylist()))


@dataclass
class IscoGroups:
    """ISCO-08 groups of ``n`` postings.

    Attributes:
        unit_codes: ``(n, 3)`` object array, the likeliest unit groups (4 digits), most likely first (``None``
            where fewer have any probability); unit_confidence: ``(n, 3)`` float32 (NaN there).
        codes, confidence: per level of :data:`ISCO_LEVELS` (1, 2, 3 digits), ``(n,)`` the likeliest group of that
            level and its probability (``None`` / NaN where the posting has no occupation).
    """

    unit_codes: np.ndarray
    unit_confidence: np.ndarray
    codes: Dict[int, List]
    confidence: Dict[int, np.ndarray]

    @staticmethod
    def empty(n: int, k: int = 3) -> "IscoGroups":
        """``n`` postings without groups."""
        return IscoGroups(np.full((n, k), None, dtype=object), np.full((n, k), np.nan, dtype=np.float32),
                          {d: [None] * n for d in ISCO_LEVELS}, {d: np.full(n, np.nan, np.float32) for d in ISCO_LEVELS})

    @staticmethod
    def concat(pieces: Sequence["IscoGroups"]) -> "IscoGroups":
        """The postings of ``pieces``, one after the other."""
        return IscoGroups(np.vstack([p.unit_codes for p in pieces]), np.vstack([p.unit_confidence for p in pieces]),
                          {d: [c for p in pieces for c in p.codes[d]] for d in ISCO_LEVELS},
                          {d: np.concatenate([p.confidence[d] for p in pieces]) for d in ISCO_LEVELS})


def isco_groups(soc_codes: Sequence[Sequence], probabilities: Sequence[Sequence[float]], k: int = 3) -> IscoGroups:
    """The ISCO-08 groups of postings whose likeliest O*NET-SOC (or SOC 2018) codes and probabilities are given,
    one row per posting (``None`` or ``""`` where no code). Codes the crosswalk does not reach pass nothing on."""
    table = soc_to_isco08()
    n = len(soc_codes)
    out = IscoGroups.empty(n, k)
    unit_codes, unit_conf, codes, conf = out.unit_codes, out.unit_confidence, out.codes, out.confidence
    for i, (row, probs) in enumerate(zip(soc_codes, probabilities)):
        votes: Dict[str, float] = defaultdict(float)
        for code, p in zip(row, probs):
            if code and np.isfinite(p):
                for group, share in table.get(str(code)[:7], ()):
                    votes[group] += float(p) * share
        if not votes:
            continue
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        unit_codes[i, :len(ranked)] = [g for g, _ in ranked]
        unit_conf[i, :len(ranked)] = [p for _, p in ranked]
        for d in ISCO_LEVELS:
            level: Dict[str, float] = defaultdict(float)
            for group, p in votes.items():
                level[group[:d]] += p
            best = min(level.items(), key=lambda kv: (-kv[1], kv[0]))
            codes[d][i], conf[d][i] = best
    return out
