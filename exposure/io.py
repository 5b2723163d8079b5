"""Streaming table readers and writers: CSV, TSV, Parquet and JSON Lines, in bounded batches.

:func:`as_texts` reads texts from any common container (list, pandas Series, numpy or
pyarrow array). Readers yield ``pyarrow.RecordBatch`` objects of at most ``batch_size`` rows, so
a file of any size is read with bounded memory. CSV, TSV and JSON Lines may be
gzip-compressed (``.csv.gz``, ``.tsv.gz``, ``.jsonl.gz``) and in any text
encoding (``encoding=``, UTF-8 by default); a byte that is not valid in the
encoding is an error naming its line. Writers pick the format from the output
file's extension and write under a temporary name that becomes the output only
when the writer is closed without error.
"""

from __future__ import annotations

import errno
import gzip
import json
import logging
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._assets import file_mode

__all__ = ["as_texts", "as_table", "TableLike", "decoded_strings", "read_batches", "TableWriter", "read_provenance",
           "with_provenance", "PROVENANCE_KEY", "input_format", "require_columns", "float_column", "csv_options",
           "open_binary", "decode_lines", "open_lines", "os_error_message", "WriteError", "ReadError", "ReadProgress", "typed_values",
           "READ_FORMATS", "WRITE_FORMATS", "COMPRESSED_FORMATS"]

READ_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".parquet": "parquet", ".pq": "parquet",
                ".jsonl": "jsonl", ".ndjson": "jsonl"}
WRITE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
#: Formats that may be gzip-compressed (a ``.gz`` after their extension).
COMPRESSED_FORMATS = ("csv", "tsv", "jsonl")

PathLike = Union[str, os.PathLike]

logger = logging.getLogger(__name__)


def _is_missing(value: Any) -> bool:
    """``None``, NaN (a float or numpy float), ``pandas.NA`` or ``pandas.NaT``: a missing text."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return type(value).__name__ in ("NAType", "NaTType")


def _is_table(obj: Any) -> bool:
    if isinstance(obj, (pa.Table, pa.RecordBatch)):
        return True
    shape = getattr(obj, "shape", None)
    return hasattr(obj, "columns") and isinstance(shape, tuple) and len(shape) == 2


def as_texts(texts: Any) -> list[Optional[str]]:
    """Texts from any common container, as a list with ``None`` where a text is missing.

    Accepts one string (a list of one), a list, tuple or other iterable, a pandas
    ``Series`` or ``Index``, a numpy array (strings or objects), a pyarrow ``Array`` or
    ``ChunkedArray`` (dictionary-encoded too) and a polars ``Series``. ``None``, NaN,
    ``pandas.NA``/``NaT`` and Arrow nulls are missing texts. Other values that are not
    text (a number, a list) are passed through unchanged, for the caller to judge:
    :meth:`Encoder.encode` rejects them, posting scores mark them ``not_text``.

    >>> import numpy as np
    >>> as_texts(np.array(["Sort mail.", None, float("nan")], dtype=object))
    ['Sort mail.', None, None]
    """
    if isinstance(texts, str):
        return [texts]
    if texts is None:
        raise TypeError("texts is None; pass a list of texts (or one string)")
    if isinstance(texts, (bytes, bytearray)):
        raise TypeError("texts is bytes; decode it to str first (e.g. texts.decode('utf-8'))")
    if _is_table(texts):
        raise TypeError(f"texts is a {type(texts).__name__}, a table; pass one column of it, e.g. df['task']")
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        items = texts.to_pylist()
    elif isinstance(texts, np.ndarray):
        if texts.ndim > 1:
            raise ValueError(f"texts must be one-dimensional, got an array of shape {texts.shape}")
        items = texts.reshape(-1).tolist()
    elif hasattr(texts, "dtype") and callable(getattr(texts, "tolist", None)):  # pandas Series / Index
        items = texts.tolist()
    elif hasattr(texts, "dtype") and callable(getattr(texts, "to_list", None)):  # polars Series
        items = texts.to_list()
    else:
        items = list(texts)
    return [None if _is_missing(t) else t for t in items]


#: What the table arguments accept: a ``pyarrow.Table`` or ``RecordBatch``, a pandas or polars
#: ``DataFrame``, or any object with ``__arrow_c_stream__`` (see :func:`as_table`).
TableLike = Union[pa.Table, pa.RecordBatch, Any]


def decoded_strings(table: pa.Table) -> pa.Table:
    """Dictionary columns (compact on disk) as plain strings, which every consumer understands."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, pc.cast(table.column(i), f.type.value_type))
    return table


