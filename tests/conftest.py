"""Shared fixtures. Tests marked ``gpu`` are skipped cleanly when torch sees no CUDA device."""

import pytest
import torch

from exposure import _core


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def encoder():
    """The default encoder on the CPU, loaded once per test session."""
    from exposure import Encoder

    return Encoder(device="cpu")


@pytest.fixture(scope="session")
def model(encoder):
    """The default exposure model (default capability set) on the CPU."""
    from exposure import ExposureModel

    return ExposureModel(encoder)


@pytest.fixture(params=_core.build_info()["isa_available"])
def isa(request):
    """Each native SIMD path this CPU runs, forced for the test's duration (avx512 runs int8 on VNNI where the
    CPU has it)."""
    before = _core.build_info()["isa"]
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(before)
