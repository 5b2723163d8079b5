"""Rebuild the shipped O*NET catalogue and SOC crosswalk from the source files.

    python -m exposure.data.build                      # reads ../shared/data (or $EXPOSURE_DATA)
    python -m exposure.data.build --source DIR --out exposure/data

Reads ``onet_tasks.tsv`` (O*NET 27, as used by Eloundou et al.),
``onet29/Task_Statements.txt``, ``onet29/Occupation_Data.txt``,
``onet29/Alternate_Titles.txt`` and ``onet29/Sample_of_Reported_Titles.txt``
(O*NET 29.1), ``onet29/Tasks_to_DWAs.txt`` with ``onet29/DWA_Reference_30_1.txt`` (the tasks' Detailed
Work Activities, for :mod:`exposure.labour.transitions`), ``crosswalks/soc_2010_to_2018.csv`` (BLS),
``crosswalks/isco08_groups.csv`` (ISCO-08 groups, ESCO) and ``crosswalks/soc2010_to_isco08.csv`` (IBS, for
:mod:`exposure.labour.isco`), and
writes the compact files that :mod:`exposure.occupations.catalogue` loads. The output is deterministic: running it
twice gives byte-identical files. Exposure labels and ratings are never copied.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..occupations.catalogue import TITLE_SOURCES

__all__ = ["build", "TASK_SCHEMA", "OCCUPATION_SCHEMA", "TITLE_SCHEMA", "TASK_DWA_SCHEMA", "TITLE_SOURCES",
           "ISCO_GROUP_SCHEMA"]

#: Columns of the shipped task tables; titles and task types repeat, so they are dictionary-encoded.
TASK_SCHEMA = pa.schema([
    ("soc_code", pa.dictionary(pa.int16(), pa.string())),
    ("occupation_title", pa.dictionary(pa.int16(), pa.string())),
    ("task_id", pa.int32()),
    ("task_type", pa.dictionary(pa.int8(), pa.string())),
    ("weight", pa.int8()),
    ("task", pa.string()),
])
OCCUPATION_SCHEMA = pa.schema([("soc_code", pa.string()), ("title", pa.string()), ("description", pa.string())])
#: Columns of the shipped title table: every name O*NET 29.1 gives an occupation.
TITLE_SCHEMA = pa.schema([
    ("soc_code", pa.dictionary(pa.int16(), pa.string())),
    ("title", pa.string()),
    ("source", pa.dictionary(pa.int8(), pa.string())),
])
#: Columns of the shipped task -> Detailed Work Activity table (O*NET 29.1 links, O*NET 30.1 DWA titles).
TASK_DWA_SCHEMA = pa.schema([
    ("soc_code", pa.dictionary(pa.int16(), pa.string())),
    ("task_id", pa.int32()),
    ("dwa_id", pa.dictionary(pa.int16(), pa.string())),
    ("dwa_title", pa.dictionary(pa.int16(), pa.string())),
])

_SOURCES = {
    "onet27_tasks": "onet_tasks.tsv",
    "onet29_tasks": "onet29/Task_Statements.txt",
    "onet29_occupations": "onet29/Occupation_Data.txt",
    "onet29_alternate_titles": "onet29/Alternate_Titles.txt",
    "onet29_reported_titles": "onet29/Sample_of_Reported_Titles.txt",
    "onet29_task_dwas": "onet29/Tasks_to_DWAs.txt",
    "dwa_reference": "onet29/DWA_Reference_30_1.txt",
    "crosswalk": "crosswalks/soc_2010_to_2018.csv",
    "isco08_groups": "crosswalks/isco08_groups.csv",
    "soc2010_to_isco08": "crosswalks/soc2010_to_isco08.csv",
    "ilostat": "ilostat/employment_by_isco08_2digit.csv",
    "job_zones": "onet29_3/Job_Zones.txt",
    "skills": "onet29_3/Skills.txt",
    "knowledge": "onet29_3/Knowledge.txt",
    "technology_skills": "onet29_3/Technology_Skills.txt",
}
#: Columns of the shipped ISCO-08 groups (every level; the ILO definitions hold the unit groups' task lists).
ISCO_GROUP_SCHEMA = pa.schema([("isco08", pa.string()), ("level", pa.int8()), ("title", pa.string()),
                               ("description", pa.string())])
#: BLS employment tables (public domain) shipped for :mod:`exposure.labour.employment`: source -> shipped name.
_BLS_FILES = {
    "bls/oews_national_may2021.csv": "bls_oews_national_may2021.csv",
    "bls/bls_projections_2022_32.csv": "bls_projections_2022_32.csv",
    "bls/bls_education_training_2022.csv": "bls_education_training_2022.csv",
    "bls/bls_utilization_factors_2022_32.csv": "bls_utilization_factors_2022_32.csv",
}
#: The OEWS columns kept (the national cross-industry file; area, industry and percentile columns dropped).
_OEWS_COLUMNS = ["OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "H_MEAN", "A_MEAN", "H_MEDIAN", "A_MEDIAN",
                 "ANNUAL", "HOURLY"]


def _copy_bls(source: Path, out: Path) -> list[Path]:
    """The BLS tables as text, cells unchanged (``*``, ``#``, ``—`` kept: the loaders interpret them), so a
    newer BLS release read with ``load_oews(path=...)`` goes through the same code. OEWS keeps fewer columns."""
    import csv

    import pyarrow.csv as pcsv

    written = []
    for rel, name in _BLS_FILES.items():
        with open(source / rel, encoding="utf-8", newline="") as f:
            names = next(csv.reader(f))
        table = pcsv.read_csv(source / rel, convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False))
        if name.startswith("bls_oews"):
            table = table.select(_OEWS_COLUMNS)
        written.append(out / name)
        pcsv.write_csv(table, written[-1], pcsv.WriteOptions(quoting_style="needed"))
    return written


def _read_tsv(path: Path, quoted: bool) -> pa.Table:
    """Every column as text: codes like "11-1011.00" and ids must not be reinterpreted.

    ``onet_tasks.tsv`` quotes fields CSV-style (``"Conduct ""head counts"" ..."``);
    the O*NET text files are plain tab-separated and hold bare quotes.
    """
    import pyarrow.csv as pcsv

    with open(path, encoding="utf-8") as f:
        names = f.readline().rstrip("\n").split("\t")
    return pcsv.read_csv(
        path, parse_options=pcsv.ParseOptions(delimiter="\t", quote_char='"' if quoted else False),
        convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                            strings_can_be_null=False))


def _write_parquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd", compression_level=19, use_dictionary=True,
                   write_statistics=False, store_schema=True)


def _task_table(soc, title, task_id, task_type, task) -> pa.Table:
    # O*NET 29.1 writes "n/a" where O*NET 27 (as shipped by Eloundou et al.) writes "Unrated".
    task_type = pc.if_else(pc.equal(task_type, "n/a"), "Unrated", task_type)
    # The weighting of Eloundou et al.: Core tasks count twice, Supplemental and Unrated once.
    weight = pc.if_else(pc.equal(task_type, "Core"), 2, 1).cast(pa.int8())
    table = pa.table({"soc_code": soc, "occupation_title": title, "task_id": pc.cast(task_id, pa.int32()),
                      "task_type": task_type, "weight": weight, "task": task})
    # Source order is kept, so the rows stay aligned with anything computed from the source files.
    return table.cast(TASK_SCHEMA)


def _title_table(source: Path, occ: pa.Table) -> pa.Table:
    """One row per (occupation, title, source), in source order; O*NET's ``n/a`` short titles are left out."""
    alt = _read_tsv(source / _SOURCES["onet29_alternate_titles"], quoted=False)
    rep = _read_tsv(source / _SOURCES["onet29_reported_titles"], quoted=False)
    short = alt.filter(pc.not_equal(alt["Short Title"], "n/a"))
    parts = {"occupation": (occ["soc_code"], occ["title"]),
             "alternate": (alt["O*NET-SOC Code"], alt["Alternate Title"]),
             "short": (short["O*NET-SOC Code"], short["Short Title"]),
             "reported": (rep["O*NET-SOC Code"], rep["Reported Job Title"])}
    tables = [pa.table({"soc_code": parts[name][0], "title": pc.utf8_trim_whitespace(parts[name][1]),
                        "source": pa.array([name] * len(parts[name][0]), pa.string())}) for name in TITLE_SOURCES]
    table = pa.concat_tables(tables)
    unknown = pc.invert(pc.is_in(table["soc_code"], value_set=occ["soc_code"]))
    if pc.any(unknown).as_py():
        bad = table.filter(unknown)["soc_code"].unique().to_pylist()
        raise ValueError(f"title files name O*NET-SOC codes missing from Occupation_Data.txt: {bad[:5]}")
    return table.cast(TITLE_SCHEMA)


def _task_dwa_table(source: Path, tasks: pa.Table) -> pa.Table:
    """One row per (task, DWA) link of ``Tasks_to_DWAs.txt``, source order; every link must name a known task
    of ``tasks`` and a DWA of the reference."""
    links = _read_tsv(source / _SOURCES["onet29_task_dwas"], quoted=False)
    ref = _read_tsv(source / _SOURCES["dwa_reference"], quoted=False)
    task_id = pc.cast(links["Task ID"], pa.int32())
    at = pc.index_in(links["DWA ID"], value_set=ref["DWA ID"])
    if at.null_count:
        bad = links.filter(pc.is_null(at))["DWA ID"].unique().to_pylist()
        raise ValueError(f"Tasks_to_DWAs.txt names DWAs missing from the DWA reference: {bad[:5]}")
    known = pc.is_in(task_id, value_set=tasks["task_id"])
    if not pc.all(known).as_py():
        bad = pc.filter(task_id, pc.invert(known)).unique().to_pylist()
        raise ValueError(f"Tasks_to_DWAs.txt names task ids missing from Task_Statements.txt: {bad[:5]}")
    return pa.table({"soc_code": links["O*NET-SOC Code"], "task_id": task_id, "dwa_id": links["DWA ID"],
                     "dwa_title": pc.take(ref["DWA Title"], at)}).cast(TASK_DWA_SCHEMA)


def build(source: Path, out: Path) -> list[Path]:
    """Write the catalogue files from ``source`` (a folder laid out like ``shared/data``) into ``out``."""
    import pyarrow.csv as pcsv

    missing = [rel for rel in [*_SOURCES.values(), *_BLS_FILES] if not (source / rel).is_file()]
    if missing:
        raise FileNotFoundError(f"{source} lacks {', '.join(missing)}")
    written = []

    # 1. O*NET 27 tasks, as Eloundou et al. used them.
    t27 = _read_tsv(source / _SOURCES["onet27_tasks"], quoted=True)
    tasks27 = _task_table(t27["soc_code"], t27["occupation_title"], t27["task_id"], t27["task_type"], t27["task"])
    # The source carries its own weights; the rule above must agree with every one of them.
    by_id = t27.append_column("id", pc.cast(t27["task_id"], pa.int32())).sort_by("id")
    ours = tasks27.sort_by("task_id")
    if not pc.all(pc.equal(pc.cast(by_id["weight"], pa.int8()), ours["weight"])).as_py():
        raise ValueError("onet_tasks.tsv weights disagree with the rule Core = 2, others = 1")
    written.append(out / "onet27_tasks.parquet")
    _write_parquet(tasks27, written[-1])

    # 2. O*NET 29.1: every occupation (some have no tasks) and the task statements.
    occ = _read_tsv(source / _SOURCES["onet29_occupations"], quoted=False)
    occ = pa.table({"soc_code": occ["O*NET-SOC Code"], "title": occ["Title"],
                    "description": occ["Description"]}).sort_by("soc_code").cast(OCCUPATION_SCHEMA)
    written.append(out / "onet29_1_occupations.parquet")
    _write_parquet(occ, written[-1])
    t29 = _read_tsv(source / _SOURCES["onet29_tasks"], quoted=False)
    codes = t29["O*NET-SOC Code"]
    titles = pc.take(occ["title"], pc.index_in(codes, value_set=occ["soc_code"]))
    tasks29 = _task_table(codes, titles, t29["Task ID"], t29["Task Type"], t29["Task"])
    written.append(out / "onet29_1_tasks.parquet")
    _write_parquet(tasks29, written[-1])

    # 3. O*NET 29.1 titles: occupation titles, alternate titles (and their short forms), reported titles.
    written.append(out / "onet29_1_titles.parquet")
    _write_parquet(_title_table(source, occ), written[-1])

    # 4. O*NET 29.1 task -> Detailed Work Activity links, in source order, with the DWA titles.
    written.append(out / "onet29_1_task_dwas.parquet")
    _write_parquet(_task_dwa_table(source, tasks29), written[-1])

    # 5. The BLS SOC 2010 -> 2018 crosswalk, as CSV (small and readable).
    cw = pcsv.read_csv(source / _SOURCES["crosswalk"],
                       convert_options=pcsv.ConvertOptions(column_types={
                           c: pa.string() for c in ("soc_2010_code", "soc_2010_title", "soc_2018_code",
                                                    "soc_2018_title")}))
    cw = cw.select(["soc_2010_code", "soc_2010_title", "soc_2018_code", "soc_2018_title"])
    cw = cw.sort_by([("soc_2010_code", "ascending"), ("soc_2018_code", "ascending")])
    written.append(out / "soc_2010_to_2018.csv")
    pcsv.write_csv(cw, written[-1], pcsv.WriteOptions(quoting_style="needed"))

    # 5. BLS employment, wages, projections, education and utilization factors (exposure.labour).
    written += _copy_bls(source, out)

    # 6. ISCO-08 groups (ESCO) and the SOC 2010 -> ISCO-08 concordance (IBS) for exposure.labour.isco.
    written += _isco(source, out)

    # 7. O*NET 29.3 job zones (the preparation an occupation needs, 1-5), for exposure.labour.transitions.
    zones = _read_tsv(source / _SOURCES["job_zones"], quoted=False)
    zones = pa.table({"soc_code": zones["O*NET-SOC Code"],
                      "job_zone": pc.cast(zones["Job Zone"], pa.int8())}).sort_by("soc_code")
    written.append(out / "onet29_3_job_zones.parquet")
    _write_parquet(zones, written[-1])

    # 8. O*NET 29.3 skill and knowledge levels, and technology skills, for the skill gaps of transitions.
    written.append(out / "onet29_3_skill_levels.parquet")
    _write_parquet(_skill_levels(source), written[-1])
    tech = _read_tsv(source / _SOURCES["technology_skills"], quoted=False)
    tech = pa.table({"soc_code": tech["O*NET-SOC Code"], "technology": tech["Example"],
                     "commodity": tech["Commodity Title"], "hot": pc.equal(tech["Hot Technology"], "Y"),
                     "in_demand": pc.equal(tech["In Demand"], "Y")})
    written.append(out / "onet29_3_technology_skills.parquet")
    _write_parquet(tech, written[-1])

    # 9. ILOSTAT employment by ISCO-08 sub-major group, every country and year (exposure.labour.ilostat).
    written.append(out / "ilostat_employment_isco08.parquet")
    _write_parquet(_ilostat(source, out / "isco08_groups.parquet"), written[-1])
    return written


def _skill_levels(source: Path) -> pa.Table:
    """One row per occupation and skill or knowledge area: its importance (IM, 1-5) and level (LV, 0-7), the
    rows O*NET recommends suppressing left out; sorted by code, kind and element."""
    rows: dict = {}
    for kind in ("skills", "knowledge"):
        t = _read_tsv(source / _SOURCES[kind], quoted=False)
        for code, name, scale, value, suppress in zip(t["O*NET-SOC Code"].to_pylist(), t["Element Name"].to_pylist(),
                                                      t["Scale ID"].to_pylist(), t["Data Value"].to_pylist(),
                                                      t["Recommend Suppress"].to_pylist()):
            if scale in ("IM", "LV") and suppress != "Y" and value not in ("", "n/a"):
                rows.setdefault((code, kind.rstrip("s"), name), {})[scale] = float(value)
    keys = sorted(k for k, v in rows.items() if len(v) == 2)
    return pa.table({"soc_code": [k[0] for k in keys], "kind": [k[1] for k in keys], "element": [k[2] for k in keys],
                     "importance": pa.array([rows[k]["IM"] for k in keys], pa.float32()),
                     "level": pa.array([rows[k]["LV"] for k in keys], pa.float32())})


#: The columns of ``ilostat_employment_isco08.parquet``: ``isco08`` is a sub-major group (``"25"``), ``TOTAL``
#: (all occupations) or ``X`` (not elsewhere classified); employment in thousands, as published.
ILOSTAT_SCHEMA = pa.schema([("country_code", pa.string()), ("country", pa.string()), ("source", pa.string()),
                            ("sex", pa.string()), ("year", pa.int16()), ("isco08", pa.string()),
                            ("employment_thousands", pa.float64())])


def _ilostat(source: Path, groups_path: Path) -> pa.Table:
    """The ISCO-08 rows of ILOSTAT's employment by sub-major group (ISCO-88 rows left out), sorted; every code a
    sub-major group of ``isco08_groups.parquet``, ``TOTAL`` or ``X``."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    text = pcsv.ConvertOptions(column_types={c: pa.string() for c in ("country_code", "country", "source", "sex",
                                                                      "isco08_2digit")})
    raw = pcsv.read_csv(source / _SOURCES["ilostat"], convert_options=text)
    raw = raw.filter(pc.invert(pc.starts_with(raw["isco08_2digit"], "OC2_ISCO88")))
    table = pa.table({"country_code": raw["country_code"], "country": raw["country"], "source": raw["source"],
                      "sex": raw["sex"], "year": raw["year"], "isco08": raw["isco08_2digit"],
                      "employment_thousands": raw["employment_thousands"]}).cast(ILOSTAT_SCHEMA)
    groups = pq.read_table(groups_path, columns=["isco08", "level"])
    known = groups.filter(pc.equal(groups["level"], 2))["isco08"].to_pylist() + ["TOTAL", "X"]
    unknown = pc.invert(pc.is_in(table["isco08"], value_set=pa.array(known)))
    if pc.any(unknown).as_py():
        raise ValueError(f"{_SOURCES['ilostat']}: codes that are not ISCO-08 sub-major groups: "
                         f"{table.filter(unknown)['isco08'].unique().to_pylist()[:5]}")
    return table.sort_by([("country_code", "ascending"), ("source", "ascending"), ("year", "ascending"),
                          ("sex", "ascending"), ("isco08", "ascending")])


def _isco(source: Path, out: Path) -> list[Path]:
    """The ISCO-08 groups of every level as Parquet, and the concordance as CSV; codes stay text ("0110")."""
    import pyarrow.csv as pcsv

    text = pcsv.ConvertOptions(column_types={"isco08": pa.string(), "soc10": pa.string()})
    groups = pcsv.read_csv(source / _SOURCES["isco08_groups"], convert_options=text)
    groups = groups.select(["isco08", "level", "title", "description"]).cast(ISCO_GROUP_SCHEMA).sort_by("isco08")
    bad = [c for c, n in zip(groups["isco08"].to_pylist(), groups["level"].to_pylist()) if len(c) != n]
    if bad:
        raise ValueError(f"isco08_groups.csv: codes whose length is not their level: {bad[:5]}")
    isco = pcsv.read_csv(source / _SOURCES["soc2010_to_isco08"], convert_options=text)
    isco = pa.table({"soc_2010_code": isco["soc10"], "isco08": isco["isco08"]})
    unknown = pc.invert(pc.is_in(isco["isco08"], value_set=groups["isco08"]))
    if pc.any(unknown).as_py():
        raise ValueError("soc2010_to_isco08.csv names ISCO-08 codes missing from isco08_groups.csv: "
                         f"{isco.filter(unknown)['isco08'].unique().to_pylist()[:5]}")
    isco = isco.sort_by([("soc_2010_code", "ascending"), ("isco08", "ascending")])
    written = [out / "isco08_groups.parquet", out / "soc2010_to_isco08.csv"]
    _write_parquet(groups, written[0])
    pcsv.write_csv(isco, written[1], pcsv.WriteOptions(quoting_style="needed"))
    return written


def main(argv=None) -> int:
    import argparse

    default = Path(os.environ.get("EXPOSURE_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    parser = argparse.ArgumentParser(prog="python -m exposure.data.build", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--source", type=Path, default=default, help="folder with the O*NET and crosswalk files")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = parser.parse_args(argv)
    for path in build(args.source, args.out):
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
