"""Streaming table readers and writers: CSV, TSV, Parquet and JSON Lines, in bounded batches.

Readers yield ``pyarrow.RecordBatch`` objects of at most ``batch_size`` rows, so
a file of any size is read with bounded memory; writers pick the format from the
output file's extension.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

import pyarrow as pa

__all__ = ["read_batches", "TableWriter", "input_format", "require_columns", "csv_options", "READ_FORMATS",
           "WRITE_FORMATS"]

READ_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".parquet": "parquet", ".pq": "parquet",
                ".jsonl": "jsonl", ".ndjson": "jsonl"}
WRITE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}

PathLike = Union[str, os.PathLike]


def input_format(path: PathLike) -> str:
    """The reader for ``path`` by its extension; a ``ValueError`` lists the known ones."""
    fmt = READ_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot read {str(path)!r}: unknown extension {Path(path).suffix!r}; "
                         f"use one of {', '.join(sorted(READ_FORMATS))}")
    return fmt


def require_columns(names: Sequence[str], columns: Optional[Sequence[str]], what: str) -> None:
    """Raise ``ValueError`` naming the ``columns`` missing from ``names`` and listing those there are.

    >>> require_columns(["id", "task"], ["text"], "'tasks.csv'")
    Traceback (most recent call last):
    ValueError: 'tasks.csv' has no column 'text'; its columns are: id, task
    """
    missing = [c for c in columns or () if c not in names]
    if missing:
        raise ValueError(f"{what} has no column {', '.join(repr(c) for c in missing)}; "
                         f"its columns are: {', '.join(names) or '(none)'}")


def _check_columns(schema: pa.Schema, columns: Optional[Sequence[str]], path: PathLike) -> None:
    require_columns(schema.names, columns, repr(str(path)))


def csv_options(fmt: str, columns: Optional[Sequence[str]] = None) -> dict:
    """The ``pyarrow.csv`` reader options for ``fmt`` (``"csv"`` or ``"tsv"``): ``read_options``,
    ``parse_options`` and ``convert_options``, with ``columns`` read as text.

    >>> sorted(csv_options("tsv", ["id"]))
    ['convert_options', 'parse_options', 'read_options']
    """
    import pyarrow.csv as pcsv

    return {"read_options": pcsv.ReadOptions(block_size=1 << 22),
            "parse_options": pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True),
            # Text stays text: ids like "00123" or SOC codes must not become numbers.
            "convert_options": pcsv.ConvertOptions(column_types={c: pa.string() for c in columns or ()})}


def _jsonl_batches(path: PathLike, batch_size: int) -> Iterator[pa.RecordBatch]:
    rows: list = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{str(path)!r} line {lineno} is not valid JSON: {exc.msg}") from None
            if len(rows) == batch_size:
                yield pa.RecordBatch.from_pylist(rows)
                rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows)


def read_batches(path: PathLike, columns: Optional[Sequence[str]] = None,
                 batch_size: int = 4096) -> Iterator[pa.RecordBatch]:
    """Yield record batches of at most ``batch_size`` rows from a CSV/TSV/Parquet/JSONL file.

    ``columns`` must exist in the file (a ``ValueError`` lists those that do);
    every column is returned. An empty or unreadable file raises ``ValueError``.

    >>> for batch in read_batches("examples/tasks.csv", ["task"]):   # doctest: +SKIP
    ...     print(batch.num_rows)
    """
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    fmt = input_format(path)
    if not Path(path).is_file():
        raise ValueError(f"input file {str(path)!r} does not exist")
    if os.path.getsize(path) == 0:
        raise ValueError(f"input file {str(path)!r} is empty")
    rows = 0
    try:
        if fmt == "parquet":
            pf = pq.ParquetFile(path)
            _check_columns(pf.schema_arrow, columns, path)
            batches = pf.iter_batches(batch_size=batch_size)
        elif fmt == "jsonl":
            batches = _jsonl_batches(path, batch_size)
        else:
            reader = pcsv.open_csv(path, **csv_options(fmt, columns))
            _check_columns(reader.schema, columns, path)
            batches = (b for b in reader)
        for batch in batches:
            if rows == 0 and fmt == "jsonl":
                _check_columns(batch.schema, columns, path)
            for start in range(0, batch.num_rows, batch_size):
                part = batch.slice(start, batch_size)
                rows += part.num_rows
                yield part
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r} as {fmt}: {exc}") from None
    if rows == 0:
        raise ValueError(f"input file {str(path)!r} has no rows")


class TableWriter:
    """Write record batches to Parquet or CSV, chosen by the file extension.

    >>> with TableWriter("scores.parquet") as w:     # doctest: +SKIP
    ...     w.write(table)
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.format = WRITE_FORMATS.get(self.path.suffix.lower())
        if self.format is None:
            raise ValueError(f"cannot write {str(path)!r}: unknown extension {self.path.suffix!r}; "
                             f"use one of {', '.join(sorted(WRITE_FORMATS))}")
        if not self.path.parent.exists():
            raise ValueError(f"output folder {str(self.path.parent)!r} does not exist")
        self._writer = None
        self.rows = 0

    def write(self, table: Union[pa.Table, pa.RecordBatch]) -> None:
        """Append rows; every call must have the schema of the first."""
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        if self._writer is None:
            if self.format == "parquet":
                self._writer = pq.ParquetWriter(self.path, table.schema)
            else:
                self._writer = pcsv.CSVWriter(self.path, table.schema)
        self._writer.write(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
