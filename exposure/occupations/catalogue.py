"""The shipped O*NET catalogue: task statements, occupations, titles, the SOC crosswalk, and codes.

O*NET 27 (the release Eloundou et al. labelled) and 29.1 task statements, the
29.1 occupations and titles, and the BLS SOC 2010 -> 2018 crosswalk, read from
``exposure/data`` (see its README for sources and licences); occupation codes
brought to one form. numpy and pyarrow only.

>>> tasks = load_tasks("27")
>>> tasks.num_rows, len(set(tasks["soc_code"].to_pylist()))
(19265, 923)
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import decoded_strings

__all__ = ["RELEASES", "CODE_SYSTEMS", "SOC_MAJOR_GROUPS", "TITLE_SOURCES", "load_tasks", "load_occupations",
           "load_crosswalk", "load_isco_crosswalk", "load_titles", "normalize_codes", "normalize_isco_codes",
           "major_group", "major_groups", "read_shipped", "release_key"]

#: O*NET releases shipped in ``exposure/data``.
RELEASES = ("27", "29.1")
#: Occupation code systems: O*NET-SOC detail (``"15-1252.00"``), SOC 2018 and SOC 2010 (6-digit).
CODE_SYSTEMS = ("onet", "soc2018", "soc2010")
#: Where a title of the title table comes from, in the order the table lists them: the occupation's
#: own title, O*NET alternate titles, their short forms, titles reported by incumbents.
TITLE_SOURCES = ("occupation", "alternate", "short", "reported")

#: SOC 2018 major groups: the 22 civilian groups and 55, military (O*NET 29.1 lists a few).
SOC_MAJOR_GROUPS = {
    "11": "Management",
    "13": "Business and Financial Operations",
    "15": "Computer and Mathematical",
    "17": "Architecture and Engineering",
    "19": "Life, Physical, and Social Science",
    "21": "Community and Social Service",
    "23": "Legal",
    "25": "Educational Instruction and Library",
    "27": "Arts, Design, Entertainment, Sports, and Media",
    "29": "Healthcare Practitioners and Technical",
    "31": "Healthcare Support",
    "33": "Protective Service",
    "35": "Food Preparation and Serving Related",
    "37": "Building and Grounds Cleaning and Maintenance",
    "39": "Personal Care and Service",
    "41": "Sales and Related",
    "43": "Office and Administrative Support",
    "45": "Farming, Fishing, and Forestry",
    "47": "Construction and Extraction",
    "49": "Installation, Maintenance, and Repair",
    "51": "Production",
    "53": "Transportation and Material Moving",
    "55": "Military Specific",
}

_DATA = Path(__file__).resolve().parents[1] / "data"
_TASK_FILES = {"27": "onet27_tasks.parquet", "29.1": "onet29_1_tasks.parquet"}
_OCCUPATION_FILES = {"29.1": "onet29_1_occupations.parquet"}
_CROSSWALK_FILE = "soc_2010_to_2018.csv"
_ISCO_CROSSWALK_FILE = "soc2010_to_isco08.csv"
_TITLE_FILE = "onet29_1_titles.parquet"
_CODE_RE = re.compile(r"^(\d{2})-?(\d{4})(?:\.(\d{1,2}))?$")
# "2512", "ISCO 2512", "ISCO-08 2512", "isco08:2512", per number of digits.
_ISCO_RE = {d: re.compile(rf"^(?:ISCO(?:[\s_-]*08)?[\s:_-]*)?(\d{{{d}}})$", re.IGNORECASE) for d in (1, 2, 3, 4)}

# --------------------------------------------------------------------------- catalogue

def release_key(release: Union[str, float, int]) -> str:
    key = str(release).strip()
    if key not in RELEASES:
        raise ValueError(f"unknown O*NET release {release!r}; shipped releases are: {', '.join(RELEASES)}")
    return key


@functools.lru_cache(maxsize=None)
def read_shipped(name: str) -> pa.Table:
    """A Parquet file of ``exposure/data``, read once, its dictionary columns decoded to strings."""
    import pyarrow.parquet as pq

    # ParquetFile, not read_table: that imports pyarrow.dataset (0.3 s of every start)
    return decoded_strings(pq.ParquetFile(_DATA / name).read())


def load_tasks(release: str = "27") -> pa.Table:
    """The O*NET task statements of a release, in the source files' order.

    Columns: ``soc_code`` (O*NET-SOC, ``"11-1011.00"``), ``occupation_title``,
    ``task_id``, ``task_type`` (Core / Supplemental / Unrated), ``weight``
    (2 for Core, 1 otherwise, as Eloundou et al. weight them) and ``task``.
    ``"27"`` is the release Eloundou et al. labelled (19,265 tasks, 923
    occupations); ``"29.1"`` is November 2024 (18,796 tasks).

    >>> load_tasks("29.1").column_names
    ['soc_code', 'occupation_title', 'task_id', 'task_type', 'weight', 'task']
    """
    return read_shipped(_TASK_FILES[release_key(release)])


def load_occupations(release: str = "27") -> pa.Table:
    """The occupations of a release: ``soc_code``, ``title`` and, for 29.1, ``description``.

    O*NET 29.1 lists 1,016 occupations, 93 of them without task statements;
    for release 27 the list is the 923 occupations that have tasks.

    >>> load_occupations("29.1").num_rows
    1016
    """
    key = release_key(release)
    if key in _OCCUPATION_FILES:
        return read_shipped(_OCCUPATION_FILES[key])
    tasks = load_tasks(key)
    codes, first = np.unique(np.asarray(tasks["soc_code"].to_pylist(), dtype=object), return_index=True)
    return pa.table({"soc_code": pa.array(codes.tolist(), pa.string()),
                     "title": tasks["occupation_title"].take(pa.array(first))})


@functools.lru_cache(maxsize=None)
def load_crosswalk() -> pa.Table:
    """The BLS SOC 2010 -> SOC 2018 crosswalk (public domain), one row per pair of codes.

    Columns ``soc_2010_code``, ``soc_2010_title``, ``soc_2018_code``, ``soc_2018_title``;
    a 2010 code can map to several 2018 codes and the other way round.
    """
    import pyarrow.csv as pcsv

    names = ["soc_2010_code", "soc_2010_title", "soc_2018_code", "soc_2018_title"]
    return pcsv.read_csv(_DATA / _CROSSWALK_FILE,
                         convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}))


@functools.lru_cache(maxsize=None)
def load_isco_crosswalk() -> pa.Table:
    """The SOC 2010 -> ISCO-08 concordance (IBS, MIT), one row per pair: ``soc_2010_code``, ``isco08``.

    Many-to-many: 1,131 pairs of 840 SOC 2010 codes and 427 unit groups.
    """
    import pyarrow.csv as pcsv

    return pcsv.read_csv(_DATA / _ISCO_CROSSWALK_FILE, convert_options=pcsv.ConvertOptions(
        column_types={"soc_2010_code": pa.string(), "isco08": pa.string()}))


# --------------------------------------------------------------------------- codes

def normalize_codes(codes: Sequence, system: str = "soc2018") -> list[Optional[str]]:
    """Bring occupation codes to one form: ``"XX-XXXX.YY"`` for ``"onet"``, ``"XX-XXXX"`` for SOC.

    Accepts ``"11-1011.00"``, ``"11-1011"``, ``"111011"``, ``"111011.00"``, numbers
    (``111011``) and surrounding blanks. An O*NET code without a detail suffix is
    the ``.00`` occupation; a SOC system drops the suffix. Anything else gives ``None``.

    >>> normalize_codes([" 111011 ", "11-1011.01", "x"], "soc2018")
    ['11-1011', '11-1011', None]
    >>> normalize_codes(["11-1011", "15-1252.00"], "onet")
    ['11-1011.00', '15-1252.00']
    """
    if system not in CODE_SYSTEMS:
        raise ValueError(f"unknown code system {system!r}; use one of: {', '.join(CODE_SYSTEMS)}")
    out: list[Optional[str]] = []
    for code in codes:
        m = None if code is None else _CODE_RE.match(str(code).strip())
        if m is None:
            out.append(None)
        elif system == "onet":
            out.append(f"{m[1]}-{m[2]}.{(m[3] or '00').ljust(2, '0')}")
        else:
            out.append(f"{m[1]}-{m[2]}")
    return out


def normalize_isco_codes(codes: Sequence, digits: int = 4) -> list[Optional[str]]:
    """Bring ISCO-08 codes of one level (``digits``: 4 for unit groups) to their text form, ``"2512"``.

    Accepts ``"2512"``, ``"ISCO 2512"``, ``"ISCO-08 2512"``, ``"isco08:2512"``, surrounding blanks and
    numbers (``2512``; ``110`` is ``"0110"``, the leading zero of major group 0 lost by a spreadsheet). A text
    must have exactly ``digits`` digits; anything else gives ``None``.

    >>> normalize_isco_codes(["2512", " ISCO 2512", "ISCO-08 2512", 2512, 110, "251", "x"])
    ['2512', '2512', '2512', '2512', '0110', None, None]
    """
    if digits not in (1, 2, 3, 4):
        raise ValueError(f"ISCO-08 codes have 1 to 4 digits, got digits={digits}")
    out: list[Optional[str]] = []
    for code in codes:
        if isinstance(code, (int, float, np.integer, np.floating)) and not isinstance(code, bool):
            ok = np.isfinite(code) and float(code).is_integer() and 0 <= code < 10 ** digits
            out.append(str(int(code)).zfill(digits) if ok else None)
            continue
        m = None if code is None else _ISCO_RE[digits].match(str(code).strip())
        out.append(None if m is None else m[1])
    return out


def major_group(code: str) -> Optional[str]:
    """The SOC major group of a code (``"15-1252.00"`` -> ``"Computer and Mathematical"``), or ``None``."""
    return SOC_MAJOR_GROUPS.get(str(code).strip()[:2]) if code is not None else None


def major_groups(codes: Sequence) -> list[Optional[str]]:
    """:func:`major_group` of every code (accepts a list, array or Arrow column)."""
    if isinstance(codes, (pa.Array, pa.ChunkedArray)):
        codes = codes.to_pylist()
    return [major_group(c) for c in codes]


# --------------------------------------------------------------------------- titles

def load_titles(sources: Sequence[str] = TITLE_SOURCES) -> pa.Table:
    """The O*NET 29.1 titles shipped in ``exposure/data``: ``soc_code``, ``title``, ``source``.

    ``source`` is one of :data:`TITLE_SOURCES`; rows keep the source files' order
    (a title can repeat across sources and occupations).

    >>> load_titles().num_rows, load_titles(["alternate"]).num_rows
    (67220, 55120)
    """
    bad = [s for s in sources if s not in TITLE_SOURCES]
    if bad:
        raise ValueError(f"unknown title sources {bad}; use any of: {', '.join(TITLE_SOURCES)}")
    table = read_shipped(_TITLE_FILE)  # read once, dictionary columns decoded
    if tuple(sources) == TITLE_SOURCES:
        return table
    return table.filter(pc.is_in(table["source"], value_set=pa.array(list(sources), pa.string())))