_ACCEPTED = "a pyarrow.Table, a pandas or polars DataFrame, or an object with __arrow_c_stream__"


def _plain_strings(table: pa.Table) -> pa.Table:
    """Dictionary, large and view string columns as plain strings (what pandas and polars export)."""
    table = decoded_strings(table)
    for i, f in enumerate(table.schema):
        if pa.types.is_large_string(f.type) or getattr(pa.types, "is_string_view", lambda t: False)(f.type):
            table = table.set_column(i, f.name, pc.cast(table.column(i), pa.string()))
    return table


def as_table(data: TableLike, name: str = "table") -> pa.Table:
    """A ``pyarrow.Table`` from a Table, a RecordBatch, a pandas or polars DataFrame, or any
    object with ``__arrow_c_stream__`` (the Arrow PyCapsule protocol).

    A pyarrow Table is returned as is. A pandas DataFrame is converted without its index
    (``pa.Table.from_pandas(df, preserve_index=False)``: put codes in a column, e.g.
    ``df.reset_index()``), NaN and ``None`` becoming nulls; a polars DataFrame through
    ``.to_arrow()``. Categorical, large and view string columns become plain strings.
    ``name`` is used in the ``TypeError`` for anything else.

    >>> import pandas as pd
    >>> as_table(pd.DataFrame({"soc_code": ["11-1011.00"], "exposure": [0.5]})).to_pylist()
    [{'soc_code': '11-1011.00', 'exposure': 0.5}]
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return _plain_strings(pa.Table.from_batches([data]))
    pd = sys.modules.get("pandas")
    pl = sys.modules.get("polars")
    if pd is not None and isinstance(data, pd.DataFrame):
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(f"{name}: the pandas DataFrame could not be converted to Arrow ({exc}); give each "
                             "column one type (text, numbers), e.g. with df.astype(...)") from None
        how = "pandas"
    elif pl is not None and isinstance(data, pl.DataFrame):
        table, how = data.to_arrow(), "polars"
    elif ((pd is not None and isinstance(data, (pd.Series, pd.Index)))
          or (pl is not None and isinstance(data, pl.Series)) or isinstance(data, (pa.Array, pa.ChunkedArray))):
        raise TypeError(f"{name} must be {_ACCEPTED}; got a {type(data).__name__}, a single column "
                        "(e.g. series.to_frame())")
    elif hasattr(data, "__arrow_c_stream__"):
        table, how = pa.table(data), "__arrow_c_stream__"
    else:
        raise TypeError(f"{name} must be {_ACCEPTED}; got {type(data).__name__}")
    logger.debug("%s: %d rows from a %s (%s)", name, table.num_rows, type(data).__name__, how)
    return _plain_strings(table)


def input_format(path: PathLike) -> str:
    """The reader for ``path`` by its extension (``.gz`` after a text format's); a ``ValueError`` lists the known ones.

    >>> input_format("postings.jsonl.gz")
    'jsonl'
    """
    p = Path(path)
    gz = p.suffix.lower() == ".gz"
    fmt = READ_FORMATS.get(Path(p.stem).suffix.lower() if gz else p.suffix.lower())
    if fmt is None or (gz and fmt not in COMPRESSED_FORMATS):
        known = sorted(READ_FORMATS) + sorted(f"{e}.gz" for e, f in READ_FORMATS.items() if f in COMPRESSED_FORMATS)
        raise ValueError(f"cannot read {str(path)!r}: unknown extension {''.join(p.suffixes[-2:] if gz else p.suffixes[-1:])!r}; "
                         f"use one of {', '.join(known)}")
    return fmt


def open_binary(path: PathLike) -> BinaryIO:
    """``path`` opened for reading bytes, decompressed on the fly if it ends in ``.gz``; a file this process
    may not read is a :class:`ReadError` saying so in one line."""
    try:
        return gzip.open(path, "rb") if str(path).lower().endswith(".gz") else open(path, "rb")
    except PermissionError:
        raise ReadError(f"cannot read {str(path)!r}: permission denied: make it readable (chmod u+r) or run as "
                        "a user who may read it") from None


def _excerpt(text: str, limit: int = 160) -> Tuple[str, int]:
    """``text`` for a one-line message, and how many characters were escaped: those that do not print (NUL,
    controls) and U+FFFD (a byte that is not text), cut to about ``limit`` characters.

    >>> _excerpt("row: \\x00ab\\ufffd")
    ('row: \\\\x00ab\\\\ufffd', 2)
    """
    escaped = [c if c.isprintable() and c != "\ufffd" else c.encode("unicode_escape").decode("ascii")
               for c in text[: 2 * limit]]
    shown = "".join(escaped)
    odd = sum(len(e) > 1 for e in escaped)
    return (shown if len(shown) <= limit else shown[:limit] + "..."), odd


def _read_error(path: PathLike, fmt: str, exc: BaseException) -> str:
    """One line for a file that ``fmt``'s reader rejects, quoting the reader's message as a short excerpt."""
    shown, odd = _excerpt(str(exc))
    message = f"cannot read {str(path)!r} as {fmt}: {shown}"
    if fmt == "parquet":
        return message
    return message + (f"; it holds bytes that are not text: is it a {fmt.upper()} file?" if odd > 3 else
                      f"; check that it is a {fmt.upper()} file")


def decode_lines(lines: Iterable[bytes], encoding: str = "utf-8", path: PathLike = "the input"
                 ) -> Iterator[Tuple[int, str]]:
    """``(line number, text)`` for each line of bytes, decoded on its own, so that a byte that is not
    valid in ``encoding`` is a ``ValueError`` naming its line (of ``path``) and saying how to fix it."""
    for lineno, raw in enumerate(lines, 1):
        try:
            yield lineno, raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ValueError(_decode_message(path, lineno, raw, exc, encoding)) from None


class ReadProgress:
    """How far a reader has got in its input file: ``bytes_read`` of ``total`` bytes (of the file on disk, so
    compressed bytes for a ``.gz`` file). A progress bar reads it; the file is never read twice for it.

    >>> progress = ReadProgress(1000)
    >>> progress.bytes_read, progress.total
    (0, 1000)
    """

    def __init__(self, total: int) -> None:
        self.total = int(total)
        self.bytes_read = 0


def _position(f: BinaryIO) -> int:
    """Bytes of the file on disk read so far: the compressed position of a gzip stream."""
    raw = getattr(f, "fileobj", None)
    return (raw if raw is not None else f).tell()


def open_lines(path: PathLike, encoding: str = "utf-8", progress: Optional[ReadProgress] = None
               ) -> Iterator[Tuple[int, str]]:
    """``(line number, text)`` for every line of a text file (gzip-compressed if it ends in ``.gz``);
    see :func:`decode_lines`. ``progress`` is told the bytes read after each line."""
    with open_binary(path) as f:
        if progress is None:
            yield from decode_lines(f, encoding, path)
            return
        for item in decode_lines(f, encoding, path):
            progress.bytes_read = _position(f)
            yield item


def _decode_message(path: PathLike, lineno: int, raw: bytes, exc: UnicodeDecodeError, encoding: str) -> str:
    return (f"{str(path)!r} line {lineno} is not valid {encoding} text (byte 0x{raw[exc.start]:02x} at column "
            f"{exc.start + 1}): re-encode the file as UTF-8 (for example iconv -f latin1 -t utf-8 IN > OUT) or give "
            "its encoding (--encoding latin-1 on the command line, encoding= in Python)")


def _first_bad_line(path: PathLike, encoding: str) -> Optional[str]:
    """The message for the first line of ``path`` that ``encoding`` cannot decode, or ``None``."""
    try:
        for _ in open_lines(path, encoding):
            pass
    except ValueError as exc:
        return str(exc)
    return None


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


def float_column(table: pa.Table, name: str) -> np.ndarray:
    """Column ``name`` of ``table`` as a float64 numpy array, nulls as NaN.

    >>> float_column(pa.table({"x": pa.array([1, None, 3])}), "x").tolist()
    [1.0, nan, 3.0]
    """
    return pc.fill_null(pc.cast(table.column(name), pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _check_columns(schema: pa.Schema, columns: Optional[Sequence[str]], path: PathLike) -> None:
    require_columns(schema.names, columns, repr(str(path)))


def csv_options(fmt: str, columns: Optional[Sequence[str]] = None, encoding: str = "utf-8") -> dict:
    """The ``pyarrow.csv`` reader options for ``fmt`` (``"csv"`` or ``"tsv"``): ``read_options``,
    ``parse_options`` and ``convert_options``, with ``columns`` read as text.

    >>> sorted(csv_options("tsv", ["id"]))
    ['convert_options', 'parse_options', 'read_options']
    """
    import pyarrow.csv as pcsv

    return {"read_options": pcsv.ReadOptions(block_size=1 << 22, encoding=encoding),
            "parse_options": pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True),
            # Text stays text: ids like "00123" or SOC codes must not become numbers.
            "convert_options": pcsv.ConvertOptions(column_types={c: pa.string() for c in columns or ()})}


def _jsonl_column(values: list, text: bool) -> pa.Array:
    """One column of JSON values: Arrow's own type when they share one, else (and always for a ``text`` column)
    text, with each value that is not a string kept as its JSON (``5`` -> ``"5"``, see :func:`typed_values`)."""
    if not text:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types, e.g. text and numbers
            pass
    return pa.array([v if v is None or isinstance(v, str) else json.dumps(v) for v in values], pa.string())


def _jsonl_batch(rows: list, columns: Optional[Sequence[str]]) -> pa.RecordBatch:
    names = list(dict.fromkeys(k for row in rows for k in row))
    text = set(columns or ())
    return pa.RecordBatch.from_arrays([_jsonl_column([row.get(k) for row in rows], k in text) for k in names],
                                      names=names)


def _jsonl_batches(path: PathLike, batch_size: int, encoding: str,
                   columns: Optional[Sequence[str]] = None) -> Iterator[pa.RecordBatch]:
    rows: list = []
    for lineno, line in open_lines(path, encoding):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{str(path)!r} line {lineno} is not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise ValueError(f"{str(path)!r} line {lineno} is not valid JSON: nested too deeply to read") from None
        if not isinstance(row, dict):
            raise ValueError(f"{str(path)!r} line {lineno} is not a JSON object (one {{\"column\": value, ...}} "
                             f"per line), it is a {type(row).__name__}")
        rows.append(row)
        if len(rows) == batch_size:
            yield _jsonl_batch(rows, columns)
            rows = []
    if rows:
        yield _jsonl_batch(rows, columns)


_SPELLS_JSON = frozenset("-0123456789[{tf")


def _typed(value: Any) -> Any:
    if not isinstance(value, str) or value.lstrip()[:1] not in _SPELLS_JSON:
        return value
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return value
    return value if isinstance(decoded, str) or decoded is None else decoded


def typed_values(column: Union[pa.Array, pa.ChunkedArray], fmt: str) -> list:
    """The Python values of a text ``column`` read from a file in ``fmt`` (:func:`input_format`).

    A text format (CSV, TSV, JSON Lines) holds no types, or (JSON Lines) its text columns are read as
    text: there a cell that spells a JSON value other than a string, a number (``12345``), ``true`` /
    ``false``, a list or an object, is that value, so that a rule for texts sees it is not one. Parquet
    values are returned as stored.

    >>> typed_values(pa.array(["Answer phones", "12345", " 1.5e3", "[1, 2]"]), "csv")
    ['Answer phones', 12345, 1500.0, [1, 2]]
    """
    values = column.to_pylist()
    return values if fmt == "parquet" else [_typed(v) for v in values]


def read_batches(path: PathLike, columns: Optional[Sequence[str]] = None,
                 batch_size: int = 4096, encoding: str = "utf-8", *, only: bool = False,
                 progress: Optional[ReadProgress] = None) -> Iterator[pa.RecordBatch]:
    """Yield record batches of at most ``batch_size`` rows from a CSV/TSV/Parquet/JSONL file
    (text formats optionally ``.gz``, in ``encoding``).

    ``columns`` must exist in the file (a ``ValueError`` lists those that do); they are read as text
    (in JSON Lines a value that is not a string as its JSON: see :func:`typed_values`). Every column is
    returned (a JSON Lines column whose values mix types is text too), or with ``only`` just ``columns``
    (Parquet and CSV/TSV then decode no other column). An empty or unreadable file, or one with a byte
    that is not valid in ``encoding``, raises ``ValueError``; one this process may not read,
    :class:`ReadError`. ``progress`` (CSV/TSV) is told the bytes of the file read after each batch.

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
    open_binary(path).close()  # a file we may not read: one line, before a reader's own message
    rows = 0
    source = None  # a CSV file opened here only to tell ``progress`` how far its reader got
    try:
        if fmt == "parquet":
            pf = pq.ParquetFile(path)
            _check_columns(pf.schema_arrow, columns, path)
            batches = pf.iter_batches(batch_size=batch_size, columns=list(columns) if only and columns else None)
        elif fmt == "jsonl":
            batches = _jsonl_batches(path, batch_size, encoding, columns)
        else:
            # A path ending in .gz is decompressed by pyarrow.
            options = csv_options(fmt, columns, encoding)
            if only and columns:
                options["convert_options"].include_columns = list(columns)
            try:
                if progress is None:
                    reader = pcsv.open_csv(str(path), **options)
                else:
                    source = pa.OSFile(str(path))
                    stream = (pa.CompressedInputStream(source, "gzip") if str(path).lower().endswith(".gz")
                              else source)
                    reader = pcsv.open_csv(stream, **options)
            except (pa.ArrowInvalid, pa.ArrowKeyError):
                if not (only and columns):
                    raise
                # A missing column: read the header without the selection, for the message that lists them.
                _check_columns(pcsv.open_csv(str(path), **csv_options(fmt, None, encoding)).schema, columns, path)
                raise
            _check_columns(reader.schema, columns, path)
            batches = (b for b in reader)
        for batch in batches:
            if source is not None:
                progress.bytes_read = source.tell()
            if rows == 0 and fmt == "jsonl":
                _check_columns(batch.schema, columns, path)
            for start in range(0, batch.num_rows, batch_size):
                part = batch.slice(start, batch_size)
                rows += part.num_rows
                yield part
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        bad = _first_bad_line(path, encoding) if fmt != "parquet" and "UTF8" in str(exc) else None
        raise ValueError(bad or _read_error(path, fmt, exc)) from None
    finally:
        if source is not None:
            source.close()
    if rows == 0:
        raise ValueError(f"input file {str(path)!r} has no rows")


#: The key of the provenance record in the schema metadata of the Parquet files the library writes.
PROVENANCE_KEY = b"exposure"


def with_provenance(schema: pa.Schema, record: dict) -> pa.Schema:
    """``schema`` carrying ``record`` in its metadata, as :func:`read_provenance` reads it."""
    return schema.with_metadata({**(schema.metadata or {}), PROVENANCE_KEY: json.dumps(record, sort_keys=True)})


def read_provenance(path: PathLike) -> Optional[dict]:
    """The provenance record of a Parquet file written by ``exposure`` (how its scores were made), or
    ``None`` when it has none (another program's file, a CSV, or one written before exposure 0.2).

    >>> read_provenance("scores.parquet")["mode"]          # doctest: +SKIP
    'calibrated'
    """
    import pyarrow.parquet as pq

    if Path(path).suffix.lower() not in (".parquet", ".pq"):
        return None
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(PROVENANCE_KEY)
    return None if raw is None else json.loads(raw)


class TableWriter:
    """Write record batches to Parquet or CSV, chosen by the file extension.

    Rows go to a temporary file in the output's folder (created at once, so an unwritable
    folder fails before any work is done); :meth:`close` renames it to ``path``. Leaving the
    ``with`` block on an error, or :meth:`abort`, removes it: ``path`` is never half written.

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
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as exc:
            raise WriteError(os_error_message(exc, self.path)) from exc
        os.close(fd)
        self._tmp: Optional[Path] = Path(tmp)
        self._writer = None
        self.rows = 0
        #: JSON-able record stored in a Parquet file's schema metadata under ``b"exposure"`` (see
        #: :func:`read_provenance`); set it before the first :meth:`write`. CSV files have no place for it.
        self.provenance: Optional[dict] = None

    def write(self, table: Union[pa.Table, pa.RecordBatch]) -> None:
        """Append rows; every call must have the schema of the first."""
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        if self._tmp is None:
            raise ValueError(f"the writer of {str(self.path)!r} is closed")
        if self._writer is None:
            if self.format == "parquet":
                schema = table.schema if self.provenance is None else with_provenance(table.schema, self.provenance)
                self._writer = pq.ParquetWriter(self._tmp, schema)
            else:
                self._writer = pcsv.CSVWriter(self._tmp, table.schema)
        self._writer.write(table)
        self.rows += table.num_rows

    def close(self) -> None:
        """Finish the file and rename it to ``path`` (nothing is written if no rows were)."""
        if self._tmp is None:
            return
        try:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
                os.chmod(self._tmp, file_mode())  # mkstemp's 0600 -> what the umask gives
                os.replace(self._tmp, self.path)
                self._tmp = None
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop what was written; ``path`` is left as it was."""
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError:
                pass
            self._writer = None
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class WriteError(OSError):
    """An operating-system error while writing an output, with a message that says what to do."""


class ReadError(OSError):
    """An operating-system error while reading an input (permission denied), with a message that says what to do."""


_ERRNO_TEXT = re.compile(r"\[errno (\d+)\]", re.IGNORECASE)


def _file_in_the_way(path: Path) -> Optional[Path]:
    """``path`` or the first of its parents that exists and is not a folder (where a folder was wanted)."""
    for p in (path, *path.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def os_error_message(exc: OSError, path: Optional[PathLike] = None, hint: Optional[str] = None) -> str:
    """One line for an ``OSError`` met while writing ``path``: what happened, where, and what to do.

    >>> os_error_message(OSError(28, "No space left on device"), "out.parquet")
    'disk full writing out.parquet: free space and run again'
    """
    if isinstance(exc, (WriteError, ReadError)):
        return str(exc)
    code = exc.errno
    if code is None:  # pyarrow's IO errors carry the errno in their text only
        m = _ERRNO_TEXT.search(str(exc))
        code = int(m.group(1)) if m else None
    where = str(path if path is not None else (exc.filename or "the output"))
    if code == errno.ENOSPC:
        what, fix = f"disk full writing {where}", "free space and run again"
    elif code == errno.EDQUOT:
        what, fix = f"disk quota exceeded writing {where}", "free space and run again"
    elif code == errno.EROFS:
        what, fix = f"cannot write {where}: the file system is read-only", "write the output to another folder"
    elif code in (errno.EACCES, errno.EPERM):
        what, fix = f"cannot write {where}: permission denied", "make the folder writable or write elsewhere"
    elif code in (errno.EEXIST, errno.ENOTDIR):
        taken = _file_in_the_way(Path(where))
        what = f"cannot write {where}: {str(taken)!r} is a file, not a folder" if taken is not None else \
            f"cannot write {where}: {str(exc.filename or where)!r} exists already and is not a folder"
        fix = "give an output path whose folders are folders (or move that file away)"
    else:
        what, fix = f"cannot write {where}: {exc.strerror or exc}", "check the folder and run again"
    return f"{what}: {hint or fix}"
