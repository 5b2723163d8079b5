"""Rebuild the shipped O*NET catalogue and SOC crosswalk from the source files.

    python -m exposure.data.build                      # reads ../shared/data (or $EXPOSURE_DATA)
    python -m exposure.data.build --source DIR --out exposure/data

Reads ``onet_tasks.tsv`` (O*NET 27, as used by Eloundou et al.),
``onet29/Task_Statements.txt``, ``onet29/Occupation_Data.txt``,
``onet29/Alternate_Titles.txt`` and ``onet29/Sample_of_Reported_Titles.txt``
(O*NET 29.1) and ``crosswalks/soc_2010_to_2018.csv`` (BLS), and writes the compact files
that :mod:`exposure.occupations.catalogue` loads. The output is deterministic: running it
twice gives byte-identical files. Exposure labels and ratings are never copied.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..occupations.catalogue import TITLE_SOURCES

__all__ = ["build", "TASK_SCHEMA", "OCCUPATION_SCHEMA", "TITLE_SCHEMA", "TITLE_SOURCES"]

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

_SOURCES = {
    "onet27_tasks": "onet_tasks.tsv",
    "onet29_tasks": "onet29/Task_Statements.txt",
    "onet29_occupations": "onet29/Occupation_Data.txt",
    "onet29_alternate_titles": "onet29/Alternate_Titles.txt",
    "onet29_reported_titles": "onet29/Sample_of_Reported_Titles.txt",
    "crosswalk": "crosswalks/soc_2010_to_2018.csv",
}


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


def build(source: Path, out: Path) -> list[Path]:
    """Write the catalogue files from ``source`` (a folder laid out like ``shared/data``) into ``out``."""
    import pyarrow.csv as pcsv

    missing = [rel for rel in _SOURCES.values() if not (source / rel).is_file()]
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

    # 4. The BLS SOC 2010 -> 2018 crosswalk, as CSV (small and readable).
    cw = pcsv.read_csv(source / _SOURCES["crosswalk"],
                       convert_options=pcsv.ConvertOptions(column_types={
                           c: pa.string() for c in ("soc_2010_code", "soc_2010_title", "soc_2018_code",
                                                    "soc_2018_title")}))
    cw = cw.select(["soc_2010_code", "soc_2010_title", "soc_2018_code", "soc_2018_title"])
    cw = cw.sort_by([("soc_2010_code", "ascending"), ("soc_2018_code", "ascending")])
    written.append(out / "soc_2010_to_2018.csv")
    pcsv.write_csv(cw, written[-1], pcsv.WriteOptions(quoting_style="needed"))
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
