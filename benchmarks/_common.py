"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def generator():
    """``generate_postings.py`` as a module (its ``generate`` and ``write``), loaded by path: no subprocess."""
    spec = importlib.util.spec_from_file_location("generate_postings", HERE / "generate_postings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
