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
  ``--max-chars``, ``--encoding``, ``--min-soc-confidence``, ``--chunk-size``:
  :meth:`RunOptions.rows <exposure.jobs.options.RunOptions.rows>`) and the model's fingerprint (encoder,
  dtype, capability set, head). A resume with anything else stops with one line per
  difference; the input, columns and options are checked before the model loads.
  Under bfloat16 a unit's embedding depends slightly on the other texts of its encoder
  batch, and a resumed run starts with an empty unit cache, so its rows differ from an
  uninterrupted run's by rounding: on 200 generated postings, posting ``exposure`` by up to
  2.7e-4 and ``top_duty_1_exposure`` by up to 1.4e-3 under bfloat16, 6e-8 and 2.4e-7 under
  float32, statuses and evidence equal (``benchmarks/results/resume.md``). Pass
  ``--dtype float32`` where a resumed run must match to float32 rounding.
- **What is kept on errors.** A failed write (disk full, read-only folder) stops
  the run with one line; its temporary file is removed and every committed part
  stays, so ``--resume`` goes on once the cause is fixed. ``Ctrl-C`` does the same.
- **Failures surface.** A chunk whose scoring raises is logged with its traceback
  once, then cut in halves to find the postings that fail alone: those get status
  ``error``, the rest their scores; the summary counts ``failed_chunks`` and
  ``error_rows``. When every posting of a chunk fails, the fault is the run's, not the
  postings': the run stops with one line naming the cause, keeping the committed parts
  (``--resume`` goes on once it is fixed). A run whose every scored posting failed
  writes its output and summary, then ends with an error, never as a success.

Ids: ``OUTPUT`` has exactly one row per distinct non-empty id, the first
occurrence's. Later rows with the same id (status ``duplicate_id``) and rows
without an id (``missing_id``; ``invalid_json`` for a malformed JSON line) go to
``OUTPUT`` with ``.rejected.parquet`` (``id``, ``row``, ``status``) and are
counted in the summary. Ids are compared as text (an integer id ``7`` and
``"7"`` are one id) through 64-bit hashes held in memory: 8 bytes per id.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Tuple, Union

import pyarrow as pa
import pyarrow.parquet as pq

from ..io import ReadProgress, WriteError, input_format, os_error_message, read_batches, with_provenance
from ..postings.classifier import UnitClassifier
from ..multilingual import SUPPORTED_LANGUAGES, multilingual_available
from ..postings.scorer import PostingScorer, posting_schema
from .options import RunOptions
from .output import (ChunkFailedError, Failures, JobFailedError, RunLock, check_output_name, combine_parts,
                     combine_unit_parts, companion, differences, output_schema, peak_rss_mb, rows_table, run_stats,
                     score_chunk, unit_output_schema, unit_rows, write_json_atomic, write_summary,
                     write_table_atomic)
from .rows import (REJECTED_STATUSES, IdSet, arrow_chunks, count_rows, hash_ids, head_digest, id_status,
                   jsonl_chunks)
from .workers import TextWorkers, WorkerError

__all__ = ["BatchJob", "model_record", "PathLike", "RunOptions"]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 4  # 3: chunk_size among the recorded options; 4: unit_rows (--units)
_PART_PREFIX = "part-"
_UNITS_PREFIX = "units-"
_META_KEY = b"exposure.batch"

PathLike = Union[str, os.PathLike]

# The recorded options that the job itself decides, whatever scorer it is given.
_JOB_OPTIONS = ("encoding", "chunk_size")


# --------------------------------------------------------------------------- the job

