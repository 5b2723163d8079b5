"""Helpers shared by test modules: small occupation data, generated and labelled postings, files, commands."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

#: The repository root.
ROOT = Path(__file__).resolve().parents[1]
#: The labelled synthetic postings.
POSTINGS = ROOT / "tests" / "data" / "postings"
#: The source data (O*NET, labels, BLS) beside the repository, or $EXPOSURE_DATA.
SHARED_DATA = Path(os.environ.get("EXPOSURE_DATA", ROOT.parent / "shared" / "data"))
#: Skips a test where the source data is not at hand.
needs_shared_data = pytest.mark.skipif(not (SHARED_DATA / "task_labels_train.tsv").is_file(),
                                       reason=f"shared data not found at {SHARED_DATA} (set EXPOSURE_DATA)")

CODES = ["43-4051.00", "53-3032.00", "29-1141.00", "15-1252.00", "47-2111.00", "35-2014.00"]
NAMES = ["Customer Service Representatives", "Heavy and Tractor-Trailer Truck Drivers", "Registered Nurses",
         "Software Developers", "Electricians", "Cooks, Restaurant"]
GERMAN = ("Sie planen und steuern die Produktion, pflegen die Stammdaten im ERP-System und arbeiten eng mit dem "
          "Einkauf und der Logistik zusammen. Sie optimieren Abläufe, erstellen Auswertungen und unterstützen die "
          "Teams vor Ort bei der Einführung neuer Prozesse.")


def small_assigner(encoder):
    """An OccupationAssigner over six occupations (their O*NET 29.1 tasks), built in seconds."""
    from exposure.occupations import OccupationAssigner
    from exposure.occupations import load_tasks

    tasks = load_tasks("29.1")
    tasks = tasks.filter(pc.is_in(tasks["soc_code"], pa.array(CODES)))
    titles = pa.table({"soc_code": CODES, "title": NAMES})
    return OccupationAssigner(encoder, titles=titles, tasks=tasks.select(["soc_code", "task"]),
                              occupations=titles, cache_dir=False)


def occupation_table(technologies):
    values = np.linspace(0.1, 0.6, len(CODES))
    cols = {"soc_code": CODES, "exposure": values}
    for k, t in enumerate(technologies):
        cols[f"exposure_{t}"] = values / (k + 2)
    return pa.table(cols)


def generated_postings(n: int, seed: int, style: str = "templated") -> list:
    """``n`` postings (id, title, description) from benchmarks/generate_postings.py, generated in this process.

    The templated style by default: every posting has duties, and its texts repeat, so that runs take seconds.
    """
    spec = importlib.util.spec_from_file_location("generate_postings", ROOT / "benchmarks" / "generate_postings.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return pa.Table.from_batches(list(gen.generate(n, seed=seed, style=style)), schema=gen.SCHEMA).to_pylist()


def repeated_postings(n: int, distinct: int, seed: int) -> list:
    """``n`` postings with ids ``job-0000``... sharing ``distinct`` generated texts, so that a run takes seconds."""
    gen = generated_postings(distinct, seed=seed)
    return [{"id": f"job-{i:04d}", "title": gen[i % distinct]["title"],
             "description": gen[i % distinct]["description"]} for i in range(n)]


def cli_command(input: Path, output: Path, *options: str) -> tuple:
    """``(argv, env)`` of an ``exposure score-postings`` process on the CPU in float32 (the reference scores'
    precision), without occupations."""
    argv = [sys.executable, "-m", "exposure", "score-postings", str(input), "-o", str(output), "--no-assign",
            "--device", "cpu", "--dtype", "float32", "-q", *options]
    return argv, dict(os.environ, PYTHONPATH=str(ROOT))


def killable_run(folder: Path) -> tuple:
    """``(rows, argv, env, output)`` of an ``exposure score-postings`` run long enough to kill in the middle:
    300 postings sharing 6 texts written to ``folder/in.parquet``, chunks of 10, one text worker."""
    rows = repeated_postings(300, 6, seed=5)
    write_rows(rows, folder / "in.parquet")
    out = folder / "out.parquet"
    argv, env = cli_command(folder / "in.parquet", out, "--chunk-size", "10", "--workers", "1")
    return rows, argv, env, out


def read_jsonl(path: Path) -> list:
    """The rows of a JSON Lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def labelled_rows() -> list:
    """The labelled synthetic postings as stored: ``id``, ``title``, ``text``, ``soc_code``."""
    return read_jsonl(POSTINGS / "postings.jsonl")


