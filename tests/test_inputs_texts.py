"""Texts as pandas Series, pyarrow arrays and numpy arrays, wherever a list of texts is accepted."""

import numpy as np
import pyarrow as pa
import pytest

from exposure.encoder import as_texts

TEXTS = ["Answer customer questions about orders by email.", None, "Weld steel beams on construction sites.", ""]
EXPECTED = ["Answer customer questions about orders by email.", None, "Weld steel beams on construction sites.", ""]


def _containers():
    pd = pytest.importorskip("pandas")
    nan_series = pd.Series([TEXTS[0], np.nan, TEXTS[2], ""])
    return {
        "list": list(TEXTS),
        "tuple": tuple(TEXTS),
        "generator": (t for t in TEXTS),
        "pandas-object-nan": nan_series.astype(object),
        "pandas-default": nan_series,
        "pandas-string-dtype": pd.Series(TEXTS, dtype="string"),
        "pandas-categorical": pd.Series(TEXTS, dtype="category"),
        "pyarrow-array": pa.array(TEXTS, pa.string()),
        "pyarrow-large": pa.array(TEXTS, pa.large_string()),
        "pyarrow-chunked": pa.chunked_array([TEXTS[:2], TEXTS[2:]], pa.string()),
        "pyarrow-dictionary": pa.array(TEXTS, pa.string()).dictionary_encode(),
        "numpy-object": np.array([TEXTS[0], float("nan"), TEXTS[2], ""], dtype=object),
    }


@pytest.mark.parametrize("kind", ["list", "tuple", "generator", "pandas-object-nan", "pandas-default",
                                  "pandas-string-dtype", "pandas-categorical", "pyarrow-array", "pyarrow-large",
                                  "pyarrow-chunked", "pyarrow-dictionary", "numpy-object"])
def test_as_texts_containers(kind):
    assert as_texts(_containers()[kind]) == EXPECTED


def test_as_texts_numpy_strings_and_scalars():
    got = as_texts(np.array(["Sort mail.", "Repair brakes."]))
    assert got == ["Sort mail.", "Repair brakes."] and all(type(t) is str for t in got)
    assert as_texts("Sort mail.") == ["Sort mail."]
    assert as_texts([np.float32("nan"), float("nan"), None]) == [None, None, None]


def test_as_texts_keeps_non_text_values_for_the_caller():
    assert as_texts([17, "a", ["a list"]]) == [17, "a", ["a list"]]
    assert as_texts(pa.array([1, None, 3])) == [1, None, 3]


def test_as_texts_rejects_tables_and_bad_shapes():
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match="one column"):
        as_texts(pd.DataFrame({"task": ["a"]}))
    with pytest.raises(TypeError, match="one column"):
        as_texts(pa.table({"task": ["a"]}))
    with pytest.raises(ValueError, match="one-dimensional"):
        as_texts(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="texts is None"):
        as_texts(None)


@pytest.mark.slow
def test_encode_accepts_series_arrays_and_numpy(encoder):
    ref = encoder.encode(EXPECTED)
    for kind, texts in _containers().items():
        np.testing.assert_allclose(encoder.encode(texts), ref, atol=1e-6, err_msg=kind)
    assert not ref[[1, 3]].any()


def test_encode_still_rejects_non_text_values(encoder):
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        encoder.encode(np.array(["ok", 3], dtype=object))


@pytest.mark.slow
def test_score_tasks_accepts_series_and_arrow(model):
    pd = pytest.importorskip("pandas")
    ref = model.score_tasks(EXPECTED)
    for texts in (pd.Series([TEXTS[0], np.nan, TEXTS[2], ""]), pa.chunked_array([TEXTS[:1], TEXTS[1:]]),
                  np.array(TEXTS, dtype=object)):
        got = model.score_tasks(texts)
        np.testing.assert_allclose(got.exposure, ref.exposure, atol=1e-6, equal_nan=True)
        assert got.texts == EXPECTED
        assert got.to_arrow()["text"].to_pylist() == EXPECTED
    assert np.isnan(ref.exposure[[1, 3]]).all() and np.isfinite(ref.exposure[[0, 2]]).all()


def test_score_embeddings_accepts_a_series_of_texts(model):
    pd = pytest.importorskip("pandas")
    emb = model.encoder.encode(EXPECTED)
    got = model.score_embeddings(emb, texts=pd.Series([TEXTS[0], np.nan, TEXTS[2], ""]))
    assert got.texts == EXPECTED and got.to_arrow()["text"].to_pylist() == EXPECTED
    with pytest.raises(ValueError, match="4 rows of embeddings but 2 texts"):
        model.score_embeddings(emb, texts=TEXTS[:2])


@pytest.mark.slow
def test_score_postings_converts_titles_and_texts(model):
    """Posting scores read titles and texts from any container, NaN and nulls as missing."""
    pd = pytest.importorskip("pandas")
    from exposure.postings import score_postings

    text = "Duties:\n- Answer patient calls and book appointments\n- Update medical records"
    out = score_postings(model, pd.Series(["Nurse", np.nan]), pa.array([text, None]))
    ref = score_postings(model, ["Nurse", None], [text, None])
    assert out.status == ref.status == ["ok", "empty"]
    np.testing.assert_array_equal(out.exposure, ref.exposure)
    odd = score_postings(model, None, np.array([text, 17], dtype=object))
    assert odd.status == ["ok", "not_text"]