class BatchJob:
    """One ``score-postings`` run: input, output, options, and the parts folder that makes it resumable.

    Args:
        input: Parquet, CSV/TSV or JSON Lines file (CSV/TSV/JSONL may end in ``.gz``) with an
            id, a title and a text column.
        output: the ``.parquet`` file to write. Its id column keeps the input's name.
        options: the run's :class:`~exposure.jobs.options.RunOptions` (columns, encoding, chunk size, what
            changes the rows, how the model is built).
        resume: continue after a crash (or finish a combine); without it an existing
            output or parts folder is an error.
        units: also write what was counted, one row per unit of every scored posting, to this
            ``.parquet`` file (``--units``): the posting's id and ``row``, then the columns of
            :func:`~exposure.postings.scorer.unit_schema` less ``posting``. Its parts are committed with the
            posting parts, so ``--resume`` keeps it whole.

    :meth:`run` does everything in order: it takes the run's lock, checks what is cheap to check
    (formats, columns, the output, what ``--resume`` would continue) before any model is loaded,
    starts the text workers on the first chunks while the model loads, scores, and releases the lock.

    Example:
        >>> summary = BatchJob("postings.parquet", "scores.parquet").run()        # doctest: +SKIP
    """

    def __init__(self, input: PathLike, output: PathLike, options: Optional[RunOptions] = None, *,
                 resume: bool = False, units: Optional[PathLike] = None) -> None:
        self.options = RunOptions() if options is None else options
        if not isinstance(self.options, RunOptions):
            raise TypeError(f"options must be a RunOptions, got {type(self.options).__name__}")
        self.input = Path(input)
        self.output = Path(output)
        self.columns = self.options.columns
        self.chunk_size = self.options.chunk_size
        self.resume = bool(resume)
        self.encoding = self.options.encoding
        self.parts = companion(self.output, ".parts")
        self.trash = companion(self.output, ".parts.trash")
        self.summary_path = companion(self.output, ".summary.json")
        self.rejected_path = companion(self.output, ".rejected.parquet")
        self.units_path = None if units is None else Path(units)
        self.format = None
        self._lock = RunLock(companion(self.output, ".lock"), self.output)

    @property
    def id_name(self) -> str:
        """The id column's name in OUTPUT: the input's, unless another output column has that name."""
        name = self.columns[0]
        return "id" if name in ("row", "title", *posting_schema(()).names) else name

    # ----------------------------------------------------------------- checks
    def check(self) -> None:
        """Take the run's lock, then the cheap checks before a model is loaded: formats, columns, the
        output and parts folder; with ``resume``, that the input, columns and row options are the earlier
        run's. :meth:`run` calls it; the Ray engine too. Calling it again does nothing."""
        if self.format is not None:
            return
        fmt = input_format(self.input)
        if self.output.suffix.lower() not in (".parquet", ".pq"):
            raise ValueError(f"cannot write {str(self.output)!r}: score-postings writes Parquet; "
                             "give an output file ending in .parquet")
        check_output_name(self.output)
        if not self.output.parent.is_dir():
            raise ValueError(f"output folder {str(self.output.parent)!r} does not exist")
        if self.units_path is not None:
            self._check_units_path()
        self._lock.acquire()
        try:
            self._check_locked(fmt)
        except BaseException:
            self._lock.release()
            raise
        self.format = fmt

    def _check_locked(self, fmt: str) -> None:
        if not self.resume:
            there = self.leftovers()
            if there:
                raise ValueError(f"{' and '.join(map(repr, there))} already exist(s): pass --resume to continue "
                                 "or finish that run, or remove them to start again")
        if not self.input.is_file():
            raise ValueError(f"input file {str(self.input)!r} does not exist")
        if fmt == "jsonl":
            if next(jsonl_chunks(self.input, self.columns, 50, self.encoding), None) is None:
                raise ValueError(f"input file {str(self.input)!r} has no rows")  # as for an empty CSV
        else:
            next(read_batches(self.input, list(dict.fromkeys(self.columns)), batch_size=1, encoding=self.encoding))
        if self.resume:
            old = self._earlier_record()
            if old is not None:
                new = self.record()
                if not self._scorer_options_known:  # compared once the scorer is built (_open_parts)
                    new["options"] = {k: v for k, v in new["options"].items() if k in _JOB_OPTIONS}
                old = {**{k: old.get(k) for k in new}, "options": {k: (old.get("options") or {}).get(k)
                                                                  for k in new["options"]}}
                self._refuse_differences(old, new)

    def _check_units_path(self) -> None:
        units = self.units_path
        if units.suffix.lower() not in (".parquet", ".pq"):
            raise ValueError(f"cannot write {str(units)!r}: --units writes Parquet; give a file ending in .parquet")
        check_output_name(units)
        own = [self.output, self.parts, self.trash, self.summary_path, self.rejected_path, self.input]
        if any(units.resolve() == p.resolve() for p in own):
            raise ValueError(f"--units {str(units)!r} is the input, the output or one of its files; give another "
                             "name (for example scores.units.parquet)")
        if not units.parent.is_dir():
            raise ValueError(f"--units folder {str(units.parent)!r} does not exist")

    def leftovers(self) -> List[str]:
        """OUTPUT, the parts folder, the summary, the rejected rows and the per-unit file of an earlier run, those
        that exist."""
        files = (self.output, self.parts, self.summary_path, self.rejected_path, self.units_path)
        return [str(p) for p in files if p is not None and p.exists()]

    def close(self) -> None:
        """Release the run's lock (:meth:`run` does it when it ends)."""
        self._lock.release()
        self.format = None

    def _text_stream(self, classifier: UnitClassifier, workers: int, start_row: int,
                     seen: IdSet) -> Tuple[TextWorkers, Iterator]:
        """Text workers started on the input's chunks from ``start_row`` on, and their stream of prepared chunks
        (:meth:`_to_score`); the caller exits the pool."""
        # Every language the installed encoders read: the scorer gives 'non_english' to those it does not.
        languages = SUPPORTED_LANGUAGES if multilingual_available() else ("en",)
        pool = TextWorkers(classifier, workers, self.options.max_chars, self.units_path is not None,
                           languages).__enter__()
        # How far the reader got in the file, for the progress bar of a CSV/TSV or JSON Lines input (whose rows
        # are not counted ahead: that would read the file twice).
        self._read = ReadProgress(self.input.stat().st_size)
        try:
            reader = (jsonl_chunks if self.format == "jsonl" else arrow_chunks)(
                self.input, self.columns, self.chunk_size, self.encoding, progress=self._read)
            return pool, pool.map(self._to_score(reader, start_row, seen, self._read))
        except BaseException:
            pool.__exit__(None, None, None)
            raise

    @staticmethod
    def _to_score(reader: Iterator, start_row: int, seen: IdSet, read: ReadProgress) -> Iterator[Tuple[tuple, List]]:
        """The chunks not committed yet, each with the texts to score (rows of new, non-empty ids) and how far
        into the file the reader was when it gave the chunk (the text workers read ahead of the scoring)."""
        for first, ids, titles, texts, flags in reader:
            end = first + len(ids)
            if end <= start_row:
                continue  # committed before the crash
            status = id_status(ids, flags, seen)
            take = [i for i, s in enumerate(status) if s is None]
            texts = [texts[i] for i in take]
            yield (first, end, ids, titles, status, take, texts, read.bytes_read), texts

    def __enter__(self) -> "BatchJob":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, scorer: Optional[PostingScorer] = None) -> dict:
        """What ``--resume`` compares: the input, the columns, the row options and (with ``scorer``) the model."""
        st = self.input.stat()
        record = {
            "format_version": _FORMAT_VERSION,
            "input": {"path": str(self.input.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                      "head_sha256": head_digest(self.input)},
            "columns": dict(zip(("id", "title", "text"), self.columns)),
            "options": self.options.rows(),
            "unit_rows": self.units_path is not None,
        }
        if scorer is not None:
            record["model"] = model_record(scorer)
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
        lines = differences(old, new)
        if lines:
            where = self.parts if self.parts.exists() else self.output
            raise ValueError(f"cannot resume {self.output}: the earlier run differs from this one:\n  "
                             + "\n  ".join(lines) + f"\nresume with the earlier run's input and options, or "
                             f"remove {where} to start again")

    def _open_parts(self, scorer: PostingScorer) -> Tuple[int, int, IdSet]:
        """Create or re-open the parts folder: ``(next part index, next input row, ids already written)``."""
        manifest = self.record(scorer)
        path = self.parts / "manifest.json"
        if self.trash.exists():
            shutil.rmtree(self.trash, ignore_errors=True)
        seen = IdSet()
        if self.parts.exists() and not self.resume:
            raise ValueError(f"{str(self.parts)!r} already exists: pass --resume to continue that run, "
                             "or remove it to start again")
        if not self.parts.exists():
            self.parts.mkdir()
            write_json_atomic(manifest, path)
            return 0, 0, seen
        old = self._earlier_record()
        if old is None:
            write_json_atomic(manifest, path)
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
            try:
                pf = pq.ParquetFile(f)
                meta = json.loads(pf.schema_arrow.metadata[_META_KEY])
                t = pf.read(columns=[self.id_name, "status"])
            except (OSError, ValueError, KeyError, TypeError) as exc:  # pyarrow's errors are OSError/ValueError
                raise ValueError(_damaged_part(files[k:], exc)) from None
            if meta["row_start"] != row:
                raise ValueError(f"cannot resume: {f.name} starts at input row {meta['row_start']}, expected {row}")
            row = meta["row_end"]
            ok = [i for i, s in zip(t[self.id_name].to_pylist(), t["status"].to_pylist())
                  if i is not None and s not in REJECTED_STATUSES]
            seen.add(hash_ids(ok))
        return len(files), row, seen

    # ----------------------------------------------------------------- run
    def run(self, scorer: Union[PostingScorer, Callable[[], PostingScorer], None] = None, *, workers: int = 0,
            show_progress: bool = True, log: Callable[[str], None] = logger.info) -> dict:
        """Check, score every posting, commit parts, combine them; returns the run summary (also written as JSON).

        ``scorer``: ``None`` builds the scorer the options describe
        (:meth:`~exposure.jobs.options.RunOptions.build_scorer`), after the cheap checks and with the text
        workers already at work on the first chunks; a :class:`~exposure.postings.PostingScorer`, or a
        function that returns one, scores with that scorer, whose row options (assignment, ``max_chars``,
        ``min_soc_confidence``) are then the run's. ``workers`` processes do the text work of the next chunks
        while this process scores the current one (:class:`~exposure.jobs.workers.TextWorkers`; 0: all in
        this process). Rows and scores are the same either way.

        Holds the lock from the checks until it returns or raises. An ``OSError`` while writing (disk full,
        read-only folder) is raised as a :class:`~exposure.io.WriteError` with a one-line message; a chunk
        whose every posting fails raises :class:`~exposure.jobs.output.ChunkFailedError`, a run whose every
        scored posting failed :class:`~exposure.jobs.output.JobFailedError` (after writing its output); in
        each case the parts committed so far are kept for ``--resume``.
        """
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"workers must be an integer >= 0, got {workers!r}")
        if isinstance(scorer, PostingScorer):
            self.options = self.options.of_scorer(scorer)  # a given scorer's row options are the run's
        elif scorer is not None:
            self._scorer_options_known = False  # a function's scorer says its row options once it is built
        self.check()
        ahead = None
        try:
            if scorer is None:
                classifier = UnitClassifier.load()
                if workers and not self.resume:  # the text workers start now, while the model loads
                    ahead = self._text_stream(classifier, workers, 0, IdSet())
                scorer = self.options.build_scorer(classifier, show_progress=show_progress)
            elif not isinstance(scorer, PostingScorer):
                scorer = scorer()
            if not isinstance(scorer, PostingScorer):
                raise TypeError(f"scorer must be a PostingScorer or a function returning one, got "
                                f"{type(scorer).__name__}")
            self.options = self.options.of_scorer(scorer)
            return self._run(scorer, show_progress, log, workers, ahead)
        except OSError as exc:
            if isinstance(exc, WriteError):
                raise
            raise WriteError(os_error_message(exc, self._writing, "free space (or fix the folder) and rerun with "
                                              "--resume: the parts committed so far are kept")) from exc
        except WorkerError as exc:
            raise JobFailedError(f"a text worker process ended before its work was done"
                                 f"{f' ({exc.how})' if exc.how else ''}; if memory ran out, use fewer --workers or a "
                                 f"smaller --chunk-size (--workers 0: the text work in this process). The parts "
                                 f"committed so far are kept in {self.parts}: rerun with --resume to go on") from exc
        finally:
            if ahead is not None:
                ahead[0].__exit__(None, None, None)
            self.close()

    _writing: Optional[Path] = None
    _scorer_options_known = True

    def _run(self, scorer: PostingScorer, show_progress: bool, log: Callable[[str], None], workers: int,
             ahead: Optional[Tuple[TextWorkers, Iterator]]) -> dict:
        if self.resume and self.output.is_file() and not self.parts.exists():
            old = self._earlier_record()
            self._refuse_differences(old, self.record(scorer))
            log(f"{self.output} is complete already (see {self.summary_path}); nothing to do")
            if self.trash.exists():
                shutil.rmtree(self.trash, ignore_errors=True)
            with open(self.summary_path, encoding="utf-8") as f:
                return json.load(f)
        self._writing = self.parts
        part, start_row, seen = self._open_parts(scorer)
        record = self.record(scorer)
        if start_row:
            log(f"resuming after {part} committed parts ({start_row:,} input rows)")
        schema = output_schema(scorer.model.technologies, self.id_name, isco=scorer.taxonomy == "isco08")
        unit_out = unit_output_schema(scorer.model.technologies, self.id_name)
        scorer.cache.reset_stats()
        t0 = time.perf_counter()
        scored = units = kept = 0
        failures = Failures()
        before = dict(scorer.seconds)
        job_seconds = {"read_and_wait": 0.0, "write": 0.0}
        with_units = self.units_path is not None
        if ahead is not None and start_row == 0 and ahead[0].serves(scorer.classifier, workers, scorer.max_chars,
                                                                   with_units):
            pool, chunks = ahead  # already at work on the first chunks; run() exits the pool
            own_pool = False
        else:
            pool, chunks = self._text_stream(scorer.classifier, workers, start_row, seen)
            own_pool = True
        # Parquet holds its row count in its metadata; CSV/TSV and JSON Lines are followed by the bytes read.
        rows = count_rows(self.input, self.format, self.columns[0], self.encoding) if self.format == "parquet" else None
        bar = _ProgressBar(rows, self._read, start_row, show_progress)
        try:
            for (first, end, ids, titles, status, take, texts, at), prepared in _timed(chunks, job_seconds,
                                                                                   "read_and_wait"):
                try:
                    result = score_chunk([titles[i] for i in take], texts, scorer, prepared, failures,
                                         where=f"input rows {first:,}-{end - 1:,}", units=with_units)
                except ChunkFailedError as exc:
                    raise ChunkFailedError(f"{exc}. The parts committed so far ({first:,} input rows) are kept in "
                                           f"{self.parts}: fix the cause and rerun with --resume") from exc
                start = time.perf_counter()
                if with_units:  # before the posting part: a committed part always has its units
                    self._writing = self.parts / f"{_UNITS_PREFIX}{part:05d}.parquet"
                    write_table_atomic(unit_rows(first, ids, take, result, unit_out), self._writing)
                table = rows_table(first, ids, titles, status, take, result, schema)
                self._writing = self.parts / f"{_PART_PREFIX}{part:05d}.parquet"
                write_table_atomic(table.replace_schema_metadata(
                    {_META_KEY: json.dumps({"row_start": first, "row_end": end}).encode()}), self._writing)
                job_seconds["write"] += time.perf_counter() - start
                part += 1
                scored += len(take)
                units += int(result.n_units.sum())
                kept += result.kept_units
                bar.update(end, at, scorer.cache)
        finally:
            if own_pool:
                pool.__exit__(None, None, None)
            bar.close()
        elapsed = time.perf_counter() - t0
        self._writing = self.output
        provenance = {**scorer.model.provenance(), "command": "score-postings", "options": record["options"]}
        counts = self.combine(with_provenance(schema, provenance),
                              (pq.ParquetFile(f).read().replace_schema_metadata(None)
                               for f in sorted(self.parts.glob(f"{_PART_PREFIX}*.parquet"))))
        if with_units:
            self._writing = self.units_path
            this_run_units = combine_unit_parts(self.units_path, with_provenance(unit_out, provenance),
                                                (pq.ParquetFile(self.parts / f"{_UNITS_PREFIX}{k:05d}.parquet").read()
                                                 .replace_schema_metadata(None) for k in range(part)))
        this_run = {"resumed_from_row": start_row, "workers": workers,
                    **run_stats(scored, elapsed, units, kept, scorer.cache.hits, scorer.cache.misses),
                    **failures.as_dict(), "peak_rss_mb": peak_rss_mb()}
        if workers:
            this_run["worker_peak_rss_mb"] = pool.peak_rss_mb
        this_run["seconds_by_step"] = _seconds_by_step(job_seconds, before, scorer.seconds)
        this_run["cache"].update(entries=len(scorer.cache), max_entries=scorer.cache.max_entries)
        if with_units:
            this_run["units_file"] = {"path": str(self.units_path), "rows": this_run_units}
        self._writing = self.summary_path
        summary = self.finish(counts, this_run, log, record)
        # Only now may the parts go: renamed first, so that no half-deleted folder is ever resumed from.
        os.replace(self.parts, self.trash)
        shutil.rmtree(self.trash, ignore_errors=True)
        if scored and failures.error_rows == scored:
            raise JobFailedError(f"every one of the {scored:,} postings scored failed (status 'error'; the log has "
                                 f"the traceback); {self.output} and {self.summary_path} were written")
        return summary

    def combine(self, schema: pa.Schema, tables: Iterable[pa.Table]) -> dict:
        """Scored rows in input order (``tables``, read one at a time) -> OUTPUT and the rejected rows' file.

        Each table has the columns of ``schema`` (the id column first); the rows of a status in
        :data:`~exposure.jobs.rows.REJECTED_STATUSES` go to the rejected file (id, ``row``, ``status``), the
        others to OUTPUT. Both are written to temporary names, renamed at the end, and removed on an error.
        Returns the row counts (:func:`~exposure.jobs.output.combine_parts`).
        """
        return combine_parts(self.output, self.rejected_path, schema, tables, writing=self._now_writing)

    def _now_writing(self, path: Path) -> None:
        self._writing = path

    def finish(self, counts: dict, this_run: dict, log: Callable[[str], None], record: Optional[dict] = None) -> dict:
        """Write the run summary (``counts`` from :meth:`combine`), log what was done; returns the summary."""
        return write_summary(self.input, self.output, self.rejected_path, self.summary_path, counts, this_run, log,
                             record)


