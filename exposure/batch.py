"""Score a file of job postings in a streaming batch job that survives crashes.

    exposure score-postings postings.parquet -o scores.parquet --id-column id --title-column title \\
        --text-column description [--resume]

How it works:

1. The input (Parquet, CSV/TSV, JSON Lines) is read in chunks of ``chunk_size``
   postings (:func:`exposure.io.read_batches`; JSON Lines with a reader that
   turns a malformed line or an odd value into a row status instead of an error),
   so memory does not grow with the input.
2. Each chunk is scored by a :class:`~exposure.postings.PostingScorer` (its
   unit cache carries over from chunk to chunk) and committed as one file,
   ``OUTPUT.parts/part-NNNNN.parquet``: written under a temporary name, flushed
   to disk, then renamed (atomic on POSIX). Each part holds one row per input row of
   its range (the range is in the file's metadata, the ids in its ``id`` column).
3. When the input is exhausted the parts are combined, one at a time, into a
   temporary file that is renamed to ``OUTPUT``; the run summary
   (``OUTPUT`` with ``.summary.json``) is written, and only then is the parts
   folder removed (renamed away first, so a half-deleted folder is never read).

After a crash at any point (``kill -9`` included), ``--resume`` keeps the
committed parts, drops a half-written one, re-reads the ids already written,
skips the rows they cover and goes on; a crash during the final combine just
combines again. Without ``--resume`` an existing ``OUTPUT`` or parts folder is
an error.

Guarantees:

- **One writer.** A run holds an exclusive lock on ``OUTPUT.lock`` from its
  first check to its end; a second run on the same output stops at once with
  a line naming the first (its pid, host, start time and command).
- **What ``--resume`` checks.** The parts folder (and, once the run is complete,
  the summary) records the input (path, size, modification time, a checksum of
  its first 64 KB), the columns, the options that change rows (``--no-assign``,
  ``--max-chars``, ``--encoding``) and the model's fingerprint (encoder, dtype,
  capability set, head). A resume with anything else stops with one line per
  difference; the input, columns and options are checked before the model loads.
- **What is kept on errors.** A failed write (disk full, read-only folder) stops
  the run with one line; its temporary file is removed and every committed part
  stays, so ``--resume`` goes on once the cause is fixed. ``Ctrl-C`` does the same.

Ids: ``OUTPUT`` has exactly one row per distinct non-empty id, the first
occurrence's. Later rows with the same id (status ``duplicate_id``) and rows
without an id (``missing_id``; ``invalid_json`` for a malformed JSON line) go to
``OUTPUT`` with ``.rejected.parquet`` (``id``, ``row``, ``status``) and are
counted in the summary. Ids are compared as text (an integer id ``7`` and
``"7"`` are one id) through 64-bit hashes held in memory: 8 bytes per id.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import math
import os
import resource
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ._assets import fsync_dir, write_atomic
from .io import WriteError, csv_options, input_format, open_binary, open_lines, os_error_message, read_batches
from .postings import STATUSES, PostingScorer, PostingScores, posting_schema

__all__ = ["BatchJob", "score_postings_file", "output_schema", "REJECTED_STATUSES", "OutputInUseError"]

logger = logging.getLogger(__name__)

#: Row statuses that keep a row out of OUTPUT (listed in the ``.rejected.parquet`` file).
REJECTED_STATUSES = ("duplicate_id", "missing_id", "invalid_json")
_FORMAT_VERSION = 2
_PART_PREFIX = "part-"
_META_KEY = b"exposure.batch"

PathLike = Union[str, os.PathLike]


# --------------------------------------------------------------------------- helpers

def _write_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` so that readers see no file or the whole file, even after ``kill -9``."""
    write_atomic(path, lambda f: pq.write_table(table, f))


def _write_json_atomic(obj: dict, path: Path) -> None:
    write_atomic(path, lambda f: f.write((json.dumps(obj, indent=2) + "\n").encode("utf-8")))


