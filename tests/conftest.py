"""Shared fixtures. Tests marked ``gpu`` are skipped cleanly when torch sees no CUDA device."""

import pytest
import torch


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