def _damaged_part(parts: List[Path], exc: BaseException) -> str:
    """What ``--resume`` says of a committed part that cannot be read (``parts``: it and the ones after it)."""
    later = f" and the {len(parts) - 1} part(s) after it" if len(parts) > 1 else ""
    return (f"cannot resume: the committed part {parts[0]} is damaged ({str(exc).splitlines()[0][:160]}); remove "
            f"it{later} ({parts[0].name}{' to ' + parts[-1].name if len(parts) > 1 else ''}) and rerun with "
            "--resume: the rows they held are scored again")


class _ProgressBar:
    """The run's progress bar: in postings when the row count is known (``rows``: Parquet's metadata), else in
    bytes of the file read (CSV/TSV and JSON Lines: counting their rows first would read them twice), with the
    postings done and the unit cache's hit rate beside it."""

    def __init__(self, rows: Optional[int], read: ReadProgress, start_row: int, show: bool) -> None:
        from tqdm.auto import tqdm

        self.read = read
        self.by_rows = rows is not None
        if self.by_rows:
            self.bar = tqdm(total=rows, initial=start_row, unit="posting",
                            desc="scoring postings", dynamic_ncols=True, disable=not show, file=sys.stderr,
                            smoothing=0.1)
        else:
            self.bar = tqdm(total=read.total, unit="B", unit_scale=True, unit_divisor=1024, desc="scoring postings",
                            dynamic_ncols=True, disable=not show, file=sys.stderr, smoothing=0.1)

    def update(self, rows_done: int, bytes_done: int, cache) -> None:
        """After a chunk: ``rows_done`` input rows and ``bytes_done`` bytes of the file done in all (CSV/TSV in
        the reader's blocks of 4 MB); the unit cache for its hit rate."""
        hits = f"{cache.hit_rate:.0%}" if cache.hits + cache.misses else "-"
        if self.by_rows:
            self.bar.update(rows_done - self.bar.n)
            self.bar.set_postfix(cache_hits=hits, refresh=False)
        else:
            self.bar.update(min(bytes_done, self.read.total) - self.bar.n)
            self.bar.set_postfix(postings=f"{rows_done:,}", cache_hits=hits, refresh=False)

    def close(self) -> None:
        self.bar.close()


