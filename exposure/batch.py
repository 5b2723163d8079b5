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

Ids: ``OUTPUT`` has exactly one row per distinct non-empty id, the first
occurrence's. Later rows with the same id (status ``duplicate_id``) and rows
without an id (``missing_id``; ``invalid_json`` for a malformed JSON line) go to
``OUTPUT`` with ``.rejected.parquet`` (``id``, ``row``, ``status``) and are
counted in the summary. Ids are compared as text (an integer id ``7`` and
``"7"`` are one id) through 64-bit hashes held in memory: 8 bytes per id.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .io import input_format, read_batches
from .postings import STATUSES, PostingScorer, PostingScores, posting_schema

__all__ = ["BatchJob", "score_postings_file", "output_schema", "REJECTED_STATUSES"]

#: Row statuses that keep a row out of OUTPUT (listed in the ``.rejected.parquet`` file).
REJECTED_STATUSES = ("duplicate_id", "missing_id", "invalid_json")
_FORMAT_VERSION = 1
_PART_PREFIX = "part-"
_META_KEY = b"exposure.batch"

PathLike = Union[str, os.PathLike]


# --------------------------------------------------------------------------- helpers

def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` so that readers see no file or the whole file, even after ``kill -9``."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_json_atomic(obj: dict, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


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
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON 7.0 and 7 are one id
    text = str(value).strip() if not isinstance(value, str) else value.strip()
    return text or None


def _count_rows(path: Path, fmt: str, id_column: str) -> Optional[int]:
    """The number of input rows, when cheap: Parquet metadata, non-blank JSONL lines, a one-column CSV scan."""
    try:
        if fmt == "parquet":
            return pq.ParquetFile(path).metadata.num_rows
        if fmt == "jsonl":
            n = 0
            with open(path, "rb") as f:
                for line in f:
                    n += bool(line.strip())
            return n
        import pyarrow.csv as pcsv

        reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 22),
                               parse_options=pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",",
                                                               newlines_in_values=True),
                               convert_options=pcsv.ConvertOptions(include_columns=[id_column],
                                                                   column_types={id_column: pa.string()}))
        return sum(b.num_rows for b in reader)
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


def _jsonl_chunks(path: Path, columns: Tuple[str, str, str], size: int) -> Iterator[Chunk]:
    """JSON Lines in chunks, one row per non-blank line; a malformed line is a row with status ``invalid_json``."""
    ids, titles, texts, bad = [], [], [], []
    start = 0
    seen_columns: dict = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
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


def _arrow_chunks(path: Path, columns: Tuple[str, str, str], size: int) -> Iterator[Chunk]:
    start = 0
    for batch in read_batches(path, list(dict.fromkeys(columns)), batch_size=size):
        yield (start, *_arrow_rows(batch, columns), [None] * batch.num_rows)
        start += batch.num_rows


# --------------------------------------------------------------------------- the job

class BatchJob:
    """One ``score-postings`` run: input, output, columns, and the parts folder that makes it resumable.

    Args:
        input: Parquet, CSV/TSV or JSON Lines file with an id, a title and a text column.
        output: the ``.parquet`` file to write.
        id_column, title_column, text_column: the input's columns.
        chunk_size: postings scored and committed at a time (one part file each).
        resume: continue after a crash (or finish a combine); without it an existing
            output or parts folder is an error.

    :meth:`check` does the cheap checks (formats, columns, existing output) before
    any model is loaded; :meth:`run` scores and returns the run summary.
    """

    def __init__(self, input: PathLike, output: PathLike, *, id_column: str = "id", title_column: str = "title",
                 text_column: str = "description", chunk_size: int = 1000, resume: bool = False) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.input = Path(input)
        self.output = Path(output)
        self.columns = (id_column, title_column, text_column)
        self.chunk_size = int(chunk_size)
        self.resume = bool(resume)
        self.parts = self.output.with_name(self.output.name + ".parts")
        self.trash = self.output.with_name(self.output.name + ".parts.trash")
        stem = self.output.name[: -len(self.output.suffix)] if self.output.suffix else self.output.name
        self.summary_path = self.output.with_name(stem + ".summary.json")
        self.rejected_path = self.output.with_name(stem + ".rejected.parquet")
        self.format = None

    # ----------------------------------------------------------------- checks
    def check(self) -> None:
        """Cheap checks before a model is loaded: formats, columns, the output and parts folder."""
        self.format = input_format(self.input)
        if self.output.suffix.lower() not in (".parquet", ".pq"):
            raise ValueError(f"cannot write {str(self.output)!r}: score-postings writes Parquet; "
                             "give an output file ending in .parquet")
        if not self.output.parent.is_dir():
            raise ValueError(f"output folder {str(self.output.parent)!r} does not exist")
        if not self.resume:
            there = self.leftovers()
            if there:
                raise ValueError(f"{' and '.join(map(repr, there))} already exist(s): pass --resume to continue "
                                 "or finish that run, or remove them to start again")
        if not self.input.is_file():
            raise ValueError(f"input file {str(self.input)!r} does not exist")
        if self.format == "jsonl":
            next(_jsonl_chunks(self.input, self.columns, 50), None)  # raises on missing columns
        else:
            next(read_batches(self.input, list(dict.fromkeys(self.columns)), batch_size=1))

    def leftovers(self) -> List[str]:
        """OUTPUT and the parts folder of an earlier run, those that exist."""
        return [str(p) for p in (self.output, self.parts) if p.exists()]

    def _manifest(self, scorer: PostingScorer) -> dict:
        m = scorer.model
        enc = m.encoder
        return {
            "format_version": _FORMAT_VERSION,
            "input": {"path": str(self.input.resolve()), "size": self.input.stat().st_size,
                      "head_sha256": _head_digest(self.input)},
            "columns": dict(zip(("id", "title", "text"), self.columns)),
            # The fingerprint tells two heads (or capability sets) apart; the rest is for people reading it.
            "model": {"fingerprint": m.fingerprint(), "encoder": getattr(enc, "name", None),
                      "dtype": str(getattr(enc, "dtype", "")), "calibrated": m.calibrated,
                      "capabilities": f"{m.capabilities.name} {m.capabilities.version}",
                      "technologies": list(m.technologies), "assigner": type(scorer.assigner).__name__
                      if scorer.assigner is not None else None, "max_chars": scorer.max_chars},
        }

    def _open_parts(self, scorer: PostingScorer) -> Tuple[int, int, _IdSet]:
        """Create or re-open the parts folder: ``(next part index, next input row, ids already written)``."""
        manifest = self._manifest(scorer)
        path = self.parts / "manifest.json"
        if self.trash.exists():
            shutil.rmtree(self.trash, ignore_errors=True)
        seen = _IdSet()
        if not self.parts.exists():
            self.parts.mkdir()
            _write_json_atomic(manifest, path)
            return 0, 0, seen
        if not path.is_file():
            # Crashed between mkdir and the manifest: nothing was committed.
            _write_json_atomic(manifest, path)
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
        for key in ("format_version", "input", "columns", "model"):
            if old.get(key) != manifest.get(key):
                raise ValueError(f"cannot resume: the parts in {str(self.parts)!r} were written with another "
                                 f"{key.replace('_', ' ')} ({old.get(key)} != {manifest.get(key)}); remove the folder "
                                 "to start again, or resume with the same input and options")
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
            t = pf.read(columns=["id", "status"])
            ok = [i for i, s in zip(t["id"].to_pylist(), t["status"].to_pylist())
                  if i is not None and s not in REJECTED_STATUSES]
            seen.add(_hash_ids(ok))
        return len(files), row, seen

    # ----------------------------------------------------------------- run
    def run(self, scorer: PostingScorer, show_progress: bool = True,
            log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> dict:
        """Score every posting, commit parts, combine them; returns the run summary (also written as JSON)."""
        from tqdm.auto import tqdm

        if self.format is None:
            self.check()
        if self.resume and self.output.is_file() and not self.parts.exists():
            log(f"{self.output} is complete already (see {self.summary_path}); nothing to do")
            if self.trash.exists():
                shutil.rmtree(self.trash, ignore_errors=True)
            try:
                with open(self.summary_path, encoding="utf-8") as f:
                    return json.load(f)
            except (OSError, ValueError):
                return {"output": str(self.output)}
        part, start_row, seen = self._open_parts(scorer)
        if start_row:
            log(f"resuming after {part} committed parts ({start_row:,} input rows)")
        schema = output_schema(scorer.model.technologies)
        total = _count_rows(self.input, self.format, self.columns[0])
        reader = (_jsonl_chunks if self.format == "jsonl" else _arrow_chunks)(self.input, self.columns,
                                                                             self.chunk_size)
        bar = tqdm(total=total, initial=start_row, unit="posting", desc="scoring postings", dynamic_ncols=True,
                   disable=not show_progress, file=sys.stderr, smoothing=0.1)
        scorer.cache.reset_stats()
        t0 = time.perf_counter()
        scored = units = kept = 0
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
            _write_atomic(table.replace_schema_metadata(
                {_META_KEY: json.dumps({"row_start": first, "row_end": end}).encode()}),
                self.parts / f"{_PART_PREFIX}{part:05d}.parquet")
            part += 1
            scored += len(take)
            units += int(result.n_units.sum())
            kept += result.kept_units
            bar.update(len(ids))
            bar.set_postfix(cache_hits=f"{scorer.cache.hit_rate:.0%}" if scorer.cache.hits + scorer.cache.misses
                            else "-", refresh=False)
        bar.close()
        elapsed = time.perf_counter() - t0
        counts = self._combine(schema, (pq.read_table(f).replace_schema_metadata(None)
                                        for f in sorted(self.parts.glob(f"{_PART_PREFIX}*.parquet"))))
        this_run = {"resumed_from_row": start_row,
                    **_run_stats(scored, elapsed, units, kept, scorer.cache.hits, scorer.cache.misses),
                    "peak_rss_mb": _peak_rss_mb()}
        this_run["cache"].update(entries=len(scorer.cache), max_entries=scorer.cache.max_entries)
        summary = self._finish(counts, this_run, log)
        # Only now may the parts go: renamed first, so that no half-deleted folder is ever resumed from.
        os.replace(self.parts, self.trash)
        shutil.rmtree(self.trash, ignore_errors=True)
        return summary

    def _finish(self, counts: dict, this_run: dict, log: Callable[[str], None]) -> dict:
        """Write the run summary (``counts`` from :meth:`_combine`), log what was done; returns the summary."""
        summary = {
            "input": str(self.input), "output": str(self.output),
            "rows": counts["rows"], "rows_written": counts["written"],
            "rejected": {s: counts["status"].get(s, 0) for s in REJECTED_STATUSES},
            "rejected_file": str(self.rejected_path) if counts["rows"] > counts["written"] else None,
            "status": {s: counts["status"].get(s, 0) for s in STATUSES},
            "this_run": this_run,
        }
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
        cols = {"id": pa.array(ids, pa.string()), "row": pa.array(np.arange(first, first + n), pa.int64()),
                "title": pa.array(titles, pa.string())}
        for name in full.column_names:
            cols[name] = full[name]
        return pa.table(cols, schema=schema)

    def _combine(self, schema: pa.Schema, tables: Iterable[pa.Table]) -> dict:
        """Scored rows in input order (``tables``, read one at a time) -> OUTPUT and the rejected rows' file.

        Each table has the columns of ``schema``; the rows of a status in :data:`REJECTED_STATUSES`
        go to the rejected file (``id``, ``row``, ``status``), the others to OUTPUT. Both are
        written to temporary names and renamed at the end. Returns the row counts.
        """
        tmp = self.output.with_name(f".{self.output.name}.tmp")
        rtmp = self.rejected_path.with_name(f".{self.rejected_path.name}.tmp")
        counts = {"rows": 0, "written": 0, "status": {}}
        rejected_schema = pa.schema([("id", pa.string()), ("row", pa.int64()), ("status", pa.string())])
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
                        rej = pq.ParquetWriter(rtmp, rejected_schema)
                    rej.write_table(t.filter(pa.array(bad)).select(["id", "row", "status"]))
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
        _fsync_dir(self.output.parent)
        return counts


def output_schema(technologies) -> pa.Schema:
    """The columns of OUTPUT: ``id``, ``row``, ``title``, then :func:`~exposure.postings.posting_schema`."""
    return pa.schema([("id", pa.string()), ("row", pa.int64()), ("title", pa.string())]
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
                        resume: bool = False, show_progress: bool = False) -> dict:
    """Score a postings file into ``output`` (Parquet) with :class:`BatchJob`; returns the run summary.

    >>> scorer = PostingScorer(ExposureModel(device="cpu"))                          # doctest: +SKIP
    >>> score_postings_file("postings.parquet", "scores.parquet", scorer)["rows_written"]  # doctest: +SKIP
    """
    job = BatchJob(input, output, id_column=id_column, title_column=title_column, text_column=text_column,
                   chunk_size=chunk_size, resume=resume)
    job.check()
    return job.run(scorer, show_progress=show_progress, log=lambda m: None)