def unit_labels() -> dict:
    """``{posting id: {unit text: label}}`` of the labelled synthetic postings."""
    return {d["id"]: d["labels"] for d in read_jsonl(POSTINGS / "labels.jsonl")}


def labelled_postings(n):
    return [{"id": r["id"], "title": r["title"], "description": r["text"]} for r in labelled_rows()[:n]]


def write_rows(rows, path):
    table = pa.Table.from_pylist(rows)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix == ".csv":
        pcsv.write_csv(table, path)
    else:
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


def help_text(command: str, capsys) -> str:
    """What ``exposure COMMAND --help`` prints; the command must end with status 0."""
    from exposure.cli import main

    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def child_pids(pid: int) -> list:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                out.append(int(status.parent.name))
        except OSError:
            pass
    return out


#: Texts with a missing one and an empty one, and what reading them gives.
MIXED_TEXTS = ["Answer customer questions about orders by email.", None, "Weld steel beams on construction sites.",
               ""]
MIXED_TEXTS_READ = ["Answer customer questions about orders by email.", None,
                    "Weld steel beams on construction sites.", ""]


def text_containers() -> dict:
    """:data:`MIXED_TEXTS` in each container a list of texts may come in (NaN for the missing text where the container
    has no None)."""
    pd = pytest.importorskip("pandas")
    nan_series = pd.Series([MIXED_TEXTS[0], np.nan, MIXED_TEXTS[2], ""])
    return {
        "list": list(MIXED_TEXTS),
        "tuple": tuple(MIXED_TEXTS),
        "generator": (t for t in MIXED_TEXTS),
        "pandas-object-nan": nan_series.astype(object),
        "pandas-default": nan_series,
        "pandas-string-dtype": pd.Series(MIXED_TEXTS, dtype="string"),
        "pandas-categorical": pd.Series(MIXED_TEXTS, dtype="category"),
        "pyarrow-array": pa.array(MIXED_TEXTS, pa.string()),
        "pyarrow-large": pa.array(MIXED_TEXTS, pa.large_string()),
        "pyarrow-chunked": pa.chunked_array([MIXED_TEXTS[:2], MIXED_TEXTS[2:]], pa.string()),
        "pyarrow-dictionary": pa.array(MIXED_TEXTS, pa.string()).dictionary_encode(),
        "numpy-object": np.array([MIXED_TEXTS[0], float("nan"), MIXED_TEXTS[2], ""], dtype=object),
    }


#: Occupation scores in a dictionary of columns, for tables of every kind (:func:`frame_kinds`).
OCCUPATION_SCORES = {"soc_code": ["11-1011.00", "15-1252.00", "47-2061.00", "43-9021.00", "29-1229.01",
                                  "29-1229.02"],
                     "title": ["Chief Executives", "Software Developers", "Construction Laborers", "Data Entry Keyers",
                               "Physicians A", "Physicians B"],
                     "exposure": [0.5, 0.9, 0.1, 0.8, 0.2, 0.4]}


class ArrowStream:
    """Any object speaking the Arrow PyCapsule stream protocol."""

    def __init__(self, table):
        self.table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table.__arrow_c_stream__(requested_schema)


def frame_kinds(data: dict) -> dict:
    """The same data as a pyarrow Table and as every other accepted kind available here."""
    out = {"arrow": pa.table(data), "stream": ArrowStream(pa.table(data))}
    try:
        import pandas as pd
    except ImportError:
        pass
    else:
        frame = pd.DataFrame(data)
        out["pandas"] = frame
        out["pandas-with-index"] = frame.set_axis(range(10, 10 + len(frame)))
    try:
        import polars as pl
    except ImportError:
        pass
    else:
        out["polars"] = pl.DataFrame(data)
    return out


def assert_same_table(a: pa.Table, b: pa.Table) -> None:
    """The same columns and values; floats equal to rounding, NaN equal to NaN."""
    assert a.column_names == b.column_names
    for name in a.column_names:
        x, y = a[name].to_pylist(), b[name].to_pylist()
        if pa.types.is_floating(a.schema.field(name).type):
            np.testing.assert_allclose(np.array(x, dtype=float), np.array(y, dtype=float), equal_nan=True)
        else:
            assert x == y, name
