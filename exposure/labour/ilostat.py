"""Any country's workforce: employment by ISCO-08 sub-major group from ILOSTAT, shipped with the package.

``exposure/data/ilostat_employment_isco08.parquet`` holds ILOSTAT's employment by
ISCO-08 sub-major group (2 digits) from national labour-force and household surveys:
97 countries, survey years about 2014-2019 (ILO, ILOSTAT, indicator
EMP_TEMP_SEX_OC2_NB, bulk download of 2020-04-10; CC BY 4.0, cite "ILO, ILOSTAT").
Countries that reported only ISCO-88 groups are left out; there are no rows for
Hong Kong or mainland China. The shipped table holds totals for both sexes only
(``sex`` ``T``): a breakdown by sex needs an ILOSTAT file with ``M`` and ``F`` rows
(the same columns; ``source=``).

:func:`ilostat_employment` gives one country's employment table in the form
:func:`~exposure.labour.workforce.isco_workforce` weighs (``isco08``, ``employment``
in people), for its latest survey year unless told otherwise.

>>> table, about = ilostat_employment("DEU")
>>> about["country"], about["year"], table.num_rows
('Germany', 2018, 41)
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import TableLike, as_table, require_columns
from ..occupations.catalogue import read_shipped

__all__ = ["ilostat_table", "ilostat_countries", "ilostat_employment", "SEXES", "ILOSTAT_CITATION"]

#: ILOSTAT's sex codes: both sexes, men, women.
SEXES = {"T": "total", "M": "men", "F": "women"}
ILOSTAT_CITATION = "ILO, ILOSTAT (EMP_TEMP_SEX_OC2_NB, employment by sex and occupation, ISCO-08 sub-major groups)"
_COLUMNS = ["country_code", "country", "source", "sex", "year", "isco08", "employment_thousands"]


@lru_cache(maxsize=1)
def _shipped() -> pa.Table:
    return read_shipped("ilostat_employment_isco08.parquet")


def ilostat_table(source: Union[TableLike, str, os.PathLike, None] = None) -> pa.Table:
    """The ILOSTAT employment table: the shipped one (``None``), or a file or table with its columns
    (``country_code``, ``country``, ``source``, ``sex``, ``year``, ``isco08`` sub-major groups as ``"25"``
    with ``TOTAL`` and ``X`` rows allowed, ``employment_thousands``; ILOSTAT's bulk CSV column
    ``isco08_2digit`` is read as ``isco08``)."""
    if source is None:
        return _shipped()
    if isinstance(source, (str, os.PathLike)):
        from ..io import read_batches

        table = pa.Table.from_batches(list(read_batches(source)))
        where = repr(str(source))
    else:
        table, where = as_table(source, "ILOSTAT table"), "the ILOSTAT table"
    if "isco08" not in table.column_names and "isco08_2digit" in table.column_names:
        table = table.rename_columns(["isco08" if c == "isco08_2digit" else c for c in table.column_names])
    require_columns(table.column_names, _COLUMNS, where)
    table = table.select(_COLUMNS)
    codes = pc.cast(table["isco08"], pa.string())
    table = table.set_column(table.column_names.index("isco08"), "isco08", codes)
    return table.filter(pc.invert(pc.starts_with(codes, "OC2_ISCO88")))


def ilostat_countries(source: Union[TableLike, str, os.PathLike, None] = None) -> pa.Table:
    """One row per country of the table: ``country_code``, ``country``, ``years`` (first-last), ``sexes``.

    >>> countries = ilostat_countries()
    >>> countries.num_rows, "DEU" in countries["country_code"].to_pylist()
    (97, True)
    """
    table = ilostat_table(source)
    rows: Dict[str, Dict[str, Any]] = {}
    for code, name, year, sex in zip(*(table[c].to_pylist() for c in ("country_code", "country", "year", "sex"))):
        r = rows.setdefault(code, {"country_code": code, "country": name, "first": year, "last": year, "sexes": set()})
        r["first"], r["last"] = min(r["first"], year), max(r["last"], year)
        r["sexes"].add(sex)
    ordered = [rows[c] for c in sorted(rows)]
    return pa.table({"country_code": [r["country_code"] for r in ordered],
                     "country": [r["country"] for r in ordered],
                     "years": [f"{r['first']}-{r['last']}" if r["first"] != r["last"] else str(r["first"])
                               for r in ordered],
                     "sexes": ["".join(s for s in SEXES if s in r["sexes"]) for r in ordered]})


def ilostat_employment(country: str, *, year: Optional[int] = None, sex: str = "T",
                       source: Union[TableLike, str, os.PathLike, None] = None) -> Tuple[pa.Table, Dict[str, Any]]:
    """One country's employment by ISCO-08 sub-major group, and what it is.

    ``country``: an ISO 3166 alpha-3 code (``"DEU"``) or the country's name as ILOSTAT writes it
    (``"Germany"``), any case. ``year``: a survey year the table has for it (default: the latest).
    ``sex``: ``T`` (both sexes), ``M`` or ``F``. Where a country has several survey sources for the
    year, the one covering the most workers is taken (and named). ``source``: see :func:`ilostat_table`.

    Returns the table :func:`~exposure.labour.workforce.isco_workforce` weighs (``isco08`` sub-major group
    codes, ``employment`` in people; groups without a count left out) and a dict: ``country_code``,
    ``country``, ``year``, ``sex``, ``survey`` (ILOSTAT's source), ``workers`` (the published total),
    ``not_classified`` (workers in no occupation group, ``X``), ``citation``.

    >>> table, about = ilostat_employment("deu", year=2014)
    >>> about["year"], about["survey"], round(about["workers"] / 1e6, 1)
    (2014, 'DEU - LFS - EU Labour Force Survey', 39.9)
    """
    if not isinstance(country, str) or not country.strip():
        raise ValueError(f"country must be an ISO 3166 alpha-3 code such as 'DEU' or a country name, got {country!r}")
    sex = str(sex).upper()
    if sex not in SEXES:
        raise ValueError(f"sex must be one of {', '.join(SEXES)} (both sexes, men, women), got {sex!r}")
    table = ilostat_table(source)
    wanted = country.strip().casefold()
    codes, names = table["country_code"].to_pylist(), table["country"].to_pylist()
    match = sorted({c for c, n in zip(codes, names) if wanted in (c.casefold(), str(n).casefold())})
    if not match:
        raise ValueError(f"no ILOSTAT employment for country {country!r}: give an ISO 3166 alpha-3 code of one of "
                         f"the {len(set(codes))} countries the table has ('exposure workforce --list-countries' "
                         "lists them; Hong Kong and mainland China are not among them)")
    rows = table.filter(pc.equal(table["country_code"], match[0]))
    name = rows["country"][0].as_py()
    of_sex = rows.filter(pc.equal(rows["sex"], sex))
    if not of_sex.num_rows:
        have = sorted(set(rows["sex"].to_pylist()))
        raise ValueError(f"ILOSTAT has no employment of sex {sex!r} ({SEXES[sex]}) for {name}: the table holds "
                         f"{', '.join(have)} only" + (" (the shipped table has totals for both sexes only; give an "
                                                      "ILOSTAT file with M and F rows)" if source is None else ""))
    years = sorted(set(of_sex["year"].to_pylist()))
    if year is None:
        year = years[-1]
    elif int(year) not in years:
        raise ValueError(f"ILOSTAT has no {SEXES[sex]} employment for {name} in {year}: years "
                         f"{', '.join(map(str, years))}")
    rows = of_sex.filter(pc.equal(of_sex["year"], int(year)))
    surveys = sorted(set(rows["source"].to_pylist()))
    totals = {s: _total(rows.filter(pc.equal(rows["source"], s))) for s in surveys}
    survey = max(surveys, key=lambda s: (totals[s], s))
    rows = rows.filter(pc.equal(rows["source"], survey))
    code = rows["isco08"].to_pylist()
    value = np.asarray(rows["employment_thousands"].to_numpy(zero_copy_only=False), dtype=np.float64) * 1000.0
    groups = [(c, v) for c, v in zip(code, value) if c not in ("TOTAL", "X") and np.isfinite(v)]
    if not groups:
        raise ValueError(f"ILOSTAT has no employment by occupation for {name} in {year} ({survey})")
    unclassified = float(sum(v for c, v in zip(code, value) if c == "X" and np.isfinite(v)))
    about = {"country_code": match[0], "country": name, "year": int(year), "sex": sex, "survey": survey,
             "workers": totals[survey] * 1000.0, "not_classified": unclassified, "citation": ILOSTAT_CITATION}
    return pa.table({"isco08": [c for c, _ in groups], "employment": [v for _, v in groups]}), about


def _total(rows: pa.Table) -> float:
    """The published total (``TOTAL``) of one survey's rows, else the sum of its groups (thousands)."""
    codes = rows["isco08"].to_pylist()
    values = rows["employment_thousands"].to_pylist()
    total = [v for c, v in zip(codes, values) if c == "TOTAL" and v is not None]
    return float(total[0]) if total else float(sum(v for v in values if v is not None))