class OutputInUseError(OSError):
    """Another run is writing the same output (it holds ``OUTPUT.lock``)."""


class _RunLock:
    """An exclusive ``flock`` on ``path`` for the whole run; the file names the holder for the others.

    The file is removed when the lock is released. A process that opened it just before
    the removal holds a lock on a file no longer at ``path``, so it checks the inode and
    tries again: two runs can never both believe they hold the lock.
    """

    def __init__(self, path: Path, output: Path) -> None:
        self.path, self.output = path, output
        self._fd: Optional[int] = None

    def acquire(self) -> None:
        import fcntl

        if self._fd is not None:
            return
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise WriteError(os_error_message(exc, self.path)) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "a run that is starting"
                os.close(fd)
                raise OutputInUseError(f"{self.output} is being written by another run ({holder}); wait for it to "
                                       "finish, or stop it and rerun with --resume") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # released and removed by its holder meanwhile: lock the file now at the path
        started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}: "
                     f"{' '.join(sys.argv) or sys.executable}".encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None


def _hash_ids(ids: List[str]) -> np.ndarray:
    return np.fromiter((int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8).digest(), "little")
                        for i in ids), dtype=np.uint64, count=len(ids))


class _IdSet:
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


def _count_rows(path: Path, fmt: str, id_column: str, encoding: str = "utf-8") -> Optional[int]:
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


def _head_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(1 << 16))
    return h.hexdigest()[:20]


# --------------------------------------------------------------------------- reading

Chunk = Tuple[int, List[Optional[str]], List[Optional[str]], list, List[Optional[str]]]


def _parse_jsonl_line(line: str, columns: Tuple[str, str, str]) -> tuple:
    """One JSON line -> ``(id, title, text, flag, object)``; a malformed line gives flag ``invalid_json``, no values."""
    id_c, title_c, text_c = columns
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError
    except ValueError:
        return None, None, None, "invalid_json", {}
    title = obj.get(title_c)
    return _as_id(obj.get(id_c)), title if isinstance(title, str) else None, obj.get(text_c), None, obj


def _jsonl_chunks(path: Path, columns: Tuple[str, str, str], size: int, encoding: str = "utf-8") -> Iterator[Chunk]:
    """JSON Lines in chunks, one row per non-blank line; a malformed line is a row with status ``invalid_json``."""
    ids, titles, texts, bad = [], [], [], []
    start = 0
    seen_columns: dict = {}
    for _, line in open_lines(path, encoding):
        if not line.strip():
            continue
        id_, title, text, flag, obj = _parse_jsonl_line(line, columns)
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


def _arrow_rows(batch, columns: Tuple[str, str, str]) -> Tuple[List[Optional[str]], List[Optional[str]], list]:
    """``(ids, titles, texts)`` of an Arrow batch or table: ids as text, titles that are not text as ``None``."""
    id_c, title_c, text_c = columns
    ids = [_as_id(v) for v in batch.column(id_c).to_pylist()]
    titles = [t if isinstance(t, str) else None for t in batch.column(title_c).to_pylist()]
    return ids, titles, batch.column(text_c).to_pylist()


def _arrow_chunks(path: Path, columns: Tuple[str, str, str], size: int, encoding: str = "utf-8") -> Iterator[Chunk]:
    start = 0
    for batch in read_batches(path, list(dict.fromkeys(columns)), batch_size=size, encoding=encoding):
        yield (start, *_arrow_rows(batch, columns), [None] * batch.num_rows)
        start += batch.num_rows


def _when(ns: int) -> str:
    return datetime.datetime.fromtimestamp(ns / 1e9).astimezone().isoformat(timespec="seconds")


