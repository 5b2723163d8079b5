"""exposure.io: texts from any container, tables from any kind of table (pandas, polars, Arrow streams); tables
read and written in bounded batches."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exposure.io import TableWriter, as_table, as_texts, read_batches
from exposure.occupations import to_soc2018

from helpers import MIXED_TEXTS_READ, OCCUPATION_SCORES, assert_same_table, frame_kinds, text_containers


# --------------------------------------------------------------------------- texts from any container

@pytest.mark.parametrize("kind", ["list", "tuple", "generator", "pandas-object-nan", "pandas-default",
                                  "pandas-string-dtype", "pandas-categorical", "pyarrow-array", "pyarrow-large",
                                  "pyarrow-chunked", "pyarrow-dictionary", "numpy-object"])
def test_as_texts_containers(kind):
    assert as_texts(text_containers()[kind]) == MIXED_TEXTS_READ


def test_as_texts_numpy_strings_and_scalars():
    got = as_texts(np.array(["Sort mail.", "Repair brakes."]))
    assert got == ["Sort mail.", "Repair brakes."] and all(type(t) is str for t in got)
    assert as_texts("Sort mail.") == ["Sort mail."]
    assert as_texts([np.float32("nan"), float("nan"), None]) == [None, None, None]


def test_as_texts_keeps_non_text_values_for_the_caller():
    assert as_texts([17, "a", ["a list"]]) == [17, "a", ["a list"]]
    assert as_texts(pa.array([1, None, 3])) == [1, None, 3]


def test_as_texts_rejects_tables_and_bad_shapes():
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match="one column"):
        as_texts(pd.DataFrame({"task": ["a"]}))
    with pytest.raises(TypeError, match="one column"):
        as_texts(pa.table({"task": ["a"]}))
    with pytest.raises(ValueError, match="one-dimensional"):
        as_texts(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="texts is None"):
        as_texts(None)


# --------------------------------------------------------------------------- tables from any kind of table

def test_as_table_kinds():
    pd = pytest.importorskip("pandas")
    frames = frame_kinds(OCCUPATION_SCORES)
    assert as_table(frames["arrow"]) is frames["arrow"]
    for kind, frame in frames.items():
        t = as_table(frame)
        assert isinstance(t, pa.Table) and t.column_names == list(OCCUPATION_SCORES), kind
        assert t["soc_code"].to_pylist() == OCCUPATION_SCORES["soc_code"] and t["soc_code"].type == pa.string(), kind
    assert as_table(pa.table(OCCUPATION_SCORES).to_batches()[0]).num_rows == 6
    cat = as_table(pd.DataFrame({"soc_code": pd.Categorical(["11-1011.00"])}))
    assert cat["soc_code"].type == pa.string()  # dictionary columns decoded


def test_as_table_rejects_other_types_saying_what_is_accepted():
    pd = pytest.importorskip("pandas")
    for bad in ({"soc_code": ["11-1011.00"]}, [1, 2], "scores.csv", pd.Series([1.0])):
        with pytest.raises(TypeError, match=r"pyarrow\.Table, a pandas or polars DataFrame"):
            as_table(bad, "task_scores")


def test_polars_frames_are_accepted():
    pl = pytest.importorskip("polars")
    t = as_table(pl.DataFrame(OCCUPATION_SCORES))
    assert t["soc_code"].to_pylist() == OCCUPATION_SCORES["soc_code"] and t["soc_code"].type == pa.string()
    assert_same_table(to_soc2018(pl.DataFrame(OCCUPATION_SCORES)), to_soc2018(pa.table(OCCUPATION_SCORES)))


# --------------------------------------------------------------------------- tables in files

ROWS = [{"id": f"{i:05d}", "task": f"Task number {i}, with a comma"} for i in range(10)]


def _write(path, rows):
    fmt = path.suffix
    if fmt == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    elif fmt == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        sep = "\t" if fmt == ".tsv" else ","
        quote = (lambda s: s) if sep == "\t" else (lambda s: f'"{s}"')
        path.write_text("id" + sep + "task\n" + "".join(f"{r['id']}{sep}{quote(r['task'])}\n" for r in rows))


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_round_trip_in_bounded_batches(tmp_path, ext):
    path = tmp_path / f"in{ext}"
    _write(path, ROWS)
    batches = list(read_batches(path, ["id", "task"], batch_size=3))
    assert [b.num_rows for b in batches] == [3, 3, 3, 1]
    table = pa.Table.from_batches(batches)
    assert table.column("task").to_pylist() == [r["task"] for r in ROWS]
    # ids keep their leading zeros: named columns are read as text
    assert table.column("id").to_pylist() == [r["id"] for r in ROWS]


@pytest.mark.parametrize("ext", [".csv", ".parquet", ".jsonl"])
def test_missing_column_lists_the_columns(tmp_path, ext):
    path = tmp_path / f"in{ext}"
    _write(path, ROWS)
    with pytest.raises(ValueError, match=r"has no column 'text'; its columns are: id, task"):
        next(read_batches(path, ["text"]))


def test_empty_missing_and_unknown_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        next(read_batches(empty))
    header_only = tmp_path / "header.csv"
    header_only.write_text("task\n")
    with pytest.raises(ValueError, match="has no rows"):
        list(read_batches(header_only, ["task"]))
    with pytest.raises(ValueError, match="does not exist"):
        next(read_batches(tmp_path / "nope.csv"))
    with pytest.raises(ValueError, match="unknown extension '.xlsx'"):
        next(read_batches(tmp_path / "tasks.xlsx"))


def test_bad_json_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task": "ok"}\n{"task": broken}\n')
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        list(read_batches(path, ["task"]))


def test_not_parquet_is_a_clear_error(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("this is not parquet")
    with pytest.raises(ValueError, match="cannot read .* as parquet"):
        list(read_batches(path))


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
def test_writer_appends_batches(tmp_path, ext):
    table = pa.Table.from_pylist(ROWS)
    out = tmp_path / f"out{ext}"
    with TableWriter(out) as w:
        w.write(table.slice(0, 4))
        w.write(table.slice(4))
    assert w.rows == 10
    back = pa.Table.from_batches(list(read_batches(out, ["id", "task"])))
    assert back.column("task").to_pylist() == table.column("task").to_pylist()


def test_writer_rejects_unknown_extension_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="unknown extension '.xls'"):
        TableWriter(tmp_path / "out.xls")
    with pytest.raises(ValueError, match="does not exist"):
        TableWriter(tmp_path / "no" / "out.csv")
