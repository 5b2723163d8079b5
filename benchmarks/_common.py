"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def generator():
    """``generate_postings.py`` as a module (its ``generate`` and ``write``), loaded by path: no subprocess."""
    spec = importlib.util.spec_from_file_location("generate_postings", HERE / "generate_postings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torch_chunks(queries, keys, reduce_chunk, chunk: int) -> list:
    """``reduce_chunk(queries[i:i + chunk] @ keys.T)`` for each block of ``chunk`` query rows: what a user writes
    with torch.mm and torch's own reductions, the full n x m matrix never held."""
    keys_t = keys.t()
    return [reduce_chunk(queries[i : i + chunk] @ keys_t) for i in range(0, queries.shape[0], chunk)]


def recall_at_k(found, reference) -> float:
    """The mean share of each row's ``reference`` indices that the same row of ``found`` holds (rows of k indices,
    or one index per row for k = 1), vectorised: one (n, k, k) comparison, no Python loop over rows."""
    want = np.asarray(reference).reshape(len(reference), -1)
    got = np.asarray(found).reshape(len(want), 1, -1)
    return float((want[:, :, None] == got).any(axis=2).mean())


def tokenizers_to_compare(encoder) -> dict:
    """The ways to tokenise texts for ``encoder`` (the default model's), by name, each a function of a list of texts
    that returns each text's token ids, truncated to ``encoder.max_length``:

    * ``exposure``: the encoder's own tokenizer (``exposure._bert``: the native WordPiece for ASCII texts, the
      ``tokenizers`` library for the rest), ids in flat arrays;
    * ``tokenizers library``: the same ``tokenizer.json`` through ``tokenizers.Tokenizer.encode_batch`` alone,
      ids as lists (what the encoder did before);
    * ``transformers fast tokenizer``: ``AutoTokenizer`` called on the texts, what sentence-transformers runs.
    """
    from transformers import AutoTokenizer

    from exposure import _bert
    from exposure.encoder import _default_model_path

    ours = encoder.tokenizer
    library = _bert.Tokenizer(ours._backend, ours.pad_token_id, ours.model_max_length, ours.model_input_names)
    auto = AutoTokenizer.from_pretrained(_default_model_path())
    n = encoder.max_length
    return {"exposure": lambda texts: ours(texts, max_length=n),
            "tokenizers library": lambda texts: library(texts, max_length=n),
            "transformers fast tokenizer": lambda texts: auto(texts, truncation=True, max_length=n)["input_ids"]}


def measure_tokenize(benchmark, tokenizers: dict, case: str, texts: list, group: str, rounds: int = 5, **info) -> None:
    """Time ``tokenizers[case]`` (from :func:`tokenizers_to_compare`) on ``texts`` as a texts/s row against the
    ``tokenizers`` library, on every core the libraries use, and check that it gives the library's ids."""
    benchmark.group = group
    benchmark.extra_info.update(case=case, items=len(texts), unit="texts/s", baseline="tokenizers library",
                                threads=len(os.sched_getaffinity(0)), **info)
    ids = benchmark.pedantic(lambda: tokenizers[case](texts), rounds=rounds, iterations=1, warmup_rounds=1)
    reference = tokenizers["tokenizers library"](texts)["input_ids"]
    assert (ids if isinstance(ids, list) else ids["input_ids"]) == reference


def publish(text: str, output=None, log=None) -> None:
    """A report's Markdown: logged, and written to ``output`` (a path) when one is given."""
    import logging

    (log or logging.getLogger("benchmarks")).info(text)
    if output:
        Path(output).write_text(text, encoding="utf-8")
