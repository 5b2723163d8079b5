"""The ``exposure`` command line.

    exposure score-tasks examples/tasks.csv                 # print a table
    exposure score-tasks tasks.parquet -o scores.parquet    # write every score and the evidence
    exposure score-postings postings.parquet -o scores.parquet   # job postings, crash-safe (--resume)
    exposure score-postings postings.parquet -o scores.parquet --engine ray --address auto  # on a Ray cluster
    exposure score-postings postings.parquet -o scores.parquet --units units.parquet   # and what was counted
    exposure explain postings.parquet 3904567               # one posting's units, labels and scores
    exposure info                                           # kernel build, device, model
    exposure occupations -o occupations.csv                 # every O*NET occupation, ranked, with evidence
    exposure compare index.csv --code-column soc --value-column score --code-system soc2018
    exposure occupations --taxonomy isco08 -o isco.csv     # the 436 ISCO-08 unit groups, from the ILO task lists
    exposure workforce --scores occupations.parquet -o workforce/   # exposure by group, wage, education, growth
    exposure reproduce eloundou --labels task_labels.tsv --ratings ratings.csv -o results/
    exposure prepare                                        # build the occupation indexes ahead of a batch job
    exposure transitions 51-2092.00 --top 5                 # less exposed occupations nearby, what to learn

Messages go to standard error through :mod:`logging` (the ``exposure`` logger; ``-q``
keeps only warnings and errors); results go to standard output or the output files.
Exit status: 0 done, 1 an operating-system error (disk full, permission denied, another
run on the same output), 2 bad input or options, 130 interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import NoReturn, Optional, Sequence

__all__ = ["main"]

_PREVIEW_ROWS = 25
logger = logging.getLogger("exposure")


def _add_score_tasks(sub) -> None:
    p = sub.add_parser(
        "score-tasks",
        help="score task statements in a file (CSV, TSV, Parquet, JSON Lines)",
        description="Score each task statement for exposure to AI and automation: a headline score in [0, 1], "
                    "a score per technology, and the three best-matching capability statements as evidence. "
                    "A status column says why a row has no score (empty, not_text, non_english). "
                    "Without -o, prints a table of the first rows.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("input", type=Path, help="input file: .csv, .tsv, .parquet or .jsonl (text formats may end in .gz)")
    p.add_argument("-o", "--output", type=Path, help="output file: .parquet or .csv (input columns + scores)")
    p.add_argument("--text-column", default="task", help="column holding the task statements")
    _add_encoding(p)
    _add_model_options(p)
    p.add_argument("--chunk-size", type=int, default=2048, help="rows read and scored at a time")
    p.add_argument("--technologies", nargs="+", default=None,
                   help="technologies pooled into the headline score (default: the capability set's headline)")
    _add_quiet(p)
    p.set_defaults(func=_score_tasks)


def _score_tasks(args: argparse.Namespace) -> int:
    import pyarrow as pa
    from tqdm.auto import tqdm

    from .encoder import resolve_device
    from .io import TableWriter, input_format, read_batches, typed_values

    # Check what is cheap to check before loading a model.
    fmt = input_format(args.input)
    resolve_device(args.device)
    batches = read_batches(args.input, [args.text_column], batch_size=args.chunk_size, encoding=args.encoding)
    first = next(batches)  # raises on a missing column or an empty file
    writer = TableWriter(args.output) if args.output else None  # an unwritable folder fails here, not later
    try:
        model = _model(args, technologies=args.technologies)
        if writer:
            writer.provenance = {**model.provenance(), "command": "score-tasks"}
        preview: list[pa.Table] = []
        start = time.perf_counter()
        bar = tqdm(unit="task", desc="scoring", disable=args.quiet or None, file=sys.stderr)
        total = 0
        counts: dict = {}
        for batch in _chain(first, batches):
            scores = model.score_tasks(typed_values(batch.column(args.text_column), fmt))
            status = scores.status
            scores = scores.to_arrow().drop_columns(["text"])
            table = pa.Table.from_batches([batch])
            for name in scores.column_names:
                table = table.append_column(name if name not in table.column_names else f"score_{name}",
                                            scores.column(name))
            if writer:
                writer.write(table)
            elif total < _PREVIEW_ROWS:
                preview.append(table)
            total += table.num_rows
            for s in status:
                counts[s] = counts.get(s, 0) + 1
            bar.update(table.num_rows)
        bar.close()
        if writer:
            writer.close()
    except BaseException:
        if writer:
            writer.abort()
        raise
    elapsed = time.perf_counter() - start
    skipped = {s: n for s, n in counts.items() if s != "ok"}
    if skipped:
        logger.warning("not scored (status column): %s", ", ".join(f"{n:,} {s}" for s, n in skipped.items()))
    if writer:
        logger.info(f"scored {total:,} tasks in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} tasks/s) "
                    f"-> {args.output}")
    else:
        _print_table(pa.concat_tables(preview), args.text_column, model.technologies, total)
    return 0


def _add_score_postings(sub) -> None:
    p = sub.add_parser(
        "score-postings",
        help="score job postings (title + text) in a file, in crash-safe streaming batches",
        description="Find the duties in each job posting, score them and average them per posting: exposure, a "
                    "score per technology, the share of duties exposed, the three most exposed duties as evidence, "
                    "the three likeliest O*NET-SOC occupations with confidences (ISCO-08 groups too with --taxonomy "
                    "isco08), the language, and a status per row; postings in 14 other languages are read through "
                    "the multilingual encoder when it is installed (pip install 'exposure[multilingual]'). Reads "
                    "Parquet, CSV/TSV or JSON Lines in chunks, commits each chunk to OUTPUT.parts/ and combines "
                    "them into OUTPUT at the end; after a crash, rerun with --resume. Writes OUTPUT.summary.json "
                    "(counts, cache hit rate, speed) and, when ids repeat or are missing, OUTPUT.rejected.parquet.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("input", type=Path, help="input file: .parquet, .csv, .tsv or .jsonl (text formats may end in .gz)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output file (.parquet)")
    p.add_argument("--id-column", default="id",
                   help="column holding the posting ids (one output row per id; the output keeps its name)")
    p.add_argument("--title-column", default="title", help="column holding the posting titles")
    p.add_argument("--text-column", default="description", help="column holding the posting texts (HTML or plain)")
    _add_encoding(p)
    _add_model_options(p, dtype="auto")
    p.add_argument("--chunk-size", type=int, default=1000,
                   help="postings scored and committed at a time (one part file each)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run (or finish its final combine) from OUTPUT.parts/")
    p.add_argument("--units", type=Path, default=None, metavar="UNITS.parquet",
                   help="also write what was counted: one row per unit of every scored posting (id, row, unit, "
                        "text, label, probability, encoded; for duties exposure, the technology scores and the "
                        "best-matching capability); local engine")
    p.add_argument("--cache-size", type=int, default=100_000,
                   help="distinct units whose embeddings are kept (LRU; 100,000 take about 170 MB; 0: none)")
    p.add_argument("--max-chars", type=int, default=100_000,
                   help="longer texts are cut to this length and scored (status 'truncated')")
    p.add_argument("--no-assign", action="store_true",
                   help="skip the O*NET-SOC occupation assignment (and so the fallback for postings without duties)")
    p.add_argument("--min-soc-confidence", type=float, default=None, metavar="X",
                   help="leave the occupations of a posting empty (soc_code_* null, soc_abstained true, no occupation "
                        "fallback) when its top calibrated confidence is below X, in [0, 1]. Coverage and top-1 "
                        "accuracy per threshold, out of fold on hand-coded real postings: "
                        "models/assign/calibration.json; OccupationAssigner.threshold_for gives X for a target coverage "
                        "or accuracy")
    p.add_argument("--taxonomy", default="onet", choices=("onet", "isco08"),
                   help="isco08: ISCO-08 groups too (isco08_1..3 unit groups with confidences, and the likeliest "
                        "major, sub-major and minor group), reached from the likeliest O*NET-SOC occupations "
                        "through SOC 2010 and the ILO/IBS concordance")
    p.add_argument("--workers", type=int, default=None,
                   help="processes that cut and filter the next postings while the model scores the current ones "
                        "(0: all in one process; default: all cores but one); the rows are the same either way")
    _add_quiet(p)
    g = p.add_argument_group(
        "cluster", "--engine ray scores on a Ray cluster (pip install 'exposure[ray]'): Ray Data reads the input, a "
                   "pool of workers that each load the model once scores it, and this process writes the same "
                   "OUTPUT, rejected and summary files as the local engine. Input and output must be on a "
                   "filesystem that every node sees at the same path. No --resume: Ray retries the batches of a "
                   "worker that dies.")
    g.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="'local': this process, crash-safe parts and --resume; 'ray': a Ray cluster")
    # No default values: a given option is one set on the command line (see _score_postings).
    g.add_argument("--address", default=argparse.SUPPRESS,
                   help="the Ray cluster to join ('auto' on a cluster node, or ray://HEAD:10001) (default: "
                        "$RAY_ADDRESS, else a Ray instance started on this machine)")
    g.add_argument("--num-workers", type=int, default=argparse.SUPPRESS,
                   help="scoring workers, each with its own model and unit cache (default: as many as the cluster "
                        "holds, leaving one CPU free for Ray Data's read tasks)")
    g.add_argument("--cpus-per-worker", type=float, default=argparse.SUPPRESS,
                   help="CPUs per worker, also its torch threads (default: 1)")
    g.add_argument("--gpus-per-worker", type=float, default=argparse.SUPPRESS,
                   help="GPUs per worker, fractions share a GPU (default: 1 when the cluster has GPUs and --device "
                        "is not cpu, else 0)")
    p.set_defaults(func=_score_postings)


def _score_postings(args: argparse.Namespace) -> int:
    from .jobs.run import score_postings_file

    cluster = {name: getattr(args, name) for name in _CLUSTER_OPTIONS if hasattr(args, name)}
    if args.engine == "local" and cluster:
        raise ValueError(f"{', '.join(_CLUSTER_OPTIONS[n] for n in cluster)} only apply to --engine ray; "
                         "add --engine ray or leave them out")
    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    options = _run_options(args)
    if args.engine == "ray":
        from .jobs.ray import require_ray

        try:
            require_ray()
        except ImportError as exc:
            raise ValueError(str(exc)) from None
    else:
        from .encoder import resolve_device

        resolve_device(args.device)
    score_postings_file(args.input, args.output, options, engine=args.engine, resume=args.resume,
                        units=args.units, workers=args.workers, show_progress=not args.quiet, **cluster)
    return 0


def _add_explain(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="show what one posting's score counted: its units, their labels and the duties' scores",
        description="Score one posting of a postings file as score-postings does and print what was counted: the "
                    "posting's status, scores and likeliest occupations, then every unit in order with the "
                    "classifier's label and probability and, for duties, the exposure and the best-matching "
                    "capability statement (the evidence).",
        epilog="example: exposure explain postings.parquet 3904567 --device cpu",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("input", type=Path,
                   help="postings file: .parquet, .csv, .tsv or .jsonl (text formats may end in .gz)")
    p.add_argument("id", help="the posting's id (compared as text)")
    p.add_argument("--id-column", default="id", help="column holding the posting ids")
    p.add_argument("--title-column", default="title", help="column holding the posting titles")
    p.add_argument("--text-column", default="description", help="column holding the posting texts")
    _add_encoding(p)
    _add_model_options(p, dtype="auto")
    p.add_argument("--no-assign", action="store_true", help="skip the occupation assignment")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    _add_quiet(p)
    p.set_defaults(func=_explain)


def _find_posting(path: Path, id_column: str, title_column: str, text_column: str, wanted: str,
                  encoding: str) -> tuple:
    """``(title, text)`` of the first row of ``path`` whose id, as text, is ``wanted``; ``ValueError`` if none."""
    from .io import input_format, read_batches, typed_values

    fmt = input_format(path)
    columns = list(dict.fromkeys([id_column, title_column, text_column]))
    for batch in read_batches(path, columns, encoding=encoding, only=True):
        ids = batch.column(batch.schema.get_field_index(id_column)).to_pylist()
        for i, value in enumerate(ids):
            if value is not None and str(value) == wanted:
                row = batch.slice(i, 1)
                title, text = (typed_values(row.column(row.schema.get_field_index(c)), fmt)[0]
                               for c in (title_column, text_column))
                return title, text
    raise ValueError(f"no posting with {id_column} {wanted!r} in {str(path)!r}")


def _explain(args: argparse.Namespace) -> int:
    import json

    from .jobs.options import RunOptions

    title, text = _find_posting(args.input, args.id_column, args.title_column, args.text_column, args.id,
                                args.encoding)
    scorer = RunOptions(assign=not args.no_assign, device=args.device, dtype=args.dtype, batch_size=args.batch_size,
                        capabilities=args.capabilities, zero_shot=args.zero_shot,
                        cache_size=0).build_scorer(show_progress=not args.quiet)
    got = scorer.score([title if isinstance(title, str) else None], [text], units=True)
    posting = got.to_arrow().to_pylist()[0]
    units = got.units.to_pylist()
    techs = got.technologies
    if args.json:
        record = {"id": args.id, "title": title, **posting,
                  "units": [{k: v for k, v in u.items() if k != "posting"} for u in units]}
        print(json.dumps(record, indent=2, ensure_ascii=False, default=str))
        return 0
    width = max(60, min(shutil.get_terminal_size((100, 20)).columns, 140))

    def num(v):
        return "-" if v is None else f"{v:.3f}"

    print(f"{args.id}  {title or '(no title)'}")
    print(f"status {posting['status']}; exposure {num(posting['exposure'])} ("
          + ", ".join(f"{t} {num(posting[f'exposure_{t}'])}" for t in techs)
          + f"); {posting['n_duties']} duties of {posting['n_units']} units; share exposed "
          f"{num(posting['share_exposed'])}")
    occupations = [(posting[f"soc_code_{r}"], posting[f"occupation_{r}"], posting[f"soc_confidence_{r}"])
                   for r in (1, 2, 3) if posting.get(f"soc_code_{r}")]
    if occupations:
        print("occupations: " + "; ".join(f"{c} {t} ({num(p)})" for c, t, p in occupations))
    elif not args.no_assign:
        print(f"occupations: none ({posting['assignment_basis'] or 'abstained'})")
    print()
    print(f"{'#':>3}  {'label':<11}  {'p':>4}  {'exposure':>8}  text")
    indent = " " * (3 + 2 + 11 + 2 + 4 + 2 + 8 + 2)
    for u in units:
        score = num(u["exposure"]) if u["exposure"] is not None else ""
        head = f"{u['unit']:>3}  {u['label']:<11}  {u['probability']:.2f}  {score:>8}  "
        lines = textwrap.wrap(u["text"], width - len(indent)) or [""]
        print(head + lines[0])
        for line in lines[1:]:
            print(indent + line)
        if u["capability"]:
            for k, line in enumerate(textwrap.wrap(u["capability"], width - len(indent) - 3)):
                print(indent + ("-> " if k == 0 else "   ") + line)
        elif u["capability_similarity"] is not None:
            print(indent + f"(no capability statement close enough: the best one's similarity is "
                           f"{u['capability_similarity']:.2f})")
    return 0


def _run_options(args: argparse.Namespace):
    """The RunOptions that the score-postings flags describe."""
    from .jobs.options import RunOptions

    return RunOptions(id_column=args.id_column, title_column=args.title_column, text_column=args.text_column,
                      encoding=args.encoding, chunk_size=args.chunk_size, assign=not args.no_assign,
                      max_chars=args.max_chars, min_soc_confidence=args.min_soc_confidence, device=args.device,
                      dtype=args.dtype, batch_size=args.batch_size, capabilities=args.capabilities,
                      zero_shot=args.zero_shot, cache_size=args.cache_size, taxonomy=args.taxonomy)


# The --engine ray options; left out, they are not set at all (their defaults depend on the cluster).
_CLUSTER_OPTIONS = {"address": "--address", "num_workers": "--num-workers", "cpus_per_worker": "--cpus-per-worker",
                    "gpus_per_worker": "--gpus-per-worker"}


def _model(args: argparse.Namespace, technologies=None):
    """The ExposureModel that the model options (see ``_add_model_options``) describe."""
    from .encoder import Encoder
    from .scoring import ExposureModel

    encoder = Encoder(device=args.device, dtype=args.dtype, batch_size=args.batch_size)
    return ExposureModel(encoder, getattr(args, "capabilities", "default"), technologies=technologies,
                         calibrated=False if args.zero_shot else None)


def _add_model_options(p: argparse.ArgumentParser, capabilities: bool = True, dtype: Optional[str] = None) -> None:
    p.add_argument("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'")
    if dtype == "auto":
        help_ = ("encoder precision; 'auto' (the default) is the fastest the hardware computes natively: float16 "
                 "on CUDA, bfloat16 on a CPU with AVX-512 BF16 or AMX (about 1.9x float32's speed, embeddings at "
                 "cosine >= 0.9998 to float32), float32 on other CPUs; float32 gives the reference scores")
    else:
        help_ = ("encoder precision; default float16 on CUDA, float32 on the CPU; 'auto': the fastest the hardware "
                 "computes natively (bfloat16 on a CPU with AVX-512 BF16 or AMX, about 1.9x float32's speed, "
                 "embeddings at cosine >= 0.9998 to float32)")
    p.add_argument("--dtype", default=dtype, choices=("auto", "float32", "float16", "bfloat16"), help=help_)
    p.add_argument("--batch-size", type=int, default=None,
                   help="the most texts per forward pass of the encoder (default: 64 on the CPU; on CUDA 4,096, "
                        "in batches of at most 32,768 tokens)")
    p.add_argument("--zero-shot", action="store_true",
                   help="headline exposure from the zero-shot rule (capability similarities only) instead of the "
                        "calibrated head; the head was fitted on the human labels of 715 O*NET occupations, so "
                        "only the zero-shot rule is independent evidence on those occupations")
    if capabilities:
        p.add_argument("--capabilities", default="default", help="capability set: 'default' or a YAML/JSON file")


def _add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages, only warnings and errors")


def _add_encoding(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoding", default="utf-8",
                   help="text encoding of a CSV/TSV/JSON Lines input (a Python codec name: latin-1, cp1252...); a "
                        "byte that is not valid in it is an error naming its line")


def _chain(first, rest):
    yield first
    yield from rest


def _print_table(table, text_column: str, technologies: Sequence[str], total: int) -> None:
    """A readable preview: headline exposure, the technology with the highest score, the task, its best evidence."""
    rows = table.slice(0, _PREVIEW_ROWS).to_pylist()
    width = max(80, shutil.get_terminal_size((140, 20)).columns)
    text_w = max(20, (width - 34) // 2)
    print(f"{'exposure':>8}  {'leading technology':<18}  {'task':<{text_w}}  best-matching capability")
    print("-" * min(width, 8 + 2 + 18 + 2 + text_w + 2 + text_w))
    for r in rows:
        techs = {t: r[f"exposure_{t}"] for t in technologies if r[f"exposure_{t}"] is not None}
        lead = max(techs, key=techs.get) if techs else None
        lead = f"{lead} {techs[lead]:.2f}" if lead else "-"
        score = "-" if r["exposure"] is None else f"{r['exposure']:.2f}"
        text = textwrap.shorten(r[text_column] or "(empty)", text_w, placeholder="...")
        ev = r["evidence_1_statement"]
        ev = "-" if ev is None else textwrap.shorten(f"{ev} ({r['evidence_1_similarity']:.2f})", text_w,
                                                    placeholder="...")
        print(f"{score:>8}  {lead:<18}  {text:<{text_w}}  {ev}")
    if total > len(rows):
        print(f"... {total - len(rows):,} more rows; pass -o FILE to write them all")


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="show the kernel build (SIMD, OpenMP, threads) and devices, or how a file "
                                    "of scores was made",
                       description="Show the version, the native kernel's SIMD path, OpenMP and threads, "
                                   "and whether CUDA is available. With FILE (a Parquet file written by "
                                   "score-tasks, occupations or score-postings), show how its scores were made: "
                                   "mode (calibrated or zero-shot), encoder and dtype, capability set and head "
                                   "with their checksums, package version.")
    p.add_argument("file", type=Path, nargs="?", help="a Parquet file of scores")
    _add_quiet(p)
    p.set_defaults(func=_info)


def _info(args: argparse.Namespace) -> int:
    if args.file is not None:
        import json

        from .io import read_provenance

        if args.file.is_dir():
            raise ValueError(f"{args.file} is a folder, not a file; give a Parquet file of scores that exposure "
                             "wrote (score-tasks, occupations, score-postings)")
        if not args.file.is_file():
            raise ValueError(f"{args.file}: no such file")
        record = read_provenance(args.file)
        if record is None:
            raise ValueError(f"{args.file} records no provenance: it was not written as Parquet by exposure 0.2 "
                             "or later (score-tasks, occupations, score-postings)")
        print(json.dumps(record, indent=2, sort_keys=True))
        return 0
    import torch

    from . import __version__
    from .kernels import build_info

    print(f"exposure {__version__}")
    for key, value in build_info().items():
        print(f"  kernel {key}: {value}")
    print(f"  torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    return 0


def _add_occupations(sub) -> None:
    # Kept in step with exposure.occupations.RELEASES / LEVELS (a test checks), so that
    # building the parser imports neither numpy nor pyarrow.
    p = sub.add_parser(
        "occupations",
        help="score every O*NET task and write one row per occupation",
        description="Score every task statement of an O*NET release and aggregate to occupations "
                    "(Core tasks weigh 2, others 1): exposure, a score per technology, the rank "
                    "(1 = most exposed) and the most exposed tasks of each occupation as evidence; "
                    "optionally rolled up to SOC 2018 or SOC 2010 codes. With --taxonomy isco08: the 436 ISCO-08 "
                    "unit groups, scored from the task lists of their ILO definitions (equal task weights; "
                    "--isco-source native) or from O*NET rolled up through SOC 2010 (plain means of the SOC "
                    "codes mapped to each unit group; --isco-source onet).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="output file: .parquet or .csv")
    p.add_argument("--release", default="27", choices=("27", "29.1"),
                   help="O*NET release (also the one rolled up by --taxonomy isco08 --isco-source onet)")
    p.add_argument("--level", default="onet", choices=("onet", "soc2018", "soc2010"),
                   help="occupation codes: O*NET-SOC detail, or rolled up to 6-digit SOC 2018 / SOC 2010")
    p.add_argument("--taxonomy", default="onet", choices=("onet", "isco08"),
                   help="'onet': O*NET occupations (see --level); 'isco08': ISCO-08 groups (see --isco-source)")
    p.add_argument("--isco-source", default=None, choices=("native", "onet"),
                   help="with --taxonomy isco08: 'native' scores the ILO task lists (3,273 statements, cached "
                        "embeddings); 'onet' rolls O*NET scores up through SOC 2010 (default: native)")
    p.add_argument("--isco-digits", type=int, default=None, choices=(1, 2, 3, 4),
                   help="with --taxonomy isco08: ISCO-08 level; below 4, the plain mean of the unit groups "
                        "(default: 4, unit groups)")
    p.add_argument("--top-tasks", type=int, default=3, help="most exposed tasks listed per occupation")
    p.add_argument("--scores", type=Path,
                   help="an O*NET-level table this command wrote: rolled up to --level (or to ISCO-08 with "
                        "--taxonomy isco08 --isco-source onet) without scoring the catalogue again")
    _add_model_options(p)
    _add_quiet(p)
    p.set_defaults(func=_occupations)


def _model_options_given(args: argparse.Namespace, what: str) -> None:
    """Raise when model options come with a --scores file, which was scored already (``what`` says how it is
    used)."""
    given = [name for name, value in (("--zero-shot", args.zero_shot), ("--device", args.device != "auto"),
                                      ("--dtype", args.dtype), ("--batch-size", args.batch_size)) if value]
    if given:
        raise ValueError(f"{', '.join(given)} describe(s) the model that scores O*NET when --scores is not "
                         f"given; --scores {args.scores} is {what} as it was scored. Leave {given[0]} out, "
                         "or make the file with those options: exposure occupations --zero-shot -o FILE")


def _occupations_from_scores(args: argparse.Namespace) -> int:
    """``exposure occupations --scores FILE``: an O*NET-level table rolled up, not scored again."""
    import pyarrow as pa

    from .io import TableWriter, read_batches, read_provenance
    from .occupations.tables import is_onet_level, to_level

    _model_options_given(args, "rolled up")
    table = pa.Table.from_batches(list(read_batches(args.scores, ["soc_code"])))
    if not is_onet_level(table):
        raise ValueError(f"--scores {args.scores} is not at O*NET-SOC level (codes like '11-1011.00'); give the "
                         "table 'exposure occupations -o FILE' wrote at its default --level onet")
    writer = TableWriter(args.output)
    prov = {"command": "occupations", "scores": str(args.scores), "scores_provenance": read_provenance(args.scores)}
    if args.taxonomy == "isco08":
        from .labour.isco import to_isco08, to_isco_level

        if args.level != "onet" or (args.isco_source or "onet") != "onet":
            raise ValueError("--scores with --taxonomy isco08 rolls the O*NET table up (--isco-source onet); "
                             "leave --level and --isco-source native out")
        digits = args.isco_digits or 4
        table = to_isco08(table)
        table = table if digits == 4 else to_isco_level(table, digits)
        prov.update(taxonomy="isco08", isco_source="onet", isco_digits=digits)
        what = f"ISCO-08 groups ({digits} digits)"
    else:
        if args.isco_source or args.isco_digits:
            raise ValueError("--isco-source and --isco-digits apply to --taxonomy isco08; add it or leave them out")
        table = to_level(table, args.level)
        prov.update(level=args.level)
        what = f"occupations ({args.level} level)"
    writer.provenance = prov
    with writer:
        writer.write(table)
    logger.info(f"rolled {args.scores} up: {table.num_rows:,} {what} -> {args.output}")
    return 0


def _occupations(args: argparse.Namespace) -> int:
    import pyarrow.compute as pc

    from .encoder import resolve_device
    from .io import TableWriter
    from .occupations.catalogue import load_tasks
    from .occupations.score import score_occupations

    if args.scores:
        return _occupations_from_scores(args)
    if args.taxonomy == "isco08":
        return _occupations_isco08(args)
    if args.isco_source or args.isco_digits:
        raise ValueError("--isco-source and --isco-digits apply to --taxonomy isco08; add it or leave them out")
    # Check what is cheap to check before scoring the catalogue.
    resolve_device(args.device)
    n_tasks = load_tasks(args.release).num_rows
    writer = TableWriter(args.output)
    model = _model(args)
    writer.provenance = {**model.provenance(), "command": "occupations", "release": args.release,
                         "level": args.level}
    logger.info(f"scoring the {n_tasks:,} tasks of O*NET {args.release}")
    start = time.perf_counter()
    table = score_occupations(model, args.release, level=args.level, top_tasks=args.top_tasks,
                              show_progress=not args.quiet)
    with writer:
        writer.write(table)
    logger.info(f"wrote {table.num_rows:,} occupations ({args.level} level) in {time.perf_counter() - start:.1f} s "
                f"-> {args.output}")
    n_labelled = pc.sum(table["labelled"]).as_py() or 0
    if n_labelled:
        logger.info(f"{n_labelled:,} of {table.num_rows:,} occupations are labelled (column 'labelled'): their "
                    "human labels trained the head, so 'exposure' scores them out of fold (heads fitted without "
                    "their labels) and 'exposure_in_sample' keeps the head's own score")
    top = table.filter(pc.less_equal(table["rank"], 10)).sort_by("rank").to_pylist()
    print(f"{'rank':>4}  {'exposure':>8}  {'code':<10}  {'labelled':<8}  title")
    for r in top:
        print(f"{r['rank']:>4}  {r['exposure']:>8.3f}  {r['soc_code']:<10}  {'yes' if r['labelled'] else 'no':<8}  "
              f"{r['title'] or '-'}")
    return 0


def _occupations_isco08(args: argparse.Namespace) -> int:
    """``exposure occupations --taxonomy isco08``: ISCO-08 groups, natively or rolled up from O*NET."""
    import pyarrow.compute as pc

    from .encoder import resolve_device
    from .io import TableWriter
    from .labour.isco import score_isco

    if args.level != "onet":
        raise ValueError("--level applies to --taxonomy onet; ISCO-08 tables take their level from --isco-digits")
    source, digits = args.isco_source or "native", args.isco_digits or 4
    resolve_device(args.device)
    writer = TableWriter(args.output)
    model = _model(args)
    how = ("ILO task lists, equal task weights" if source == "native" else
           f"O*NET {args.release} (Core tasks 2) -> SOC 2018 -> SOC 2010 -> ISCO-08, plain means")
    writer.provenance = {**model.provenance(), "command": "occupations", "taxonomy": "isco08", "isco_source": source,
                         "isco_digits": digits, "aggregation": how + ("" if digits == 4 else
                                                                      "; mean of unit groups"),
                         **({"release": args.release} if source == "onet" else {})}
    logger.info(f"scoring ISCO-08 ({how})")
    start = time.perf_counter()
    table = score_isco(model, source, digits=digits, release=args.release, top_tasks=args.top_tasks,
                       show_progress=not args.quiet)
    with writer:
        writer.write(table)
    logger.info(f"wrote {table.num_rows:,} ISCO-08 groups ({digits} digits, {source}) in "
                f"{time.perf_counter() - start:.1f} s -> {args.output}")
    top = table.filter(pc.less_equal(table["rank"], 10)).sort_by("rank").to_pylist()
    print(f"{'rank':>4}  {'exposure':>8}  {'isco08':<6}  title")
    for r in top:
        print(f"{r['rank']:>4}  {r['exposure']:>8.3f}  {r['isco08']:<6}  {r['title'] or '-'}")
    return 0


def _add_compare(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="correlate our occupation scores with a published index",
        description="Match a published occupation-level index to our occupation scores by code "
                    "(normalising '11-1011.00', '11-1011', '111011'; rolling our O*NET-level scores up "
                    "to SOC 2018 or SOC 2010) and report Spearman and Pearson correlations with 95% "
                    "bootstrap intervals. Without --scores, scores the O*NET 27 catalogue first "
                    "(about 2 minutes on a CPU).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("index", type=Path, help="index file: .csv, .tsv, .parquet or .jsonl")
    p.add_argument("--code-column", required=True, help="the index's occupation code column")
    p.add_argument("--value-column", required=True, help="the index's score column")
    p.add_argument("--code-system", required=True, choices=("onet", "soc2018", "soc2010", "isco08"),
                   help="the index's codes: O*NET-SOC (11-1011.00), SOC 2018 or SOC 2010 (11-1011), ISCO-08 unit "
                        "groups (2512, 'ISCO 2512')")
    p.add_argument("--isco-source", default=None, choices=("native", "onet"),
                   help="with --code-system isco08 and no --scores: score the ILO task lists ('native') or roll "
                        "O*NET 27 up to ISCO-08 ('onet') (default: native); an O*NET --scores file is rolled up")
    p.add_argument("--scores", type=Path, help="our occupation table (from 'exposure occupations'); "
                                               "without it, O*NET 27 is scored now")
    p.add_argument("--our-column", default="exposure", help="our score column to compare")
    p.add_argument("-o", "--output", type=Path, help="write the matched occupations (.parquet or .csv)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the intervals")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--max-unmatched", type=int, default=20, help="unmatched codes listed before truncating")
    _add_model_options(p, capabilities=False)
    _add_quiet(p)
    p.set_defaults(func=_compare)


def _compare(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from .io import TableWriter, read_batches
    from .occupations.compare import compare_index, read_index

    if args.scores:
        _model_options_given(args, "compared")
    isco = args.code_system == "isco08"
    if args.isco_source and not (isco and not args.scores):
        raise ValueError("--isco-source applies to --code-system isco08 without --scores (a --scores file is "
                         "compared as it is, an O*NET one rolled up to ISCO-08)")
    # Read the index and check the output path before any slow scoring.
    index = read_index(args.index, args.code_column, args.value_column)
    writer = TableWriter(args.output) if args.output else None
    if args.scores and isco:
        ours, _ = _read_isco_scores(args.scores)
    elif args.scores:
        ours = pa.Table.from_batches(list(read_batches(args.scores, ["soc_code"])))
    elif isco:
        from .encoder import resolve_device
        from .labour.isco import score_isco

        resolve_device(args.device)
        source = args.isco_source or "native"
        logger.info(f"no --scores: scoring ISCO-08 ({source}) with the default model")
        ours = score_isco(_model(args), source, show_progress=not args.quiet)
    else:
        from .encoder import resolve_device
        from .occupations.catalogue import load_tasks
        from .occupations.score import score_occupations

        resolve_device(args.device)
        model = _model(args)
        known = (["exposure", "alpha", "beta", "gamma", "gpt4_automation", "automation_exposure"]
                 + [f"exposure_{t}" for t in model.technologies])
        if args.our_column not in known:
            raise ValueError(f"--our-column {args.our_column!r} is not a column of the occupation table; "
                             f"use one of: {', '.join(known)}")
        logger.info(f"no --scores: scoring the {load_tasks('27').num_rows:,} tasks of O*NET 27 with the default "
                    "model (about 2 minutes on a CPU)")
        ours = score_occupations(model, "27", show_progress=not args.quiet)
    result = compare_index(index, ours, "code", "value", args.code_system, our_column=args.our_column,
                           n_boot=args.n_boot, seed=args.seed)
    print(f"{args.index} ({args.value_column}) vs our {args.our_column}")
    print(result.summary(max_unmatched=args.max_unmatched))
    if writer:
        with writer:
            writer.write(result.joined)
        logger.info(f"wrote {result.n_matched:,} matched occupations -> {args.output}")
    return 0


def _add_workforce(sub) -> None:
    p = sub.add_parser(
        "workforce",
        help="who is exposed: occupation scores joined with employment, wages, education and projections",
        description="Join occupation scores with BLS employment (OEWS May 2021, or --employment) and report "
                    "employment-weighted exposure by SOC major group, wage quintile and entry education; the "
                    "share of workers whose occupations have at least 10% / 50% of tasks exposed; exposure "
                    "against projected employment change 2022-32 and wage, with the occupations that grow and "
                    "are little exposed and those that shrink and are highly exposed (BLS Table 1.12 reasons "
                    "as evidence). Writes tables, summary.md and PNG plots (matplotlib) into the folder. "
                    "Without --scores, the O*NET 29.1 catalogue is scored with the default model (cached).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("-o", "--output", type=Path, help="output folder (created); required unless --list-countries")
    p.add_argument("--scores", type=Path, help="occupation table from 'exposure occupations -o FILE' "
                                               "(O*NET-SOC or SOC 2018 codes in soc_code)")
    p.add_argument("--task-labels", type=Path,
                   help="task labels (TSV/CSV: soc_code, task_id, human_exposure E0/E1/E2) for the shares of "
                        "exposed tasks; default: the occupation table's beta")
    p.add_argument("--task-scores", type=Path,
                   help="task scores (soc_code, task_id, p_e1, p_e2, e.g. 'exposure score-tasks' of the catalogue) "
                        "for the shares of exposed tasks")
    p.add_argument("--employment", type=Path,
                   help="employment table (CSV/TSV/Parquet: a SOC 2018 code column and an employment column, "
                        "people); default: BLS OEWS May 2021 detailed occupations")
    p.add_argument("--taxonomy", default="soc2018", choices=("soc2018", "isco08"),
                   help="the codes of --employment: SOC 2018 (US, with wages, education and projections), or "
                        "ISCO-08 groups of one level, unit groups or 1-3 digit groups (any country's labour-force "
                        "survey: employment-weighted exposure overall and by ISCO major group; "
                        "examples/isco_employment.csv and examples/isco_employment_deu_major.csv show the format)")
    p.add_argument("--country", metavar="CODE",
                   help="with --taxonomy isco08, instead of --employment: a country's employment by ISCO-08 "
                        "sub-major group from the shipped ILOSTAT table (ISO 3166 alpha-3 code such as DEU, or the "
                        "country's name; --list-countries lists the 97 countries)")
    p.add_argument("--year", type=int, help="--country's survey year (default: the latest the table has)")
    p.add_argument("--sex", default="T", choices=("T", "M", "F", "all"),
                   help="--country's employment of both sexes (T), men (M), women (F), or 'all': the table by "
                        "sex too (by_sex), for every sex the ILOSTAT table has")
    p.add_argument("--ilostat", type=Path,
                   help="an ILOSTAT employment file (EMP_TEMP_SEX_OC2_NB bulk CSV: country_code, country, source, "
                        "sex, year, isco08_2digit, employment_thousands) to read --country from instead of the "
                        "shipped table, which holds both sexes' totals only")
    p.add_argument("--list-countries", action="store_true",
                   help="print the countries of the ILOSTAT table (code, name, years, sexes) and stop")
    p.add_argument("--code-column", default=None,
                   help="--employment's code column (default: soc_code, or isco08 with --taxonomy isco08)")
    p.add_argument("--employment-column", default="employment", help="--employment's employment column")
    p.add_argument("--no-residuals", action="store_true",
                   help="leave 'All other' occupations unmatched instead of giving them their broad group's mean")
    p.add_argument("--thresholds", default="0.1,0.5",
                   help="shares of exposed tasks reported: the share of workers whose occupation has at least each "
                        "of these shares exposed (comma-separated, in (0, 1])")
    p.add_argument("--by", default="exposure",
                   help="the score column the growth lists rank and cut by (any score column of --scores, e.g. "
                        "exposure_robotics, automation); the 'growing and little exposed' list leaves out "
                        "occupations whose BLS Table 1.12 reasons name a technology of it")
    p.add_argument("--format", default="csv", choices=("csv", "parquet"), help="table format")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    _add_quiet(p)
    p.set_defaults(func=_workforce)


def _thresholds(text: str) -> list:
    """``--thresholds``: comma-separated shares in (0, 1]."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--thresholds {text!r}: give shares separated by commas, e.g. 0.1,0.25,0.5") from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise ValueError(f"--thresholds {text!r}: every share must lie in (0, 1], e.g. 0.1,0.25,0.5")
    return values


