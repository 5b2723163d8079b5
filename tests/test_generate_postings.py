"""benchmarks/generate_postings.py: a run of N postings starts with the rows of any smaller run."""

import importlib.util
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("generate_postings", ROOT / "benchmarks" / "generate_postings.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def _rows(gen, n: int, seed: int) -> list:
    return pa.Table.from_batches(list(gen.generate(n, seed=seed)), schema=gen.SCHEMA).to_pylist()


def test_first_rows_do_not_depend_on_n():
    gen = _generator()
    small, large = _rows(gen, 1000, seed=0), _rows(gen, 3000, seed=0)
    assert len(small) == 1000 and len(large) == 3000
    assert large[:1000] == small


def test_first_rows_do_not_depend_on_n_across_chunks(monkeypatch):
    gen = _generator()
    monkeypatch.setattr(gen, "CHUNK", 64)  # several chunks, the last one short
    small, large = _rows(gen, 150, seed=5), _rows(gen, 301, seed=5)
    assert large[:150] == small
    assert _rows(gen, 150, seed=6) != small
