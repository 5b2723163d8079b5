"""The public API of ``import exposure``: small, warning-free, and without the import paths of exposure 0.1,
which 0.2 kept with a DeprecationWarning and 0.3 removed."""

import importlib
import subprocess
import sys

import pytest

import exposure

# Modules of exposure 0.1 that 0.2 kept as deprecated forwarders.
OLD_MODULES = ["exposure.units", "exposure.batch", "exposure.distributed", "exposure.assign", "exposure.compare",
               "exposure.evaluation"]
# (module, name) that 0.2 served with a DeprecationWarning from another module.
OLD_NAMES = [
    ("exposure", "reduce"),
    ("exposure", "Reduction"),
    ("exposure", "build_info"),
    ("exposure", "EmbeddingCache"),
    ("exposure", "Heads"),
    ("exposure", "reproduce_eloundou"),
    ("exposure.postings", "EmbeddingCache"),
    ("exposure.postings", "CachedEncoder"),
    ("exposure.postings", "occupation_scores"),
    ("exposure.postings", "looks_english"),
    ("exposure.postings.segmentation", "looks_english"),
    ("exposure.occupations", "as_table"),
    ("exposure.occupations", "EXPOSURE_CLASSES"),
    ("exposure.occupations", "TableLike"),
    ("exposure.heads", "train_heads"),
    ("exposure.heads", "fit_softmax"),
    ("exposure.heads", "select_strength"),
    ("exposure.heads", "STRENGTHS"),
]


@pytest.fixture
def this_checkout(monkeypatch):
    """Imports from this checkout only: an editable install (``pip install -e``) of another checkout of
    exposure puts a finder on ``sys.meta_path`` that serves that checkout's modules where this one has none."""
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path
                                           if not getattr(f, "__module__", "").startswith("__editable__")])


@pytest.mark.parametrize("old", OLD_MODULES)
def test_old_modules_are_gone(old, this_checkout):
    with pytest.raises(ModuleNotFoundError, match=f"No module named '{old}'"):
        importlib.import_module(old)


@pytest.mark.parametrize("module, name", OLD_NAMES, ids=[f"{m}.{n}" for m, n in OLD_NAMES])
def test_old_names_are_attribute_errors(module, name):
    with pytest.raises(AttributeError, match=f"module '{module}' has no attribute '{name}'"):
        getattr(importlib.import_module(module), name)


def test_automation_is_the_split_of_exposure_not_the_old_degree():
    """exposure 0.2.0's TaskScores.automation was the degree of automation, now gpt4_automation; since 0.5.0
    ``automation`` is the part of exposure a model could do in the worker's place."""
    import numpy as np

    from exposure.scoring import TaskScores

    assert "gpt4_automation" in TaskScores.__dataclass_fields__ and "automation" not in TaskScores.__dataclass_fields__
    s = TaskScores(None, np.array([0.8, 0.2], np.float32), np.zeros((2, 0)), (), np.zeros(2), np.zeros((2, 0)),
                   np.zeros((2, 0)), np.zeros(2), np.zeros(2), None, gpt4_automation=np.array([0.5, 1.0], np.float32))
    np.testing.assert_allclose(s.automation, [0.4, 0.2])
    np.testing.assert_allclose(s.augmentation, [0.4, 0.0])
    s.gpt4_automation = None
    assert s.automation is None and s.augmentation is None


def test_no_deprecation_machinery_is_left(this_checkout):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("exposure._deprecated")


def test_the_version_is_the_projects():
    import re
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert exposure.__version__ == re.search(r'(?m)^version = "([^"]+)"', pyproject).group(1) == "0.6.0"


@pytest.mark.slow
def test_the_public_api_is_small_and_warns_for_nothing():
    code = ("import warnings; warnings.simplefilter('error'); import exposure; "
            "[getattr(exposure, n) for n in exposure.__all__]; print(sorted(exposure.__all__))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert {"OccupationAssigner", "UnitClassifier", "ExposureModel", "PostingScorer"} <= set(exposure.__all__)
    assert not {"reduce", "Reduction", "build_info", "EmbeddingCache", "Heads", "reproduce_eloundou"} & \
        set(exposure.__all__)