def _workforce(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from .io import read_batches, read_provenance
    from .labour import workforce
    from .labour.employment import read_employment

    if args.list_countries:
        from .labour.ilostat import ilostat_countries

        for r in ilostat_countries(args.ilostat).to_pylist():
            print(f"{r['country_code']}\t{r['country']}\t{r['years']}\t{r['sexes']}")
        return 0
    if args.output is None:
        raise ValueError("workforce needs -o/--output FOLDER")
    if args.task_labels and args.task_scores:
        raise ValueError("give --task-labels or --task-scores, not both")
    _thresholds(args.thresholds)  # checked before any slow work
    country_options = [o for o, v in (("--country", args.country), ("--year", args.year),
                                      ("--sex", args.sex != "T"), ("--ilostat", args.ilostat)) if v]
    if country_options and args.taxonomy != "isco08":
        raise ValueError(f"{', '.join(country_options)} take(s) --taxonomy isco08 (ILOSTAT counts workers by "
                         "ISCO-08 group)")
    if args.taxonomy == "isco08":
        if args.by != "exposure" or args.thresholds != "0.1,0.5":
            raise ValueError("--by and --thresholds apply to the SOC 2018 view (growth lists, task shares); the "
                             "ISCO-08 view has neither: leave them out with --taxonomy isco08")
        return _workforce_isco(args)
    args.code_column = args.code_column or "soc_code"

    def read(path: Path, columns: list) -> pa.Table:
        return pa.Table.from_batches(list(read_batches(path, columns)))

    # Read every input before any slow scoring.
    start = time.perf_counter()
    employment = read_employment(args.employment, args.code_column, args.employment_column) if args.employment else None
    tasks, source = None, ""
    if args.task_labels:
        tasks, source = read(args.task_labels, ["soc_code", "task_id", "human_exposure"]), f"labels {args.task_labels}"
    elif args.task_scores:
        tasks, source = read(args.task_scores, ["soc_code"]), f"task scores {args.task_scores}"
    if tasks is not None:
        logger.info(f"read {tasks.num_rows:,} tasks ({source})")
    if args.scores:
        scores = read(args.scores, ["soc_code"])
        provenance = {"scores": str(args.scores), "scores_provenance": read_provenance(args.scores)}
        logger.info(f"read {scores.num_rows:,} occupations from {args.scores}")
    else:
        from .occupations.score import cached_occupation_scores
        from .scoring import ExposureModel

        logger.info("no --scores: the O*NET 29.1 occupation scores of the default model (cached on disk after "
                    "the first run, which takes a few minutes on a CPU)")
        model = ExposureModel()
        scores = cached_occupation_scores(model, "29.1")
        provenance = {**model.provenance(), "release": "29.1"}
    provenance.update({"command": "workforce",
                       "employment": str(args.employment) if args.employment else "OEWS May 2021",
                       "task_source": source or None})
    result = workforce(scores, employment=employment, tasks=tasks, task_source=source,
                       residuals=not args.no_residuals, provenance=provenance, by=args.by,
                       thresholds=_thresholds(args.thresholds))
    logger.info(f"writing tables{'' if args.no_plots else ', plots'} and summary.md -> {args.output}")
    paths = result.write(args.output, fmt=args.format, plots=not args.no_plots)
    c = result.coverage
    print(f"{c['workers']:,.0f} workers in {c['occupations']:,} occupations; {100 * c['matched_share']:.1f}% matched "
          f"to a score (exact {100 * c['share_exact']:.1f}%, hybrid/broad {100 * c['share_hybrid']:.1f}%, "
          f"residual {100 * c['share_residual']:.1f}%)")
    for r in (result.task_shares.to_pylist() if result.task_shares is not None else []):
        interval = (f" (90% interval {100 * r['share_low']:.1f}-{100 * r['share_high']:.1f}%)"
                    if r.get("share_low") is not None else "")
        print(f"{r['measure']}: {100 * r['share_of_workers']:.1f}% of workers have >= {r['threshold']:.0%} "
              f"of their tasks exposed{interval}")
    print(f"wrote {len(paths)} files in {time.perf_counter() - start:.1f} s -> {args.output}")
    return 0


def _read_isco_scores(path: Path):
    """A scores file for an ISCO-08 view, and whether it was rolled up: an ISCO-08 table as it is, an O*NET or
    SOC one (``soc_code``) rolled up to ISCO-08 unit groups; any other table as read (the caller says what is
    missing)."""
    import pyarrow as pa

    from .io import read_batches

    table = pa.Table.from_batches(list(read_batches(path)))
    if "isco08" not in table.column_names and "soc_code" in table.column_names:
        from .labour.isco import to_isco08

        logger.info(f"rolling {path} up to ISCO-08 unit groups (SOC 2010 -> ISCO-08, plain means)")
        return to_isco08(table), True
    return table, False


def _workforce_isco(args: argparse.Namespace) -> int:
    """``workforce --taxonomy isco08``: an ISCO-08 employment table weighed with our ISCO-08 scores."""
    from .io import read_provenance
    from .labour.isco import read_isco_employment, score_isco
    from .labour.workforce import isco_workforce

    given = [o for o, v in (("--task-labels", args.task_labels), ("--task-scores", args.task_scores),
                            ("--no-residuals", args.no_residuals)) if v]
    if given:
        raise ValueError(f"{', '.join(given)} belong(s) to the SOC 2018 view (US tasks and OEWS codes); leave "
                         "them out with --taxonomy isco08")
    if bool(args.employment) == bool(args.country):
        raise ValueError("--taxonomy isco08 needs --employment FILE (employment by ISCO-08 group: columns isco08, "
                         "employment; see examples/isco_employment.csv) or --country CODE, one of them")
    if (args.year is not None or args.sex != "T" or args.ilostat) and not args.country:
        raise ValueError("--year, --sex and --ilostat choose --country's ILOSTAT employment: give --country")
    start = time.perf_counter()
    by_sex = None
    if args.country:
        import pyarrow.compute as pc

        from .labour.ilostat import SEXES, ilostat_employment, ilostat_table

        sex = "T" if args.sex == "all" else args.sex
        source = ilostat_table(args.ilostat) if args.ilostat else None  # a file is read once
        employment, about = ilostat_employment(args.country, year=args.year, sex=sex, source=source)
        code_column, employment_column = "isco08", "employment"
        if args.sex == "all":
            table = ilostat_table(source)
            have = set(table.filter(pc.equal(table["country_code"], about["country_code"]))["sex"].to_pylist())
            by_sex = {s: employment if s == sex else
                      ilostat_employment(about["country_code"], year=about["year"], sex=s, source=source)[0]
                      for s in SEXES if s in have}
            if set(by_sex) == {"T"}:
                logger.warning(f"the ILOSTAT table has no employment by sex for {about['country']} (totals only); "
                               "by_sex holds the total: give --ilostat FILE with M and F rows for a breakdown")
        where = (f"ILOSTAT {about['country']} ({about['country_code']}) {about['year']}, {SEXES[sex]}, "
                 f"{about['survey']}")
        logger.info(f"{where}: {about['workers']:,.0f} workers, {about['not_classified']:,.0f} in no occupation group")
    else:
        code_column = args.code_column or "isco08"
        employment_column = args.employment_column
        employment = read_isco_employment(args.employment, code_column, employment_column)  # before scoring
        where = str(args.employment)
        logger.info(f"read {employment.num_rows:,} ISCO-08 groups from {args.employment}")
    if args.scores:
        scores, rolled_up = _read_isco_scores(args.scores)
        if "isco08" not in scores.column_names:
            raise ValueError(f"--scores {args.scores} has neither an isco08 nor a soc_code column; make it with "
                             "'exposure occupations --taxonomy isco08 -o FILE' or 'exposure occupations -o FILE'")
        provenance = {"scores": str(args.scores), "scores_provenance": read_provenance(args.scores),
                      **({"isco_source": "onet"} if rolled_up else {})}
    else:
        from .scoring import ExposureModel

        logger.info("no --scores: scoring the ISCO-08 unit groups from their ILO task lists with the default "
                    "model (about a minute on a CPU the first time, cached after)")
        model = ExposureModel()
        scores = score_isco(model, "native", show_progress=not args.quiet)
        provenance = {**model.provenance(), "isco_source": "native"}
    provenance.update({"command": "workforce", "taxonomy": "isco08", "employment": where})
    if args.country:
        provenance["ilostat"] = about
    result = isco_workforce(scores, employment, provenance=provenance, by_sex=by_sex, code_column=code_column,
                            employment_column=employment_column, employment_name=where)
    paths = result.write(args.output, fmt=args.format, plots=not args.no_plots)
    c = result.coverage
    print(f"{c['workers']:,.0f} workers in {c['unit_groups']:,} ISCO-08 {c['level']}; "
          f"{100 * c['matched_share']:.1f}% matched to a score")
    print("employment-weighted: " + ", ".join(f"{k} {v:.3f}" for k, v in result.overall.items()))
    print(f"wrote {len(paths)} files in {time.perf_counter() - start:.1f} s -> {args.output}")
    return 0


def _add_reproduce(sub) -> None:
    p = sub.add_parser(
        "reproduce",
        help="cross-validate the calibrated head against published labels (Eloundou et al. 2023)",
        description="Reproduce a published evaluation. 'eloundou': 5-fold cross-validation grouped by "
                    "occupation of the calibrated heads (retrained within each fold) on a task label file of "
                    "Eloundou et al. (2023), against the zero-shot rule and GPT-4's labels, with 95% bootstrap "
                    "intervals over occupations; prints the table and writes metrics.md, metrics.json and plots.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("study", choices=("eloundou",), help="the evaluation to reproduce")
    p.add_argument("--labels", type=Path, required=True,
                   help="task labels (TSV/CSV: soc_code, task_id, human_exposure, gpt4_exposure, gpt4_automation)")
    p.add_argument("--ratings", type=Path, required=True,
                   help="occupation ratings (CSV/TSV: soc_code, human_rating_beta)")
    p.add_argument("--tasks", type=Path, default=None,
                   help="O*NET task catalogue (soc_code, task_id, task, weight); default: the shipped O*NET 27")
    p.add_argument("-o", "--output", type=Path, default=Path("eloundou"), help="folder for the table and plots")
    p.add_argument("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda' or 'cuda:N'")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (grouped by occupation)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of occupations for the intervals")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--embeddings-cache", type=Path, default=None,
                   help="reuse the task embeddings saved here (.npz), or save them there")
    _add_quiet(p)
    p.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    from .encoder import resolve_device
    from .training.eloundou import reproduce_eloundou

    resolve_device(args.device)
    if args.folds < 2 or args.bootstrap < 0:
        raise ValueError(f"--folds must be at least 2 and --bootstrap at least 0, got {args.folds}, {args.bootstrap}")
    # The command as given, options in a fixed order, for the report.
    command = f"exposure reproduce {args.study} --labels {args.labels} --ratings {args.ratings}"
    command += f" --tasks {args.tasks}" if args.tasks else ""
    command += f" -o {args.output} --device {args.device} --folds {args.folds} --bootstrap {args.bootstrap}"
    command += f" --embeddings-cache {args.embeddings_cache}" if args.embeddings_cache else ""
    report = reproduce_eloundou(args.labels, args.ratings, args.tasks, args.output, device=args.device,
                                folds=args.folds, n_boot=args.bootstrap, seed=args.seed,
                                embeddings_cache=args.embeddings_cache, command=command, log=logger.info,
                                show_progress=not args.quiet)
    print(report["table"])
    return 0


def _add_prepare(sub) -> None:
    p = sub.add_parser(
        "prepare",
        help="build and cache the occupation indexes for a model, ahead of a batch job",
        description="Encode the O*NET 29.1 titles and tasks that score-postings assigns occupations with, and "
                    "score the occupations used for postings without duties, for the model the options "
                    "describe, and cache them on disk (several minutes on a CPU, once per encoder and dtype). "
                    "score-postings does this at first use; running it ahead keeps a batch job's first run from "
                    "spending those minutes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _add_model_options(p)
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="cache folder (default: $EXPOSURE_CACHE_DIR, else $XDG_CACHE_HOME/exposure, else "
                        "~/.cache/exposure)")
    _add_quiet(p)
    p.set_defaults(func=_prepare)


def _prepare(args: argparse.Namespace) -> int:
    from .encoder import resolve_device
    from .occupations.assign import OccupationAssigner
    from .occupations.score import cached_occupation_scores

    resolve_device(args.device)
    start = time.perf_counter()
    model = _model(args)
    assigner = OccupationAssigner(model.encoder, cache_dir=args.cache_dir, show_progress=not args.quiet)
    logger.info(f"occupation indexes for {model.encoder.name} ({model.encoder.dtype}) in {assigner.cache_dir}")
    assigner.title_index()
    assigner.task_index()
    built = [k for k, cached in assigner.loaded_from_cache.items() if cached is False]
    logger.info("occupation scores for the fallback of postings without duties (O*NET 29.1)")
    cached_occupation_scores(model, "29.1", embeddings=assigner.catalogue_task_embeddings(),
                             cache_dir=args.cache_dir)
    print(f"ready in {time.perf_counter() - start:.1f} s: " + (f"built the {' and '.join(built)} index" if built
                                                             else "the indexes were cached already")
          + f", cached in {assigner.cache_dir}")
    return 0


def _add_transitions(sub) -> None:
    p = sub.add_parser(
        "transitions",
        help="nearby occupations with lower exposure, and what moving there asks",
        description="Rank the O*NET 29.1 occupations whose exposure is lower than OCCUPATION's, and that are moves up "
                    "unless told otherwise (projected to grow, paying at least as much, no more exposed to any "
                    "technology, at most one job zone up), by how similar their work is: 0.5 x the Jaccard overlap of their Detailed Work Activities + 0.5 x the mean "
                    "best-match similarity of their tasks (both directions). Each suggestion comes with its "
                    "exposure difference, BLS median wage, projected employment change 2022-32 and typical entry "
                    "education, the DWAs and tasks to learn and those that carry over. The task embeddings are "
                    "those the occupation assigner caches (built at first use); without --scores the O*NET 29.1 "
                    "catalogue is scored (cached after the first run).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("occupation", help="an O*NET-SOC code (51-2092.00, 51-2092) or an occupation title")
    p.add_argument("--scores", type=Path,
                   help="occupation table at O*NET level ('exposure occupations --release 29.1 -o FILE'); without "
                        "it, the catalogue is scored with the model options")
    p.add_argument("--by", default="exposure",
                   help="the exposure compared: exposure, automation_exposure or exposure_<technology>")
    p.add_argument("--top", type=int, default=10, help="suggestions listed")
    p.add_argument("--min-difference", type=float, default=0.0,
                   help="keep occupations whose exposure is at least this much lower")
    p.add_argument("--min-growth", default="0", metavar="PERCENT",
                   help="keep occupations projected to change by at least this (BLS 2022-32, percent); 'none': "
                        "any, and occupations without a projection too")
    p.add_argument("--min-wage-ratio", default="1", metavar="X",
                   help="keep occupations whose median wage is at least X times the source's; 'none': any")
    p.add_argument("--max-zone-step", default="1", metavar="N",
                   help="keep occupations at most N O*NET job zones (1-5, the preparation needed) above the source's; "
                        "'none': any")
    p.add_argument("--any-technology", action="store_true",
                   help="keep occupations more exposed than the source to some technology (by default a move "
                        "must not raise any exposure_<technology>)")
    p.add_argument("--items", type=int, default=3, help="DWAs and tasks listed per suggestion in each list")
    p.add_argument("-o", "--output", type=Path,
                   help="write the suggestions (.parquet, with provenance, or .csv, lists joined by ' | ')")
    _add_model_options(p)
    _add_quiet(p)
    p.set_defaults(func=_transitions)


def _number_or_none(text: str, option: str):
    """A number, or ``None`` for ``none`` / ``any`` (the filter off)."""
    if text.strip().lower() in ("none", "any"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{option}: give a number or 'none', got {text!r}") from None


def _transitions(args: argparse.Namespace) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    from .encoder import Encoder, resolve_device
    from .io import TableWriter, read_batches, read_provenance
    from .labour.transitions import TransitionIndex, exposure_columns, transitions
    from .occupations.assign import OccupationAssigner

    args.min_growth = _number_or_none(args.min_growth, "--min-growth")
    args.min_wage_ratio = _number_or_none(args.min_wage_ratio, "--min-wage-ratio")
    args.max_zone_step = _number_or_none(args.max_zone_step, "--max-zone-step")
    if args.max_zone_step is not None:
        if args.max_zone_step != int(args.max_zone_step):
            raise ValueError(f"--max-zone-step: give a whole number of job zones or 'none', got {args.max_zone_step}")
        args.max_zone_step = int(args.max_zone_step)
    if args.top < 1 or args.items < 0 or args.min_difference < 0:
        raise ValueError(f"--top must be at least 1, --items and --min-difference at least 0; got {args.top}, "
                         f"{args.items}, {args.min_difference}")
    # Check what is cheap to check (the scores file, the output folder) before loading a model.
    resolve_device(args.device)
    scores = pa.Table.from_batches(list(read_batches(args.scores, ["soc_code"]))) if args.scores else None
    if scores is not None and args.by not in exposure_columns(scores):
        raise ValueError(f"--by {args.by}: {args.scores} has no such exposure column; use one of: "
                         f"{', '.join(exposure_columns(scores)) or '(none: not an occupation table)'}")
    writer = TableWriter(args.output) if args.output else None
    try:
        if scores is None:
            model = _model(args)
            encoder = model.encoder
            provenance = model.provenance()
        else:
            model = None
            encoder = Encoder(device=args.device, dtype=args.dtype, batch_size=args.batch_size)
            provenance = {"scores": str(args.scores), "scores_provenance": read_provenance(args.scores),
                          "encoder": str(encoder.name), "dtype": str(encoder.dtype)}
        assigner = OccupationAssigner(encoder, show_progress=not args.quiet)
        logger.info("loading the O*NET 29.1 task embeddings (built at first use and cached)")
        index = TransitionIndex.from_encoder(assigner=assigner)
        table = transitions(args.occupation, scores, by=args.by, top=args.top, index=index, model=model,
                            assigner=assigner, min_difference=args.min_difference, max_items=args.items,
                            min_growth=args.min_growth, min_wage_ratio=args.min_wage_ratio,
                            any_technology=args.any_technology, max_zone_step=args.max_zone_step)
        if writer:
            from . import __version__

            writer.provenance = {"exposure_version": __version__, **provenance, "command": "transitions",
                                 "occupation": args.occupation, "by": args.by, "weights": index.weights,
                                 "min_difference": args.min_difference, "min_growth": args.min_growth,
                                 "min_wage_ratio": args.min_wage_ratio, "any_technology": args.any_technology,
                                 "max_zone_step": args.max_zone_step}
            out = table
            if writer.format == "csv":  # CSV has no lists
                for name in [f.name for f in table.schema if pa.types.is_list(f.type)]:
                    out = out.set_column(out.column_names.index(name), name,
                                         pc.binary_join(table[name], " | "))
            writer.write(out)
            writer.close()
    except BaseException:
        if writer:
            writer.abort()
        raise
    if table.num_rows == 0:
        print(f"no occupation with tasks is less exposed ({args.by}) than {args.occupation} and a move up under the "
              "filters (--min-growth, --min-wage-ratio, --max-zone-step, --any-technology)")
        return 0
    first = table.slice(0, 1).to_pylist()[0]
    print(f"{first['from_soc_code']} {first['from_title']}: {args.by} {first[f'from_{args.by}']:.3f}")
    print(f"{'rank':>4}  {'score':>5}  {'diff':>6}  {'wage':>8}  {'growth':>6}  {'code':<10}  title / entry education")
    for r in table.to_pylist():
        wage = "-" if r["median_wage_2022"] is None else f"{r['median_wage_2022']:,.0f}"
        growth = "-" if r["employment_change_percent"] is None else f"{r['employment_change_percent']:+.1f}%"
        print(f"{r['rank']:>4}  {r['score']:>5.3f}  {r[f'{args.by}_difference']:>+6.3f}  {wage:>8}  {growth:>6}  "
              f"{r['soc_code']:<10}  {r['title']} / {r['entry_education'] or '-'}")
        for label, key in (("learn", "dwas_to_learn"), ("keep", "dwas_carry_over"), ("skills", "skills_to_learn"),
                           ("tools", "technologies_to_learn")):
            if r[key]:
                print(f"{'':>6}{label}: " + "; ".join(r[key][:2]))
    if writer:
        logger.info(f"wrote {table.num_rows} suggestions -> {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``exposure`` parser: one sub-parser per command, each added by the ``_add_<command>`` beside it."""
    parser = argparse.ArgumentParser(
        prog="exposure",
        description="Measure how exposed tasks and occupations are to AI and automation "
                    "(language models, software, machine vision, robotics, autonomous vehicles).",
        epilog="Run 'exposure COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_score_tasks, _add_score_postings, _add_explain, _add_info, _add_prepare, _add_occupations, _add_compare,
                _add_reproduce, _add_transitions, _add_workforce):
        add(sub)
    return parser


def _configure_logging(quiet: bool) -> None:
    """The library's messages (the ``exposure`` logger) to standard error; ``-q`` keeps warnings and errors."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.set_name("exposure-cli")
    for old in [h for h in logger.handlers if h.get_name() == "exposure-cli"]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``exposure`` command; returns the exit status."""
    from .io import os_error_message

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    batch_size = getattr(args, "batch_size", None)
    if (batch_size is not None and batch_size < 1) or getattr(args, "chunk_size", 1) < 1:
        parser.error("--batch-size and --chunk-size must be at least 1")
    _configure_logging(getattr(args, "quiet", False))
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"exposure {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        from .jobs.output import JobFailedError

        if not isinstance(exc, JobFailedError):
            raise
        print(f"exposure {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"exposure {args.command}: error: {os_error_message(exc, getattr(args, 'output', None))}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        resume = (f"; the parts committed so far are kept in {args.output}.parts: rerun with --resume to go on"
                  if args.command == "score-postings" and getattr(args, "engine", "local") == "local" else "")
        print(f"exposure {args.command}: interrupted{resume}", file=sys.stderr)
        return 130


def run(argv: Optional[Sequence[str]] = None) -> NoReturn:
    """The ``exposure`` command as a process: :func:`main`, then the exit without the interpreter's teardown.

    Unloading torch and transformers when a process ends takes about a second. After :func:`main` returns,
    the exit handlers still run (:mod:`atexit`: logging, Ray, temporary folders) and the standard streams are
    flushed; then the process ends at once with main's status. ``--help``, usage errors and crashes end the
    usual way.
    """
    code = main(argv)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`exposure info | head`)
                pass
        os._exit(code)


if __name__ == "__main__":
    run()