# What a difference between the earlier run and this one is called, and how to say its values.
_LABELS = {
    "format_version": ("parts format", str),
    "input.path": ("input file", str),
    "input.size": ("input size", lambda v: f"{v:,} bytes"),
    "input.mtime_ns": ("input modification time (the file was changed since)", _when),
    "input.head_sha256": ("input content (checksum of its first 64 KB)", str),
    "columns.id": ("--id-column", repr), "columns.title": ("--title-column", repr),
    "columns.text": ("--text-column", repr),
    "options.assign": ("occupation assignment (--no-assign)", lambda v: "on" if v else "off"),
    "options.max_chars": ("--max-chars", lambda v: f"{v:,}"),
    "options.encoding": ("--encoding", repr),
    "model.fingerprint": ("model (encoder, dtype, capability set, head)", lambda v: str(v)[:12]),
}


def _differences(old: dict, new: dict, prefix: str = "") -> List[str]:
    """One readable line per value that differs between two run records (nested dicts)."""
    lines = []
    for key in dict.fromkeys([*new, *old]):
        a, b, name = old.get(key), new.get(key), prefix + key
        if isinstance(a, dict) and isinstance(b, dict):
            lines += _differences(a, b, name + ".")
        elif a != b:
            label, say = _LABELS.get(name, (name, str))
            lines.append(f"{label}: {say(a) if a is not None else '(none)'} in the earlier run, "
                         f"{say(b) if b is not None else '(none)'} now")
    return lines


# --------------------------------------------------------------------------- the job

