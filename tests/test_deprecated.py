"""The import paths of exposure 0.1 keep working in 0.2, each with a DeprecationWarning naming the new path."""

import importlib
import subprocess
import sys

import pytest

# (old module, old name, new module, new name)
MOVED = [
    ("exposure", "reduce", "exposure.kernels", "reduce"),
    ("exposure", "Reduction", "exposure.kernels", "Reduction"),
    ("exposure", "build_info", "exposure.kernels", "build_info"),
    ("exposure", "EmbeddingCache", "exposure.encoder", "EmbeddingCache"),
    ("exposure", "Heads", "exposure.heads", "Heads"),
    ("exposure", "reproduce_eloundou", "exposure.training.eloundou", "reproduce_eloundou"),
    ("exposure.units", "segment", "exposure.postings.segmentation", "segment"),
    ("exposure.units", "looks_english", "exposure.postings.segmentation", "looks_english"),
    ("exposure.units", "UnitClassifier", "exposure.postings.classifier", "UnitClassifier"),
    ("exposure.units", "context_features", "exposure.postings.classifier", "context_features"),
    ("exposure.postings", "EmbeddingCache", "exposure.encoder", "EmbeddingCache"),
    ("exposure.postings", "CachedEncoder", "exposure.encoder", "CachedEncoder"),
    ("exposure.postings", "occupation_scores", "exposure.occupations.score", "cached_occupation_scores"),
    ("exposure.occupations", "as_table", "exposure.io", "as_table"),
    ("exposure.occupations", "EXPOSURE_CLASSES", "exposure.rubric", "EXPOSURE_CLASSES"),
    ("exposure.assign", "OccupationAssigner", "exposure.occupations.assign", "OccupationAssigner"),
    ("exposure.assign", "load_titles", "exposure.occupations.catalogue", "load_titles"),
    ("exposure.assign", "TITLE_SOURCES", "exposure.occupations.catalogue", "TITLE_SOURCES"),
    ("exposure.assign", "LEVELS", "exposure.occupations.assign", "ASSIGNMENT_LEVELS"),
    ("exposure.compare", "compare_index", "exposure.occupations.compare", "compare_index"),
    ("exposure.batch", "BatchJob", "exposure.jobs.local", "BatchJob"),
    ("exposure.batch", "score_postings_file", "exposure.jobs.local", "score_postings_file"),
    ("exposure.batch", "REJECTED_STATUSES", "exposure.jobs.rows", "REJECTED_STATUSES"),
    ("exposure.distributed", "score_postings_ray", "exposure.jobs.ray", "score_postings_ray"),
    ("exposure.evaluation", "reproduce_eloundou", "exposure.training.eloundou", "reproduce_eloundou"),
    ("exposure.evaluation", "rankdata", "exposure.stats", "rankdata"),
    ("exposure.heads", "train_heads", "exposure.training.heads", "train_heads"),
    ("exposure.heads", "fit_softmax", "exposure.training.heads", "fit_softmax"),
]


@pytest.mark.parametrize("old, name, new, new_name", MOVED, ids=[f"{m[0]}.{m[1]}" for m in MOVED])
def test_old_path_warns_and_gives_the_new_object(old, name, new, new_name):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} moved to {new}\.{new_name}; .* exposure 0\.3"):
        got = getattr(module, name)
    assert got is getattr(importlib.import_module(new), new_name)


def test_from_import_of_an_old_path_warns():
    with pytest.warns(DeprecationWarning, match=r"exposure\.units\.split_units moved"):
        from exposure.units import split_units
    from exposure.postings import split_units as new

    assert split_units is new


def test_unknown_names_are_attribute_errors():
    import exposure
    import exposure.batch
    import exposure.postings

    for module in (exposure, exposure.batch, exposure.postings):
        with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
            module.nothing_here


def test_the_public_api_is_small_and_warns_for_nothing():
    import exposure

    code = ("import warnings; warnings.simplefilter('error'); import exposure; "
            "[getattr(exposure, n) for n in exposure.__all__]; print(sorted(exposure.__all__))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert {"OccupationAssigner", "UnitClassifier", "ExposureModel", "PostingScorer"} <= set(exposure.__all__)
    assert not {"reduce", "Reduction", "build_info", "EmbeddingCache", "Heads", "reproduce_eloundou"} & \
        set(exposure.__all__)
