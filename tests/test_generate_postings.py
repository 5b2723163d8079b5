"""benchmarks/generate_postings.py: a run of N postings starts with the rows of any smaller run, in both styles; runs
are deterministic, with the schema and unit counts of real postings."""

import importlib.util
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exposure.postings import split_units

from helpers import ROOT, read_jsonl


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_generator_is_deterministic_with_the_right_schema(tmp_path):
    script = ROOT / "benchmarks" / "generate_postings.py"
    paths = []
    for name in ("a.parquet", "b.parquet"):
        subprocess.run([sys.executable, str(script), "50", "-o", str(tmp_path / name), "--seed", "3"], check=True,
                       capture_output=True)
        paths.append(tmp_path / name)
    a, b = (pq.read_table(p) for p in paths)
    assert a.equals(b) and a.column_names == ["id", "title", "description"] and a.num_rows == 50
    assert len(set(a["id"].to_pylist())) == 50
    lengths = [len(t) for t in a["description"].to_pylist()]
    assert 1500 < np.median(lengths) < 5500
    units = [len(split_units(t)) for t in a["description"].to_pylist()[:10]]
    assert 35 <= min(units) and max(units) <= 85
    subprocess.run([sys.executable, str(script), "5", "-o", str(tmp_path / "c.jsonl"), "--seed", "3"], check=True,
                   capture_output=True)
    rows = read_jsonl(tmp_path / "c.jsonl")
    assert [r["id"] for r in rows] == a["id"].to_pylist()[:5]
