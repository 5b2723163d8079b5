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


def test_read_batches_can_decode_only_the_columns_asked_for(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from exposure.io import read_batches

    table = pa.table({"id": ["a", "b"], "text": ["x", "y"], "big": [1.5, 2.5]})
    pq.write_table(table, tmp_path / "t.parquet")
    (tmp_path / "t.csv").write_text("id,text,big\na,x,1.5\nb,y,2.5\n", encoding="utf-8")
    for name in ("t.parquet", "t.csv"):
        got = list(read_batches(tmp_path / name, ["text", "id"], only=True))
        assert sorted(got[0].schema.names) == ["id", "text"] and got[0].column("text").to_pylist() == ["x", "y"]
        assert list(read_batches(tmp_path / name, ["text"]))[0].schema.names == ["id", "text", "big"]
        with pytest.raises(ValueError, match="nope"):
            list(read_batches(tmp_path / name, ["nope"], only=True))


def test_deeply_nested_json_line_is_named_not_a_crash(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"task": "Answer phones"}\n{"task": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(ValueError, match="line 2 is not valid JSON: nested too deeply"):
        list(read_batches(path, ["task"]))


@pytest.mark.parametrize("lines", [['{"task": "Answer phones"}', '{"task": 5}'],
                                   ['{"task": 5}', '{"task": "Answer phones"}']])
def test_json_lines_of_mixed_types_are_read_as_text_with_their_types_recoverable(tmp_path, lines):
    from exposure.io import typed_values

    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines + ['{"task": [1, 2], "n": "x"}', '{"task": null, "n": 3}']) + "\n")
    (batch,) = read_batches(path, ["task"])
    assert batch.schema.field("task").type == pa.string() and batch.schema.field("n").type == pa.string()
    values = typed_values(batch.column("task"), "jsonl")
    assert sorted(values[:2], key=str) == [5, "Answer phones"] and values[2:] == [[1, 2], None]


def test_typed_values_numbers_in_a_csv_text_column_are_numbers(tmp_path):
    from exposure.io import typed_values

    path = tmp_path / "tasks.csv"
    path.write_text('task\nAnswer phones\n12345\n"-2.5"\n- Sort mail\n"""quoted"""\n')
    (batch,) = read_batches(path, ["task"])
    assert typed_values(batch.column("task"), "csv") == ["Answer phones", 12345, -2.5, "- Sort mail", '"quoted"']
    assert typed_values(batch.column("task"), "parquet")[1] == "12345"  # stored types are kept


def test_an_unreadable_input_is_one_line_that_says_so(tmp_path, monkeypatch):
    import builtins

    from exposure import io as io_module
    from exposure.io import ReadError, os_error_message

    path = tmp_path / "tasks.csv"
    path.write_text("task\nAnswer phones\n")

    def deny(file, *args, **kwargs):  # as chmod 000 does for a user other than root
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(io_module, "open", deny, raising=False)
    with pytest.raises(ReadError) as caught:
        list(read_batches(path, ["task"]))
    message = os_error_message(caught.value, "out.csv")
    assert message == f"cannot read {str(path)!r}: permission denied: make it readable (chmod u+r) or run as a user " \
                      "who may read it"


def test_binary_garbage_gives_a_short_escaped_excerpt(tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_bytes(b"task\n" + b"\x00\x01\xff\xfe,\x1b" * 80 + b"\n")  # a row of NULs and bytes that are not text
    with pytest.raises(ValueError) as caught:
        list(read_batches(path, ["task"]))
    message = str(caught.value)
    assert len(message) < len(str(path)) + 250 and message.isprintable() and "\x00" not in message
    assert "tasks.csv" in message


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.jsonl", "t.jsonl.gz"])
def test_readers_tell_how_far_they_got_without_reading_twice(tmp_path, name):
    import gzip

    from exposure.io import ReadProgress, open_lines, read_batches

    rows = [{"id": str(i), "task": f"Answer phone call number {i} from a customer."} for i in range(3000)]
    text = ("id,task\n" + "".join(f"{r['id']},{r['task']}\n" for r in rows) if ".csv" in name
            else "".join(json.dumps(r) + "\n" for r in rows))
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    progress = ReadProgress(path.stat().st_size)
    seen = []
    if ".csv" in name:
        for batch in read_batches(path, ["task"], batch_size=500, progress=progress):
            seen.append(progress.bytes_read)
    else:
        for lineno, _ in open_lines(path, progress=progress):
            if lineno % 500 == 0:
                seen.append(progress.bytes_read)
    assert seen == sorted(seen) and 0 < seen[-1] <= progress.total and progress.bytes_read == progress.total
