"""The output side of a batch job: the run's lock, atomic writes, scored rows, OUTPUT and its side files.

- :class:`RunLock` (:class:`OutputInUseError` when another run holds it): one writer per OUTPUT.
- :func:`write_table_atomic`, :func:`write_json_atomic`: files that readers see whole or not at all.
- :func:`output_schema`, :func:`score_chunk`, :func:`rows_table`: a chunk's postings scored (one bad
  posting gets status ``error``) and laid out as OUTPUT's rows, rejected rows included.
- :func:`combine_parts`: scored rows in input order -> OUTPUT and ``.rejected.parquet``;
  :func:`write_summary`: ``.summary.json`` (with :func:`run_stats`, :func:`peak_rss_mb`).
- :func:`differences`: what ``--resume`` says when the earlier run's record differs from this one's.
- :func:`companion`, :func:`check_output_name`: the files that go with OUTPUT are named from its full name
  (``scores.parquet.summary.json``), so two outputs never share one, and all are covered by OUTPUT's lock.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .._assets import fsync_dir, write_atomic
from .._processes import peak_rss_mb
from ..io import WriteError, os_error_message
from ..occupations.isco_codes import IscoGroups
from ..postings.frontend import PreparedPostings
from ..postings.scorer import STATUSES, PostingScorer, PostingScores, posting_schema, unit_schema
from .options import describe
from .rows import REJECTED_STATUSES

logger = logging.getLogger(__name__)

__all__ = ["COMPANIONS", "companion", "check_output_name", "OutputInUseError", "RunLock", "write_table_atomic",
           "write_json_atomic", "output_schema", "differences", "run_stats", "peak_rss_mb", "unscored", "concat",
           "score_chunk", "ChunkFailedError", "JobFailedError", "Failures", "FAIL_FAST", "rows_table", "combine_parts",
           "write_summary", "unit_output_schema", "unit_rows", "combine_unit_parts"]


# --------------------------------------------------------------------------- the files that go with OUTPUT

#: What is appended to OUTPUT's full name to name the files that go with it: the run's lock, the parts folder
#: (and the name it is renamed to before removal), the summary and the rejected rows.
COMPANIONS = (".lock", ".parts", ".parts.trash", ".summary.json", ".rejected.parquet")


def companion(output: Path, suffix: str) -> Path:
    """The file ``suffix`` (one of :data:`COMPANIONS`) of ``output``, named from its full name.

    >>> companion(Path("scores.parquet"), ".summary.json").name
    'scores.parquet.summary.json'
    """
    if suffix not in COMPANIONS:
        raise ValueError(f"unknown companion {suffix!r}; use one of {', '.join(COMPANIONS)}")
    return output.with_name(output.name + suffix)


def check_output_name(output: Path) -> None:
    """Refuse an ``output`` that is the companion file of another output (``x.parquet.rejected.parquet``):
    the two runs would write, and delete, each other's files.

    >>> check_output_name(Path("x.parquet.rejected.parquet"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: cannot write 'x.parquet.rejected.parquet': it is the .rejected.parquet file of the output 'x.parquet'...
    """
    for suffix in COMPANIONS:
        owner = output.name[: -len(suffix)]
        if output.name.endswith(suffix) and owner.lower().endswith((".parquet", ".pq")):
            raise ValueError(f"cannot write {str(output)!r}: it is the {suffix} file of the output "
                             f"{str(output.with_name(owner))!r}; give an output name that does not end in {suffix}")


# --------------------------------------------------------------------------- writing files

def write_table_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` so that readers see no file or the whole file, even after ``kill -9``."""
    write_atomic(path, lambda f: pq.write_table(table, f))


def write_json_atomic(obj: dict, path: Path) -> None:
    """Write ``obj`` as indented JSON to ``path``, atomically (as :func:`write_table_atomic`)."""
    write_atomic(path, lambda f: f.write((json.dumps(obj, indent=2) + "\n").encode("utf-8")))


class OutputInUseError(WriteError):
    """Another run is writing the same output (it holds ``OUTPUT.lock``); the message says which and what to do."""


class RunLock:
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
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)  # less the umask
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


# --------------------------------------------------------------------------- resume records

def differences(old: dict, new: dict, prefix: str = "") -> List[str]:
    """One readable line per value that differs between two run records (nested dicts)."""
    lines = []
    for key in dict.fromkeys([*new, *old]):
        a, b, name = old.get(key), new.get(key), prefix + key
        if isinstance(a, dict) and isinstance(b, dict):
            lines += differences(a, b, name + ".")
        elif a != b:
            label, was = describe(name, a)
            lines.append(f"{label}: {was} in the earlier run, {describe(name, b)[1]} now")
    return lines


# --------------------------------------------------------------------------- rows

def output_schema(technologies, id_name: str = "id", isco: bool = False) -> pa.Schema:
    """The columns of OUTPUT: the id (named ``id_name``), ``row``, ``title``, then
    :func:`~exposure.postings.posting_schema` (with the ISCO-08 columns when ``isco``)."""
    return pa.schema([(id_name, pa.string()), ("row", pa.int64()), ("title", pa.string())]
                     + list(posting_schema(technologies, isco=isco)))


def unit_output_schema(technologies, id_name: str = "id") -> pa.Schema:
    """The columns of the per-unit file (``--units``): the posting's id (named ``id_name``) and input ``row``,
    then :func:`~exposure.postings.scorer.unit_schema` less ``posting``."""
    return pa.schema([(id_name, pa.string()), ("row", pa.int64())]
                     + [f for f in unit_schema(technologies) if f.name != "posting"])


def unit_rows(first: int, ids, take, result: PostingScores, schema: pa.Schema) -> pa.Table:
    """A chunk's rows of the per-unit file (``schema``): ``result.units`` with each unit's posting named by its
    id and input row (the chunk starts at input row ``first``; ``take``: the chunk rows that were scored)."""
    units = result.units
    if units is None or not units.num_rows:
        return schema.empty_table()
    at = np.asarray(take, dtype=np.int64)[units["posting"].to_numpy()]
    cols = {schema.names[0]: pa.array(np.asarray(ids, dtype=object)[at], pa.string()),
            "row": pa.array(first + at, pa.int64())}
    for name in schema.names[2:]:
        cols[name] = units[name]
    return pa.table(cols, schema=schema)


def combine_unit_parts(path: Path, schema: pa.Schema, tables: Iterable[pa.Table]) -> int:
    """The per-unit parts, in order, -> ``path``, written atomically (readers see no file or the whole file);
    returns the rows written."""
    rows = 0

    def write(f) -> None:
        nonlocal rows
        with pq.ParquetWriter(f, schema) as out:
            for t in tables:
                if t.num_rows:
                    out.write_table(t.cast(schema))
                    rows += t.num_rows

    write_atomic(path, write)
    return rows


def run_stats(scored: int, seconds: float, units: int, kept: int, hits: int, misses: int) -> dict:
    """The ``this_run`` figures of a summary that every engine reports."""
    lookups = hits + misses
    return {"postings_scored": scored, "seconds": round(seconds, 2),
            "postings_per_s": round(scored / seconds, 2) if seconds > 0 else None,
            "cache": {"hits": hits, "misses": misses, "hit_rate": round(hits / lookups, 4) if lookups else None},
            "units": units, "units_kept_by_prefilter": kept,
            "prefilter_kept_share": round(kept / units, 4) if units else None}


def unscored(status: List[str], technologies, n_chars, isco: bool = False) -> PostingScores:
    """Scores of postings that were not scored: the given ``status``, no values (no ISCO-08 groups either, when
    ``isco``)."""
    n = len(status)
    return PostingScores(status=list(status), exposure=np.full(n, np.nan, np.float32),
                         technology_scores=np.full((n, len(technologies)), np.nan, np.float32),
                         technologies=tuple(technologies), share_exposed=np.full(n, np.nan, np.float32),
                         n_duties=np.zeros(n, np.int32), n_units=np.zeros(n, np.int32),
                         n_chars=np.asarray(n_chars, np.int64), top_duties=[[] for _ in range(n)],
                         automation_exposure=np.full(n, np.nan, np.float32),
                         isco=IscoGroups.empty(n) if isco else None)


def concat(pieces: List[PostingScores], technologies) -> PostingScores:
    """The postings of ``pieces``, one after the other, as one :class:`~exposure.postings.PostingScores`."""
    assigned = any(p.soc_codes is not None for p in pieces)
    occ = [np.concatenate(c) for c in zip(*(p.occupation_columns() for p in pieces))] if assigned else [None] * 3
    basis = [b for p in pieces for b in (p.basis or [None] * len(p))] if assigned else None
    abstained = [a for p in pieces for a in (p.abstained or [None] * len(p))] if assigned else None
    units = None
    if any(p.units is not None for p in pieces):  # each piece's postings numbered on from the pieces before
        offsets = np.cumsum([0] + [len(p) for p in pieces])
        units = pa.concat_tables([p.units.set_column(0, "posting", pc.add(p.units["posting"], int(o)))
                                  for p, o in zip(pieces, offsets) if p.units is not None])
    return PostingScores(
        status=[s for p in pieces for s in p.status], exposure=np.concatenate([p.exposure for p in pieces]),
        technology_scores=np.vstack([p.technology_scores for p in pieces]), technologies=tuple(technologies),
        share_exposed=np.concatenate([p.share_exposed for p in pieces]),
        n_duties=np.concatenate([p.n_duties for p in pieces]), n_units=np.concatenate([p.n_units for p in pieces]),
        n_chars=np.concatenate([p.n_chars for p in pieces]), top_duties=[d for p in pieces for d in p.top_duties],
        soc_codes=occ[0], soc_titles=occ[1], soc_confidence=occ[2], basis=basis, abstained=abstained,
        kept_units=sum(p.kept_units for p in pieces), units=units,
        automation_exposure=np.concatenate([np.full(len(p), np.nan, np.float32) if p.automation_exposure is None
                                            else p.automation_exposure for p in pieces]),
        language=[x for p in pieces for x in (p.language or [None] * len(p))],
        isco=IscoGroups.concat([p.isco if p.isco is not None else IscoGroups.empty(len(p)) for p in pieces])
        if any(p.isco is not None for p in pieces) else None)


class JobFailedError(RuntimeError):
    """A run stopped (or ended) because scoring failed; the message says what failed and what was kept."""


class ChunkFailedError(JobFailedError):
    """Every posting of a chunk failed: a fault of the run (the model, an index, memory), not of the postings.

    The message names the rows and the cause; the parts committed before the chunk are kept.
    """


@dataclass
class Failures:
    """What failed in a run so far: chunks whose whole scoring raised, and postings that got status ``error``."""

    failed_chunks: int = 0
    error_rows: int = 0

    def as_dict(self) -> dict:
        return {"failed_chunks": self.failed_chunks, "error_rows": self.error_rows}


def score_chunk(titles: list, texts: list, scorer: PostingScorer, prepared: Optional[PreparedPostings] = None,
                failures: Optional[Failures] = None, where: str = "", units: bool = False) -> PostingScores:
    """Score a chunk (its text work already done when ``prepared`` is given; ``units``: with the per-unit
    table, ``prepared`` made with its units).

    If that raises, the traceback is logged once, the chunk is counted in ``failures`` and cut in
    halves again and again to find the postings that fail: those get status ``error`` (counted in
    ``failures.error_rows``), the others their scores. When every posting of a chunk of two or more
    fails (or the first :data:`FAIL_FAST` postings tried alone all fail, none scoring), the fault is
    not in the postings: :class:`ChunkFailedError` names the cause (``where`` names the rows).
    """
    try:
        if prepared is None:
            return scorer.score(titles, texts, **({"units": True} if units else {}))
        return scorer.score_prepared(titles, prepared)
    except Exception as exc:
        failures = Failures() if failures is None else failures
        failures.failed_chunks += 1
        at = f" at {where}" if where else ""
        logger.error("scoring the chunk of %d postings%s failed; looking for the postings that fail", len(texts), at,
                     exc_info=True)
        search = _Search(titles, texts, scorer, units)
        try:
            result = search.halves(0, len(texts)) if texts else None
        except _Systematic:
            result = None
        if result is None or (len(search.errors) == len(texts) > 1):
            raise ChunkFailedError(f"scoring the chunk{at} failed for every posting tried, so the fault is not in "
                                   f"the postings: {type(exc).__name__}: {exc}") from exc
        failures.error_rows += len(search.errors)
        if search.errors:
            logger.warning("%d of %d postings of the chunk%s failed (status 'error'); their places in the chunk: %s",
                           len(search.errors), len(texts), at, ", ".join(map(str, search.errors[:20]))
                           + (" ..." if len(search.errors) > 20 else ""))
        return result


#: A chunk whose first this many postings fail when scored alone, none scoring, stops the run.
FAIL_FAST = 16


class _Systematic(Exception):
    """The first :data:`FAIL_FAST` postings tried alone all failed."""


class _Search:
    """Finds the postings of a failed chunk that fail on their own, by halves."""

    def __init__(self, titles: list, texts: list, scorer: PostingScorer, units: bool = False) -> None:
        self.titles, self.texts, self.scorer = titles, texts, scorer
        self.options = {"units": True} if units else {}  # a scorer of one's own need not know the option
        self.errors: List[int] = []
        self.scored = 0

    def halves(self, a: int, b: int) -> PostingScores:
        """Scores of postings ``a:b``, known to fail together: each half on its own."""
        if b - a == 1:
            return self.alone(a)
        half = (a + b) // 2
        return concat([self.part(a, half), self.part(half, b)], self.scorer.model.technologies)

    def part(self, a: int, b: int) -> PostingScores:
        if b - a == 1:
            return self.alone(a)
        try:
            result = self.scorer.score(self.titles[a:b], self.texts[a:b], **self.options)
        except Exception:
            logger.debug("postings %d-%d of the chunk fail together; cutting them in halves", a, b - 1, exc_info=True)
            return self.halves(a, b)
        self.scored += b - a
        return result

    def alone(self, i: int) -> PostingScores:
        try:
            result = self.scorer.score(self.titles[i:i + 1], self.texts[i:i + 1], **self.options)
        except Exception:
            logger.debug("posting %d of the chunk fails on its own", i, exc_info=True)
            self.errors.append(i)
            if not self.scored and len(self.errors) >= FAIL_FAST:
                raise _Systematic() from None
            x = self.texts[i]
            return unscored(["error"], self.scorer.model.technologies, [len(x) if isinstance(x, str) else 0],
                            isco=self.scorer.taxonomy == "isco08")
        self.scored += 1
        return result


def rows_table(first: int, ids, titles, status, take, result: PostingScores, schema: pa.Schema) -> pa.Table:
    """A chunk's rows of OUTPUT (``schema``), numbered from ``first``: the rows at ``take`` get ``result``'s
    scores in that order, the others only their ``status``."""
    n = len(ids)
    scores = result.to_arrow()
    full = unscored([s or "ok" for s in status], result.technologies, [0] * n, isco=result.isco is not None).to_arrow()
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


# --------------------------------------------------------------------------- OUTPUT and the side files

def combine_parts(output: Path, rejected_path: Path, schema: pa.Schema, tables: Iterable[pa.Table],
                  writing: Optional[Callable[[Path], None]] = None) -> dict:
    """Scored rows in input order (``tables``, read one at a time) -> ``output`` and the rejected rows' file.

    Each table has the columns of ``schema`` (the id column first); the rows of a status in
    :data:`~exposure.jobs.rows.REJECTED_STATUSES` go to ``rejected_path`` (id, ``row``, ``status``),
    the others to ``output``. Both are written to temporary names, renamed at the end, and removed
    on an error. ``writing`` is told the file being written when that changes (``rejected_path``
    while it is opened, then ``output`` again), for the message of an ``OSError``. Returns the
    row counts.
    """
    tmp = output.with_name(f".{output.name}.tmp")
    rtmp = rejected_path.with_name(f".{rejected_path.name}.tmp")
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
                        if writing is not None:
                            writing(rejected_path)
                        rej = pq.ParquetWriter(rtmp, rejected_schema)
                        if writing is not None:
                            writing(output)
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
            os.replace(rtmp, rejected_path)
        elif rejected_path.exists():
            # This output's own file (named from it, under its lock) from the run being resumed: it lists no
            # row of this one. A fresh run never gets here, it is refused while the file exists.
            rejected_path.unlink()
        os.replace(tmp, output)
    except BaseException:
        for p in (tmp, rtmp):
            try:
                os.unlink(p)
            except OSError:
                pass
        raise
    fsync_dir(output.parent)
    return counts


def write_summary(input: Path, output: Path, rejected_path: Path, summary_path: Path, counts: dict, this_run: dict,
                  log: Callable[[str], None], record: Optional[dict] = None) -> dict:
    """Write the run summary to ``summary_path`` (``counts`` from :func:`combine_parts`), log what was done;
    returns the summary."""
    summary = {
        "input": str(input), "output": str(output),
        "rows": counts["rows"], "rows_written": counts["written"],
        "rejected": {s: counts["status"].get(s, 0) for s in REJECTED_STATUSES},
        "rejected_file": str(rejected_path) if counts["rows"] > counts["written"] else None,
        "status": {s: counts["status"].get(s, 0) for s in STATUSES},
        "this_run": this_run,
    }
    if record is not None:
        summary["run"] = record  # what a later --resume of the finished output compares
    write_json_atomic(summary, summary_path)
    scored, elapsed, hit_rate = this_run["postings_scored"], this_run["seconds"], this_run["cache"]["hit_rate"]
    log(f"scored {scored:,} postings in {elapsed:.1f} s ({scored / max(elapsed, 1e-9):,.1f} postings/s); "
        f"unit cache hit rate {hit_rate if hit_rate is not None else float('nan'):.1%}; "
        f"{counts['written']:,} rows -> {output}")
    dup = summary["rejected"]
    if any(dup.values()):
        log(f"{dup['duplicate_id']:,} duplicate ids, {dup['missing_id']:,} missing ids and "
            f"{dup['invalid_json']:,} malformed lines left out -> {rejected_path}")
    return summary
