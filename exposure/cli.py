"""The ``exposure`` command line.

    exposure score-tasks examples/tasks.csv                 # print a table
    exposure score-tasks tasks.parquet -o scores.parquet    # write every score and the evidence
    exposure info                                           # kernel build, device, model
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import Optional, Sequence

__all__ = ["main"]

_PREVIEW_ROWS = 25


def _score_tasks(args: argparse.Namespace) -> int:
    import pyarrow as pa
    from tqdm.auto import tqdm

    from .encoder import resolve_device
    from .io import TableWriter, input_format, read_batches
    from .scoring import ExposureModel

    # Check what is cheap to check before loading a model.
    input_format(args.input)
    resolve_device(args.device)
    writer = TableWriter(args.output) if args.output else None
    batches = read_batches(args.input, [args.text_column], batch_size=args.chunk_size)
    first = next(batches)  # raises on a missing column or an empty file
    model = ExposureModel(capabilities=args.capabilities, technologies=args.technologies,
                          device=args.device, batch_size=args.batch_size)
    preview: list[pa.Table] = []
    start = time.perf_counter()
    bar = tqdm(unit="task", desc="scoring", disable=args.quiet or None, file=sys.stderr)
    total = 0
    for batch in _chain(first, batches):
        texts = [t if isinstance(t, str) else None for t in batch.column(args.text_column).to_pylist()]
        scores = model.score_tasks(texts).to_arrow().drop_columns(["text"])
        table = pa.Table.from_batches([batch])
        for name in scores.column_names:
            table = table.append_column(name if name not in table.column_names else f"score_{name}",
                                        scores.column(name))
        if writer:
            writer.write(table)
        elif total < _PREVIEW_ROWS:
            preview.append(table)
        total += table.num_rows
        bar.update(table.num_rows)
    bar.close()
    elapsed = time.perf_counter() - start
    if writer:
        writer.close()
        print(f"scored {total:,} tasks in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} tasks/s) "
              f"-> {args.output}", file=sys.stderr)
    else:
        _print_table(pa.concat_tables(preview), args.text_column, model.technologies, total)
    return 0


def _chain(first, rest):
    yield first
    yield from rest


def _print_table(table, text_column: str, technologies: Sequence[str], total: int) -> None:
    """A readable preview: exposure, the leading technology, the task and its best evidence."""
    rows = table.slice(0, _PREVIEW_ROWS).to_pylist()
    width = max(60, shutil.get_terminal_size((120, 20)).columns)
    text_w = max(20, (width - 30) // 2)
    print(f"{'exposure':>8}  {'leading':<10}  {'task':<{text_w}}  best-matching capability")
    print("-" * min(width, 8 + 2 + 10 + 2 + text_w + 2 + text_w))
    for r in rows:
        techs = {t: r[f"exposure_{t}"] for t in technologies if r[f"exposure_{t}"] is not None}
        lead = max(techs, key=techs.get) if techs else "-"
        score = "-" if r["exposure"] is None else f"{r['exposure']:.2f}"
        text = textwrap.shorten(r[text_column] or "(empty)", text_w, placeholder="...")
        ev = r["evidence_1_statement"]
        ev = "-" if ev is None else textwrap.shorten(f"{ev} ({r['evidence_1_similarity']:.2f})", text_w,
                                                    placeholder="...")
        print(f"{score:>8}  {lead:<10}  {text:<{text_w}}  {ev}")
    if total > len(rows):
        print(f"... {total - len(rows):,} more rows; pass -o FILE to write them all")


def _info(args: argparse.Namespace) -> int:
    import torch

    from . import __version__
    from .kernels import build_info

    print(f"exposure {__version__}")
    for key, value in build_info().items():
        print(f"  kernel {key}: {value}")
    print(f"  torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exposure",
        description="Measure how exposed tasks and occupations are to AI and automation "
                    "(language models, software, machine vision, robotics, autonomous vehicles).",
        epilog="Run 'exposure COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "score-tasks",
        help="score task statements in a file (CSV, TSV, Parquet, JSON Lines)",
        description="Score each task statement for exposure to AI and automation: a headline score in [0, 1], "
                    "a score per technology, and the three best-matching capability statements as evidence. "
                    "Without -o, prints a table of the first rows.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("input", type=Path, help="input file: .csv, .tsv, .parquet or .jsonl")
    p.add_argument("-o", "--output", type=Path, help="output file: .parquet or .csv (input columns + scores)")
    p.add_argument("--text-column", default="task", help="column holding the task statements")
    p.add_argument("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'")
    p.add_argument("--batch-size", type=int, default=64, help="texts per forward pass of the encoder")
    p.add_argument("--chunk-size", type=int, default=2048, help="rows read and scored at a time")
    p.add_argument("--capabilities", default="default", help="capability set: 'default' or a YAML/JSON file")
    p.add_argument("--technologies", nargs="+", default=None,
                   help="technologies pooled into the headline score (default: all in the set)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_score_tasks)

    p = sub.add_parser("info", help="show the kernel build (SIMD, OpenMP, threads) and devices",
                       description="Show the version, the native kernel's SIMD path, OpenMP and threads, "
                                   "and whether CUDA is available.")
    p.set_defaults(func=_info)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``exposure`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "batch_size", 1) < 1 or getattr(args, "chunk_size", 1) < 1:
        parser.error("--batch-size and --chunk-size must be at least 1")
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"exposure {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
