"""pandas and polars DataFrames wherever a pyarrow Table is accepted."""

import numpy as np
import pyarrow as pa
import pytest

from exposure.io import as_table
from exposure.occupations.compare import compare_index, read_index
from exposure.occupations import occupation_table, to_level, to_soc2010, to_soc2018

TASKS = {"soc_code": ["11-1011.00", "11-1011.00", "11-1011.00", "15-1252.00", "15-1252.00"],
         "task_id": [1, 2, 3, 4, 5], "weight": [2, 1, 1, 2, 2],
         "task": ["plan", "greet", "sign", "code", "test"],
         "exposure": [0.9, 0.1, 0.5, 0.8, 0.6], "exposure_llm": [1.0, 0.0, 0.0, 1.0, 1.0]}
OURS = {"soc_code": ["11-1011.00", "15-1252.00", "47-2061.00", "43-9021.00", "29-1229.01", "29-1229.02"],
        "title": ["Chief Executives", "Software Developers", "Construction Laborers", "Data Entry Keyers",
                  "Physicians A", "Physicians B"],
        "exposure": [0.5, 0.9, 0.1, 0.8, 0.2, 0.4]}
INDEX = {"soc": ["111011", "151252", "472061", "439021", "291229", "999999"],
         "score": [0.3, 0.7, 0.0, 0.6, 0.25, 0.5]}


class _Stream:
    """Any object speaking the Arrow PyCapsule stream protocol."""

    def __init__(self, table):
        self.table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table.__arrow_c_stream__(requested_schema)


def _frames(data):
    """The same data as a pyarrow Table and as every other accepted kind available here."""
    out = {"arrow": pa.table(data), "stream": _Stream(pa.table(data))}
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


def _same(a: pa.Table, b: pa.Table):
    assert a.column_names == b.column_names
    for name in a.column_names:
        x, y = a[name].to_pylist(), b[name].to_pylist()
        if pa.types.is_floating(a.schema.field(name).type):
            np.testing.assert_allclose(np.array(x, dtype=float), np.array(y, dtype=float), equal_nan=True)
        else:
            assert x == y, name


def test_as_table_kinds():
    pd = pytest.importorskip("pandas")
    frames = _frames(OURS)
    assert as_table(frames["arrow"]) is frames["arrow"]
    for kind, frame in frames.items():
        t = as_table(frame)
        assert isinstance(t, pa.Table) and t.column_names == list(OURS), kind
        assert t["soc_code"].to_pylist() == OURS["soc_code"] and t["soc_code"].type == pa.string(), kind
    assert as_table(pa.table(OURS).to_batches()[0]).num_rows == 6
    cat = as_table(pd.DataFrame({"soc_code": pd.Categorical(["11-1011.00"])}))
    assert cat["soc_code"].type == pa.string()  # dictionary columns decoded


def test_as_table_rejects_other_types_saying_what_is_accepted():
    pd = pytest.importorskip("pandas")
    for bad in ({"soc_code": ["11-1011.00"]}, [1, 2], "scores.csv", pd.Series([1.0])):
        with pytest.raises(TypeError, match=r"pyarrow\.Table, a pandas or polars DataFrame"):
            as_table(bad, "task_scores")


def test_polars_frames_are_accepted():
    pl = pytest.importorskip("polars")
    t = as_table(pl.DataFrame(OURS))
    assert t["soc_code"].to_pylist() == OURS["soc_code"] and t["soc_code"].type == pa.string()
    _same(to_soc2018(pl.DataFrame(OURS)), to_soc2018(pa.table(OURS)))


def test_occupation_table_accepts_frames():
    pytest.importorskip("pandas")
    ref = occupation_table(pa.table(TASKS), top_tasks=2)
    for kind, frame in _frames(TASKS).items():
        _same(occupation_table(frame, top_tasks=2), ref)


def test_occupation_table_from_pandas_with_missing_scores():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(TASKS).assign(exposure=[0.9, np.nan, 0.5, 0.8, 0.6])
    rows = {r["soc_code"]: r for r in occupation_table(frame).to_pylist()}
    assert rows["11-1011.00"]["exposure"] == pytest.approx((2 * 0.9 + 0.5) / 3)


def test_roll_ups_accept_frames():
    pytest.importorskip("pandas")
    ref2018, ref2010 = to_soc2018(pa.table(OURS)), to_soc2010(pa.table(OURS))
    for kind, frame in _frames(OURS).items():
        _same(to_soc2018(frame), ref2018)
        _same(to_soc2010(frame), ref2010)
        _same(to_level(frame, "soc2018"), ref2018)
        assert isinstance(to_level(frame, "onet"), pa.Table)


def test_roll_ups_reject_other_types():
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        to_soc2018({"soc_code": ["11-1011.00"]})
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        occupation_table([("11-1011.00", 0.5)])


def test_compare_index_accepts_frames_on_both_sides():
    pytest.importorskip("pandas")
    ref = compare_index(pa.table(INDEX), pa.table(OURS), "soc", "score", "soc2018", n_boot=50)
    for kind_index, index in _frames(INDEX).items():
        for kind_ours, ours in _frames(OURS).items():
            r = compare_index(index, ours, "soc", "score", "soc2018", n_boot=50)
            assert (r.n_matched, r.unmatched) == (ref.n_matched, ref.unmatched), (kind_index, kind_ours)
            assert r.spearman == pytest.approx(ref.spearman) and r.spearman_ci == pytest.approx(ref.spearman_ci)
            _same(r.joined, ref.joined)
    assert read_index(_frames(INDEX)["pandas"], "soc", "score").column_names == ["code", "value"]


def test_compare_index_pandas_values_with_nan():
    pd = pytest.importorskip("pandas")
    index = pd.DataFrame({"soc": ["111011", "151252", "472061", "439021"], "score": [0.3, np.nan, 0.0, 0.6]})
    r = compare_index(index, pd.DataFrame(OURS), "soc", "score", "soc2018", n_boot=0)
    assert r.n_matched == 3


def test_compare_index_rejects_other_types():
    with pytest.raises(TypeError, match=r"ours must be a pyarrow\.Table, a pandas or polars DataFrame"):
        compare_index(pa.table(INDEX), {"soc_code": ["11-1011.00"]}, "soc", "score", "soc2018")
    with pytest.raises(TypeError, match=r"index must be a pyarrow\.Table, a pandas or polars DataFrame"):
        compare_index([1, 2], pa.table(OURS), "soc", "score", "soc2018")
