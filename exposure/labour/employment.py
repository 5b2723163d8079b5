"""BLS employment tables shipped with exposure, and BLS occupation codes matched to our scores.

Four public-domain tables of the U.S. Bureau of Labor Statistics ship in ``exposure/data`` (see its
README; ``python -m exposure.data.build`` copies them from ``shared/data/bls``):

- :func:`load_oews`: Occupational Employment and Wage Statistics (OEWS), May 2021, national
  cross-industry: employment and annual / hourly mean and median wage by SOC code, at every
  group level (total, major, minor, broad, detailed). The release Eloundou et al. (2023) weight by.
- :func:`load_projections`: Employment Projections 2022-32, Table 1.7: employment 2022 and 2032,
  change, annual openings, median wage 2022 and typical entry education.
- :func:`load_education`: Table 5.4: education, experience and training typically needed for entry.
- :func:`load_utilization_factors`: Table 1.12: the analysts' reason why an occupation's share of an
  industry's employment is projected to change ("Productivity change - share decreases as ...").

Each loader reads the shipped copy, or a newer BLS file in the same layout (``path=``); cells are
interpreted here, not in the shipped copy: OEWS ``*`` (estimate not available) and ``**``
(employment not available) become nulls, ``#`` (wage at or above the top of the survey's range,
$100.00 an hour or $208,000 a year in May 2021) becomes that bound with a ``*_top_coded`` flag;
Table 1.7 writes ``—`` for n/a (null) and ``>=$239,200`` for top-coded wages (the bound, flagged).

OEWS and the Employment Projections publish some occupations only together, under a code that no
O*NET occupation carries: broad codes ending in 0 (``13-1020`` buyers and purchasing agents) and
hybrid codes (``31-1120`` home health and personal care aides, ``25-9045`` teaching assistants
except postsecondary). :func:`hybrid_members` lists the SOC 2018 detailed codes each covers, and
:func:`to_bls_codes` gives such a code the plain mean of its members' scores. Scores are averaged
rather than employment split because BLS publishes no employment for the members (that is why the
code is aggregated): splitting would invent shares, averaging keeps BLS employment totals exact.
"All other" residual codes (``21-1099``), for which O*NET lists no tasks, take the mean of the
scored occupations of their broad group (else of their minor group), flagged ``match="residual"``.
numpy and pyarrow only.

>>> oews = load_oews()
>>> row = oews.filter(pc.equal(oews["soc_code"], "31-1120")).to_pylist()[0]
>>> row["o_group"], row["employment"]
('broad', 3366480)
>>> hybrid_members(["31-1120", "51-2090", "25-9045", "25-9044"])["25-9045"]
['25-9042', '25-9043', '25-9049']
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, read_batches, require_columns
from ..occupations.bls_codes import MATCH_KINDS, hybrid_members, soc2018_codes, to_bls_codes
from ..occupations.catalogue import normalize_codes

__all__ = ["load_oews", "load_projections", "load_education", "load_utilization_factors", "soc2018_codes",
           "hybrid_members", "to_bls_codes", "read_employment", "MATCH_KINDS", "EMPLOYMENT_FORMAT"]

logger = logging.getLogger(__name__)
PathLike = Union[str, Path]

_DATA = Path(__file__).resolve().parents[1] / "data"
_OEWS_FILE = "bls_oews_national_may2021.csv"
_PROJECTIONS_FILE = "bls_projections_2022_32.csv"
_EDUCATION_FILE = "bls_education_training_2022.csv"
_FACTORS_FILE = "bls_utilization_factors_2022_32.csv"


#: The documented layout of an employment table (``--employment``): CSV/TSV/Parquet/JSONL, one row per
#: occupation, a code column (SOC 2018 six-digit codes, ``11-1011`` / ``111011``; BLS broad and hybrid
#: codes accepted) and an employment column (people, a number). Other columns are ignored.
EMPLOYMENT_FORMAT = "one row per occupation: a SOC 2018 code column and an employment column (people)"

_NA = {"", "*", "**", "—", "-", "n/a"}


# --------------------------------------------------------------------------- reading

def _read_text(path: Optional[PathLike], shipped: str, columns: Sequence[str], what: str) -> pa.Table:
    """Every column of a BLS CSV as text; ``columns`` must be there (the error names the missing ones)."""
    import pyarrow.csv as pcsv

    source = _DATA / shipped if path is None else Path(path)
    if not source.is_file():
        raise ValueError(f"{what} file {str(source)!r} does not exist")
    with open(source, encoding="utf-8-sig", newline="") as f:
        import csv

        names = next(csv.reader(f), [])
    require_columns(names, columns, f"{what} file {str(source)!r}")
    return pcsv.read_csv(source, read_options=pcsv.ReadOptions(encoding="utf-8-sig"),
                         convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                             strings_can_be_null=False))


def _numbers(column: pa.ChunkedArray, top: Optional[str] = None, bound: Optional[float] = None
             ) -> tuple[pa.Array, pa.Array]:
    """Text cells -> float64 (thousands separators and ``$`` dropped, BLS n/a marks -> null), and whether
    each cell was the top-coding mark ``top`` (given the value ``bound``)."""
    values: list[Optional[float]] = []
    flags: list[bool] = []
    for cell in column.to_pylist():
        cell = (cell or "").strip()
        if top is not None and cell == top:
            values.append(bound)
            flags.append(True)
            continue
        flags.append(False)
        if cell in _NA:
            values.append(None)
            continue
        try:
            values.append(float(cell.replace(",", "").replace("$", "")))
        except ValueError:
            raise ValueError(f"cannot read {cell!r} as a number") from None
    return pa.array(values, pa.float64()), pa.array(flags, pa.bool_())


def _text(column: pa.ChunkedArray) -> pa.Array:
    return pa.array([None if (c or "").strip() in _NA else c.strip() for c in column.to_pylist()], pa.string())


def _codes(column: pa.ChunkedArray) -> pa.Array:
    return pa.array(normalize_codes(column.to_pylist(), "soc2018"), pa.string())


# --------------------------------------------------------------------------- loaders

@functools.lru_cache(maxsize=4)
def _load_oews(path: Optional[str]) -> pa.Table:
    cols = ["OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "A_MEAN", "A_MEDIAN", "H_MEAN", "H_MEDIAN"]
    raw = _read_text(path, _OEWS_FILE, cols, "OEWS")
    emp, _ = _numbers(raw["TOT_EMP"])
    a_mean, _ = _numbers(raw["A_MEAN"], "#", 208000.0)
    a_median, a_top = _numbers(raw["A_MEDIAN"], "#", 208000.0)
    h_mean, _ = _numbers(raw["H_MEAN"], "#", 100.0)
    h_median, _ = _numbers(raw["H_MEDIAN"], "#", 100.0)
    table = pa.table({"soc_code": _codes(raw["OCC_CODE"]), "title": raw["OCC_TITLE"], "o_group": raw["O_GROUP"],
                      "employment": pc.cast(pc.round(emp), pa.int64()),
                      "annual_median_wage": a_median, "annual_mean_wage": a_mean,
                      "hourly_median_wage": h_median, "hourly_mean_wage": h_mean, "wage_top_coded": a_top})
    # OEWS lists a code twice when it is published at two levels (13-1020 as "broad" and as "detailed",
    # same numbers): filter on o_group, never sum across levels.
    return table


def load_oews(path: Optional[PathLike] = None) -> pa.Table:
    """BLS OEWS national employment and wages (May 2021 by default; ``path``: another national
    cross-industry file in the BLS layout, CSV).

    Columns: ``soc_code`` (``"11-1011"``; ``"00-0000"`` is all occupations), ``title``, ``o_group``
    (``total``, ``major``, ``minor``, ``broad``, ``detailed``), ``employment`` (people, rounded to 10 by
    BLS), ``annual_median_wage``, ``annual_mean_wage``, ``hourly_median_wage``, ``hourly_mean_wage``
    (dollars) and ``wage_top_coded`` (the annual median is at or above the survey's top, $208,000, and
    is given as that bound). BLS marks: ``*``/``**`` (not available) -> null; ``#`` -> the top bound
    ($208,000 a year, $100.00 an hour). Occupations paid by the year only (teachers) have null hourly
    wages; those paid by the hour only (actors, dancers) null annual ones.

    >>> oews = load_oews()
    >>> int(pc.sum(oews.filter(pc.equal(oews["o_group"], "detailed"))["employment"]).as_py())
    140885570
    """
    return _load_oews(None if path is None else str(path))


@functools.lru_cache(maxsize=4)
def _load_projections(path: Optional[str]) -> pa.Table:
    names = {"2022 National Employment Matrix title": "title", "2022 National Employment Matrix code": "soc_code",
             "Occupation type": "occupation_type", "Employment, 2022": "employment_2022",
             "Employment, 2032": "employment_2032", "Employment change, numeric, 2022-32": "employment_change",
             "Employment change, percent, 2022-32": "employment_change_percent",
             "Percent self employed, 2022": "percent_self_employed",
             "Occupational openings, 2022-32 annual average": "annual_openings",
             "Median annual wage, 2022(1)": "median_wage_2022",
             "Typical education needed for entry": "education",
             "Work experience in a related occupation": "work_experience",
             "Typical on-the-job training needed to attain competency in the occupation": "training"}
    raw = _read_text(path, _PROJECTIONS_FILE, list(names), "Employment Projections (Table 1.7)")
    out: Dict[str, pa.Array] = {"soc_code": _codes(raw["2022 National Employment Matrix code"]),
                                "title": raw["2022 National Employment Matrix title"],
                                "occupation_type": raw["Occupation type"]}
    # Table 1.7 counts people in thousands; the table here counts people.
    for src in ("Employment, 2022", "Employment, 2032", "Employment change, numeric, 2022-32",
                "Occupational openings, 2022-32 annual average"):
        values, _ = _numbers(raw[src])
        out[names[src]] = pc.cast(pc.round(pc.multiply(values, 1000.0)), pa.int64())
    for src in ("Employment change, percent, 2022-32", "Percent self employed, 2022"):
        out[names[src]] = _numbers(raw[src])[0]
    wage, top = _numbers(raw["Median annual wage, 2022(1)"], ">=$239,200", 239200.0)
    out["median_wage_2022"], out["wage_top_coded"] = wage, top
    for src in ("Typical education needed for entry", "Work experience in a related occupation",
                "Typical on-the-job training needed to attain competency in the occupation"):
        out[names[src]] = _text(raw[src])
    return pa.table(out)


def load_projections(path: Optional[PathLike] = None) -> pa.Table:
    """BLS Employment Projections 2022-32, Table 1.7 (``path``: the same table of another round, CSV).

    Columns: ``soc_code`` (2022 National Employment Matrix code, SOC 2018; ``"00-0000"`` is the total),
    ``title``, ``occupation_type`` (``Line item``: a detailed occupation, 832 rows; ``Summary``: a group),
    ``employment_2022``, ``employment_2032``, ``employment_change``, ``annual_openings`` (people: the
    table's thousands times 1,000), ``employment_change_percent``, ``percent_self_employed``,
    ``median_wage_2022`` (dollars; ``>=$239,200`` -> 239,200 with ``wage_top_coded``), ``education``
    (typical entry education), ``work_experience``, ``training``. ``—`` (n/a) -> null.

    >>> p = load_projections()
    >>> p.filter(pc.equal(p["soc_code"], "15-1252")).select(["employment_2022", "education"]).to_pylist()
    [{'employment_2022': 1594500, 'education': "Bachelor's degree"}]
    """
    return _load_projections(None if path is None else str(path))


@functools.lru_cache(maxsize=4)
def _load_education(path: Optional[str]) -> pa.Table:
    names = {"2022 National Employment Matrix title": "title", "2022 National Employment Matrix code": "soc_code",
             "Typical education needed for entry": "education",
             "Work experience in a related occupation": "work_experience",
             "Typical on-the-job training needed to attain competency in the occupation": "training"}
    raw = _read_text(path, _EDUCATION_FILE, list(names), "Education and training (Table 5.4)")
    return pa.table({"soc_code": _codes(raw["2022 National Employment Matrix code"]),
                     "title": raw["2022 National Employment Matrix title"],
                     **{names[c]: _text(raw[c]) for c in list(names)[2:]}})


def load_education(path: Optional[PathLike] = None) -> pa.Table:
    """BLS Table 5.4 (2022): ``soc_code``, ``title``, ``education`` (typical entry education),
    ``work_experience``, ``training`` (on-the-job training); one row per detailed occupation.

    >>> load_education().num_rows
    832
    """
    return _load_education(None if path is None else str(path))


@functools.lru_cache(maxsize=4)
def _load_factors(path: Optional[str]) -> pa.Table:
    names = {"2022 National Employment Matrix occupation code": "soc_code",
             "2022 National Employment Matrix occupation title": "title",
             "2022 National Employment Matrix industry title": "industry",
             "2022 National Employment Matrix industry code": "industry_code",
             "Factors affecting occupational utilization": "factor"}
    raw = _read_text(path, _FACTORS_FILE, list(names), "Utilization factors (Table 1.12)")
    return pa.table({"soc_code": _codes(raw["2022 National Employment Matrix occupation code"]),
                     **{names[c]: raw[c] for c in list(names)[1:]}})


def load_utilization_factors(path: Optional[PathLike] = None) -> pa.Table:
    """BLS Table 1.12 (projections 2022-32): why an occupation's share of an industry is projected to
    change. Columns ``soc_code``, ``title``, ``industry``, ``industry_code`` (``TE1000`` is total
    employment), ``factor`` (the text, e.g. ``"Productivity change - share decreases as ..."``).

    >>> f = load_utilization_factors()
    >>> f.filter(pc.equal(f["soc_code"], "11-1011"))["industry"][0].as_py()
    'Total employment'
    """
    return _load_factors(None if path is None else str(path))


def read_employment(path: PathLike, code_column: str = "soc_code", employment_column: str = "employment"
                    ) -> pa.Table:
    """An employment table (:data:`EMPLOYMENT_FORMAT`) from a CSV/TSV/Parquet/JSONL file:
    ``soc_code`` (SOC 2018, ``"11-1011"``) and ``employment`` (float64), one row per code (duplicate
    codes summed). Codes that are not SOC codes, or that neither SOC 2018 nor BLS (OEWS, Table 1.7)
    knows, raise a ``ValueError`` naming them; so do missing columns and non-numeric employment.

    >>> read_employment("employment.csv", "SOC", "workers")     # doctest: +SKIP
    """
    table = pa.concat_tables(pa.Table.from_batches([b]) for b in read_batches(path, [code_column]))
    require_columns(table.column_names, [code_column, employment_column], repr(str(path)))
    raw = table[code_column].cast(pa.string()).to_pylist()
    codes = normalize_codes(raw, "soc2018")
    known = set(soc2018_codes()) | set(load_oews()["soc_code"].to_pylist()) | set(load_projections()["soc_code"].to_pylist())
    unknown = [r for r, c in zip(raw, codes) if c is None or c not in known]
    if unknown:
        raise ValueError(f"{str(path)!r} column {code_column!r} holds {len(unknown)} unknown SOC 2018 code(s): "
                         f"{', '.join(map(repr, unknown[:5]))}")
    try:
        emp = pc.cast(table[employment_column], pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise ValueError(f"{str(path)!r} column {employment_column!r} is not numeric "
                         f"(type {table.schema.field(employment_column).type})") from None
    emp = np.asarray(pc.fill_null(emp, np.nan).to_numpy(zero_copy_only=False))
    missing = [r for r, e in zip(raw, emp.tolist()) if np.isnan(e)]
    if missing:
        logger.warning("%s: %d row(s) with no value in column %r left out, codes: %s%s", path, len(missing),
                       employment_column, ", ".join(map(str, missing[:10])),
                       f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    if np.any(emp < 0):
        raise ValueError(f"{str(path)!r} column {employment_column!r} has negative employment")
    sums: Dict[str, float] = {}
    for c, e in zip(codes, emp.tolist()):
        if not np.isnan(e):
            sums[c] = sums.get(c, 0.0) + e
    logger.info("employment: %d codes, %.0f people from %s", len(sums), sum(sums.values()), path)
    return pa.table({"soc_code": pa.array(list(sums), pa.string()),
                     "employment": pa.array(list(sums.values()), pa.float64())})
