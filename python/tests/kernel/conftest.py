"""Kernel tests load programs: they need root (the guest runs them as root).

The `bpf_object` fixture and the import path come from python/tests/conftest.py, which pytest
loads for this directory too."""
import os
import sys
from pathlib import Path

import pytest

# reference.py lives in python/tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="loading BPF programs needs root")
        for item in items:
            item.add_marker(skip)
