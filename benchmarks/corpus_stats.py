"""Corpus statistics of job postings as the scorer sees them: units, duties, first stage, unit cache hit rate.

Generates N postings of a style of ``generate_postings.py`` (or reads Parquet files of postings with
id / title / description) and prints a Markdown table, one column per corpus:

- postings; mean and median characters; mean and median units per posting (a unit is what
  ``exposure.postings.segment`` cuts: a bullet line, a sentence or a header);
- share of units that are duties (generated styles only, from the generator's ground truth: the units
  that are one of the duties it wrote; for ``templated`` the O*NET tasks it inserts), and how many of
  those are an O*NET task statement word for word;
- share of units kept by the unit classifier's cheap first stage (``UnitClassifier.keep``, numpy only);
- distinct units;
- unit cache hit rate as the scorer's cache sees it: per posting, the units the first stage keeps plus
  the posting title are looked up in an LRU cache of ``--cache-size`` entries (100,000, the scorer's
  default) keyed by the text; hit rate = hits / lookups. Also over all units (plus the title);
- generation time (the generator alone) and analysis time (segmentation, first stage, caches).

No encoder is loaded. Memory stays bounded: postings are processed as they are generated.

    python benchmarks/corpus_stats.py -n 100000 --style realistic templated -o benchmarks/results/corpus.md
    python benchmarks/corpus_stats.py --input postings.parquet
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from array import array
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Tuple

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from exposure.postings import UnitClassifier, segment  # noqa: E402


def _generator():
    spec = importlib.util.spec_from_file_location("generate_postings", HERE / "generate_postings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LRU:
    """The unit cache's bookkeeping, without the embeddings: an LRU set of texts that counts hits."""

    def __init__(self, size: int) -> None:
        self.size, self.entries = size, OrderedDict()
        self.hits = self.lookups = 0

    def lookup(self, keys: Iterable[str]) -> None:
        entries = self.entries
        for key in keys:
            self.lookups += 1
            if key in entries:
                self.hits += 1
                entries.move_to_end(key)
            else:
                entries[key] = None
                if len(entries) > self.size:
                    entries.popitem(last=False)

    @property
    def rate(self) -> float:
        return self.hits / max(self.lookups, 1)


class _Timed:
    """An iterator that adds the time spent producing each item to ``seconds``."""

    def __init__(self, items: Iterator) -> None:
        self.items, self.seconds = items, 0.0

    def __iter__(self):
        return self

    def __next__(self):
        t0 = time.perf_counter()
        try:
            return next(self.items)
        finally:
            self.seconds += time.perf_counter() - t0


def _parquet_rows(path: str) -> Iterator[Tuple[str, Optional[str], str, None]]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000, columns=["id", "title", "description"]):
        cols = batch.to_pydict()
        for i, t, d in zip(cols["id"], cols["title"], cols["description"]):
            yield i, t, d or "", None


def onet_statements() -> frozenset:
    """Every O*NET 27 and 29.1 task statement, with and without its final stop: duties written word for word."""
    from exposure.occupations import load_tasks

    texts = set(load_tasks("27")["task"].to_pylist()) | set(load_tasks("29.1")["task"].to_pylist())
    return frozenset(texts | {t.rstrip(".") for t in texts})


