"""Reading a postings file's rows: chunks of ids, titles and texts, and the status of the rows left out.

The readers yield ``(first row, ids, titles, texts, flags)`` chunks (:data:`Chunk`): Parquet and
CSV/TSV through :func:`exposure.io.read_batches`, JSON Lines line by line (a malformed line is a
row with status ``invalid_json``). :func:`id_status` marks rows without an id and ids seen before,
which :class:`IdSet` holds as 64-bit hashes (8 bytes per id).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np
import pyarrow.parquet as pq

from ..io import ReadProgress, csv_options, open_binary, open_lines, read_batches

__all__ = ["REJECTED_STATUSES", "Chunk", "IdSet", "hash_ids", "count_rows", "head_digest", "parse_jsonl_line",
           "jsonl_chunks", "arrow_rows", "arrow_chunks", "id_status"]

#: Row statuses that keep a row out of OUTPUT (listed in the ``.rejected.parquet`` file).
REJECTED_STATUSES = ("duplicate_id", "missing_id", "invalid_json")


def hash_ids(ids: List[str]) -> np.ndarray:
    """The 64-bit hashes (blake2b of the UTF-8 text) of ``ids``, as :class:`IdSet` holds them."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8).digest(), "little")
                        for i in ids), dtype=np.uint64, count=len(ids))


class IdSet:
    """Ids seen so far, as 64-bit hashes in a few sorted arrays (merged as they grow: O(log n) arrays)."""

    def __init__(self) -> None:
        self.levels: List[np.ndarray] = []
        self.size = 0

    def contains(self, h: np.ndarray) -> np.ndarray:
        found = np.zeros(h.shape[0], dtype=bool)
        for level in self.levels:
            pos = np.minimum(np.searchsorted(level, h), level.shape[0] - 1)
            found |= level[pos] == h
        return found

    def add(self, h: np.ndarray) -> None:
        if not h.shape[0]:
            return
        self.levels.append(np.unique(h))
        self.size += h.shape[0]
        while len(self.levels) > 1 and 2 * self.levels[-1].shape[0] >= self.levels[-2].shape[0]:
            b, a = self.levels.pop(), self.levels.pop()
            self.levels.append(np.union1d(a, b))


def _as_id(value) -> Optional[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None  # a NaN id (pandas' missing value) is a missing id, not the id "nan"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON 7.0 and 7 are one id
    text = str(value).strip() if not isinstance(value, str) else value.strip()
    return text or None


def count_rows(path: Path, fmt: str, id_column: str, encoding: str = "utf-8") -> Optional[int]:
    """The number of input rows, when cheap: Parquet metadata, non-blank JSONL lines, a one-column CSV scan."""
    try:
        if fmt == "parquet":
            return pq.ParquetFile(path).metadata.num_rows
        if fmt == "jsonl":
            with open_binary(path) as f:
                return sum(bool(line.strip()) for line in f)
        import pyarrow.csv as pcsv

        opts = csv_options(fmt, [id_column], encoding)
        opts["convert_options"].include_columns = [id_column]
        return sum(b.num_rows for b in pcsv.open_csv(str(path), **opts))
    except Exception:  # only the progress bar's total: never fail the job over it
        return None


def head_digest(path: Path) -> str:
    """A checksum (SHA-256, 20 hex digits) of the first 64 KB of ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(1 << 16))
    return h.hexdigest()[:20]


# --------------------------------------------------------------------------- reading

Chunk = Tuple[int, List[Optional[str]], List[Optional[str]], list, List[Optional[str]]]


def parse_jsonl_line(line: str, columns: Tuple[str, str, str]) -> tuple:
    """One JSON line -> ``(id, title, text, flag, object)``; a malformed line gives flag ``invalid_json``, no values."""
    id_c, title_c, text_c = columns
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None, None, None, "invalid_json", {}
    title = obj.get(title_c)
    return _as_id(obj.get(id_c)), title if isinstance(title, str) else None, obj.get(text_c), None, obj


def jsonl_chunks(path: Path, columns: Tuple[str, str, str], size: int, encoding: str = "utf-8",
                 progress: Optional[ReadProgress] = None) -> Iterator[Chunk]:
    """JSON Lines in chunks, one row per non-blank line; a malformed line is a row with status ``invalid_json``.
    ``progress`` is told the bytes read (:class:`~exposure.io.ReadProgress`)."""
    ids, titles, texts, bad = [], [], [], []
    start = 0
    seen_columns: dict = {}
    for _, line in open_lines(path, encoding, progress):
        if not line.strip():
            continue
        id_, title, text, flag, obj = parse_jsonl_line(line, columns)
        if len(seen_columns) < 1000:
            seen_columns.update(dict.fromkeys(obj))
        ids.append(id_)
        titles.append(title)
        texts.append(text)
        bad.append(flag)
        if len(ids) == size:
            _check_jsonl_columns(path, columns, seen_columns, start)
            yield start, ids, titles, texts, bad
            start += len(ids)
            ids, titles, texts, bad = [], [], [], []
    if ids:
        _check_jsonl_columns(path, columns, seen_columns, start)
        yield start, ids, titles, texts, bad


def _check_jsonl_columns(path: Path, columns, seen: dict, start: int) -> None:
    if start == 0 and seen:
        missing = [c for c in columns if c not in seen]
        if missing:
            raise ValueError(f"{str(path)!r} has no column {', '.join(repr(c) for c in missing)}; "
                             f"its columns are: {', '.join(seen)}")


def arrow_rows(batch, columns: Tuple[str, str, str]) -> Tuple[List[Optional[str]], List[Optional[str]], list]:
    """``(ids, titles, texts)`` of an Arrow batch or table: ids as text, titles that are not text as ``None``."""
    id_c, title_c, text_c = columns
    ids = [_as_id(v) for v in batch.column(id_c).to_pylist()]
    titles = [t if isinstance(t, str) else None for t in batch.column(title_c).to_pylist()]
    return ids, titles, batch.column(text_c).to_pylist()


def arrow_chunks(path: Path, columns: Tuple[str, str, str], size: int, encoding: str = "utf-8",
                 progress: Optional[ReadProgress] = None) -> Iterator[Chunk]:
    """Parquet or CSV/TSV in chunks of ``size`` rows (:func:`exposure.io.read_batches`); no row is flagged.
    ``progress`` (CSV/TSV) is told the bytes read."""
    start = 0
    for batch in read_batches(path, list(dict.fromkeys(columns)), batch_size=size, encoding=encoding, only=True,
                              progress=progress):
        yield (start, *arrow_rows(batch, columns), [None] * batch.num_rows)
        start += batch.num_rows


# --------------------------------------------------------------------------- ids

def id_status(ids: List[Optional[str]], flags: List[Optional[str]], seen: IdSet) -> List[Optional[str]]:
    """Per row ``None`` (to score) or the reason it is left out; adds the new ids to ``seen``."""
    status: List[Optional[str]] = list(flags)
    fresh: dict = {}
    for i, (k, s) in enumerate(zip(ids, status)):
        if s is None and k is None:
            status[i] = "missing_id"
        elif s is None:
            if k in fresh:
                status[i] = "duplicate_id"
            else:
                fresh[k] = i
    if fresh:
        keys = list(fresh)
        h = hash_ids(keys)
        old = seen.contains(h)
        for k, o in zip(keys, old):
            if o:
                status[fresh[k]] = "duplicate_id"
        seen.add(h[~old])
    return status
