"""benchmarks/generate_postings.py: a run of N postings starts with the rows of any smaller run, in both styles."""

import importlib.util
from pathlib import Path

import numpy as np
import pyarrow as pa

from exposure.postings import split_units

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("generate_postings", ROOT / "benchmarks" / "generate_postings.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def _rows(gen, n: int, seed: int, **kwargs) -> list:
    return pa.Table.from_batches(list(gen.generate(n, seed=seed, **kwargs)), schema=gen.SCHEMA).to_pylist()


def test_first_rows_do_not_depend_on_n():
    gen = _generator()
    small, large = _rows(gen, 1000, seed=0, style="templated"), _rows(gen, 3000, seed=0, style="templated")
    assert len(small) == 1000 and len(large) == 3000
    assert large[:1000] == small


def test_first_rows_do_not_depend_on_n_across_chunks(monkeypatch):
    gen = _generator()
    monkeypatch.setattr(gen, "CHUNK", 64)  # several chunks, the last one short
    small, large = _rows(gen, 150, seed=5, style="templated"), _rows(gen, 301, seed=5, style="templated")
    assert large[:150] == small
    assert _rows(gen, 150, seed=6, style="templated") != small


def test_realistic_is_the_default_deterministic_and_its_first_rows_do_not_depend_on_n(monkeypatch):
    gen = _generator()
    monkeypatch.setattr(gen, "CHUNK", 64)  # several chunks, the last one short
    small = _rows(gen, 150, seed=5)
    assert small == _rows(gen, 150, seed=5, style="realistic")  # the default style, deterministic
    large = _rows(gen, 301, seed=5)
    assert len(small) == 150 and len(large) == 301
    assert large[:150] == small
    assert _rows(gen, 150, seed=6) != small
    assert small != _rows(gen, 150, seed=5, style="templated")
    assert len({r["id"] for r in large}) == 301


def test_realistic_postings_have_about_as_many_units_as_real_ones():
    rows = _rows(_generator(), 300, seed=0)
    units = [len(split_units(r["description"])) for r in rows]
    assert 40 <= np.mean(units) <= 75
    assert len({r["title"] for r in rows}) > 150  # titles vary (O*NET titles, tags, shifts, locations)
