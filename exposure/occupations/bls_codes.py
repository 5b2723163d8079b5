"""Occupation scores in BLS codes: SOC 2018 detailed codes, and the broad, hybrid and "All other" codes
that BLS tables (OEWS, Employment Projections) publish instead of some of them.

numpy and pyarrow only; :mod:`exposure.labour.employment` (employment, wages, projections) and
:func:`exposure.occupations.compare_index` (published indices at SOC 2018) both match codes this way.

>>> hybrid_members(["31-1120"])
{'31-1120': ['31-1121', '31-1122']}
"""

from __future__ import annotations

import functools
from typing import Dict, List, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, as_table, require_columns
from .catalogue import load_crosswalk, normalize_codes
from .tables import is_onet_level, score_columns, to_soc2018

__all__ = ["soc2018_codes", "hybrid_members", "to_bls_codes", "MATCH_KINDS"]

#: How :func:`to_bls_codes` matched a BLS code: ``exact`` (the code has a score), ``hybrid`` (mean of the
#: SOC 2018 codes a broad or hybrid code covers), ``residual`` (an "All other" code: mean of its broad
#: group, else minor group), ``none``.
MATCH_KINDS = ("exact", "hybrid", "residual", "none")


@functools.lru_cache(maxsize=1)
def _soc2018() -> tuple:
    return tuple(sorted(set(load_crosswalk()["soc_2018_code"].to_pylist())))


def soc2018_codes() -> List[str]:
    """The SOC 2018 detailed codes of the shipped BLS crosswalk (867 codes), sorted."""
    return list(_soc2018())


def hybrid_members(codes: Sequence[str], published: Optional[Sequence[str]] = None) -> Dict[str, List[str]]:
    """The SOC 2018 detailed codes that each BLS code covers.

    A SOC 2018 detailed code covers itself. Any other code (a broad code ending in 0 such as
    ``13-1020``, or an OEWS/EP hybrid such as ``31-1120``, ``25-9045``, ``53-1047``) covers the SOC 2018
    detailed codes of its broad group (same first five digits) that the BLS table does not publish on
    their own: ``published`` (default: ``codes``) are the table's other codes. So ``25-9045``
    (teaching assistants, except postsecondary) covers 25-9042, 25-9043 and 25-9049 but not 25-9044
    (postsecondary, published apart). A code whose broad group has no such member covers nothing.

    >>> hybrid_members(["31-1120", "51-2090", "13-1020", "15-1252"])
    {'31-1120': ['31-1121', '31-1122'], '51-2090': ['51-2092', '51-2099'], \
'13-1020': ['13-1021', '13-1022', '13-1023'], '15-1252': ['15-1252']}
    """
    norm = normalize_codes(list(codes), "soc2018")
    bad = [c for c, n in zip(codes, norm) if n is None]
    if bad:
        raise ValueError(f"not SOC codes: {', '.join(map(repr, bad[:5]))}")
    others = set(normalize_codes(list(published), "soc2018") if published is not None else norm)
    soc = _soc2018()
    out: Dict[str, List[str]] = {}
    for code in norm:
        if code in soc:
            out[code] = [code]
            continue
        lo = np.searchsorted(soc, code[:6])
        members = []
        for c in soc[lo:]:
            if not c.startswith(code[:6]):
                break
            if c not in others:
                members.append(c)
        out[code] = members
    return out


def _score_table(scores: TableLike) -> pa.Table:
    """An occupation table at SOC 2018 level (O*NET-level tables are rolled up)."""
    table = as_table(scores, "scores")
    require_columns(table.column_names, ["soc_code"], "the occupation scores")
    if is_onet_level(table):
        return to_soc2018(table)
    codes = normalize_codes(table["soc_code"].to_pylist(), "soc2018")
    bad = [c for c, n in zip(table["soc_code"].to_pylist(), codes) if n is None]
    if bad:
        raise ValueError(f"the occupation scores hold codes that are not O*NET-SOC or SOC 2018: "
                         f"{', '.join(map(repr, bad[:5]))}")
    return table.set_column(table.column_names.index("soc_code"), "soc_code", pa.array(codes, pa.string()))


def to_bls_codes(scores: TableLike, codes: Sequence[str], columns: Optional[Sequence[str]] = None,
                 residuals: bool = True) -> pa.Table:
    """Our occupation scores expressed in BLS codes: one row per code of ``codes``, in order.

    ``scores``: an occupation table (pyarrow, pandas or polars) at O*NET-SOC level (rolled up with
    :func:`~exposure.occupations.to_soc2018`) or SOC 2018 level; ``columns``: the score columns to carry
    (default: :func:`~exposure.occupations.tables.score_columns` with the interval bounds, those present). Each code gets the plain mean over the SOC 2018 codes it covers (:func:`hybrid_members`)
    that have a value; ``match`` says how (:data:`MATCH_KINDS`), ``score_codes`` lists the codes used.
    With ``residuals``, an "All other" code (last digit 9) without a score takes the mean of its broad
    group's scored codes (else its minor group's): a proxy, since O*NET lists no tasks for them.

    >>> s = pa.table({"soc_code": ["31-1121", "31-1122", "21-1091"], "exposure": [0.2, 0.4, 0.5]})
    >>> t = to_bls_codes(s, ["31-1120", "21-1099", "99-9999"])
    >>> [round(x, 2) if x is not None else None for x in t["exposure"].to_pylist()], t["match"].to_pylist()
    ([0.3, 0.5, None], ['hybrid', 'residual', 'none'])
    """
    table = _score_table(scores)
    if columns is None:
        columns = score_columns(table, bounds=True)
    require_columns(table.column_names, columns, "the occupation scores")
    if not columns:
        raise ValueError(f"the occupation scores have no score column (exposure, exposure_<technology>, ...); "
                         f"its columns are: {', '.join(table.column_names)}")
    values = {c: np.asarray(pc.fill_null(pc.cast(table[c], pa.float64()), np.nan).to_numpy(zero_copy_only=False))
              for c in columns}
    row_of = {code: i for i, code in enumerate(table["soc_code"].to_pylist())}
    scored = {code for code, i in row_of.items() if not np.isnan(values[columns[0]][i])}
    norm = normalize_codes(list(codes), "soc2018")
    bad = [c for c, n in zip(codes, norm) if n is None]
    if bad:
        raise ValueError(f"not SOC codes: {', '.join(map(repr, bad[:5]))}")
    members = hybrid_members(norm)
    scored_sorted = sorted(scored)
    out_vals = {c: np.full(len(norm), np.nan) for c in columns}
    match, used = [], []
    for j, code in enumerate(norm):
        kind = "exact" if code in scored else "hybrid"
        rows = [m for m in ([code] if code in scored else members[code]) if m in scored]
        if not rows and residuals and code.endswith("9"):
            for prefix in (code[:6], code[:4]):
                rows = [c for c in scored_sorted if c.startswith(prefix) and not c.endswith("9")]
                if rows:
                    break
            kind = "residual"
        if not rows:
            match.append("none")
            used.append(None)
            continue
        idx = [row_of[m] for m in rows]
        for c in columns:
            col = values[c][idx]
            col = col[~np.isnan(col)]
            out_vals[c][j] = col.mean() if col.size else np.nan
        match.append(kind)
        used.append(";".join(rows))
    out = {"soc_code": pa.array(norm, pa.string()), "match": pa.array(match, pa.string()),
           "score_codes": pa.array(used, pa.string())}
    for c in columns:
        out[c] = pa.array(out_vals[c], pa.float64(), mask=np.isnan(out_vals[c]))
    return pa.table(out)