def _timed(items: Iterable, seconds: dict, key: str) -> Iterator:
    """``items``, adding the time spent waiting for each one to ``seconds[key]``."""
    it = iter(items)
    while True:
        start = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            return
        finally:
            seconds[key] += time.perf_counter() - start
        yield item


def _seconds_by_step(job: dict, before: dict, after: dict) -> dict:
    """Where a run's time went: reading the input and waiting for the text workers, the scorer's steps
    (:data:`~exposure.postings.scorer.SCORING_STEPS`, from ``PostingScorer.seconds`` before and after the run)
    and writing the parts, in seconds."""
    steps = {k: after[k] - before.get(k, 0.0) for k in after}
    return {k: round(v, 3) for k, v in {"read_and_wait": job["read_and_wait"], **steps, "write": job["write"]}.items()}


def model_record(scorer: PostingScorer) -> dict:
    """The model part of a run's record (:meth:`BatchJob.record`): what ``--resume`` compares."""
    m = scorer.model
    enc = m.encoder
    # The fingerprint tells two heads (or capability sets) apart; the rest is for people reading it.
    return {"fingerprint": m.fingerprint(), "encoder": getattr(enc, "name", None),
            "dtype": str(getattr(enc, "dtype", "")), "calibrated": m.calibrated,
            "capabilities": f"{m.capabilities.name} {m.capabilities.version}",
            "technologies": list(m.technologies), "languages": list(scorer.languages)}