class BatchJob:
    """One ``score-postings`` run: input, output, columns, and the parts folder that makes it resumable.

    Args:
        input: Parquet, CSV/TSV or JSON Lines file (CSV/TSV/JSONL may end in ``.gz``) with an
            id, a title and a text column.
        output: the ``.parquet`` file to write. Its id column keeps the input's name.
        id_column, title_column, text_column: the input's columns.
        chunk_size: postings scored and committed at a time (one part file each).
        resume: continue after a crash (or finish a combine); without it an existing
            output or parts folder is an error.
        encoding: the text encoding of a CSV/TSV/JSONL input.

    :meth:`check` takes the run's lock and does the cheap checks (formats, columns,
    existing output, what ``--resume`` would continue) before any model is loaded;
    :meth:`run` scores and returns the run summary, and releases the lock. Use the job
    as a context manager (or call :meth:`close`) to release the lock when a run does not
    happen.

    Example:
        >>> with BatchJob("postings.parquet", "scores.parquet") as job:        # doctest: +SKIP
        ...     job.check()
        ...     summary = job.run(PostingScorer(ExposureModel(device="cpu")))
    """

    def __init__(self, input: PathLike, output: PathLike, *, id_column: str = "id", title_column: str = "title",
                 text_column: str = "description", chunk_size: int = 1000, resume: bool = False,
                 encoding: str = "utf-8") -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        try:
            "".encode(encoding)
        except LookupError:
            raise ValueError(f"unknown text encoding {encoding!r}; use a Python codec name such as 'utf-8', "
                             "'latin-1' or 'cp1252'") from None
        self.input = Path(input)
        self.output = Path(output)
        self.columns = (id_column, title_column, text_column)
        self.chunk_size = int(chunk_size)
        self.resume = bool(resume)
        self.encoding = encoding
        self.parts = self.output.with_name(self.output.name + ".parts")
        self.trash = self.output.with_name(self.output.name + ".parts.trash")
        stem = self.output.name[: -len(self.output.suffix)] if self.output.suffix else self.output.name
        self.summary_path = self.output.with_name(stem + ".summary.json")
        self.rejected_path = self.output.with_name(stem + ".rejected.parquet")
        self.format = None
        self._lock = _RunLock(self.output.with_name(self.output.name + ".lock"), self.output)

    @property
    def id_name(self) -> str:
        """The id column's name in OUTPUT: the input's, unless another output column has that name."""
        name = self.columns[0]
        return "id" if name in ("row", "title", *posting_schema(()).names) else name

    # ----------------------------------------------------------------- checks
    def check(self, options: Optional[dict] = None) -> None:
        """Take the run's lock, then the cheap checks before a model is loaded: formats, columns, the
        output and parts folder; with ``resume``, that the input, columns and ``options`` (those of
        :meth:`options` that are known, for example ``{"assign": False}``) are the earlier run's."""
        self.format = input_format(self.input)
        if self.output.suffix.lower() not in (".parquet", ".pq"):
            raise ValueError(f"cannot write {str(self.output)!r}: score-postings writes Parquet; "
                             "give an output file ending in .parquet")
        if not self.output.parent.is_dir():
            raise ValueError(f"output folder {str(self.output.parent)!r} does not exist")
        self._lock.acquire()
        try:
            self._check_locked(options or {})
        except BaseException:
            self._lock.release()
            raise

    def _check_locked(self, options: dict) -> None:
        if not self.resume:
            there = self.leftovers()
            if there:
                raise ValueError(f"{' and '.join(map(repr, there))} already exist(s): pass --resume to continue "
                                 "or finish that run, or remove them to start again")
        if not self.input.is_file():
            raise ValueError(f"input file {str(self.input)!r} does not exist")
        if self.format == "jsonl":
            if next(_jsonl_chunks(self.input, self.columns, 50, self.encoding), None) is None:
                raise ValueError(f"input file {str(self.input)!r} has no rows")  # as for an empty CSV
        else:
            next(read_batches(self.input, list(dict.fromkeys(self.columns)), batch_size=1, encoding=self.encoding))
        if self.resume:
            old = self._earlier_record()
            if old is not None:
                new = self._record(options=options)
                old = {**{k: old.get(k) for k in new}, "options": {k: (old.get("options") or {}).get(k)
                                                                  for k in new["options"]}}
                self._refuse_differences(old, new)

    def leftovers(self) -> List[str]:
        """OUTPUT and the parts folder of an earlier run, those that exist."""
        return [str(p) for p in (self.output, self.parts) if p.exists()]

    def close(self) -> None:
        """Release the run's lock (:meth:`run` does it when it ends)."""
        self._lock.release()

    def __enter__(self) -> "BatchJob":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def options(self, scorer: PostingScorer) -> dict:
        """The options that change OUTPUT's rows, as recorded for ``--resume``."""
        return {"assign": scorer.assigner is not None, "max_chars": scorer.max_chars, "encoding": self.encoding}

    def _record(self, scorer: Optional[PostingScorer] = None, options: Optional[dict] = None) -> dict:
        """What ``--resume`` compares: the input, the columns, the options and (with ``scorer``) the model."""
        st = self.input.stat()
        record = {
            "format_version": _FORMAT_VERSION,
            "input": {"path": str(self.input.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                      "head_sha256": _head_digest(self.input)},
            "columns": dict(zip(("id", "title", "text"), self.columns)),
            "options": self.options(scorer) if scorer is not None else dict(options or {}),
        }
        if scorer is not None:
            m = scorer.model
            enc = m.encoder
            # The fingerprint tells two heads (or capability sets) apart; the rest is for people reading it.
            record["model"] = {"fingerprint": m.fingerprint(), "encoder": getattr(enc, "name", None),
                               "dtype": str(getattr(enc, "dtype", "")), "calibrated": m.calibrated,
                               "capabilities": f"{m.capabilities.name} {m.capabilities.version}",
                               "technologies": list(m.technologies)}
        return record

    def _earlier_record(self) -> Optional[dict]:
        """The record of the run that ``--resume`` would continue (parts folder) or that is complete
        (summary); ``None`` when there is nothing to resume."""
        path = self.parts / "manifest.json"
        if self.parts.exists():
            if not path.is_file():
                return None  # crashed between mkdir and the manifest: nothing was committed
            source = path
        elif self.output.is_file():
            source = self.summary_path
        else:
            return None
        try:
            with open(source, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = {}
        record = data if source == path else data.get("run")
        if not isinstance(record, dict):
            raise ValueError(f"cannot resume {self.output}: {source} does not record the run's input and options "
                             f"(missing, damaged or written by an older version); remove {self.output} "
                             f"{'and ' + str(self.parts) + ' ' if self.parts.exists() else ''}to score again")
        return record

    def _refuse_differences(self, old: dict, new: dict) -> None:
        lines = _differences(old, new)
        if lines:
            where = self.parts if self.parts.exists() else self.output
            raise ValueError(f"cannot resume {self.output}: the earlier run differs from this one:\n  "
                             + "\n  ".join(lines) + f"\nresume with the earlier run's input and options, or "
                             f"remove {where} to start again")

    def _open_parts(self, scorer: PostingScorer) -> Tuple[int, int, _IdSet]:
        """Create or re-open the parts folder: ``(next part index, next input row, ids already written)``."""
        manifest = self._record(scorer)
        path = self.parts / "manifest.json"
        if self.trash.exists():
            shutil.rmtree(self.trash, ignore_errors=True)
        seen = _IdSet()
        if self.parts.exists() and not self.resume:
            raise ValueError(f"{str(self.parts)!r} already exists: pass --resume to continue that run, "
                             "or remove it to start again")
        if not self.parts.exists():
            self.parts.mkdir()
            _write_json_atomic(manifest, path)
            return 0, 0, seen
        old = self._earlier_record()
        if old is None:
            _write_json_atomic(manifest, path)
            return 0, 0, seen
        self._refuse_differences(old, manifest)
        for stale in self.parts.glob(".*.tmp"):
            stale.unlink()  # a part that was being written when the run stopped
        files = sorted(self.parts.glob(f"{_PART_PREFIX}*.parquet"))
        row = 0
        for k, f in enumerate(files):
            if f.name != f"{_PART_PREFIX}{k:05d}.parquet":
                raise ValueError(f"cannot resume: expected {_PART_PREFIX}{k:05d}.parquet in {str(self.parts)!r}, "
                                 f"found {f.name}; the folder was changed by hand")
            pf = pq.ParquetFile(f)
            meta = json.loads(pf.schema_arrow.metadata[_META_KEY])
            if meta["row_start"] != row:
                raise ValueError(f"cannot resume: {f.name} starts at input row {meta['row_start']}, expected {row}")
            row = meta["row_end"]
            t = pf.read(columns=[self.id_name, "status"])
            ok = [i for i, s in zip(t[self.id_name].to_pylist(), t["status"].to_pylist())
                  if i is not None and s not in REJECTED_STATUSES]
            seen.add(_hash_ids(ok))
        return len(files), row, seen

    # ----------------------------------------------------------------- run
    def run(self, scorer: PostingScorer, show_progress: bool = True,
            log: Callable[[str], None] = logger.info) -> dict:
        """Score every posting, commit parts, combine them; returns the run summary (also written as JSON).

        Holds the lock (taken by :meth:`check`, or here) until it returns or raises. An
        ``OSError`` while writing (disk full, read-only folder) is raised as a
        :class:`~exposure.io.WriteError` with a one-line message; committed parts are kept.
        """
        if self.format is None:
            self.check()
        else:
            self._lock.acquire()
        try:
            return self._run(scorer, show_progress, log)
        except OSError as exc:
            if isinstance(exc, WriteError):
                raise
            raise WriteError(os_error_message(exc, self._writing, "free space (or fix the folder) and rerun with "
                                              "--resume: the parts committed so far are kept")) from exc
        finally:
            self._lock.release()

    _writing: Optional[Path] = None

    def _run(self, scorer: PostingScorer, show_progress: bool, log: Callable[[str], None]) -> dict:
        from tqdm.auto import tqdm

        if self.resume and self.output.is_file() and not self.parts.exists():
            old = self._earlier_record()
            self._refuse_differences(old, self._record(scorer))
            log(f"{self.output} is complete already (see {self.summary_path}); nothing to do")
            if self.trash.exists():
                shutil.rmtree(self.trash, ignore_errors=True)
            with open(self.summary_path, encoding="utf-8") as f:
                return json.load(f)
        self._writing = self.parts
        part, start_row, seen = self._open_parts(scorer)
        record = self._record(scorer)
        if start_row:
            log(f"resuming after {part} committed parts ({start_row:,} input rows)")
        schema = output_schema(scorer.model.technologies, self.id_name)
        total = _count_rows(self.input, self.format, self.columns[0], self.encoding)
        reader = (_jsonl_chunks if self.format == "jsonl" else _arrow_chunks)(self.input, self.columns,
                                                                             self.chunk_size, self.encoding)
        bar = tqdm(total=total, initial=start_row, unit="posting", desc="scoring postings", dynamic_ncols=True,
                   disable=not show_progress, file=sys.stderr, smoothing=0.1)
        scorer.cache.reset_stats()
        t0 = time.perf_counter()
        scored = units = kept = 0
        try:
            for first, ids, titles, texts, flags in reader:
                end = first + len(ids)
                if end <= start_row:
                    continue  # committed before the crash
                if first < start_row:  # a chunk size other than the crashed run's
                    cut = start_row - first
                    ids, titles, texts, flags, first = ids[cut:], titles[cut:], texts[cut:], flags[cut:], start_row
                status = self._id_status(ids, flags, seen)
                take = [i for i, s in enumerate(status) if s is None]
                result = self._score([titles[i] for i in take], [texts[i] for i in take], scorer)
                table = self._table(first, ids, titles, status, take, result, schema)
                self._writing = self.parts / f"{_PART_PREFIX}{part:05d}.parquet"
                _write_atomic(table.replace_schema_metadata(
                    {_META_KEY: json.dumps({"row_start": first, "row_end": end}).encode()}), self._writing)
                part += 1
                scored += len(take)
                units += int(result.n_units.sum())
                kept += result.kept_units
                bar.update(len(ids))
                bar.set_postfix(cache_hits=f"{scorer.cache.hit_rate:.0%}" if scorer.cache.hits + scorer.cache.misses
                                else "-", refresh=False)
        finally:
            bar.close()
        elapsed = time.perf_counter() - t0
        self._writing = self.output
        counts = self._combine(schema, (pq.read_table(f).replace_schema_metadata(None)
                                        for f in sorted(self.parts.glob(f"{_PART_PREFIX}*.parquet"))))
        this_run = {"resumed_from_row": start_row,
                    **_run_stats(scored, elapsed, units, kept, scorer.cache.hits, scorer.cache.misses),
                    "peak_rss_mb": _peak_rss_mb()}
        this_run["cache"].update(entries=len(scorer.cache), max_entries=scorer.cache.max_entries)
        self._writing = self.summary_path
        summary = self._finish(counts, this_run, log, record)
        # Only now may the parts go: renamed first, so that no half-deleted folder is ever resumed from.
        os.replace(self.parts, self.trash)
        shutil.rmtree(self.trash, ignore_errors=True)
        return summary

    def _finish(self, counts: dict, this_run: dict, log: Callable[[str], None], record: Optional[dict] = None) -> dict:
        """Write the run summary (``counts`` from :meth:`_combine`), log what was done; returns the summary."""
        summary = {
            "input": str(self.input), "output": str(self.output),
            "rows": counts["rows"], "rows_written": counts["written"],
            "rejected": {s: counts["status"].get(s, 0) for s in REJECTED_STATUSES},
            "rejected_file": str(self.rejected_path) if counts["rows"] > counts["written"] else None,
            "status": {s: counts["status"].get(s, 0) for s in STATUSES},
            "this_run": this_run,
        }
        if record is not None:
            summary["run"] = record  # what a later --resume of the finished output compares
        _write_json_atomic(summary, self.summary_path)
        scored, elapsed, hit_rate = this_run["postings_scored"], this_run["seconds"], this_run["cache"]["hit_rate"]
        log(f"scored {scored:,} postings in {elapsed:.1f} s ({scored / max(elapsed, 1e-9):,.1f} postings/s); "
            f"unit cache hit rate {hit_rate if hit_rate is not None else float('nan'):.1%}; "
            f"{counts['written']:,} rows -> {self.output}")
        dup = summary["rejected"]
        if any(dup.values()):
            log(f"{dup['duplicate_id']:,} duplicate ids, {dup['missing_id']:,} missing ids and "
                f"{dup['invalid_json']:,} malformed lines left out -> {self.rejected_path}")
        return summary

    @staticmethod
    def _id_status(ids: List[Optional[str]], flags: List[Optional[str]], seen: _IdSet) -> List[Optional[str]]:
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
            h = _hash_ids(keys)
            old = seen.contains(h)
            for k, o in zip(keys, old):
                if o:
                    status[fresh[k]] = "duplicate_id"
            seen.add(h[~old])
        return status

    @staticmethod
    def _score(titles: list, texts: list, scorer: PostingScorer) -> PostingScores:
        """Score a chunk; if that fails, each posting alone, so one bad posting gets status ``error``."""
        try:
            return scorer.score(titles, texts)
        except Exception:
            pieces = []
            for t, x in zip(titles, texts):
                try:
                    pieces.append(scorer.score([t], [x]))
                except Exception:
                    pieces.append(_unscored(["error"], scorer.model.technologies,
                                            [len(x) if isinstance(x, str) else 0]))
            return _concat(pieces, scorer.model.technologies)

    @staticmethod
    def _table(first: int, ids, titles, status, take, result: PostingScores, schema: pa.Schema) -> pa.Table:
        n = len(ids)
        scores = result.to_arrow()
        full = _unscored([s or "ok" for s in status], result.technologies, [0] * n).to_arrow()
        if take:
            # Rows to score get their scores; rejected rows keep the empty ones.
            pos = np.full(n, -1, dtype=np.int64)
            pos[np.asarray(take)] = np.arange(len(take))
            both = pa.concat_tables([scores, full])
            idx = np.where(pos >= 0, pos, len(take) + np.arange(n))
            full = both.take(pa.array(idx))
        cols = {schema.names[0]: pa.array(ids, pa.string()), "row": pa.array(np.arange(first, first + n), pa.int64()),
                "title": pa.array(titles, pa.string())}
        for name in full.column_names:
            cols[name] = full[name]
        return pa.table(cols, schema=schema)

    def _combine(self, schema: pa.Schema, tables: Iterable[pa.Table]) -> dict:
        """Scored rows in input order (``tables``, read one at a time) -> OUTPUT and the rejected rows' file.

        Each table has the columns of ``schema`` (the id column first); the rows of a status in
        :data:`REJECTED_STATUSES` go to the rejected file (id, ``row``, ``status``), the others to
        OUTPUT. Both are written to temporary names, renamed at the end, and removed on an error.
        Returns the row counts.
        """
        tmp = self.output.with_name(f".{self.output.name}.tmp")
        rtmp = self.rejected_path.with_name(f".{self.rejected_path.name}.tmp")
        id_name = schema.names[0]
        counts = {"rows": 0, "written": 0, "status": {}}
        rejected_schema = pa.schema([(id_name, pa.string()), ("row", pa.int64()), ("status", pa.string())])
        try:
            out = pq.ParquetWriter(tmp, schema)
            rej = None
            try:
                for t in tables:
                    status = np.asarray(t["status"].to_pylist(), dtype=object)
                    for s, c in zip(*np.unique(status.astype(str), return_counts=True)):
                        counts["status"][s] = counts["status"].get(s, 0) + int(c)
                    bad = np.isin(status.astype(str), REJECTED_STATUSES)
                    counts["rows"] += t.num_rows
                    good = t.filter(pa.array(~bad))
                    if good.num_rows:
                        out.write_table(good)
                    counts["written"] += good.num_rows
                    if bad.any():
                        if rej is None:
                            self._writing = self.rejected_path
                            rej = pq.ParquetWriter(rtmp, rejected_schema)
                            self._writing = self.output
                        rej.write_table(t.filter(pa.array(bad)).select([id_name, "row", "status"]))
            finally:
                out.close()
                if rej is not None:
                    rej.close()
            for p in (tmp, rtmp):
                if p.exists():
                    with open(p, "rb+") as fh:
                        os.fsync(fh.fileno())
            if rej is not None:
                os.replace(rtmp, self.rejected_path)
            elif self.rejected_path.exists():
                self.rejected_path.unlink()  # from an earlier run over other input
            os.replace(tmp, self.output)
        except BaseException:
            for p in (tmp, rtmp):
                try:
                    os.unlink(p)
                except OSError:
                    pass
            raise
        fsync_dir(self.output.parent)
        return counts


def output_schema(technologies, id_name: str = "id") -> pa.Schema:
    """The columns of OUTPUT: the id (named ``id_name``), ``row``, ``title``, then
    :func:`~exposure.postings.posting_schema`."""
    return pa.schema([(id_name, pa.string()), ("row", pa.int64()), ("title", pa.string())]
                     + list(posting_schema(technologies)))


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _run_stats(scored: int, seconds: float, units: int, kept: int, hits: int, misses: int) -> dict:
    """The ``this_run`` figures of a summary that every engine reports."""
    lookups = hits + misses
    return {"postings_scored": scored, "seconds": round(seconds, 2),
            "postings_per_s": round(scored / seconds, 2) if seconds > 0 else None,
            "cache": {"hits": hits, "misses": misses, "hit_rate": round(hits / lookups, 4) if lookups else None},
            "units": units, "units_kept_by_prefilter": kept,
            "prefilter_kept_share": round(kept / units, 4) if units else None}


def _unscored(status: List[str], technologies, n_chars) -> PostingScores:
    n = len(status)
    return PostingScores(status=list(status), exposure=np.full(n, np.nan, np.float32),
                         technology_scores=np.full((n, len(technologies)), np.nan, np.float32),
                         technologies=tuple(technologies), share_exposed=np.full(n, np.nan, np.float32),
                         n_duties=np.zeros(n, np.int32), n_units=np.zeros(n, np.int32),
                         n_chars=np.asarray(n_chars, np.int64), top_duties=[[] for _ in range(n)])


def _concat(pieces: List[PostingScores], technologies) -> PostingScores:
    occ = None if all(p.occupations is None for p in pieces) else \
        [o for p in pieces for o in (p.occupations or [[]] * len(p))]
    basis = None if occ is None else [b for p in pieces for b in (p.basis or [None] * len(p))]
    return PostingScores(
        status=[s for p in pieces for s in p.status], exposure=np.concatenate([p.exposure for p in pieces]),
        technology_scores=np.vstack([p.technology_scores for p in pieces]), technologies=tuple(technologies),
        share_exposed=np.concatenate([p.share_exposed for p in pieces]),
        n_duties=np.concatenate([p.n_duties for p in pieces]), n_units=np.concatenate([p.n_units for p in pieces]),
        n_chars=np.concatenate([p.n_chars for p in pieces]), top_duties=[d for p in pieces for d in p.top_duties],
        occupations=occ, basis=basis, kept_units=sum(p.kept_units for p in pieces))


def score_postings_file(input: PathLike, output: PathLike, scorer: PostingScorer, *, id_column: str = "id",
                        title_column: str = "title", text_column: str = "description", chunk_size: int = 1000,
                        resume: bool = False, show_progress: bool = False, encoding: str = "utf-8") -> dict:
    """Score a postings file into ``output`` (Parquet) with :class:`BatchJob`; returns the run summary.

    >>> scorer = PostingScorer(ExposureModel(device="cpu"))                          # doctest: +SKIP
    >>> score_postings_file("postings.parquet", "scores.parquet", scorer)["rows_written"]  # doctest: +SKIP
    """
    with BatchJob(input, output, id_column=id_column, title_column=title_column, text_column=text_column,
                  chunk_size=chunk_size, resume=resume, encoding=encoding) as job:
        job.check(job.options(scorer))
        return job.run(scorer, show_progress=show_progress, log=lambda m: None)