def corpus_stats(rows: Iterable[tuple], classifier: UnitClassifier, cache_size: int = 100_000,
                 progress: int = 0) -> dict:
    """Statistics of ``(id, title, description, duties or None)`` rows (see the module docstring)."""
    onet = onet_statements()
    timed = _Timed(iter(rows))
    first, full = LRU(cache_size), LRU(cache_size)
    chars, units_per = array("l"), array("l")
    hashes = array("q")
    kept = duty_units = duty_verbatim = duties_written = duties_missing = 0
    has_truth = True
    t0 = time.perf_counter()
    for n, (_, title, text, duties) in enumerate(timed, 1):
        units = segment(text)
        texts = [u.text for u in units]
        mask = classifier.keep(units) if units else np.zeros(0, dtype=bool)
        keys = [t for t, k in zip(texts, mask) if k]
        kept += len(keys)
        if title:
            keys.append(title)
        first.lookup(keys)
        full.lookup(texts + [title] if title else texts)
        chars.append(len(text))
        units_per.append(len(units))
        hashes.extend(hash(t) for t in texts)
        if duties is None:
            has_truth = False
        else:
            truth = {d.strip() for d in duties}
            found = [t for t in texts if t in truth]
            duty_units += len(found)
            duty_verbatim += sum(t in onet for t in found)
            duties_written += len(duties)
            duties_missing += len(truth - set(texts))
        if progress and n % progress == 0:
            print(f"  {n:,} postings, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    total = time.perf_counter() - t0
    n_units = int(sum(units_per))
    lengths, counts = np.asarray(chars), np.asarray(units_per)
    return {
        "postings": len(counts),
        "mean_chars": float(lengths.mean()) if len(lengths) else 0.0,
        "median_chars": float(np.median(lengths)) if len(lengths) else 0.0,
        "mean_units": float(counts.mean()) if len(counts) else 0.0,
        "median_units": float(np.median(counts)) if len(counts) else 0.0,
        "units": n_units,
        "duty_share": duty_units / max(n_units, 1) if has_truth else None,
        "duties_missing": duties_missing / max(duties_written, 1) if has_truth else None,
        "duty_verbatim": duty_verbatim / max(duty_units, 1) if has_truth else None,
        "kept_share": kept / max(n_units, 1),
        "distinct_units": int(len(np.unique(np.frombuffer(hashes, dtype=np.int64)))),
        "hit_first_stage": first.rate,
        "lookups_first_stage": first.lookups,
        "hit_all_units": full.rate,
        "generation_s": timed.seconds,
        "analysis_s": total - timed.seconds,
    }


ROWS = (
    ("postings", "postings", "{:,}"),
    ("mean_chars", "mean characters", "{:,.0f}"),
    ("median_chars", "median characters", "{:,.0f}"),
    ("mean_units", "mean units per posting", "{:.1f}"),
    ("median_units", "median units per posting", "{:.0f}"),
    ("duty_share", "share of units that are duties (generator's ground truth)", "{:.1%}"),
    ("duties_missing", "written duties not found as one unit", "{:.1%}"),
    ("duty_verbatim", "duty units that are an O*NET task statement word for word", "{:.1%}"),
    ("kept_share", "share of units kept by the first stage", "{:.1%}"),
    ("distinct_units", "distinct units", "{:,}"),
    ("hit_first_stage", "unit cache hit rate: first-stage units + titles, LRU {cache:,}", "{:.1%}"),
    ("lookups_first_stage", "lookups (first-stage units + titles)", "{:,}"),
    ("hit_all_units", "unit cache hit rate: all units + titles, LRU {cache:,}", "{:.1%}"),
    ("generation_s", "generation time, s (generator alone; reading, for --input)", "{:.1f}"),
    ("analysis_s", "analysis time, s (segmentation, first stage, caches)", "{:.1f}"),
)


def markdown(results: List[Tuple[str, dict]], cache_size: int) -> str:
    lines = ["| | " + " | ".join(name for name, _ in results) + " |",
             "| --- |" + " ---: |" * len(results)]
    for key, label, fmt in ROWS:
        cells = []
        for _, r in results:
            value = r.get(key)
            cells.append("n/a" if value is None else fmt.format(value))
        lines.append(f"| {label.format(cache=cache_size)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description="Corpus statistics of generated or given job postings, as a Markdown "
                                             "table: units, duty share, first-stage share, unit cache hit rate.")
    ap.add_argument("-n", type=int, default=100_000, help="postings to generate per style (default 100,000)")
    ap.add_argument("--style", nargs="*", default=None, choices=("realistic", "templated"),
                    help="generator styles to measure (default: realistic, unless --input is given)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--input", nargs="*", default=[], help="Parquet files of postings (id, title, description)")
    ap.add_argument("--cache-size", type=int, default=100_000, help="LRU entries (default 100,000)")
    ap.add_argument("-o", "--output", help="also write the table to this Markdown file")
    ap.add_argument("--progress", type=int, default=0, help="report progress every this many postings")
    args = ap.parse_args(argv)
    styles = args.style if args.style is not None else ([] if args.input else ["realistic"])
    if args.n < 0:
        ap.error("-n must be >= 0")
    classifier = UnitClassifier.load()
    results = []
    for style in styles:
        print(f"{style}: {args.n:,} postings, seed {args.seed}", file=sys.stderr)
        rows = _generator().postings(args.n, seed=args.seed, style=style)
        results.append((f"{style} (seed {args.seed})", corpus_stats(rows, classifier, args.cache_size,
                                                                   args.progress)))
    for path in args.input:
        print(f"{path}", file=sys.stderr)
        results.append((Path(path).name, corpus_stats(_parquet_rows(path), classifier, args.cache_size,
                                                      args.progress)))
    table = markdown(results, args.cache_size)
    print(table)
    if args.output:
        head = (f"Command: `python benchmarks/corpus_stats.py {' '.join(sys.argv[1:] if argv is None else argv)}`\n\n"
                f"Machine: {platform.machine()}, Python {platform.python_version()}\n\n")
        Path(args.output).write_text(head + table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
